import os from 'node:os';
import { AppError } from '@dealdome/domain';
import OpenAI, { APIConnectionError, APIError, OpenAIError } from 'openai';
import { estimateTokens } from '../history';
import { DEFAULT_RETRY_POLICY, retryAfterMs, retryDelayMs, sleep } from '../retry';
import type { RetryPolicy } from '../retry';
import { rejectBlankTexts } from './provider';
import type { EmbedOptions, EmbeddingProvider } from './provider';

/** The embeddings endpoint's documented limits per request. */
export const OPENAI_EMBEDDING_LIMITS = {
  maxInputs: 2048,
  maxTokensPerRequest: 300_000,
  maxTokensPerInput: 8192,
} as const;

export interface OpenAIEmbeddingProviderOptions {
  /** Never logged. */
  apiKey: string;
  /** OPENAI_BASE_URL from the app's config (with the /v1 suffix); the public API when absent. */
  baseURL?: string;
  /** Default text-embedding-3-small. */
  model?: string;
  /** Default 1536 (text-embedding-3-small's native width); text-embedding-3 models can shorten it. */
  dimensions?: number;
  /** Per HTTP request (default 60 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Told about each retry, for logging. */
  onRetry?: (info: { attempt: number; delayMs: number; status?: number; code?: string }) => void;
}

/**
 * Embeddings from OpenAI's API through the official SDK.
 *
 * - Batching: requests of at most 2048 inputs and 300,000 estimated tokens, sent one
 *   after another (the API's rate limits are per minute; parallel batches would only
 *   meet them sooner).
 * - Tokens are estimated as ceil(characters / 4), the same estimate as everywhere in
 *   this package; it is low for code and non-Latin scripts.
 * - Inputs over 8192 estimated tokens are cut to their first 32,768 characters: a long
 *   text is embedded by its beginning instead of failing the whole batch. Callers that
 *   need all of a long text chunk it first.
 * - Empty or whitespace-only texts are rejected (see rejectBlankTexts).
 * - Retries 429 rate limits, 5xx and connection failures with the shared backoff,
 *   honouring retry-after; a 429 `insufficient_quota` is not retried (only billing fixes it).
 *
 * Failures are AppErrors: 400 embedding_input_invalid, 402 embedding_quota_exhausted,
 * 503 embedding_unavailable (retries used up), 502 embedding_input_refused (a 400, 413
 * or 422: the API refused what was sent), 502 embedding_failed (anything else it
 * refused, such as a bad key or model).
 */
export class OpenAIEmbeddingProvider implements EmbeddingProvider {
  readonly model: string;
  readonly dimensions: number;
  private readonly client: OpenAI;
  private readonly policy: RetryPolicy;
  private readonly onRetry: OpenAIEmbeddingProviderOptions['onRetry'];
  private readonly shortenable: boolean;

  constructor(options: OpenAIEmbeddingProviderOptions) {
    this.model = options.model ?? 'text-embedding-3-small';
    this.dimensions = options.dimensions ?? 1536;
    this.shortenable = this.model.startsWith('text-embedding-3');
    this.client = new OpenAI({
      apiKey: options.apiKey,
      maxRetries: 0,
      timeout: options.timeoutMs ?? 60_000,
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    });
    this.policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 5, ...options.retry };
    this.onRetry = options.onRetry;
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<number[][]> {
    rejectBlankTexts(texts);
    const vectors: number[][] = [];
    for (const batch of batchForEmbedding(texts.map(truncateForEmbedding))) {
      vectors.push(...(await this.request(batch, options.signal)));
    }
    return vectors;
  }

