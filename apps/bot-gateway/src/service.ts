import type { Logger, StartedService } from '@dealdome/config';
import { startPlatformService } from '@dealdome/queues';
import type { Env } from './env';
import { createGateway, telegramSetup } from './gateway';

export function startBotGateway(env: Env, logger: Logger): Promise<StartedService> {
  const telegram = telegramSetup(env, logger);
  return startPlatformService({
    service: 'bot-gateway',
    env,
    logger,
    port: env.BOT_GATEWAY_PORT,
    setup: (platform) => {
      const gateway = createGateway(platform, env, telegram);
      return { ...(gateway.app && { app: gateway.app }), consumers: gateway.consumers };
    },
  });
}
