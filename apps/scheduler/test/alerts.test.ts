import { createStore } from '@dealdome/domain';
import { sql } from 'kysely';
import { syncFailingAlert } from '../src/alerts';
import { capturingLogger, useBackends } from './harness';

const backends = useBackends();

beforeEach(async () => {
  await sql`TRUNCATE notifications, settings`.execute(backends.db);
  backends.producer.calls.length = 0;
});

describe('the Shopify sync-failing alert', () => {
  it('when an alerts chat is set, then a high-priority alert naming the store is stored and its delivery queued once', async () => {
    const store = await createStore(backends.db, { name: 'Nordic <Home>', currency: 'EUR', timezone: 'Europe/Amsterdam' });
    await backends.db.insertInto('settings').values({ key: 'alerts.chat_id', value: JSON.stringify('-100200300') }).execute();
    const { logger } = capturingLogger('alerts-test');

    await syncFailingAlert(backends.db, backends.producer, logger)({ storeId: store.id, consecutiveFailures: 3, error: 'HTTP 401 & token revoked' });

    const rows = await backends.db.selectFrom('notifications').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'alert', priority: 'high', status: 'pending', chat_id: '-100200300', store_id: store.id });
    expect(rows[0]!.text).toBe('⚠️ <b>Shopify sync failing</b> for Nordic &lt;Home&gt;: 3 rounds in a row.\nHTTP 401 &amp; token revoked');
    expect(backends.producer.calls).toEqual([
      {
        queue: 'telegram-outbound',
        job: 'deliver-notification',
        payload: { chatId: '-100200300', notificationId: rows[0]!.id },
        jobId: `deliver-notification-${rows[0]!.id}`,
      },
    ]);
  });

  it('when no alerts chat is set, then nothing is stored or queued and the log names the missing setting', async () => {
    const store = await createStore(backends.db, { name: 'Solo', currency: 'EUR', timezone: 'UTC' });
    const { logger, lines } = capturingLogger('alerts-test');
    await syncFailingAlert(backends.db, backends.producer, logger)({ storeId: store.id, consecutiveFailures: 3, error: 'boom' });
    expect(await backends.db.selectFrom('notifications').select('id').execute()).toEqual([]);
    expect(backends.producer.calls).toEqual([]);
    expect(lines.some((l) => String(l.msg).includes('alerts.chat_id'))).toBe(true);
  });
});
