import type { Queue } from 'bullmq';
import { queueNames } from './catalog';
import type { QueueName } from './catalog';
import type { Producer } from './producer';

/**
 * What an operator does to the queues of the catalog, shared by `pnpm dealdome queues:*`;
 * finance-api's Bull Board reads the same catalog through the same Producer.
 */

export const countedStates = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
export type CountedState = (typeof countedStates)[number];
export type QueueCounts = { queue: QueueName; paused: boolean } & Record<CountedState, number>;

/** The queue named, or an error that lists the catalog's queues. */
export function queueNamed(name: string): QueueName {
  if ((queueNames as string[]).includes(name)) return name as QueueName;
  throw new Error(`no queue is named ${name}; the queues are ${queueNames.join(', ')}`);
}

/**
 * Jobs per state of one queue. "waiting" counts every job that waits for a worker:
 * plain, prioritized, and those held while the queue is paused. (Also what each
 * worker's service reports as its queue's depth on /metrics.)
 */
export async function jobCounts(q: Queue): Promise<Record<CountedState, number>> {
  const counts = await q.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed');
  const n = (state: string) => counts[state] ?? 0;
  return {
    waiting: n('waiting') + n('paused') + n('prioritized'),
    active: n('active'),
    delayed: n('delayed'),
    failed: n('failed'),
    completed: n('completed'),
  };
}

/** Jobs per state for every queue of the catalog (see jobCounts). */
export async function queueCounts(producer: Producer): Promise<QueueCounts[]> {
  return Promise.all(
    queueNames.map(async (queue) => {
      const q = producer.queue(queue);
      const [counts, paused] = await Promise.all([jobCounts(q), q.isPaused()]);
      return { queue, paused, ...counts };
    }),
  );
}

export interface RetryResult {
  retried: string[];
  /** Jobs that left the failed set while this ran (retried by someone else, removed by retention). */
  gone: string[];
}

/**
 * Moves failed jobs of a queue back to waiting, oldest failure first, at most `limit`
 * of them. Each gets its attempts back: the operator retries once the cause is fixed,
 * so the catalog's whole retry policy applies again rather than one last try.
 */
export async function retryFailedJobs(producer: Producer, queue: QueueName, options: { limit?: number } = {}): Promise<RetryResult> {
  const q = producer.queue(queue);
  const end = options.limit === undefined ? -1 : options.limit - 1;
  // Ascending: the failure that has waited longest goes first.
  const jobs = await q.getJobs(['failed'], 0, end, true);
  const result: RetryResult = { retried: [], gone: [] };
  for (const job of jobs) {
    if (!job.id) continue;
    try {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      result.retried.push(job.id);
    } catch (err) {
      // A job no longer failed is not an error of this command; anything else is.
      if ((await q.getJobState(job.id)) === 'failed') throw err;
      result.gone.push(job.id);
    }
  }
  return result;
}

export const cleanableStates = ['completed', 'failed'] as const;
export type CleanableState = (typeof cleanableStates)[number];

/**
 * Deletes the jobs of a queue that finished in `state` more than `olderThanMs` ago
 * (retention deletes them later anyway; this is for when they are in the way now).
 * Returns the ids deleted.
 */
export async function cleanJobs(producer: Producer, queue: QueueName, options: { state: CleanableState; olderThanMs: number }): Promise<string[]> {
  // limit 0: every job that qualifies. Retention keeps each set to a few thousand at most.
  return producer.queue(queue).clean(options.olderThanMs, 0, options.state);
}
