import { createAnthropicClient, selectEmbeddingProvider } from '@dealdome/ai';
import type { Logger, StartedService } from '@dealdome/config';
import { startPlatformService } from '@dealdome/queues';
import type { Env } from './env';
import { createTurnWorker } from './turns';

export function startAgentRuntime(env: Env, logger: Logger): Promise<StartedService> {
  const client = env.ANTHROPIC_API_KEY
    ? createAnthropicClient({
        apiKey: env.ANTHROPIC_API_KEY,
        ...(env.ANTHROPIC_BASE_URL ? { baseURL: env.ANTHROPIC_BASE_URL } : {}),
        logger: logger.child({ component: 'anthropic-sdk' }),
      })
    : null;
  if (!client) logger.warn('ANTHROPIC_API_KEY is not set: the agents are offline and every turn is answered with a note saying so');

  const embeddings = selectEmbeddingProvider(env, logger);

  return startPlatformService({
    service: 'agent-runtime',
    env,
    logger,
    port: env.AGENT_RUNTIME_PORT,
    setup: ({ database, redis, producer, registry }) => ({
      consumers: [
        {
          name: 'agent-turns',
          ...createTurnWorker({
            db: database.db,
            redis,
            prefix: env.QUEUE_PREFIX,
            producer,
            logger,
            registry,
            settings: {
              client,
              ...(env.ANTHROPIC_MODEL ? { model: env.ANTHROPIC_MODEL } : {}),
              concurrency: env.AGENT_CONCURRENCY,
              deadlineMs: env.AGENT_TURN_DEADLINE_MS,
              maxToolRounds: env.AGENT_MAX_TOOL_ROUNDS,
              historyTokenBudget: env.AGENT_HISTORY_TOKEN_BUDGET,
              embeddings,
              memoriesPerTurn: env.AGENT_MEMORIES_PER_TURN,
            },
          }),
        },
      ],
    }),
  });
}
