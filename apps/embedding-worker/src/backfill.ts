import { createHash } from 'node:crypto';
import type { Database } from '@dealdome/db';
import { memoriesAwaitingReview } from '@dealdome/domain';
import { jobIds } from '@dealdome/queues';
import type { Producer } from '@dealdome/queues';
import { embeddedKinds, rowsMissingVector } from './entities';
import type { EmbeddedKind } from './entities';

/** Rows per backfill job: batched across jobs by the worker anyway, and a failed job retries no more than this. */
export const BACKFILL_BATCH = 200;

export type BackfillCounts = Record<EmbeddedKind, { rows: number; jobs: number }>;

/**
 * Queues `embed` jobs for every row that should have a vector of `model` and has
 * none (rowsMissingVector): products, current memories and the chunks of ready
 * videos. That is all of them after a change of model — so search never stays on
 * the text side or recall on nothing — and any whose job never reached the queue
 * (an enqueue that failed after its row was committed, the demo seed, rows written
 * outside the API). Each job's id is the key of its kind, model and ids, so
 * starting again before they ran queues nothing twice.
 */
export async function queueEmbeddingBackfill(db: Database, producer: Producer, model: string): Promise<BackfillCounts> {
  const counts = {} as BackfillCounts;
  for (const kind of embeddedKinds) {
    const ids = await rowsMissingVector(db, kind, model);
    let jobs = 0;
    for (let i = 0; i < ids.length; i += BACKFILL_BATCH) {
      const batch = ids.slice(i, i + BACKFILL_BATCH);
      const key = createHash('sha256').update(`${kind}\n${model}\n${batch.join(',')}`).digest('hex').slice(0, 32);
      await producer.enqueue('embeddings', 'embed', { kind, ids: batch }, { jobId: jobIds.embedBackfillBatch(kind, key) });
      jobs += 1;
    }
    counts[kind] = { rows: ids.length, jobs };
  }
  return counts;
}

/**
 * With Claude configured: queues a review for every current memory the near-duplicate
 * check kept that no review has looked at (memoriesAwaitingReview) — one whose review
 * job ran out of attempts while Claude was down, or one kept while no key was set. A
 * review job of the memory that failed for good is retried (its id stays taken while
 * the queue keeps it); one still waiting or running is left alone. Returns how many
 * were queued or retried.
 */
export async function queueReviewBackfill(db: Database, producer: Producer, model: string): Promise<{ memories: number; retried: number }> {
  const ids = await memoriesAwaitingReview(db, model);
  const queue = producer.queue('embeddings');
  let retried = 0;
  for (const id of ids) {
    const job = await queue.getJob(jobIds.reviewMemory(id));
    if (job && (await job.isFailed())) {
      await job.retry('failed');
      retried += 1;
    } else if (!job) {
      await producer.enqueue('embeddings', 'review-memory', { memoryId: id }, { jobId: jobIds.reviewMemory(id) });
    }
  }
  return { memories: ids.length, retried };
}
