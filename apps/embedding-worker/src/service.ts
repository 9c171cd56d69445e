import { createAnthropicClient, DEFAULT_MEMORY_REVIEW_MODEL, selectEmbeddingProvider } from '@dealdome/ai';
import type { Logger, StartedService } from '@dealdome/config';
import { startPlatformService } from '@dealdome/queues';
import { queueEmbeddingBackfill, queueReviewBackfill } from './backfill';
import type { Env } from './env';
import { createEmbeddingWorker } from './worker';

export function startEmbeddingWorker(env: Env, logger: Logger): Promise<StartedService> {
  const provider = selectEmbeddingProvider(env, logger);
  const reviewModel = env.MEMORY_REVIEW_MODEL ?? DEFAULT_MEMORY_REVIEW_MODEL;
  const reviewer = env.ANTHROPIC_API_KEY
    ? createAnthropicClient({
        apiKey: env.ANTHROPIC_API_KEY,
        ...(env.ANTHROPIC_BASE_URL ? { baseURL: env.ANTHROPIC_BASE_URL } : {}),
        timeoutMs: 60_000,
        logger: logger.child({ component: 'anthropic-sdk' }),
      })
    : null;
  if (reviewer) logger.info({ model: reviewModel }, 'new memories are reviewed for contradictions');
  else logger.info('ANTHROPIC_API_KEY is not set: memories are de-duplicated, not reviewed for contradictions');
  return startPlatformService({
    service: 'embedding-worker',
    env,
    logger,
    port: env.EMBEDDING_WORKER_PORT,
    setup: ({ database, redis, producer, registry }) => {
      const embeddings = createEmbeddingWorker({
        db: database.db,
        redis,
        prefix: env.QUEUE_PREFIX,
        provider,
        logger,
        registry,
        concurrency: env.EMBEDDING_CONCURRENCY,
        batchSize: env.EMBEDDING_BATCH_SIZE,
        batchWaitMs: env.EMBEDDING_BATCH_WAIT_MS,
        ...(reviewer && { review: { client: reviewer, model: reviewModel, producer } }),
      });
      // Not awaited: start-up does not depend on it, and what a failure leaves is queued at the next start.
      void queueEmbeddingBackfill(database.db, producer, provider.model).then(
        (queued) =>
          Object.values(queued).some((q) => q.rows > 0) &&
          logger.info({ model: provider.model, ...queued }, 'rows without a vector of this model queued for embedding'),
        (err: unknown) => logger.error({ err }, 'queueing the rows without a vector failed; the next start tries again'),
      );
      if (reviewer) {
        void queueReviewBackfill(database.db, producer, provider.model).then(
          (queued) => queued.memories > 0 && logger.info(queued, 'memories without a contradiction review queued for one'),
          (err: unknown) => logger.error({ err }, 'queueing the memories without a review failed; the next start tries again'),
        );
      }
      return { consumers: [{ name: 'embeddings', worker: embeddings.worker, close: (deadlineMs: number) => embeddings.close(deadlineMs) }] };
    },
  });
}
