import type { Logger, StartedService } from '@dealdome/config';
import { startPlatformService } from '@dealdome/queues';
import type { Env } from './env';

export function startAgentRuntime(env: Env, logger: Logger): Promise<StartedService> {
  return startPlatformService({ service: 'agent-runtime', env, logger, port: env.AGENT_RUNTIME_PORT, });
}
