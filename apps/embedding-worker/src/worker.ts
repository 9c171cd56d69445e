import { reviewMemoryContradictions } from '@dealdome/ai';
import type { createAnthropicClient } from '@dealdome/ai';
import type { EmbeddingProvider } from '@dealdome/ai';
import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { applyMemoryReview, memoryReviewCandidates, memorySettlement, settleNearDuplicate } from '@dealdome/domain';
import { createWorker, jobIds } from '@dealdome/queues';
import type { ManagedWorker, Producer } from '@dealdome/queues';
import type { RedisConnection } from '@dealdome/queues';
import type { Registry } from 'prom-client';
import { EmbeddingBatcher } from './batcher';
import { rowsToEmbed, writeVectorsFromCache } from './entities';
import { ingestTranscript } from './ingest';
import { embeddingMetrics } from './metrics';
import { failVideosWhenIngestGivesUp } from './video-failures';

export interface EmbeddingWorkerDeps {
  db: Database;
  redis: RedisConnection;
  /** QUEUE_PREFIX. */
  prefix: string;
  provider: EmbeddingProvider;
  logger: Logger;
  registry?: Registry;
  concurrency: number;
  batchSize: number;
  batchWaitMs: number;
  /**
   * Claude and the model that reviews new memories for contradictions, with the
   * producer that queues the reviews; without it memories are only de-duplicated.
   */
  review?: { client: ReturnType<typeof createAnthropicClient>; model: string; producer: Producer };
}

/**
 * `merged`: memories found to be near-duplicates of older ones (settleNearDuplicate);
 * `reviews`: memories queued for the contradiction review.
 */
export type EmbedJobResult = { embedded: number; skipped: number; model: string; merged?: number; reviews?: number };

export type ReviewJobResult =
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'reviewed'; candidates: number; superseded: string[]; ignored: string[]; model?: string; costUsd?: string | null };

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
        const settled = texts.length ? await batcher.ensureCachedSettled(texts.map((r) => r.text)) : [];
        // The vectors that came are written even when others did not: a retry embeds only the rest.
        await writeVectorsFromCache(
          deps.db,
          kind,
          model,
          texts.flatMap((r, i) => (settled[i]!.error === undefined ? [{ id: r.id, key: settled[i]!.key }] : [])),
        );
        if (texts.length < rows.length) deps.logger.warn({ kind, blank: rows.length - texts.length }, 'rows with blank text were not embedded');
        const failed = settled.find((t) => t.error !== undefined);
        if (kind !== 'memory') {
          if (failed) throw failed.error;
          return { embedded: texts.length, skipped: rows.length - texts.length, model };
        }
        // Over every memory the job names, not only those embedded just now: when an attempt
        // wrote the vectors and then failed, the next one finds the check or the review still
        // to do in the recorded decisions (memorySettlement) and does it.
        let merged = 0;
        let reviews = 0;
        for (const memory of await memorySettlement(deps.db, ids, model)) {
          if (!memory.settled) {
            const decision = await settleNearDuplicate(deps.db, memory.id);
            // Merged meanwhile into another of the job's memories (its check came first).
            if (decision.outcome === 'skipped') continue;
            if (decision.outcome === 'merged') {
              merged += 1;
              deps.logger.info({ memoryId: memory.id, into: decision.into, similarity: decision.similarity }, 'near-duplicate memories merged into the older one');
              continue;
            }
          }
          if (deps.review && !memory.reviewed) {
            // Its own job: a model outage retries the review, never the embedding.
            await deps.review.producer.enqueue('embeddings', 'review-memory', { memoryId: memory.id }, { jobId: jobIds.reviewMemory(memory.id) });
            reviews += 1;
          }
        }
        // The memories that got their vectors are settled first; the job is then retried for the rest.
        if (failed) throw failed.error;
        return { embedded: texts.length, skipped: rows.length - texts.length, model, merged, ...(deps.review && { reviews }) };
      },
      'review-memory': async ({ memoryId }, _job, signal): Promise<ReviewJobResult> => {
        if (!deps.review) return { outcome: 'skipped', reason: 'no Anthropic key: memories are not reviewed' };
        // A job run again (stalled, or queued again by the sweep) after its review was recorded asks nothing twice.
        const [state] = await memorySettlement(deps.db, [memoryId], model);
        if (state?.reviewed) return { outcome: 'skipped', reason: 'the memory was reviewed already' };
        const found = await memoryReviewCandidates(deps.db, memoryId);
        if (!found) return { outcome: 'skipped', reason: 'the memory is gone, superseded or not embedded' };
        if (found.candidates.length === 0) {
          const applied = await applyMemoryReview(deps.db, memoryId, { reviewer: deps.review.model, candidates: [], superseded: [] });
          metrics.memoryReviews.inc({ outcome: 'no_candidates' });
          return { outcome: 'reviewed', candidates: 0, ...applied };
        }
        const answer = await reviewMemoryContradictions(deps.review.client, {
          model: deps.review.model,
          memory: found.memory,
          candidates: found.candidates,
          ...(signal ? { signal } : {}),
        });
        metrics.memoryReviewTokens.inc({ model: answer.model, direction: 'input' }, answer.usage.inputTokens);
        metrics.memoryReviewTokens.inc({ model: answer.model, direction: 'output' }, answer.usage.outputTokens);
        const applied = await applyMemoryReview(deps.db, memoryId, { reviewer: answer.model, candidates: found.candidates, superseded: answer.superseded });
        metrics.memoryReviews.inc({ outcome: applied.superseded.length ? 'superseded' : 'kept' });
        if (applied.superseded.length) {
          deps.logger.info({ memoryId, superseded: applied.superseded, model: answer.model }, 'a new memory superseded the memories it contradicts');
        }
        return { outcome: 'reviewed', candidates: found.candidates.length, ...applied, model: answer.model, costUsd: answer.costUsd };
      },
      'ingest-transcript': ({ videoId }) => ingestTranscript(deps.db, batcher, videoId, deps.logger),
    },
    { connection: deps.redis, prefix: deps.prefix, logger: deps.logger, concurrency: deps.concurrency, registry: deps.registry },
  );
  failVideosWhenIngestGivesUp(managed.worker, deps.db, deps.logger);
  return { ...managed, batcher };
}
