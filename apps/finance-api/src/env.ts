import type { z } from 'zod';
import { baseEnvSchema, envPort } from '@dealdome/config';

export const envSchema = baseEnvSchema.extend({
  /** The API port; /healthz, /readyz and /metrics are served here too. */
  FINANCE_API_PORT: envPort(3000),
});

export type Env = z.infer<typeof envSchema>;
