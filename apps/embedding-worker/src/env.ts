import type { z } from 'zod';
import { baseEnvSchema, envPort } from '@dealdome/config';

export const envSchema = baseEnvSchema.extend({
  /** /healthz, /readyz and /metrics. */
  EMBEDDING_WORKER_PORT: envPort(9403),
});

export type Env = z.infer<typeof envSchema>;
