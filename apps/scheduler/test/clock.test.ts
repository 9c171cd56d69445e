import { createScheduledTask, getScheduledTask } from '@dealdome/domain';
import { jobIds } from '@dealdome/queues';
import { sql } from 'kysely';
import { startClock } from '../src/clock';
import type { Clock } from '../src/clock';
import { capturingLogger, RecordingProducer, until, useBackends } from './harness';

const backends = useBackends();
const clocks: Clock[] = [];
const producers: RecordingProducer[] = [];

afterEach(async () => {
  await Promise.all(clocks.splice(0).map((c) => c.close(2000)));
  await Promise.all(producers.splice(0).map((p) => p.close()));
  await sql`TRUNCATE scheduled_tasks, notifications`.execute(backends.db);
  await backends.producer.queue('scheduled-tasks').obliterate({ force: true });
});

function clock(options: { tickMs?: number; producer?: RecordingProducer; logger?: ReturnType<typeof capturingLogger>['logger'] } = {}) {
  const producer = options.producer ?? new RecordingProducer(backends.connection, backends.redis.prefix);
  if (!options.producer) producers.push(producer);
  const started = startClock({
    db: backends.db,
    producer,
    logger: options.logger ?? capturingLogger('scheduler').logger,
    tickMs: options.tickMs ?? 10,
    batchSize: 7,
  });
  clocks.push(started);
  return { clock: started, producer };
}

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);
const CATCH_UP_MESSAGE = 'task runs late, once, for the slots that passed while no clock ran';

