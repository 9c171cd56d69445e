import type { z } from 'zod';
import { anthropicEnv, baseEnvSchema, embeddingEnv, envAnthropicModel, envInt, envPort } from '@dealdome/config';

export const envSchema = baseEnvSchema.extend({
  /** /healthz, /readyz and /metrics. */
  AGENT_RUNTIME_PORT: envPort(9402),
  /** Without ANTHROPIC_API_KEY the runtime still answers every turn: it says the agents are offline. */
  ...anthropicEnv,
  /** One model for every agent instead of each agent's own. */
  ANTHROPIC_MODEL: envAnthropicModel(),
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
