import type { z } from 'zod';
import { anthropicEnv, baseEnvSchema, embeddingEnv, envAnthropicModel, envInt, envPort } from '@dealdome/config';

export const envSchema = baseEnvSchema.extend({
  /** /healthz, /readyz and /metrics. */
  EMBEDDING_WORKER_PORT: envPort(9403),
  ...embeddingEnv,
  /** Jobs one replica runs at once; their texts share batches. */
  EMBEDDING_CONCURRENCY: envInt(16, 1),
  /** Texts per provider request at most (the OpenAI limits apply on top). */
  EMBEDDING_BATCH_SIZE: envInt(256, 1),
  /** How long the first text of a batch waits for others before the batch goes. */
  EMBEDDING_BATCH_WAIT_MS: envInt(20, 0),
  /** With ANTHROPIC_API_KEY, each new memory is checked for the older ones it contradicts. */
  ...anthropicEnv,
  /** The model that reviews memories (default claude-haiku-4-5). */
  MEMORY_REVIEW_MODEL: envAnthropicModel(),
});

export type Env = z.infer<typeof envSchema>;
