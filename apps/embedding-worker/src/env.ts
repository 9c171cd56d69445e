import { z } from 'zod';
import { baseEnvSchema, envInt, envPort } from '@dealdome/config';

const unsetWhenEmpty = (value: unknown) => (value === '' ? undefined : value);
const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http:// or https:// URL' });

export const envSchema = baseEnvSchema.extend({
  /** /healthz, /readyz and /metrics. */
  EMBEDDING_WORKER_PORT: envPort(9403),
  /** Without a key the local hashing provider embeds (lexical, not semantic; see the README). */
  OPENAI_API_KEY: z.preprocess(unsetWhenEmpty, z.string().min(1).optional()),
  /** Any OpenAI-compatible embeddings endpoint, with its /v1 (the fake in tests). */
  OPENAI_BASE_URL: z.preprocess(unsetWhenEmpty, httpUrl.optional()),
  OPENAI_EMBEDDING_MODEL: z.preprocess(unsetWhenEmpty, z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/).default('text-embedding-3-small')),
  /** Jobs one replica runs at once; their texts share batches. */
  EMBEDDING_CONCURRENCY: envInt(16, 1),
  /** Texts per provider request at most (the OpenAI limits apply on top). */
  EMBEDDING_BATCH_SIZE: envInt(256, 1),
  /** How long the first text of a batch waits for others before the batch goes. */
  EMBEDDING_BATCH_WAIT_MS: envInt(20, 0),
});

export type Env = z.infer<typeof envSchema>;
