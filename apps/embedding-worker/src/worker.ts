import type { EmbeddingProvider } from '@dealdome/ai';
import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { settleNearDuplicate } from '@dealdome/domain';
import { createWorker } from '@dealdome/queues';
import type { ManagedWorker } from '@dealdome/queues';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { EmbeddingBatcher } from './batcher';
import { rowsToEmbed, writeVectorsFromCache } from './entities';
import { ingestTranscript } from './ingest';
import { embeddingMetrics } from './metrics';

export interface EmbeddingWorkerDeps {
  db: Database;
  redis: Redis;
  /** QUEUE_PREFIX. */
  prefix: string;
  provider: EmbeddingProvider;
  logger: Logger;
  registry?: Registry;
  concurrency: number;
  batchSize: number;
  batchWaitMs: number;
}

/** `merged`: memories found to be near-duplicates of older ones (settleNearDuplicate). */
export type EmbedJobResult = { embedded: number; skipped: number; model: string; merged?: number };

/**
 * The consumer of `embeddings`. An `embed` job names rows of one kind; those without
 * a vector of the current model get one, their texts batched with every other
 * running job's. Rows whose text is blank are skipped (and counted), not failed: no
 * retry would give them text. `ingest-transcript` chunks a video's transcript and
 * embeds the chunks the same way (see ingest.ts).
 */
export function createEmbeddingWorker(deps: EmbeddingWorkerDeps): ManagedWorker & { batcher: EmbeddingBatcher } {
  const metrics = embeddingMetrics(deps.registry);
  const batcher = new EmbeddingBatcher({
    db: deps.db,
    provider: deps.provider,
    batchSize: deps.batchSize,
    waitMs: deps.batchWaitMs,
    metrics,
    logger: deps.logger.child({ component: 'embedding-batcher' }),
  });
  const model = deps.provider.model;
  const managed = createWorker(
    'embeddings',
    {
      embed: async ({ kind, ids }): Promise<EmbedJobResult> => {
        const rows = await rowsToEmbed(deps.db, kind, ids, model);
        const texts = rows.filter((r) => r.text.trim() !== '');
        const keys = texts.length ? await batcher.ensureCached(texts.map((r) => r.text)) : [];
        await writeVectorsFromCache(deps.db, kind, model, texts.map((r, i) => ({ id: r.id, key: keys[i]! })));
        if (texts.length < rows.length) deps.logger.warn({ kind, blank: rows.length - texts.length }, 'rows with blank text were not embedded');
        let merged = 0;
        if (kind === 'memory') {
          for (const { id } of texts) {
            const decision = await settleNearDuplicate(deps.db, id);
            if (decision.outcome === 'merged') {
              merged += 1;
              deps.logger.info({ memoryId: id, into: decision.into, similarity: decision.similarity }, 'near-duplicate memories merged into the older one');
            }
          }
        }
        return { embedded: texts.length, skipped: rows.length - texts.length, model, ...(kind === 'memory' && { merged }) };
      },
      'ingest-transcript': ({ videoId }) => ingestTranscript(deps.db, batcher, videoId, deps.logger),
    },
    { connection: deps.redis, prefix: deps.prefix, logger: deps.logger, concurrency: deps.concurrency },
  );
  return { ...managed, batcher };
}
