import { z } from 'zod';
import { baseEnvSchema, embeddingEnv, encryptionKeysEnv, envInt, envPort, envUrl } from '@dealdome/config';

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);

export const envSchema = baseEnvSchema.extend({
  /** The API port; /healthz, /readyz and /metrics are served here too. */
  FINANCE_API_PORT: envPort(3000),
  /**
   * A read replica of DATABASE_URL (streaming replication) the report routes read from;
   * unset, they read the primary. Writes always go to DATABASE_URL.
   */
  DATABASE_READ_URL: envUrl(['postgres', 'postgresql']).optional(),
  /** HMAC key of access tokens (HS256). At least 32 characters; no default. */
  JWT_SECRET: z.string({ message: 'required (at least 32 characters)' }).min(32, 'must be at least 32 characters'),
  JWT_ISSUER: z.preprocess(emptyToUndefined, z.string().default('dealdome')),
  JWT_AUDIENCE: z.preprocess(emptyToUndefined, z.string().default('dealdome-api')),
  ACCESS_TOKEN_TTL_SECONDS: envInt(900, 30),
  REFRESH_TOKEN_TTL_SECONDS: envInt(30 * 24 * 3600, 60),
  /** Failed login attempts allowed per email, and per client address, within the window. */
  LOGIN_RATE_LIMIT_MAX: envInt(10, 1),
  LOGIN_RATE_LIMIT_IP_MAX: envInt(50, 1),
  LOGIN_RATE_LIMIT_WINDOW_SECONDS: envInt(900, 1),
  /** Browser origins allowed to call the API (the dashboard), comma-separated. */
  CORS_ORIGINS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default('')
      .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean)),
  ),
  /**
   * AES-256-GCM key for secret settings at rest: 32 bytes, base64 or hex. No default.
   * Secrets are always sealed under SETTINGS_ENCRYPTION_KEY; previous keys only open.
   */
  ...encryptionKeysEnv,
  /** The Shopify app's secret: webhooks are signed with it. Unset: every webhook is refused (401). */
  SHOPIFY_WEBHOOK_SECRET: z.preprocess(emptyToUndefined, z.string().min(1).optional()),
  /** Hops of reverse proxies in front of the API, so client addresses are read from X-Forwarded-For. */
  TRUST_PROXY_HOPS: envInt(0, 0),
  /**
   * How knowledge search embeds the question: the same provider and model as the
   * embedding-worker, or it finds no vectors to compare with.
   */
  ...embeddingEnv,
});

export type Env = z.infer<typeof envSchema>;
