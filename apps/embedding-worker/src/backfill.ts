import { createHash } from 'node:crypto';
import type { Database } from '@dealdome/db';
import { productsToEmbed } from '@dealdome/domain';
import { jobIds } from '@dealdome/queues';
import type { Producer } from '@dealdome/queues';

/** Products per backfill job: batched across jobs by the worker anyway, and a failed job retries no more than this. */
export const PRODUCT_BACKFILL_BATCH = 200;

/**
 * Queues `embed` jobs for every product without a vector of `model`: all of them
 * after a change of model, and any whose job never reached the queue (a failed
 * enqueue, the demo seed, rows written outside the API). Each job's id is the key
 * of its model and ids, so starting again before they ran queues nothing twice.
 */
export async function queueProductBackfill(db: Database, producer: Producer, model: string): Promise<{ products: number; jobs: number }> {
  const ids = await productsToEmbed(db, model);
  let jobs = 0;
  for (let i = 0; i < ids.length; i += PRODUCT_BACKFILL_BATCH) {
    const batch = ids.slice(i, i + PRODUCT_BACKFILL_BATCH);
    const key = createHash('sha256').update(`${model}\n${batch.join(',')}`).digest('hex').slice(0, 32);
    await producer.enqueue('embeddings', 'embed', { kind: 'product', ids: batch }, { jobId: jobIds.embedProductBatch(key) });
    jobs += 1;
  }
  return { products: ids.length, jobs };
}
