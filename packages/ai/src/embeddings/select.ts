import { LocalHashingEmbeddingProvider } from './local-hashing';
import { OpenAIEmbeddingProvider } from './openai';
import type { EmbeddingProvider } from './provider';

/** Where the choice and retries are told (a pino logger fits). */
export interface EmbeddingLog {
  warn(details: object, message: string): void;
}

export interface EmbeddingSettings {
  /** OPENAI_API_KEY; without it the local hashing provider embeds. */
  apiKey?: string | undefined;
  /** OPENAI_BASE_URL, with its /v1. */
  baseURL?: string | undefined;
  /** OPENAI_EMBEDDING_MODEL (default text-embedding-3-small). */
  model?: string | undefined;
}

/**
 * The provider every service embeds with: OpenAI (or any compatible server) when a
 * key is set, else the local hashing provider — said in the log, because its
 * search is lexical, not semantic. Services embedding into one database must agree
 * (each vector is stored with its model, and search compares only same-model vectors).
 */
export function selectEmbeddingProvider(settings: EmbeddingSettings, logger: EmbeddingLog): EmbeddingProvider {
  if (settings.apiKey) {
    return new OpenAIEmbeddingProvider({
      apiKey: settings.apiKey,
      ...(settings.baseURL ? { baseURL: settings.baseURL } : {}),
      ...(settings.model ? { model: settings.model } : {}),
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
