import { createScheduledTask, getScheduledTask, taskRunId } from '@dealdome/domain';
import { FakeTelegram, platformServiceEnv, startServiceProcess, useTestDatabase, useTestRedis } from '@dealdome/testkit';
import type { ServiceProcess } from '@dealdome/testkit';
import { until } from './harness';

const TOKEN = '5252:scheduler-e2e';

/**
 * The whole path with both services as their own processes: a reminder stored in the
 * database → the scheduler's clock claims it and queues run-task → the scheduler's
 * worker stores the notification and queues deliver-notification → bot-gateway's
 * outbound worker sends it to (fake) Telegram and marks it sent.
 */
describe('a reminder from the database to Telegram, scheduler and gateway as processes', () => {
  const database = useTestDatabase();
  const redis = useTestRedis();
  const running: ServiceProcess[] = [];
  let telegram: FakeTelegram;

  beforeAll(async () => {
    telegram = await FakeTelegram.start({ token: TOKEN, bot: { username: 'dealdome_bot' }, strictHtml: true });
    const common = platformServiceEnv(database, redis);
    running.push(
      ...(await Promise.all([
        startServiceProcess(
          'bot-gateway',
          { ...common, BOT_GATEWAY_PORT: '0', TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_BASE_URL: telegram.url, TELEGRAM_POLL_TIMEOUT_SECONDS: '1' },
          { readyTimeoutMs: 60_000 },
        ),
        startServiceProcess('scheduler', { ...common, SCHEDULER_PORT: '0', SCHEDULER_TICK_MS: '100', SETTINGS_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64') }, { readyTimeoutMs: 60_000 }),
      ])),
    );
  }, 90_000);

  afterAll(async () => {
    await Promise.all(running.map((p) => p.signal('SIGTERM')));
    await telegram?.close();
  }, 30_000);

  it('when a one-shot reminder comes due, then Telegram receives it once, as written, and the notification and the task record it', async () => {
    const db = database.handle.db;
    telegram.addChat({ id: 9101, type: 'private', first_name: 'Anna' });
    const runAt = new Date(Date.now() + 1500);
    const task = await createScheduledTask(db, { kind: 'reminder', chatId: '9101', runAt, payload: { text: 'Reorder cups & <saucers> before Friday' } });

    const sent = await telegram.waitForSent((c) => c.method === 'sendMessage' && c.ok && String(c.chatId) === '9101', 20_000);
    expect(sent.params.parse_mode).toBe('HTML');
    expect(sent.params.text).toBe('<b>⏰ Reminder</b>\nReorder cups &amp; &lt;saucers&gt; before Friday');
    expect(telegram.messages(9101).map((m) => m.text)).toEqual(['⏰ Reminder\nReorder cups & <saucers> before Friday']);

    const notificationId = taskRunId(task.id, runAt);
    const notification = await until(
      () => db.selectFrom('notifications').selectAll().where('id', '=', notificationId).where('status', '=', 'sent').executeTakeFirst(),
      'the notification to be marked sent',
    );
    expect(notification).toMatchObject({ kind: 'reminder', chat_id: '9101', task_id: task.id, attempts: 1, last_error: null });
    expect(notification.sent_at).toBeInstanceOf(Date);
    expect(notification.telegram_sent_message_ids).toHaveLength(1);

    const ran = await until(async () => {
      const t = await getScheduledTask(db, task.id);
      return t.lastStatus === 'ok' && t;
    }, 'the task to record its run');
    expect(ran).toMatchObject({ nextRunAt: null, consecutiveFailures: 0, lastError: null });
    expect(ran.lastRunAt!.getTime()).toBeGreaterThanOrEqual(runAt.getTime());

    // The clock keeps ticking: a one-shot task is not sent again.
    await new Promise((r) => setTimeout(r, 500));
    expect(telegram.sent.filter((c) => c.method === 'sendMessage' && String(c.chatId) === '9101')).toHaveLength(1);
  });
});
