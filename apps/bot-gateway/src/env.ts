import type { z } from 'zod';
import { baseEnvSchema, envPort } from '@dealdome/config';

export const envSchema = baseEnvSchema.extend({
  /** /healthz, /readyz and /metrics. */
  BOT_GATEWAY_PORT: envPort(9401),
});

export type Env = z.infer<typeof envSchema>;
