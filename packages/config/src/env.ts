import { z } from 'zod';
import { envRedisUrl } from './redis-url';

export class EnvError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(
      `${service}: the environment is not valid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'EnvError';
  }
}

/**
 * Parses the environment once, at start-up. Every problem is reported in one
 * message so an operator fixes a deployment in one pass, not one variable a restart.
 * Values are never echoed back: a malformed secret must not reach the logs.
 */
export function parseEnv<S extends z.ZodType>(
  service: string,
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    return `${name}: ${issue.message}`;
  });
  throw new EnvError(service, problems);
}

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);

export const envPort = (fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(fallback));

export const envInt = (fallback: number, min = 0) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).default(fallback));

export const envBool = (fallback: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  );

export const envUrl = (protocols: string[], fallback?: string) => {
  const url = z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `expected a URL (${protocols.map((p) => `${p}://`).join(' or ')})` },
  );
  return z.preprocess(emptyToUndefined, fallback === undefined ? url : url.default(fallback));
};

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** OTEL_EXPORTER_OTLP_HEADERS: `key=value,key2=value2`, values percent-encoded (the OpenTelemetry convention). */
const otlpHeaders = z.string().transform((value, ctx) => {
  const headers: Record<string, string> = {};
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = part.indexOf('=');
    const key = part.slice(0, at).trim();
    if (at <= 0 || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key)) {
      ctx.addIssue({ code: 'custom', message: 'expected key=value pairs separated by commas' });
      return z.NEVER;
    }
    try {
      headers[key] = decodeURIComponent(part.slice(at + 1).trim());
    } catch {
      ctx.addIssue({ code: 'custom', message: `the value of ${key} is not valid percent-encoding` });
      return z.NEVER;
    }
  }
  return headers;
});

/**
 * Tracing and error reporting, every service alike; each is off while its variable is
 * unset. The SDKs are started from these before the service's modules load
 * (observability.ts), and checked again here with the rest so a bad value stops start-up.
 */
export const observabilityEnv = {
  /** The OTLP/HTTP (protobuf) collector's base URL, e.g. http://otel-collector:4318; spans go to its /v1/traces. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyToUndefined, envUrl(['http', 'https']).optional()),
  OTEL_EXPORTER_OTLP_HEADERS: z.preprocess(emptyToUndefined, otlpHeaders.optional()),
  /** Sentry's project DSN, https://<public key>@<host>/<project id> (Sentry ignores any other shape, silently). */
  SENTRY_DSN: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^https?:\/\/\w+(?::\w+)?@[\w.-]+(?::\d+)?\/(?:[^\s?#]*\/)?[^\s/?#]+$/, 'expected a Sentry DSN: https://<key>@<host>/<project id>')
      .optional(),
  ),
  /** Sentry's environment tag; NODE_ENV when unset. */
  SENTRY_ENVIRONMENT: z.preprocess(emptyToUndefined, z.string().max(64).optional()),
};

/** Variables every service reads. Each app extends this with its own. */
export const baseEnvSchema = z.object({
  NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'production', 'test']).default('development')),
  LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(logLevels).default('info')),
  HTTP_HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
  DATABASE_URL: envUrl(['postgres', 'postgresql']),
  DATABASE_POOL_MAX: envInt(10, 1),
  /** One server, a Sentinel set-up or a Cluster (the forms are in redis-url.ts). */
  REDIS_URL: envRedisUrl(),
  QUEUE_PREFIX: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9:{}_-]+$/, 'letters, digits, ":", "_", "-" and a {hash tag} only')
      .default('dealdome'),
  ),
  MIGRATE_ON_START: envBool(true),
  SHUTDOWN_TIMEOUT_MS: envInt(10000, 100),
  ...observabilityEnv,
});

export type BaseEnv = z.infer<typeof baseEnvSchema>;

const unsetWhenEmpty = (value: unknown) => (value === '' ? undefined : value);

/**
 * The embedding provider's variables, for every service that embeds (the worker,
 * and the services that embed a query to search with). They must agree across
 * services: search compares only vectors of one model.
 */
const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http:// or https:// URL' });
const anthropicModel = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,99}$/, 'expected a model id such as claude-sonnet-4-6');

/** The Anthropic connection of the services that call Claude (agent-runtime; embedding-worker for memory review). */
export const anthropicEnv = {
  /** Without a key nothing is sent to a model. */
  ANTHROPIC_API_KEY: z.preprocess(unsetWhenEmpty, z.string().min(1).optional()),
  /** Another Messages API endpoint (a proxy, a gateway, the fake in tests). */
  ANTHROPIC_BASE_URL: z.preprocess(unsetWhenEmpty, httpUrl.optional()),
};

/** A Claude model id, unset when empty. */
export const envAnthropicModel = () => z.preprocess(unsetWhenEmpty, anthropicModel.optional());

const decodeKey = (value: string): Buffer | undefined => {
  const key = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  return key.length === 32 ? key : undefined;
};

/** SETTINGS_ENCRYPTION_KEY: the AES-256-GCM key of secrets at rest, 32 bytes as base64 or 64 hex characters. No default. */
export const envEncryptionKey = () =>
  z.string({ message: 'required: 32 random bytes as base64 or 64 hex characters' }).transform((value, ctx) => {
    const key = decodeKey(value);
    if (!key) {
      ctx.addIssue({ code: 'custom', message: 'must decode to exactly 32 bytes (base64 or 64 hex characters)' });
      return z.NEVER;
    }
    return key;
  });

/**
 * SETTINGS_ENCRYPTION_KEY_PREVIOUS: keys being rotated out, comma-separated, in the
 * same form. They only open secrets sealed before the rotation, until
 * `pnpm dealdome secrets:reencrypt` has moved those to SETTINGS_ENCRYPTION_KEY.
 */
export const envPreviousEncryptionKeys = () =>
  z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .transform((value, ctx) => {
        const keys: Buffer[] = [];
        for (const [i, part] of value.split(',').entries()) {
          const key = decodeKey(part.trim());
          if (!key) {
            ctx.addIssue({ code: 'custom', message: `key ${i + 1} must decode to exactly 32 bytes (base64 or 64 hex characters)` });
            return z.NEVER;
          }
          keys.push(key);
        }
        return keys;
      })
      .default([]),
  );

/** The keyring of the services that read or write secrets at rest. */
export const encryptionKeysEnv = {
  SETTINGS_ENCRYPTION_KEY: envEncryptionKey(),
  SETTINGS_ENCRYPTION_KEY_PREVIOUS: envPreviousEncryptionKeys(),
};

/** The keyring the domain's secret functions take, from a parsed encryptionKeysEnv. */
export const encryptionKeys = (env: { SETTINGS_ENCRYPTION_KEY: Buffer; SETTINGS_ENCRYPTION_KEY_PREVIOUS: Buffer[] }) => ({
  current: env.SETTINGS_ENCRYPTION_KEY,
  previous: env.SETTINGS_ENCRYPTION_KEY_PREVIOUS,
});

/** Where the Shopify Admin API is served when a store does not name its own (the fake in tests). */
export const shopifyEnv = {
  SHOPIFY_API_BASE_URL: z.preprocess(unsetWhenEmpty, httpUrl.optional()),
};

export const embeddingEnv = {
  /** Without a key the local hashing provider embeds (lexical, not semantic; see the README). */
  OPENAI_API_KEY: z.preprocess(unsetWhenEmpty, z.string().min(1).optional()),
  /** Any OpenAI-compatible embeddings endpoint, with its /v1 (the fake in tests). */
  OPENAI_BASE_URL: z.preprocess(unsetWhenEmpty, httpUrl.optional()),
  OPENAI_EMBEDDING_MODEL: z.preprocess(unsetWhenEmpty, z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/).default('text-embedding-3-small')),
};
