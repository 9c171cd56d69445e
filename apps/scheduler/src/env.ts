import type { z } from 'zod';
import { baseEnvSchema, envPort } from '@dealdome/config';

export const envSchema = baseEnvSchema.extend({
  /** /healthz, /readyz and /metrics. */
  SCHEDULER_PORT: envPort(9404),
});

export type Env = z.infer<typeof envSchema>;
