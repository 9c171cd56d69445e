import type { z } from 'zod';
import { baseEnvSchema, envPort } from '@dealdome/config';

export const envSchema = baseEnvSchema.extend({
  /** /healthz, /readyz and /metrics. */
  AGENT_RUNTIME_PORT: envPort(9402),
});

export type Env = z.infer<typeof envSchema>;
