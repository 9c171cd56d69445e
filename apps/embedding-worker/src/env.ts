import type { z } from 'zod';
import { baseEnvSchema, embeddingEnv, envInt, envPort } from '@dealdome/config';

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
});

export type Env = z.infer<typeof envSchema>;
