import { LocalHashingEmbeddingProvider } from './local-hashing';
import { OpenAIEmbeddingProvider } from './openai';
import type { EmbeddingProvider } from './provider';

/** Where the choice and retries are told (a pino logger fits). */
export interface EmbeddingLog {
  warn(details: object, message: string): void;
}

/** The services' embedding variables (embeddingEnv in @dealdome/config). */
export interface EmbeddingSettings {
  /** Without it the local hashing provider embeds. */
  OPENAI_API_KEY?: string | undefined;
  /** With its /v1. */
  OPENAI_BASE_URL?: string | undefined;
  /** Default text-embedding-3-small. */
  OPENAI_EMBEDDING_MODEL?: string | undefined;
}

/**
 * The provider every service embeds with: OpenAI (or any compatible server) when a
 * key is set, else the local hashing provider — said in the log, because its
 * search is lexical, not semantic. Services embedding into one database must agree
 * (each vector is stored with its model, and search compares only same-model vectors).
 */
export function selectEmbeddingProvider(settings: EmbeddingSettings, logger: EmbeddingLog): EmbeddingProvider {
  if (settings.OPENAI_API_KEY) {
    return new OpenAIEmbeddingProvider({
      apiKey: settings.OPENAI_API_KEY,
      ...(settings.OPENAI_BASE_URL ? { baseURL: settings.OPENAI_BASE_URL } : {}),
      ...(settings.OPENAI_EMBEDDING_MODEL ? { model: settings.OPENAI_EMBEDDING_MODEL } : {}),
      onRetry: (info) => logger.warn(info, 'embedding request failed; retrying'),
    });
  }
  const provider = new LocalHashingEmbeddingProvider();
  logger.warn(
    { model: provider.model },
    'OPENAI_API_KEY is not set: embeddings come from the local hashing provider, which matches shared words and word pieces, not meaning',
  );
  return provider;
}
