import { z } from 'zod';
import { baseEnvSchema, embeddingEnv, envInt, envPort } from '@dealdome/config';

const unsetWhenEmpty = (value: unknown) => (value === '' ? undefined : value);

const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http:// or https:// URL' });

export const envSchema = baseEnvSchema.extend({
  /** /healthz, /readyz and /metrics. */
  AGENT_RUNTIME_PORT: envPort(9402),
  /** Without a key the runtime still answers every turn: it says the agents are offline. */
  ANTHROPIC_API_KEY: z.preprocess(unsetWhenEmpty, z.string().min(1).optional()),
  /** Another Messages API endpoint (a proxy, a gateway, the fake in tests). */
  ANTHROPIC_BASE_URL: z.preprocess(unsetWhenEmpty, httpUrl.optional()),
  /** One model for every agent instead of each agent's own. */
  ANTHROPIC_MODEL: z.preprocess(unsetWhenEmpty, z.string().regex(/^[a-z0-9][a-z0-9.-]{1,99}$/, 'expected a model id such as claude-sonnet-4-6').optional()),
  /** Turns run at once by one replica (each one chat). */
  AGENT_CONCURRENCY: envInt(4, 1),
  /** A turn's whole time budget: every model call, retry wait and tool. */
  AGENT_TURN_DEADLINE_MS: envInt(90_000, 1000),
  /** Rounds of tool calls per turn before the agent must answer with what it has. */
  AGENT_MAX_TOOL_ROUNDS: envInt(8, 0),
  /** Estimated tokens of conversation history sent with a turn; older turns are dropped first. */
  AGENT_HISTORY_TOKEN_BUDGET: envInt(50_000, 1000),
  /** Memories offered to each turn, the most relevant to its messages (0: none). */
  AGENT_MEMORIES_PER_TURN: envInt(5, 0),
  /** Embeds a turn's messages to find the memories relevant to them; the same model as the embedding-worker. */
  ...embeddingEnv,
});

export type Env = z.infer<typeof envSchema>;
