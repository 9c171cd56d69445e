import { startService } from '@dealdome/config';
import type { Logger, StartedService } from '@dealdome/config';
import { openDatabaseFromEnv } from '@dealdome/db';
import { openRedis, redisDependency } from '@dealdome/queues';
import { createApp } from './app';
import type { Env } from './env';

const SERVICE = 'finance-api';

export async function startFinanceApi(env: Env, logger: Logger): Promise<StartedService> {
  const database = await openDatabaseFromEnv(env, logger, SERVICE);
  const redis = await openRedis(env.REDIS_URL, logger, SERVICE);
  return startService({
    service: SERVICE,
    logger,
    env,
    port: env.FINANCE_API_PORT,
    dependencies: [database.dependency, redisDependency(redis)],
    app: createApp(logger),
  });
}
