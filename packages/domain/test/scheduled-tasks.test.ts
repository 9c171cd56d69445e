import { useTestDatabase } from '@dealdome/db/testing';
import { sql } from 'kysely';
import {
  advanceSchedule,
  AppError,
  createScheduledTask,
  createStore,
  createTaskNotification,
  dailyDigest,
  digestMessage,
  deleteScheduledTask,
  fireDueTasks,
  getScheduledTask,
  listScheduledTasks,
  nextRunAt,
  pauseScheduledTask,
  recordTaskRun,
  reminderMessage,
  resumeScheduledTask,
  taskRunId,
} from '../src';
import type { DueRun, NewScheduledTask } from '../src';

const database = useTestDatabase();
const AMSTERDAM = 'Europe/Amsterdam';

/** The wall-clock day and time in Amsterdam, to read the runs as a person there would. */
const local = (d: Date) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: AMSTERDAM, dateStyle: 'short', timeStyle: 'short' }).format(d);

function runsBetween(expression: string, zone: string, from: string, to: string): Date[] {
  const runs: Date[] = [];
  for (let at = nextRunAt(expression, zone, new Date(from)); at < new Date(to); at = nextRunAt(expression, zone, at)) runs.push(at);
  return runs;
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

const taskCount = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM scheduled_tasks`.execute(database.handle.db)).rows[0]!.n);

beforeEach(async () => {
  await sql`TRUNCATE scheduled_tasks, notifications`.execute(database.handle.db);
});

describe('nextRunAt across daylight saving time in Europe/Amsterdam', () => {
  it('when clocks jump from 02:00 to 03:00 (29 March 2026), then a 02:30 daily task still runs that day, once, an hour later', () => {
    const runs = runsBetween('30 2 * * *', AMSTERDAM, '2026-03-27T12:00:00Z', '2026-04-01T12:00:00Z');
    expect(runs.map((r) => r.toISOString())).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:30:00.000Z', // 02:30 does not exist: 03:30 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-31T00:30:00.000Z',
      '2026-04-01T00:30:00.000Z',
    ]);
    expect(runs.map(local)).toEqual(['2026-03-28 02:30', '2026-03-29 03:30', '2026-03-30 02:30', '2026-03-31 02:30', '2026-04-01 02:30']);
  });

  it('when clocks go back from 03:00 to 02:00 (25 October 2026), then a 02:30 daily task runs at the first 02:30 only, not again an hour later', () => {
    const runs = runsBetween('30 2 * * *', AMSTERDAM, '2026-10-23T12:00:00Z', '2026-10-27T12:00:00Z');
    expect(runs.map((r) => r.toISOString())).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T00:30:00.000Z', // the first 02:30 (CEST); the second, 01:30Z (CET), is not a run
      '2026-10-26T01:30:00.000Z', // 02:30 CET
      '2026-10-27T01:30:00.000Z',
    ]);
    expect(nextRunAt('30 2 * * *', AMSTERDAM, new Date('2026-10-25T00:30:00Z'))).toEqual(new Date('2026-10-26T01:30:00Z'));
  });

  it('when the first 02:30 of 25 October is claimed late, inside the repeated hour, then the task moves on to the next day, not to the second 02:30', () => {
    expect(advanceSchedule('30 2 * * *', AMSTERDAM, new Date('2026-10-25T00:30:00Z'), new Date('2026-10-25T01:00:00Z'))).toEqual({
      nextRunAt: new Date('2026-10-26T01:30:00Z'),
      missedSlots: 0,
    });
  });

  it('when a slot is exactly the time asked after, then the next run is the following slot', () => {
    expect(nextRunAt('30 8 * * *', 'UTC', new Date('2026-03-01T08:30:00Z'))).toEqual(new Date('2026-03-02T08:30:00Z'));
    expect(nextRunAt('30 8 * * *', 'UTC', new Date('2026-03-01T08:29:59.999Z'))).toEqual(new Date('2026-03-01T08:30:00Z'));
  });
});

describe('the clock (fireDueTasks) over both daylight saving changes', () => {
  /** Ticks every 5 minutes from `from` to `to`, as a clock would, and returns the runs it dispatched. */
  async function tickThrough(from: string, to: string): Promise<DueRun[]> {
    const fired: DueRun[] = [];
    for (let t = Date.parse(from); t <= Date.parse(to); t += 5 * 60_000) {
      await fireDueTasks(database.handle.db, { limit: 100, at: new Date(t), dispatch: async (runs) => void fired.push(...runs) });
    }
    return fired;
  }

  it('when a 02:30 Amsterdam task is ticked through the spring and the autumn change, then it fires once on each local day, never twice and never skipped', async () => {
    const db = database.handle.db;
    const task = await createScheduledTask(
      db,
      { kind: 'reminder', chatId: '42', cronExpression: '30 2 * * *', timezone: AMSTERDAM, payload: { text: 'water the plants' } },
      new Date('2026-03-27T12:00:00Z'),
    );
    const spring = await tickThrough('2026-03-27T12:00:00Z', '2026-03-31T12:00:00Z');
    expect(spring.map((r) => local(r.dueAt))).toEqual(['2026-03-28 02:30', '2026-03-29 03:30', '2026-03-30 02:30', '2026-03-31 02:30']);

    await db.updateTable('scheduled_tasks').set({ next_run_at: nextRunAt('30 2 * * *', AMSTERDAM, new Date('2026-10-23T12:00:00Z')) }).execute();
    const autumn = await tickThrough('2026-10-23T12:00:00Z', '2026-10-27T12:00:00Z');
    expect(autumn.map((r) => r.dueAt.toISOString())).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
      '2026-10-27T01:30:00.000Z',
    ]);
    expect([...spring, ...autumn].every((r) => r.taskId === task.id && r.missedSlots === 0)).toBe(true);
  });
});

describe('creating a scheduled task', () => {
  const now = new Date('2026-05-04T10:00:00Z');
  const reminder = (over: Partial<NewScheduledTask> = {}): NewScheduledTask =>
    ({ kind: 'reminder', chatId: '-1001234567890', cronExpression: '30 8 * * 1', timezone: AMSTERDAM, payload: { text: 'Weekly numbers' }, ...over }) as NewScheduledTask;

  it('when a recurring reminder is created, then it is stored with its first slot after now in its time zone', async () => {
    const task = await createScheduledTask(database.handle.db, reminder(), now);
    expect(task).toMatchObject({ kind: 'reminder', chatId: '-1001234567890', cronExpression: '30 8 * * 1', timezone: AMSTERDAM, runAt: null, enabled: true });
    // Monday 11 May 2026, 08:30 CEST.
    expect(task.nextRunAt).toEqual(new Date('2026-05-11T06:30:00Z'));
    expect(await getScheduledTask(database.handle.db, task.id)).toEqual(task);
  });

  it('when a one-shot agent check is created, then it is due at runAt and keeps its agent and prompt', async () => {
    const task = await createScheduledTask(
      database.handle.db,
      { kind: 'agent_check', chatId: '7', agent: 'roos', runAt: '2026-05-05T07:00:00+02:00', payload: { prompt: 'alert if ROAS < 1.5' } },
      now,
    );
    expect(task).toMatchObject({ kind: 'agent_check', agent: 'roos', cronExpression: null, timezone: 'UTC', payload: { prompt: 'alert if ROAS < 1.5' } });
    expect(task.runAt).toEqual(new Date('2026-05-05T05:00:00Z'));
    expect(task.nextRunAt).toEqual(task.runAt);
  });

  it.each([
    ['61 8 * * 1', /minute|0-59/],
    ['30 8 * *', /4 fields; a cron expression has 5/],
    ['0 30 8 * * 1', /6 fields/],
    ['H 8 * * *', /random/],
    ['30 8 31 2 *', /day of month/],
    ['every monday', /2 fields/],
  ])('when the cron expression is %p, then it is refused with 422 and a message saying why, and nothing is stored', async (expression, why) => {
    const err = await refusal(createScheduledTask(database.handle.db, reminder({ cronExpression: expression }), now));
    expect(err.status).toBe(422);
    expect(err.message).toContain(`"${expression}"`);
    expect(err.message).toMatch(why);
    expect(err.fieldErrors?.cronExpression?.[0]).toMatch(why);
    expect(await taskCount()).toBe(0);
  });

  it('when the time zone is not an IANA zone, then it is refused with 422 naming it', async () => {
    const err = await refusal(createScheduledTask(database.handle.db, reminder({ timezone: 'Amsterdam/Netherlands' }), now));
    expect(err.status).toBe(422);
    expect(err.message).toContain('"Amsterdam/Netherlands" is not a time zone');
    expect(err.fieldErrors).toEqual({ timezone: ['expected an IANA time zone such as "Europe/Amsterdam"'] });
    expect(await taskCount()).toBe(0);
  });

  it('when runAt has passed, then it is refused with 422', async () => {
    const err = await refusal(createScheduledTask(database.handle.db, reminder({ cronExpression: undefined, runAt: '2026-05-04T09:00:00Z' }), now));
    expect(err.status).toBe(422);
    expect(err.fieldErrors).toEqual({ runAt: ['is in the past'] });
  });

  it('when a digest names a store that does not exist, then it is refused with 422 naming the id', async () => {
    const store = await createStore(database.handle.db, { name: 'Nordic Home', currency: 'EUR', timezone: AMSTERDAM });
    const missing = '00000000-0000-4000-8000-000000000001';
    const err = await refusal(
      createScheduledTask(database.handle.db, { kind: 'digest', chatId: '7', cronExpression: '0 8 * * *', timezone: AMSTERDAM, payload: { storeIds: [store.id, missing] } }, now),
    );
    expect(err.status).toBe(422);
    expect(err.message).toBe(`no store has the id ${missing}`);
    expect(await taskCount()).toBe(0);
  });

  it('when a digest of one store is given no time zone, then its hour is read in the store\'s time zone and the task keeps that zone', async () => {
    const db = database.handle.db;
    const store = await createStore(db, { name: 'Brooklyn Goods', currency: 'USD', timezone: 'America/New_York' });
    const task = await createScheduledTask(db, { kind: 'digest', chatId: '7', cronExpression: '0 8 * * *', payload: { storeIds: [store.id] } }, now);
    expect(task).toMatchObject({ kind: 'digest', timezone: 'America/New_York', cronExpression: '0 8 * * *' });
    // 10:00 UTC is 06:00 in New York (EDT, UTC-4): 08:00 there comes the same day, at 12:00 UTC.
    expect(task.nextRunAt).toEqual(new Date('2026-05-04T12:00:00Z'));

    const once = await createScheduledTask(db, { kind: 'digest', chatId: '7', runAt: '2026-05-05T12:00:00Z', payload: { storeIds: [store.id] } }, now);
    expect(once.timezone).toBe('America/New_York');
  });

  it('when a digest of one store is given a time zone, then that zone is the one used', async () => {
    const store = await createStore(database.handle.db, { name: 'Brooklyn Goods', currency: 'USD', timezone: 'America/New_York' });
    const task = await createScheduledTask(
      database.handle.db,
      { kind: 'digest', chatId: '7', cronExpression: '0 8 * * *', timezone: 'UTC', payload: { storeIds: [store.id] } },
      now,
    );
    expect(task.timezone).toBe('UTC');
    expect(task.nextRunAt).toEqual(new Date('2026-05-05T08:00:00Z'));
  });

  it.each([
    ['two stores', 2],
    ['every store', 0],
  ])('when a digest of %s has a cron expression but no time zone, then it is refused with 400 naming timezone', async (_, storeCount) => {
    const db = database.handle.db;
    const stores = await Promise.all(
      Array.from({ length: storeCount }, (__, i) => createStore(db, { name: `Store ${i}`, currency: 'EUR', timezone: i === 0 ? AMSTERDAM : 'America/New_York' })),
    );
    const payload = storeCount === 0 ? {} : { storeIds: stores.map((s) => s.id) };
    const err = await refusal(createScheduledTask(db, { kind: 'digest', chatId: '7', cronExpression: '0 8 * * *', payload }, now));
    expect(err.status).toBe(400);
    expect(err.fieldErrors?.timezone?.[0]).toMatch(/is required with cronExpression/);
    expect(await taskCount()).toBe(0);
  });

  it.each([
    ['neither a cron expression nor runAt', { cronExpression: undefined }, 'cronExpression'],
    ['both a cron expression and runAt', { runAt: '2026-06-01T08:00:00Z' }, 'cronExpression'],
    ['a cron expression without a time zone', { timezone: undefined }, 'timezone'],
    ['an empty reminder text', { payload: { text: '  ' } }, 'payload.text'],
    ['a chat id that is not a number', { chatId: 'my-chat' }, 'chatId'],
  ])('when the task has %s, then it is refused with 400 naming the field', async (_, over, field) => {
    const err = await refusal(createScheduledTask(database.handle.db, reminder(over), now));
    expect(err.status).toBe(400);
    expect(Object.keys(err.fieldErrors ?? {})).toContain(field);
    expect(await taskCount()).toBe(0);
  });

  it('when an agent check names no agent, then it is refused with 400', async () => {
    const err = await refusal(
      createScheduledTask(database.handle.db, { kind: 'agent_check', chatId: '7', runAt: '2026-06-01T08:00:00Z', payload: { prompt: 'x' } } as unknown as NewScheduledTask, now),
    );
    expect(err.status).toBe(400);
    expect(err.fieldErrors).toHaveProperty('agent');
  });
});

describe('listing, pausing, resuming and deleting', () => {
  const now = new Date('2026-05-04T10:00:00Z');

  it("when tasks of two chats exist, then a chat lists, pauses and deletes only its own; resume continues from the next slot after now", async () => {
    const db = database.handle.db;
    const make = (chatId: string, text: string) =>
      createScheduledTask(db, { kind: 'reminder', chatId, cronExpression: '0 9 * * *', timezone: 'UTC', payload: { text } }, now);
    const a1 = await make('100', 'a1');
    const a2 = await make('100', 'a2');
    const b1 = await make('200', 'b1');

    const first = await listScheduledTasks(db, { chatId: '100' }, { limit: 1 });
    expect(first.data.map((t) => t.id)).toEqual([a1.id]);
    const second = await listScheduledTasks(db, { chatId: '100' }, { limit: 1, cursor: first.nextCursor! });
    expect(second.data.map((t) => t.id)).toEqual([a2.id]);
    expect(second.nextCursor).toBeNull();
    expect((await listScheduledTasks(db, {}, { limit: 50 })).data.map((t) => t.id)).toEqual([a1.id, a2.id, b1.id]);

    expect((await refusal(pauseScheduledTask(db, b1.id, { chatId: '100' }))).status).toBe(404);
    const paused = await pauseScheduledTask(db, a1.id, { chatId: '100' });
    expect(paused.enabled).toBe(false);
    expect((await listScheduledTasks(db, { enabled: true }, { limit: 50 })).data.map((t) => t.id)).toEqual([a2.id, b1.id]);

    const later = new Date('2026-05-10T12:00:00Z');
    const resumed = await resumeScheduledTask(db, a1.id, { chatId: '100' }, later);
    expect(resumed).toMatchObject({ enabled: true, nextRunAt: new Date('2026-05-11T09:00:00Z') });

    expect((await refusal(deleteScheduledTask(db, b1.id, { chatId: '100' }))).status).toBe(404);
    expect((await deleteScheduledTask(db, a2.id, { chatId: '100' })).id).toBe(a2.id);
    expect((await refusal(getScheduledTask(db, a2.id))).status).toBe(404);
    expect((await refusal(getScheduledTask(db, 'not-a-uuid'))).status).toBe(404);
  });

  it('when a one-shot task has run, then resuming it is refused with 409', async () => {
    const db = database.handle.db;
    const task = await createScheduledTask(db, { kind: 'reminder', chatId: '1', runAt: '2026-05-04T10:00:30Z', payload: { text: 'x' } }, now);
    await fireDueTasks(db, { limit: 10, at: new Date('2026-05-04T10:01:00Z'), dispatch: async () => undefined });
    expect((await getScheduledTask(db, task.id)).nextRunAt).toBeNull();
    expect((await refusal(resumeScheduledTask(db, task.id))).status).toBe(409);
  });
});

describe('claiming due tasks (fireDueTasks)', () => {
  const created = new Date('2026-05-04T10:00:00Z');

  it('when two clocks claim at the same time, then every due task is dispatched exactly once', async () => {
    const db = database.handle.db;
    const tasks = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        createScheduledTask(
          db,
          i % 2 === 0
            ? { kind: 'reminder', chatId: String(i + 1), cronExpression: '*/5 * * * *', timezone: 'UTC', payload: { text: `r${i}` } }
            : { kind: 'reminder', chatId: String(i + 1), runAt: '2026-05-04T10:02:00Z', payload: { text: `o${i}` } },
          created,
        ),
      ),
    );
    const at = new Date('2026-05-04T10:06:00Z');
    const dispatched: string[] = [];
    // Each dispatch waits a little, so the two transactions overlap while they hold their rows.
    const dispatch = async (runs: DueRun[]) => {
      await new Promise((r) => setTimeout(r, 30));
      dispatched.push(...runs.map((r) => r.taskId));
    };
    await Promise.all(
      Array.from({ length: 2 }, async () => {
        for (let round = 0; round < 5; round++) await fireDueTasks(db, { limit: 7, at, dispatch });
      }),
    );
    expect(dispatched.sort()).toEqual(tasks.map((t) => t.id).sort());
  });

  it('when the clock was down for a while, then a missed recurring task runs once, says how many slots it missed, and moves on to the next slot after now', async () => {
    const db = database.handle.db;
    const task = await createScheduledTask(db, { kind: 'reminder', chatId: '5', cronExpression: '0 * * * *', timezone: 'UTC', payload: { text: 'hourly' } }, created);
    expect(task.nextRunAt).toEqual(new Date('2026-05-04T11:00:00Z'));
    const back = new Date('2026-05-04T16:20:00Z');
    const fired: DueRun[] = [];
    await fireDueTasks(db, { limit: 10, at: back, dispatch: async (runs) => void fired.push(...runs) });
    await fireDueTasks(db, { limit: 10, at: back, dispatch: async (runs) => void fired.push(...runs) });
    expect(fired).toEqual([
      { taskId: task.id, kind: 'reminder', dueAt: new Date('2026-05-04T11:00:00Z'), nextRunAt: new Date('2026-05-04T17:00:00Z'), missedSlots: 5, lateMs: (5 * 60 + 20) * 60_000 },
    ]);
    expect((await getScheduledTask(db, task.id)).nextRunAt).toEqual(new Date('2026-05-04T17:00:00Z'));
  });

  it('when dispatching fails, then nothing is claimed: next_run_at stays and the next tick dispatches the same run', async () => {
    const db = database.handle.db;
    const task = await createScheduledTask(db, { kind: 'reminder', chatId: '5', cronExpression: '0 * * * *', timezone: 'UTC', payload: { text: 'x' } }, created);
    const at = new Date('2026-05-04T11:00:05Z');
    await expect(fireDueTasks(db, { limit: 10, at, dispatch: () => Promise.reject(new Error('Redis is down')) })).rejects.toThrow('Redis is down');
    expect((await getScheduledTask(db, task.id)).nextRunAt).toEqual(new Date('2026-05-04T11:00:00Z'));
    const { runs } = await fireDueTasks(db, { limit: 10, at, dispatch: async () => undefined });
    expect(runs.map((r) => [r.taskId, r.dueAt.toISOString()])).toEqual([[task.id, '2026-05-04T11:00:00.000Z']]);
  });

  it('when a stored schedule cannot be read, then that task is paused with the reason and the others still fire', async () => {
    const db = database.handle.db;
    const good = await createScheduledTask(db, { kind: 'reminder', chatId: '5', cronExpression: '0 * * * *', timezone: 'UTC', payload: { text: 'x' } }, created);
    const bad = await createScheduledTask(db, { kind: 'reminder', chatId: '6', cronExpression: '0 * * * *', timezone: 'UTC', payload: { text: 'y' } }, created);
    await db.updateTable('scheduled_tasks').set({ cron_expression: '0 25 * * *' }).where('id', '=', bad.id).execute();
    const { runs, broken } = await fireDueTasks(db, { limit: 10, at: new Date('2026-05-04T11:00:01Z'), dispatch: async () => undefined });
    expect(runs.map((r) => r.taskId)).toEqual([good.id]);
    expect(broken.map((b) => b.taskId)).toEqual([bad.id]);
    expect(await getScheduledTask(db, bad.id)).toMatchObject({ enabled: false, lastStatus: 'failed', consecutiveFailures: 1 });
    expect((await getScheduledTask(db, bad.id)).lastError).toMatch(/^paused: the schedule cannot be read .*"0 25 \* \* \*"/);
  });
});

describe('recording runs', () => {
  it('when a run stores its notification twice, then there is one notification with an id made of the task and the slot', async () => {
    const db = database.handle.db;
    const task = await createScheduledTask(db, { kind: 'reminder', chatId: '-100200', runAt: '2030-01-01T08:00:00Z', payload: { text: 'x' } });
    const dueAt = new Date('2030-01-01T08:00:00Z');
    const first = await createTaskNotification(db, { task, dueAt, kind: 'reminder', html: 'first' });
    const again = await createTaskNotification(db, { task, dueAt, kind: 'reminder', html: 'second' });
    expect(again).toBe(first);
    expect(first).toBe(taskRunId(task.id, dueAt));
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(taskRunId(task.id, new Date('2030-01-02T08:00:00Z'))).not.toBe(first);
    const rows = await db.selectFrom('notifications').select(['id', 'text', 'kind', 'status', 'chat_id', 'task_id']).execute();
    expect(rows).toEqual([{ id: first, text: 'first', kind: 'reminder', status: 'pending', chat_id: '-100200', task_id: task.id }]);
  });

  it('when a run\'s notification is given a priority, then it is stored with it; without one it is normal', async () => {
    const db = database.handle.db;
    const task = await createScheduledTask(db, { kind: 'agent_check', agent: 'roos', chatId: '-100200', runAt: '2030-01-01T08:00:00Z', payload: { prompt: 'ROAS?' } });
    const high = await createTaskNotification(db, { task, dueAt: new Date('2030-01-01T08:00:00Z'), kind: 'agent_check', html: 'ROAS 0.8', priority: 'high' });
    const plain = await createTaskNotification(db, { task, dueAt: new Date('2030-01-02T08:00:00Z'), kind: 'agent_check', html: 'ROAS 1.1' });
    const priorities = await db.selectFrom('notifications').select(['id', 'priority']).execute();
    expect(Object.fromEntries(priorities.map((r) => [r.id, r.priority]))).toEqual({ [high]: 'high', [plain]: 'normal' });
  });

  it('when runs fail, succeed and are skipped, then the failure count rises, resets and is left alone', async () => {
    const db = database.handle.db;
    const task = await createScheduledTask(db, { kind: 'reminder', chatId: '1', runAt: '2030-01-01T08:00:00Z', payload: { text: 'x' } });
    await recordTaskRun(db, task.id, { status: 'failed', error: 'boom' });
    await recordTaskRun(db, task.id, { status: 'failed', error: 'boom again' });
    expect(await getScheduledTask(db, task.id)).toMatchObject({ lastStatus: 'failed', lastError: 'boom again', consecutiveFailures: 2 });
    await recordTaskRun(db, task.id, { status: 'skipped' });
    expect(await getScheduledTask(db, task.id)).toMatchObject({ lastStatus: 'skipped', consecutiveFailures: 2 });
    await recordTaskRun(db, task.id, { status: 'ok' });
    const ok = await getScheduledTask(db, task.id);
    expect(ok).toMatchObject({ lastStatus: 'ok', lastError: null, consecutiveFailures: 0 });
    expect(ok.lastRunAt).toBeInstanceOf(Date);
  });
});

describe('what runs say', () => {
  it('when there are no stores, then the digest says so rather than sending an empty message', async () => {
    await sql`TRUNCATE stores CASCADE`.execute(database.handle.db);
    const digests = await dailyDigest(database.handle.db, {}, new Date());
    expect(digests).toEqual([]);
    expect(digestMessage(digests)).toBe('<b>📊 Daily digest</b>\nThere are no stores to report on.');
  });

  it('when a reminder text holds markup characters, then they are escaped for Telegram HTML', () => {
    expect(reminderMessage({ text: 'cups & <saucers>' })).toBe('<b>⏰ Reminder</b>\ncups &amp; &lt;saucers&gt;');
  });
});
