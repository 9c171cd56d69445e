import { useTestDatabase } from '@dealdome/db/testing';
import { createScheduledTask, runScheduledTaskNow, taskRunId } from '../src';
import type { RunNow } from '../src';

const database = useTestDatabase();

describe('running a scheduled task now', () => {
  const dispatched: RunNow[] = [];
  const dispatch = async (run: RunNow) => void dispatched.push(run);
  beforeEach(() => dispatched.splice(0));

  it("when now falls on a whole minute, then the run is for a millisecond later: never one of a cron task's slots", async () => {
    const task = await createScheduledTask(database.handle.db, { kind: 'reminder', chatId: '-1', cronExpression: '*/5 * * * *', timezone: 'UTC', payload: { text: 'x' } });
    const slot = new Date('2026-12-01T09:05:00.000Z');

    const run = await runScheduledTaskNow(database.handle.db, task.id, dispatch, slot);

    expect(run.dueAt.toISOString()).toBe('2026-12-01T09:05:00.001Z');
    expect(dispatched).toEqual([run]);
    // What the run stores is keyed by slot: it cannot be the 09:05 run's notification.
    expect(taskRunId(task.id, run.dueAt)).not.toBe(taskRunId(task.id, slot));
  });

  it("when now is a one-shot task's own instant, then the run is for a millisecond later; at any other instant, for now", async () => {
    const runAt = new Date(Date.now() + 3_600_000 + 123);
    const task = await createScheduledTask(database.handle.db, { kind: 'reminder', chatId: '-1', runAt, payload: { text: 'x' } });

    expect((await runScheduledTaskNow(database.handle.db, task.id, dispatch, runAt)).dueAt.getTime()).toBe(runAt.getTime() + 1);
    const other = new Date(runAt.getTime() - 5000);
    expect((await runScheduledTaskNow(database.handle.db, task.id, dispatch, other)).dueAt).toEqual(other);
  });

  it('when dispatching fails, then the error reaches the caller', async () => {
    const task = await createScheduledTask(database.handle.db, { kind: 'reminder', chatId: '-1', cronExpression: '0 9 * * *', timezone: 'UTC', payload: { text: 'x' } });
    await expect(
      runScheduledTaskNow(database.handle.db, task.id, async () => {
        throw new Error('Redis is away');
      }),
    ).rejects.toThrow('Redis is away');
  });
});
