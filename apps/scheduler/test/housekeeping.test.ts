import { randomUUID } from 'node:crypto';
import { QueueEvents } from 'bullmq';
import type { RedisConnection } from '@dealdome/queues';
import { createUser } from '@dealdome/domain';
import { sql } from 'kysely';
import { HOUSEKEEPING_SCHEDULER_ID, runHousekeeping, scheduleHousekeeping } from '../src/housekeeping';
import { createScheduledTasksWorker } from '../src/worker';
import { capturingLogger, useBackends } from './harness';

const backends = useBackends();
const DAY = 86_400_000;
const keep = { telegramUpdatesDays: 30, searchMetricsDays: 90 };

beforeEach(async () => {
  await sql`TRUNCATE refresh_tokens, telegram_updates, search_metrics, users CASCADE`.execute(backends.db);
});

/** Rows either side of each retention line; returns what must survive. */
async function seed() {
  const db = backends.db;
  const { user } = await createUser(db, { email: `hk-${randomUUID()}@dealdome.test`, displayName: 'Housekeeping' });
  const now = Date.now();
  const token = (name: string, fields: { expires: number; revoked?: boolean; rotated?: boolean }) => ({
    user_id: user.id,
    family_id: randomUUID(),
    token_hash: name,
    expires_at: new Date(now + fields.expires),
    revoked_at: fields.revoked ? new Date(now - DAY) : null,
    rotated_at: fields.rotated ? new Date(now - DAY) : null,
  });
  await db
    .insertInto('refresh_tokens')
    .values([
      token('live', { expires: 10 * DAY }),
      token('rotated-still-valid', { expires: 10 * DAY, rotated: true }),
      token('expired', { expires: -60_000 }),
      token('revoked', { expires: 10 * DAY, revoked: true }),
    ])
    .execute();
  await db
    .insertInto('telegram_updates')
    .values([
      { update_id: 1, payload: '{}', received_at: new Date(now - 31 * DAY) },
      { update_id: 2, payload: '{}', received_at: new Date(now - 29 * DAY) },
    ])
    .execute();
  const metric = (query: string, daysAgo: number) => ({ query, mode: 'hybrid', result_count: 1, latency_ms: '1.5', created_at: new Date(now - daysAgo * DAY) });
  await db.insertInto('search_metrics').values([metric('old', 91), metric('recent', 89)]).execute();
  return { tokens: ['live', 'rotated-still-valid'], updates: ['2'], metrics: ['recent'] };
}

async function remaining() {
  const db = backends.db;
  return {
    tokens: (await db.selectFrom('refresh_tokens').select('token_hash').orderBy('token_hash').execute()).map((r) => r.token_hash),
    updates: (await db.selectFrom('telegram_updates').select('update_id').orderBy('update_id').execute()).map((r) => r.update_id),
    metrics: (await db.selectFrom('search_metrics').select('query').orderBy('query').execute()).map((r) => r.query),
  };
}

describe('housekeeping', () => {
  it('when it runs, then it deletes expired and revoked refresh tokens and rows past their retention, and nothing else', async () => {
    const kept = await seed();
    expect(await runHousekeeping(backends.db, keep)).toEqual({ refreshTokens: 2, telegramUpdates: 1, searchMetrics: 1 });
    expect(await remaining()).toEqual({ tokens: kept.tokens.sort(), updates: kept.updates, metrics: kept.metrics });
    expect(await runHousekeeping(backends.db, keep)).toEqual({ refreshTokens: 0, telegramUpdates: 0, searchMetrics: 0 });
  });

  it('when more old rows exist than one batch deletes, then all of them go and the recent ones stay', async () => {
    await sql`
      INSERT INTO telegram_updates (update_id, payload, received_at)
      SELECT n, '{}', now() - interval '40 days' FROM generate_series(1000, 13999) AS n`.execute(backends.db);
    await backends.db.insertInto('telegram_updates').values({ update_id: 99, payload: '{}' }).execute();
    expect((await runHousekeeping(backends.db, keep)).telegramUpdates).toBe(13_000);
    expect((await remaining()).updates).toEqual(['99']);
  });

  it('when the scheduler starts, then one job scheduler adds the housekeeping job on its cron, and the worker runs it', async () => {
    const { logger } = capturingLogger('scheduler');
    const queue = backends.producer.queue('scheduled-tasks');
    await scheduleHousekeeping(backends.producer, '17 3 * * *', logger);
    // A second replica starting does not add a second scheduler.
    await scheduleHousekeeping(backends.producer, '17 3 * * *', logger);
    expect(await queue.getJobSchedulersCount()).toBe(1);
    const scheduler = await queue.getJobScheduler(HOUSEKEEPING_SCHEDULER_ID);
    expect(scheduler).toMatchObject({ pattern: '17 3 * * *', tz: 'UTC', name: 'housekeeping' });
    const next = new Date(scheduler!.next!);
    expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([3, 17]);
    const delayed = await queue.getDelayed();
    expect(delayed.filter((j) => j.name === 'housekeeping').length).toBe(1);

    const kept = await seed();
    const worker = createScheduledTasksWorker({
      db: backends.db,
      producer: backends.producer,
      connection: backends.connection,
      prefix: backends.redis.prefix,
      logger,
      concurrency: 1,
      retention: keep,
    });
    const eventsConnection: RedisConnection = backends.connection.duplicate();
    const events = new QueueEvents('scheduled-tasks', { connection: eventsConnection, prefix: backends.redis.prefix });
    try {
      await events.waitUntilReady();
      const job = await backends.producer.enqueue('scheduled-tasks', 'housekeeping', {});
      expect(await job.waitUntilFinished(events, 15_000)).toEqual({ refreshTokens: 2, telegramUpdates: 1, searchMetrics: 1 });
      expect(await remaining()).toEqual({ tokens: kept.tokens.sort(), updates: kept.updates, metrics: kept.metrics });
    } finally {
      await worker.close(2000);
      await events.close();
      await eventsConnection.quit();
      await queue.obliterate({ force: true });
    }
  });
});
