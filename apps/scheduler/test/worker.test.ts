import { QueueEvents } from 'bullmq';
import type { Job } from 'bullmq';
import type { RedisConnection } from '@dealdome/queues';
import {
  createAdSpend,
  createScheduledTask,
  createStore,
  formatPnl,
  getScheduledTask,
  profitAndLoss,
  taskRunId,
  todayIn,
  upsertDailyFinancials,
} from '@dealdome/domain';
import type { ManagedWorker } from '@dealdome/queues';
import { jobIds } from '@dealdome/queues';
import { sql } from 'kysely';
import { createScheduledTasksWorker } from '../src/worker';
import { capturingLogger, useBackends } from './harness';

const backends = useBackends();
let worker: ManagedWorker;
let events: QueueEvents;
let eventsConnection: RedisConnection;

beforeAll(async () => {
  worker = createScheduledTasksWorker({
    db: backends.db,
    producer: backends.producer,
    connection: backends.connection,
    prefix: backends.redis.prefix,
    logger: capturingLogger('scheduler').logger,
    concurrency: 2,
    retention: { telegramUpdatesDays: 30, searchMetricsDays: 90 },
  });
  eventsConnection = backends.connection.duplicate();
  events = new QueueEvents('scheduled-tasks', { connection: eventsConnection, prefix: backends.redis.prefix });
  await events.waitUntilReady();
});

afterAll(async () => {
  await worker?.close(2000);
  await events?.close();
  await eventsConnection?.quit();
});

beforeEach(async () => {
  await sql`TRUNCATE scheduled_tasks, notifications, stores, daily_financials, ad_spend_entries CASCADE`.execute(backends.db);
});

/** Queues the run of `taskId` for `dueAt` as the clock does (or, with `jobId`, as a second copy would) and waits for it. */
async function run(taskId: string, dueAt: Date, jobId = jobIds.runTask(taskId, dueAt)): Promise<Job> {
  const job = await backends.producer.enqueue('scheduled-tasks', 'run-task', { taskId, dueAt: dueAt.toISOString() }, { jobId });
  await job.waitUntilFinished(events, 15_000).catch(() => undefined);
  return (await backends.producer.queue('scheduled-tasks').getJob(job.id!))!;
}

const notifications = () =>
  backends.db.selectFrom('notifications').select(['id', 'kind', 'status', 'chat_id', 'text', 'task_id']).orderBy('created_at').execute();

