import type { Logger } from '@dealdome/config';
import { withDeadline } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { fireDueTasks } from '@dealdome/domain';
import type { DueRun } from '@dealdome/domain';
import { jobIds } from '@dealdome/queues';
import type { Producer } from '@dealdome/queues';

/** Tasks claimed per transaction; a tick keeps claiming while batches come back full. */
const BATCH_SIZE = 100;
/**
 * A run claimed this long after its time is a catch-up (no clock ran at its time),
 * not the usual lag of a tick: well above SCHEDULER_TICK_MS and a busy tick, well
 * below anything a person would notice as "the reminder came late".
 */
export const CATCH_UP_AFTER_MS = 60_000;

export interface ClockOptions {
  db: Database;
  producer: Producer;
  logger: Logger;
  /** Pause between the end of one tick and the start of the next. */
  tickMs: number;
  batchSize?: number;
}

export interface Clock {
  name: string;
  /** Fires every task due now; resolves with how many runs were queued. */
  tick(): Promise<number>;
  /** Stops ticking and waits (up to the deadline) for the tick in progress. */
  close(deadlineMs: number): Promise<void>;
}

/**
 * The scheduler's clock: every `tickMs` it claims the due scheduled tasks and queues
 * one `run-task` job per slot (domain: fireDueTasks). The enqueue happens inside the
 * claiming transaction, before it commits: if Redis refuses, the transaction rolls
 * back and the slot is claimed again next tick; if the process dies after the enqueue
 * but before the commit, the next claim queues the same job id again, which BullMQ
 * ignores. Replicas can run side by side: each claims only rows no other holds.
 */
export function startClock(options: ClockOptions): Clock {
  const { db, producer, tickMs } = options;
  const logger = options.logger.child({ component: 'clock' });
  const batchSize = options.batchSize ?? BATCH_SIZE;

  const dispatch = async (runs: DueRun[]) => {
    await Promise.all(
      runs.map((run) =>
        producer.enqueue(
          'scheduled-tasks',
          'run-task',
          { taskId: run.taskId, dueAt: run.dueAt.toISOString() },
          { jobId: jobIds.runTask(run.taskId, run.dueAt) },
        ),
      ),
    );
  };

  const tick = async () => {
    let queued = 0;
    for (;;) {
      const { runs, broken } = await fireDueTasks(db, { limit: batchSize, dispatch });
      queued += runs.length;
      for (const run of runs) {
        const fields = { taskId: run.taskId, kind: run.kind, dueAt: run.dueAt, nextRunAt: run.nextRunAt };
        // A late one-shot task or a daily task whose one slot passed during downtime
        // misses no further slot, yet it still runs late: that is a catch-up too.
        if (run.missedSlots > 0 || run.lateMs > CATCH_UP_AFTER_MS) {
          logger.warn({ ...fields, lateMs: run.lateMs, missedSlots: run.missedSlots }, 'task runs late, once, for the slots that passed while no clock ran');
        } else {
          logger.debug(fields, 'task queued');
        }
      }
      for (const b of broken) logger.error({ taskId: b.taskId, error: b.error }, 'task paused: its stored schedule cannot be read');
      if (runs.length + broken.length < batchSize) return queued;
    }
  };

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  const loop = () => {
    running = tick()
      .catch((err: unknown) => logger.error({ err }, 'tick failed; the due tasks stay due for the next one'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, tickMs);
      });
  };
  loop();

  return {
    name: 'clock',
    tick,
    close: async (deadlineMs) => {
      stopped = true;
      clearTimeout(timer);
      if ((await withDeadline(running, deadlineMs)) === 'timeout') logger.warn({ deadlineMs }, 'a tick was still running at the shutdown deadline');
    },
  };
}
