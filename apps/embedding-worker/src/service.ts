import { selectEmbeddingProvider } from '@dealdome/ai';
import type { Logger, StartedService } from '@dealdome/config';
import { startPlatformService } from '@dealdome/queues';
import type { Env } from './env';
import { createEmbeddingWorker } from './worker';

export function startEmbeddingWorker(env: Env, logger: Logger): Promise<StartedService> {
  const provider = selectEmbeddingProvider(env, logger);
  return startPlatformService({
    service: 'embedding-worker',
    env,
    logger,
    port: env.EMBEDDING_WORKER_PORT,
    setup: ({ database, redis, registry }) => {
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
      });
      return { consumers: [{ name: 'embeddings', worker: embeddings.worker, close: (deadlineMs: number) => embeddings.close(deadlineMs) }] };
    },
  });
}
