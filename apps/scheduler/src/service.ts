import type { Logger, StartedService } from '@dealdome/config';
import { startPlatformService } from '@dealdome/queues';
import type { Env } from './env';

export function startScheduler(env: Env, logger: Logger): Promise<StartedService> {
  return startPlatformService({ service: 'scheduler', env, logger, port: env.SCHEDULER_PORT, });
}