const day = (today: string, offset: number) => new Date(Date.parse(`${today}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);

describe('the scheduled-tasks worker', () => {
  it('when a reminder runs, then it stores one notification for the chat and queues its delivery', async () => {
    const task = await createScheduledTask(backends.db, { kind: 'reminder', chatId: '-100555', runAt: new Date(Date.now() + 60_000), payload: { text: 'Call the supplier about cups & <saucers>' } });
    const job = await run(task.id, task.runAt!);

    expect(job.returnvalue).toEqual({ outcome: 'notified', notificationId: taskRunId(task.id, task.runAt!) });
    const [notification] = await notifications();
    expect(notification).toEqual({
      id: taskRunId(task.id, task.runAt!),
      kind: 'reminder',
      status: 'pending',
      chat_id: '-100555',
      text: '<b>⏰ Reminder</b>\nCall the supplier about cups &amp; &lt;saucers&gt;',
      task_id: task.id,
    });
    const delivery = await backends.producer.queue('telegram-outbound').getJob(jobIds.deliverNotification(notification!.id));
    expect(delivery?.name).toBe('deliver-notification');
    expect(delivery?.data).toMatchObject({ chatId: '-100555', notificationId: notification!.id });
    expect(await getScheduledTask(backends.db, task.id)).toMatchObject({ lastStatus: 'ok', consecutiveFailures: 0, lastError: null });
  });

  it('when the same run is handled twice (a retry after its job was removed), then there is still one notification and one delivery', async () => {
    const task = await createScheduledTask(backends.db, { kind: 'reminder', chatId: '12', runAt: new Date(Date.now() + 60_000), payload: { text: 'once' } });
    await run(task.id, task.runAt!);
    const second = await run(task.id, task.runAt!, 'run-task-second-copy');
    expect(second.returnvalue).toEqual({ outcome: 'notified', notificationId: taskRunId(task.id, task.runAt!) });
    expect((await notifications()).length).toBe(1);
    const deliveries = await backends.producer.queue('telegram-outbound').getJobs(['waiting', 'delayed', 'prioritized']);
    expect(deliveries.filter((j) => j.data.notificationId === taskRunId(task.id, task.runAt!)).length).toBe(1);
  });

  it("when a digest runs, then its one notification carries each store's P&L of yesterday in the store's own time zone, as the domain computes it", async () => {
    const db = backends.db;
    const nordic = await createStore(db, { name: 'Nordic Home', currency: 'EUR', timezone: 'Pacific/Auckland' });
    const brooklyn = await createStore(db, { name: 'Brooklyn Goods', currency: 'USD', timezone: 'America/Los_Angeles' });
    const yesterday = { nordic: day(todayIn('Pacific/Auckland'), -1), brooklyn: day(todayIn('America/Los_Angeles'), -1) };
    const decoy = { revenue: '99999.00', discounts: '0', refunds: '0', cogs: '0', shippingCosts: '0', transactionFees: '0', orders: 1, units: 1 };
    for (const [store, d] of [[nordic, yesterday.nordic], [brooklyn, yesterday.brooklyn]] as const) {
      // The days either side of the store's yesterday carry other figures: only the right day may show.
      await upsertDailyFinancials(db, store.id, day(d, -1), decoy);
      await upsertDailyFinancials(db, store.id, day(d, 1), decoy);
    }
    await upsertDailyFinancials(db, nordic.id, yesterday.nordic, {
      revenue: '1234.56', discounts: '34.56', refunds: '12.00', cogs: '400.10', shippingCosts: '55.00', transactionFees: '20.33', orders: 17, units: 21,
    });
    await createAdSpend(db, { storeId: nordic.id, date: yesterday.nordic, platform: 'meta', amount: '210.40', currency: 'EUR' }, null);
    await upsertDailyFinancials(db, brooklyn.id, yesterday.brooklyn, {
      revenue: '2000.00', discounts: '0', refunds: '100.00', cogs: '800.00', shippingCosts: '50.00', transactionFees: '30.00', orders: 9, units: 12,
    });
    await createAdSpend(db, { storeId: brooklyn.id, date: yesterday.brooklyn, platform: 'google', amount: '500.00', currency: 'USD' }, null);

    const task = await createScheduledTask(db, { kind: 'digest', chatId: '31', cronExpression: '0 8 * * *', timezone: 'Europe/Amsterdam', payload: {} });
    const job = await run(task.id, task.nextRunAt!);
    expect(job.returnvalue).toMatchObject({ outcome: 'notified' });

    const [notification] = await notifications();
    expect(notification).toMatchObject({ kind: 'digest', chat_id: '31', task_id: task.id, status: 'pending' });
    const parts = notification!.text.split('\n\n');
    expect(parts[0]).toBe('<b>📊 Daily digest</b>');
    // By hand: Nordic 1234.56 − 34.56 − 12.00 = 1188.00 net revenue; − 400.10 − 55.00 − 20.33 = 712.57 gross; − 210.40 = 502.17.
    // Brooklyn 2000.00 − 100.00 = 1900.00; − 800 − 50 − 30 = 1020.00; − 500.00 = 520.00. Ordered by store name.
    expect(parts[1]).toContain(`<b>P&amp;L yesterday</b> (${yesterday.brooklyn}, Brooklyn Goods, USD)`);
    expect(parts[1]).toContain('Net revenue: 1,900.00 USD');
    expect(parts[1]).toContain('<b>Net profit: 520.00 USD</b>');
    expect(parts[2]).toContain(`<b>P&amp;L yesterday</b> (${yesterday.nordic}, Nordic Home, EUR)`);
    expect(parts[2]).toContain('<b>Gross profit: 712.57 EUR</b>');
    expect(parts[2]).toContain('<b>Net profit: 502.17 EUR</b>');
    expect(parts[2]).toContain('ROAS 5.65');
    // And exactly what the domain's P&L says, in the message /pnl uses.
    for (const [index, store, d] of [[1, brooklyn, yesterday.brooklyn], [2, nordic, yesterday.nordic]] as const) {
      const report = await profitAndLoss(db, { storeId: store.id, from: d, to: d, groupBy: 'day' });
      expect(parts[index]).toBe(formatPnl('yesterday', { from: d, to: d }, report.currency, report.totals, store.name));
    }
    expect(notification!.text).not.toContain('99,999');
  });

  it('when a digest names one store, then only that store is reported', async () => {
    const db = backends.db;
    const nordic = await createStore(db, { name: 'Nordic Home', currency: 'EUR', timezone: 'Europe/Amsterdam' });
    await createStore(db, { name: 'Brooklyn Goods', currency: 'USD', timezone: 'America/New_York' });
    const task = await createScheduledTask(db, { kind: 'digest', chatId: '31', cronExpression: '0 8 * * *', timezone: 'UTC', payload: { storeIds: [nordic.id] } });
    await run(task.id, task.nextRunAt!);
    const [notification] = await notifications();
    expect(notification!.text).toContain('Nordic Home');
    expect(notification!.text).not.toContain('Brooklyn Goods');
  });

  it('when an agent check runs, then a run-check job for agent-runtime is queued with an id made of task and slot', async () => {
    const task = await createScheduledTask(backends.db, {
      kind: 'agent_check',
      chatId: '44',
      agent: 'roos',
      cronExpression: '0 9 * * 1',
      timezone: 'Europe/Amsterdam',
      payload: { prompt: "alert if yesterday's ROAS for Nordic Home was below 1.5" },
    });
    const job = await run(task.id, task.nextRunAt!);
    const jobId = jobIds.runCheck(task.id, task.nextRunAt!);
    expect(job.returnvalue).toEqual({ outcome: 'check-queued', jobId });
    const check = await backends.producer.queue('agent-turns').getJob(jobId);
    expect(check?.name).toBe('run-check');
    expect(check?.data).toMatchObject({ taskId: task.id, dueAt: task.nextRunAt!.toISOString() });
    expect(await notifications()).toEqual([]);
    // Its outcome is recorded by agent-runtime's run-check, not by queueing it.
    expect(await getScheduledTask(backends.db, task.id)).toMatchObject({ lastStatus: null, lastRunAt: null });
  });

  it('when the task was paused or deleted after its run was queued, then the run is skipped and nothing is sent', async () => {
    const db = backends.db;
    const paused = await createScheduledTask(db, { kind: 'reminder', chatId: '50', runAt: new Date(Date.now() + 60_000), payload: { text: 'paused' } });
    const deleted = await createScheduledTask(db, { kind: 'reminder', chatId: '51', runAt: new Date(Date.now() + 60_000), payload: { text: 'deleted' } });
    await db.updateTable('scheduled_tasks').set({ enabled: false }).where('id', '=', paused.id).execute();
    await db.deleteFrom('scheduled_tasks').where('id', '=', deleted.id).execute();

    expect((await run(paused.id, paused.runAt!)).returnvalue).toEqual({ outcome: 'skipped', reason: 'paused' });
    expect((await run(deleted.id, deleted.runAt!)).returnvalue).toEqual({ outcome: 'skipped', reason: 'deleted' });
    expect(await notifications()).toEqual([]);
    expect(await getScheduledTask(db, paused.id)).toMatchObject({ lastStatus: 'skipped', lastRunAt: null });
  });

  it('when a run cannot succeed (its stored payload was broken by hand), then it fails without retry and the failure is recorded on the task', async () => {
    const db = backends.db;
    const task = await createScheduledTask(db, { kind: 'reminder', chatId: '60', runAt: new Date(Date.now() + 60_000), payload: { text: 'x' } });
    await db.updateTable('scheduled_tasks').set({ payload: JSON.stringify({ words: 'no text field' }) }).where('id', '=', task.id).execute();
    const job = await run(task.id, task.runAt!);
    expect(job.failedReason).toBe(`the stored payload of reminder task ${task.id} is not valid`);
    expect(job.attemptsMade).toBe(1);
    expect(await getScheduledTask(db, task.id)).toMatchObject({
      lastStatus: 'failed',
      lastError: `the stored payload of reminder task ${task.id} is not valid`,
      consecutiveFailures: 1,
    });
    expect(await notifications()).toEqual([]);
  });
});
