import type { Logger, StartedService } from '@dealdome/config';
import { startPlatformService } from '@dealdome/queues';
import type { Env } from './env';

export function startBotGateway(env: Env, logger: Logger): Promise<StartedService> {
  return startPlatformService({ service: 'bot-gateway', env, logger, port: env.BOT_GATEWAY_PORT, });
}
