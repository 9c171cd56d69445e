import type { Logger, StartedService } from '@dealdome/config';
import { startPlatformService } from '@dealdome/queues';
import { createApp } from './app';
import type { Env } from './env';

export function startFinanceApi(env: Env, logger: Logger): Promise<StartedService> {
  return startPlatformService({
    service: 'finance-api',
    env,
    logger,
    port: env.FINANCE_API_PORT,
    ...(env.DATABASE_READ_URL && { readDatabaseUrl: env.DATABASE_READ_URL }),
    setup: (platform) => ({ app: createApp(platform, env) }),
  });
}
