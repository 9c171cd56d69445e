import type { Logger, StartedService } from '@dealdome/config';
import { startPlatformService } from '@dealdome/queues';
import type { Env } from './env';

export function startEmbeddingWorker(env: Env, logger: Logger): Promise<StartedService> {
  return startPlatformService({ service: 'embedding-worker', env, logger, port: env.EMBEDDING_WORKER_PORT, });
}