  private async request(inputs: string[], signal: AbortSignal | undefined): Promise<number[][]> {
    for (let attempt = 1; ; attempt++) {
      try {
        // base64, as the SDK asks by default, but asked for explicitly so that the SDK
        // leaves it undecoded: its decoding (Array.from over a Float32Array) cost the
        // embedding-worker more CPU per vector than writing the vector to PostgreSQL.
        const response = await this.client.embeddings.create(
          { model: this.model, input: inputs, encoding_format: 'base64', ...(this.shortenable ? { dimensions: this.dimensions } : {}) },
          { maxRetries: 0, ...(signal ? { signal } : {}) },
        );
        const ordered = [...response.data].sort((a, b) => a.index - b.index).map((d) => decodeEmbedding(d.embedding));
        if (ordered.length !== inputs.length || ordered.some((v) => v.length !== this.dimensions)) {
          throw new AppError(502, 'embedding_failed', `The embeddings API answered ${ordered.length} vectors of an unexpected shape.`);
        }
        return ordered;
      } catch (error) {
        if (error instanceof AppError || signal?.aborted || !(error instanceof OpenAIError)) throw error;
        const http = error instanceof APIError ? (error as APIError<number | undefined, Headers | undefined>) : undefined;
        const status = http?.status;
        const code = http?.code ?? undefined;
        if (code === 'insufficient_quota') {
          throw new AppError(402, 'embedding_quota_exhausted', 'The OpenAI account has no quota left for embeddings.');
        }
        const retryable =
          error instanceof APIConnectionError || status === 408 || status === 409 || status === 429 || (status ?? 0) >= 500;
        if (!retryable) {
          const detail = `${status ?? 'no status'}${code ? `, ${code}` : ''}`;
          // 400/413/422 are about what was sent (an input the API's tokenizer finds too long, say): another
          // request without that input can succeed. A bad key, model or account (401/403/404) fails them all.
          if (status === 400 || status === 413 || status === 422) {
            throw new AppError(502, 'embedding_input_refused', `The embeddings API refused an input of the request (${detail}).`);
          }
          throw new AppError(502, 'embedding_failed', `The embeddings API refused the request (${detail}).`);
        }
        if (attempt >= this.policy.maxAttempts) {
          throw new AppError(503, 'embedding_unavailable', `The embeddings API is unavailable after ${attempt} attempts (last status ${status ?? 'none'}).`);
        }
        const delayMs = retryDelayMs(this.policy, attempt, retryAfterMs(http?.headers));
        this.onRetry?.({ attempt, delayMs, ...(status !== undefined ? { status } : {}), ...(code ? { code } : {}) });
        await sleep(delayMs, signal);
        signal?.throwIfAborted();
      }
    }
  }
}

/**
 * An embedding as the API sends it for encoding_format "base64" (little-endian
 * float32; the SDK types it as the float array it would otherwise be). An
 * OpenAI-compatible server that ignores the format and sends floats is taken too.
 */
function decodeEmbedding(embedding: string | number[]): number[] {
  if (typeof embedding !== 'string') return embedding;
  const bytes = Buffer.from(embedding, 'base64');
  if (bytes.length % 4 !== 0) throw new AppError(502, 'embedding_failed', 'The embeddings API answered a vector that is not whole float32 values.');
  if (os.endianness() === 'BE') bytes.swap32();
  // Copied into its own buffer: a Float32Array over the decoded bytes needs an offset that is a multiple of 4.
  const floats = new Float32Array(bytes.length / 4);
  new Uint8Array(floats.buffer).set(bytes);
  const values = new Array<number>(floats.length);
  for (let i = 0; i < floats.length; i++) values[i] = floats[i]!;
  return values;
}

/** Cuts a text longer than the per-input limit to its first 4 × 8192 characters, on a code point boundary. */
export function truncateForEmbedding(text: string): string {
  const maxChars = OPENAI_EMBEDDING_LIMITS.maxTokensPerInput * 4;
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** Greedy, order-preserving batches within the request limits (inputs already truncated). */
export function batchForEmbedding(texts: readonly string[]): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let tokens = 0;
  for (const text of texts) {
    const cost = estimateTokens(text);
    if (current.length === OPENAI_EMBEDDING_LIMITS.maxInputs || (current.length > 0 && tokens + cost > OPENAI_EMBEDDING_LIMITS.maxTokensPerRequest)) {
      batches.push(current);
      current = [];
      tokens = 0;
    }
    current.push(text);
    tokens += cost;
  }
  if (current.length) batches.push(current);
  return batches;
}