describe('the clock', () => {
  it('when two clocks race on the same database, then each due slot is queued by exactly one of them, once', async () => {
    const db = backends.db;
    // 20 one-shot tasks and 20 every-minute tasks, all due now (created as if a few minutes ago).
    const tasks = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0
          ? createScheduledTask(db, { kind: 'reminder', chatId: String(1000 + i), runAt: minutesAgo(1), payload: { text: `once ${i}` } }, minutesAgo(2))
          : createScheduledTask(db, { kind: 'reminder', chatId: String(1000 + i), cronExpression: '* * * * *', timezone: 'UTC', payload: { text: `every ${i}` } }, minutesAgo(3)),
      ),
    );
    const firstSlots = new Map(tasks.map((t) => [t.id, t.nextRunAt!.toISOString()]));

    const a = clock();
    const b = clock();
    await until(async () => {
      const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM scheduled_tasks WHERE next_run_at <= now()`.execute(db);
      return rows[0]!.n === '0';
    }, 'every due task to be claimed');
    // More ticks of both clocks: nothing claimed may be claimed again.
    await new Promise((r) => setTimeout(r, 200));

    const calls = [...a.producer.calls, ...b.producer.calls].filter((c) => c.job === 'run-task');
    expect(a.producer.calls.length).toBeGreaterThan(0);
    expect(b.producer.calls.length).toBeGreaterThan(0);
    const perSlot = new Map<string, number>();
    for (const c of calls) perSlot.set(`${String(c.payload.taskId)}@${String(c.payload.dueAt)}`, (perSlot.get(`${String(c.payload.taskId)}@${String(c.payload.dueAt)}`) ?? 0) + 1);
    expect([...perSlot.values()].every((n) => n === 1)).toBe(true);
    for (const [taskId, slot] of firstSlots) expect(perSlot.get(`${taskId}@${slot}`)).toBe(1);

    const queue = backends.producer.queue('scheduled-tasks');
    for (const [taskId, slot] of firstSlots) {
      const job = await queue.getJob(jobIds.runTask(taskId, new Date(slot)));
      expect(job?.data).toMatchObject({ taskId, dueAt: slot });
    }
  });

  it('when the scheduler was down over many slots, then the task runs once and the catch-up is logged with the number of slots missed', async () => {
    const db = backends.db;
    const task = await createScheduledTask(db, { kind: 'reminder', chatId: '77', cronExpression: '*/5 * * * *', timezone: 'UTC', payload: { text: 'stand-up' } });
    // The last slot the scheduler saw was an hour ago; it was down since.
    const lastSeen = new Date(Math.floor(Date.now() / 300_000) * 300_000 - 60 * 60_000);
    await db.updateTable('scheduled_tasks').set({ next_run_at: lastSeen }).where('id', '=', task.id).execute();

    const { logger, lines } = capturingLogger('scheduler');
    const { producer } = clock({ logger });
    const catchUp = await until(() => lines.find((l) => l.msg === CATCH_UP_MESSAGE), 'the catch-up log line');
    await new Promise((r) => setTimeout(r, 150));

    const runs = producer.calls.filter((c) => c.payload.taskId === task.id);
    expect(runs).toEqual([{ queue: 'scheduled-tasks', job: 'run-task', payload: { taskId: task.id, dueAt: lastSeen.toISOString() }, jobId: jobIds.runTask(task.id, lastSeen) }]);
    const next = (await getScheduledTask(db, task.id)).nextRunAt!;
    expect(next.getTime()).toBeGreaterThan(Date.now() - 1000);
    expect(next.getTime() % 300_000).toBe(0);
    // Every 5-minute slot after the one that ran and before the next one was missed: at least the 12 of the hour.
    const missed = (next.getTime() - lastSeen.getTime()) / 300_000 - 1;
    expect(missed).toBeGreaterThanOrEqual(12);
    expect(catchUp).toMatchObject({ level: 'warn', taskId: task.id, missedSlots: missed, dueAt: lastSeen.toISOString(), nextRunAt: next.toISOString() });
    expect(catchUp.lateMs).toBeGreaterThanOrEqual(60 * 60_000);
  });

  it('when a daily task missed its one slot while the scheduler was down, then it fires once and the catch-up is logged with how late it ran', async () => {
    const db = backends.db;
    // A daily slot two hours ago (UTC wall clock), still unclaimed: the scheduler was down over it and only it.
    const slot = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 2 * 60 * 60_000);
    const task = await createScheduledTask(
      db,
      { kind: 'reminder', chatId: '80', cronExpression: `${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *`, timezone: 'UTC', payload: { text: 'daily numbers' } },
      new Date(slot.getTime() - 60_000),
    );
    expect(task.nextRunAt).toEqual(slot);
    // The control: a task due a moment ago is the clock's usual lag, not a catch-up.
    const onTime = await createScheduledTask(db, { kind: 'reminder', chatId: '81', runAt: new Date(Date.now() - 1000), payload: { text: 'now' } });

    const { logger, lines } = capturingLogger('scheduler');
    const { producer } = clock({ logger });
    const catchUp = await until(() => lines.find((l) => l.msg === CATCH_UP_MESSAGE), 'the catch-up log line');
    const queued = await until(() => lines.find((l) => l.msg === 'task queued' && l.taskId === onTime.id), 'the on-time task to be queued');
    await new Promise((r) => setTimeout(r, 150));

    expect(producer.calls.filter((c) => c.payload.taskId === task.id)).toEqual([
      { queue: 'scheduled-tasks', job: 'run-task', payload: { taskId: task.id, dueAt: slot.toISOString() }, jobId: jobIds.runTask(task.id, slot) },
    ]);
    const next = new Date(slot.getTime() + 24 * 60 * 60_000);
    expect((await getScheduledTask(db, task.id)).nextRunAt).toEqual(next);
    expect(catchUp).toMatchObject({ level: 'warn', taskId: task.id, kind: 'reminder', missedSlots: 0, dueAt: slot.toISOString(), nextRunAt: next.toISOString() });
    expect(catchUp.lateMs).toBeGreaterThanOrEqual(2 * 60 * 60_000);
    expect(catchUp.lateMs).toBeLessThan(2 * 60 * 60_000 + 2 * 60_000);
    expect(queued).toMatchObject({ level: 'debug' });
    expect(lines.filter((l) => l.msg === CATCH_UP_MESSAGE).map((l) => l.taskId)).toEqual([task.id]);
  });

  it('when a one-shot task came due while the scheduler was down, then its late run is logged as a catch-up', async () => {
    const task = await createScheduledTask(backends.db, { kind: 'reminder', chatId: '82', runAt: minutesAgo(10), payload: { text: 'once' } }, minutesAgo(11));
    const { logger, lines } = capturingLogger('scheduler');
    clock({ logger });
    const catchUp = await until(() => lines.find((l) => l.msg === CATCH_UP_MESSAGE), 'the catch-up log line');
    expect(catchUp).toMatchObject({ level: 'warn', taskId: task.id, missedSlots: 0, dueAt: task.runAt!.toISOString(), nextRunAt: null });
    expect(catchUp.lateMs).toBeGreaterThanOrEqual(10 * 60_000);
  });

  it('when Redis refuses the job, then the claim rolls back and the same slot is queued on a later tick', async () => {
    const db = backends.db;
    const task = await createScheduledTask(db, { kind: 'reminder', chatId: '78', runAt: minutesAgo(1), payload: { text: 'x' } }, minutesAgo(2));
    const producer = new RecordingProducer(backends.connection, backends.redis.prefix);
    producers.push(producer);
    producer.failures = 3;
    const { logger, lines } = capturingLogger('scheduler');
    clock({ producer, logger, tickMs: 30 });

    await until(() => lines.filter((l) => l.msg === 'tick failed; the due tasks stay due for the next one').length >= 3, 'three failed ticks');
    await until(() => producer.calls.length === 1, 'the job to be queued');
    await until(async () => (await getScheduledTask(db, task.id)).nextRunAt === null, 'the claim to commit');
    expect(producer.calls[0]).toMatchObject({ jobId: jobIds.runTask(task.id, task.runAt!), payload: { taskId: task.id, dueAt: task.runAt!.toISOString() } });
  });

  it('when a clock is closed, then it queues nothing more', async () => {
    const { clock: stopped, producer } = clock();
    await stopped.close(1000);
    await createScheduledTask(backends.db, { kind: 'reminder', chatId: '79', runAt: minutesAgo(1), payload: { text: 'x' } }, minutesAgo(2));
    await new Promise((r) => setTimeout(r, 100));
    expect(producer.calls).toEqual([]);
  });
});
