import { startService } from '@dealdome/config';
import type { Logger, StartedService } from '@dealdome/config';
import { openDatabaseFromEnv } from '@dealdome/db';
import { openRedis, redisDependency } from '@dealdome/queues';
import type { Env } from './env';

const SERVICE = 'agent-runtime';

export async function startAgentRuntime(env: Env, logger: Logger): Promise<StartedService> {
  const database = await openDatabaseFromEnv(env, logger, SERVICE);
  const redis = await openRedis(env.REDIS_URL, logger, SERVICE);
  return startService({
    service: SERVICE,
    logger,
    env,
    port: env.AGENT_RUNTIME_PORT,
    dependencies: [database.dependency, redisDependency(redis)],
  });
}
