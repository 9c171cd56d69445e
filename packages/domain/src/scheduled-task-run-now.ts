import type { Database } from '@dealdome/db';
import { conflict } from './errors';
import { getScheduledTask } from './scheduled-tasks';
import type { ScheduledTask } from './scheduled-tasks';

/** A run of a task outside its schedule, as it is handed to the queue. */
export interface RunNow {
  task: ScheduledTask;
  /** The slot the run is for: this instant, never one of the task's own slots. */
  dueAt: Date;
}

/**
 * Runs a task once now, besides its schedule (an operator trying a task out, or
 * making up a run that failed): the run goes to the queue the way the clock's runs do,
 * through `dispatch`, and `next_run_at` is left alone, so the schedule goes on as it
 * was. A paused task is refused: the worker skips paused tasks' runs.
 *
 * What a run stores (its notification) is keyed by task and slot; the slot of a run
 * now is moved off the task's own slots — cron slots fall on whole minutes, a
 * one-shot task's on its runAt — so it never stands in for a scheduled run.
 */
export async function runScheduledTaskNow(
  db: Database,
  id: string,
  dispatch: (run: RunNow) => Promise<void>,
  now: Date = new Date(),
): Promise<RunNow> {
  const task = await getScheduledTask(db, id);
  if (!task.enabled) throw conflict('the task is paused; resume it first (the worker skips the runs of paused tasks)');
  const isSlot = (ms: number) => ms % 60_000 === 0 || ms === task.runAt?.getTime();
  let dueAt = now.getTime();
  while (isSlot(dueAt)) dueAt += 1;
  const run = { task, dueAt: new Date(dueAt) };
  await dispatch(run);
  return run;
}
