import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import { Recorder, clientGone, headersWithoutSecrets, startFake, readBody, sendJson, sleep } from './http';
import type { LoopbackServer } from './http';

/**
 * A fake OpenAI embeddings API on loopback: `POST /v1/embeddings` as the openai
 * SDK sends it (give the client `baseURL: fake.baseURL`). Vectors are
 * deterministic (see fakeEmbedding), answered as floats or, as the SDK asks by
 * default, as base64 of little-endian float32. The API's limits are enforced with
 * its error bodies `{error:{message,type,param,code}}`.
 *
 * Tokens are approximated as ceil(characters / 4) per string input (a token-id
 * array counts its length): close to cl100k for English prose, low for code and
 * for languages that tokenise densely.
 */

export const OPENAI_MAX_INPUTS = 2048;
export const OPENAI_MAX_TOKENS_PER_INPUT = 8192;
export const OPENAI_MAX_TOKENS_PER_REQUEST = 300_000;

/** Native width of each model, and whether `dimensions` may shorten it. */
const MODELS: Record<string, { dimensions: number; shortenable: boolean }> = {
  'text-embedding-3-small': { dimensions: 1536, shortenable: true },
  'text-embedding-3-large': { dimensions: 3072, shortenable: true },
  'text-embedding-ada-002': { dimensions: 1536, shortenable: false },
};

export type OpenAIErrorSpec =
  | { error: 'rate_limit'; retryAfter?: number }
  | { error: 'insufficient_quota' }
  | { error: 'server_error' }
  | {
      error: 'custom';
      status: number;
      message: string;
      type: string;
      param?: string | null;
      code?: string | null;
      headers?: Record<string, string>;
    };

export interface RecordedOpenAIRequest {
  requestId: string;
  at: number;
  method: string;
  path: string;
  /** Every header except authorization. */
  headers: Record<string, string>;
  retryCount: number;
  body: Record<string, unknown>;
  model?: string;
  /** The inputs as a list, whichever form they came in. */
  inputs: (string | number[])[];
  dimensions?: number;
  encodingFormat?: string;
  status: number;
}

export interface FakeOpenAIOptions {
  port?: number;
  host?: string;
  /** When set, other keys get 401 invalid_api_key. */
  apiKey?: string;
  latencyMs?: number;
}

export function approximateTokens(input: string | number[]): number {
  return typeof input === 'string' ? Math.ceil(input.length / 4) : input.length;
}

export class FakeOpenAI {
  /** Root URL of the server. */
  readonly url: string;
  /** `{url}/v1`: the SDK's `baseURL`. */
  readonly baseURL: string;
  private readonly server: LoopbackServer;
  private readonly options: FakeOpenAIOptions;
  private readonly closing = new AbortController();
  private readonly recorder = new Recorder<RecordedOpenAIRequest>();
  private readonly injected: { error: OpenAIErrorSpec; remaining: number }[] = [];
  private readonly refused: string[] = [];
  private readonly holds: ((request: RecordedOpenAIRequest) => void)[] = [];

  private constructor(server: LoopbackServer, options: FakeOpenAIOptions) {
    this.server = server;
    this.url = server.url;
    this.baseURL = `${server.url}/v1`;
    this.options = options;
  }

  static start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
    return startFake(options, (server) => new FakeOpenAI(server, options), (fake, req, res) => fake.handle(req, res));
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.server.close();
  }

  get requests(): readonly RecordedOpenAIRequest[] {
    return this.recorder.all;
  }

  waitForRequest(predicate: (request: RecordedOpenAIRequest) => boolean, timeoutMs = 5000): Promise<RecordedOpenAIRequest> {
    return this.recorder.waitFor(predicate, timeoutMs, (all) => `${all.length} request(s) received`);
  }

  /**
   * Every request with an input containing `fragment` is refused (400) as the API
   * refuses an input longer than the model takes: what a client sees when the API's
   * tokenizer counts more tokens in a text than the client's own estimate did.
   */
  refuseInputsContaining(fragment: string): this {
    this.refused.push(fragment);
    return this;
  }

  /** The next `times` requests fail with this error. */
  injectError(error: OpenAIErrorSpec, times = 1): this {
    this.injected.push({ error, remaining: times });
    return this;
  }

  /**
   * The next embeddings request gets no answer: it is held until its client goes away
   * (a process killed mid-batch) or the fake closes, then recorded with status 0.
   * Resolves when that request arrives, so a test can act while the batch is in flight.
   */
  holdNextRequest(): Promise<RecordedOpenAIRequest> {
    return new Promise((resolve) => this.holds.push(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const requestId = `req_${randomBytes(16).toString('hex')}`;
    const started = Date.now();
    const headers = headersWithoutSecrets(req, ['authorization', 'api-key']);
    const raw = await readBody(req);
    const record: RecordedOpenAIRequest = {
      requestId,
      at: started,
      method: req.method ?? 'GET',
      path: url.pathname,
      headers,
      retryCount: Number(headers['x-stainless-retry-count'] ?? 0) || 0,
      body: {},
      inputs: [],
      status: 0,
    };
    const fail = (
      status: number,
      error: { message: string; type: string; param?: string | null; code?: string | null },
      extra: Record<string, string> = {},
    ) => {
      record.status = status;
      this.recorder.push(record);
      sendJson(
        res,
        status,
        { error: { message: error.message, type: error.type, param: error.param ?? null, code: error.code ?? null } },
        {
          'x-request-id': requestId,
          ...extra,
        },
      );
    };
    const invalid = (message: string, param: string | null = null, code: string | null = null) =>
      fail(400, { message, type: 'invalid_request_error', param, code });

    if (req.method !== 'POST' || url.pathname !== '/v1/embeddings') {
      fail(404, { message: `Invalid URL (${req.method} ${url.pathname})`, type: 'invalid_request_error' });
      return;
    }
    const key = req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7) : undefined;
    if (!key) {
      fail(401, {
        message: "You didn't provide an API key. Provide it in an Authorization header using Bearer auth.",
        type: 'invalid_request_error',
      });
      return;
    }
    if (this.options.apiKey !== undefined && key !== this.options.apiKey) {
      fail(401, {
        message: `Incorrect API key provided: ${key.slice(0, 3)}***${key.slice(-4)}.`,
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
      return;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      invalid('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
      return;
    }
    const request = body as Record<string, unknown>;
    record.body = request;
    if (typeof request.model === 'string') record.model = request.model;
    if (typeof request.dimensions === 'number') record.dimensions = request.dimensions;
    if (typeof request.encoding_format === 'string') record.encodingFormat = request.encoding_format;

    if (request.model === undefined) return invalid('you must provide a model parameter', 'model');
    if (typeof request.model !== 'string')
      return invalid("Invalid type for 'model': expected a string.", 'model', 'invalid_type');
    const modelName = request.model;
    if (request.input === undefined) return invalid("'input' is a required property", 'input');
    const inputs = asInputs(request.input);
    if (!inputs)
      return invalid(
        "Invalid type for 'input': expected a string, an array of strings or an array of token arrays.",
        'input',
        'invalid_type',
      );
    record.inputs = inputs;
    const model = MODELS[modelName];
    if (!model) {
      return fail(404, {
        message: `The model \`${modelName}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        code: 'model_not_found',
      });
    }
    if (inputs.length === 0) {
      return invalid(
        "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        'input',
        'empty_array',
      );
    }
    if (inputs.length > OPENAI_MAX_INPUTS) {
      return invalid(
        `Invalid 'input': array too long. Expected an array with maximum length ${OPENAI_MAX_INPUTS}, but got an array with length ${inputs.length} instead.`,
        'input',
        'array_above_max_length',
      );
    }
    let total = 0;
    for (const [index, input] of inputs.entries()) {
      const tokens = approximateTokens(input);
      if (tokens === 0) return invalid(`Invalid 'input[${index}]': empty string.`, `input[${index}]`, 'empty_string');
      if (tokens > OPENAI_MAX_TOKENS_PER_INPUT || (typeof input === 'string' && this.refused.some((f) => input.includes(f)))) {
        return invalid(
          `Invalid 'input[${index}]': maximum input length is ${OPENAI_MAX_TOKENS_PER_INPUT} tokens.`,
          `input[${index}]`,
        );
      }
      total += tokens;
    }
    if (total > OPENAI_MAX_TOKENS_PER_REQUEST) {
      return fail(400, {
        message: `Requested ${total} tokens, max ${OPENAI_MAX_TOKENS_PER_REQUEST} tokens per request`,
        type: 'max_tokens_per_request',
        code: 'max_tokens_per_request',
      });
    }
    let dimensions = model.dimensions;
    if (request.dimensions !== undefined) {
      if (!model.shortenable) return invalid('This model does not support specifying dimensions.', 'dimensions');
      if (
        typeof request.dimensions !== 'number' ||
        !Number.isInteger(request.dimensions) ||
        request.dimensions < 1 ||
        request.dimensions > model.dimensions
      ) {
        return invalid(
          `Invalid value for 'dimensions' = ${JSON.stringify(request.dimensions)}. Must be an integer between 1 and ${model.dimensions}.`,
          'dimensions',
        );
      }
      dimensions = request.dimensions;
    }
    const format = request.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') {
      return invalid(
        `Invalid value: ${JSON.stringify(format)}. Supported values are: 'float' and 'base64'.`,
        'encoding_format',
        'invalid_value',
      );
    }

    const injected = this.injected[0];
    if (injected) {
      injected.remaining -= 1;
      if (injected.remaining <= 0) this.injected.shift();
      const { status, error, headers: extra } = errorResponse(injected.error, modelName);
      return fail(status, error, extra);
    }

    const signal = AbortSignal.any([clientGone(req, res), this.closing.signal]);
    const hold = this.holds.shift();
    if (hold) {
      hold(record);
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      this.recorder.push(record);
      return;
    }
    await sleep(this.options.latencyMs ?? 0, signal);
    if (signal.aborted) {
      this.recorder.push(record);
      return;
    }
    const data = inputs.map((input, index) => {
      const vector = fakeEmbeddingFloat32(input, { model: modelName, dimensions });
      return { object: 'embedding', index, embedding: format === 'base64' ? toBase64(vector) : Array.from(vector) };
    });
    record.status = 200;
    this.recorder.push(record);
    sendJson(
      res,
      200,
      { object: 'list', data, model: request.model, usage: { prompt_tokens: total, total_tokens: total } },
      { 'x-request-id': requestId, 'openai-processing-ms': String(Date.now() - started) },
    );
  }
}

function asInputs(input: unknown): (string | number[])[] | undefined {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input)) return undefined;
  if (input.every((i) => typeof i === 'string')) return input;
  if (input.every((i) => typeof i === 'number')) return [input];
  if (input.every((i) => Array.isArray(i) && i.every((t) => typeof t === 'number'))) return input;
  return undefined;
}

function errorResponse(
  spec: OpenAIErrorSpec,
  model: string,
): {
  status: number;
  error: { message: string; type: string; param?: string | null; code?: string | null };
  headers: Record<string, string>;
} {
  switch (spec.error) {
    case 'rate_limit': {
      const seconds = spec.retryAfter ?? 1;
      return {
        status: 429,
        error: {
          message: `Rate limit reached for ${model} on requests per min (RPM): Limit 3000, Used 3000, Requested 1. Please try again in ${seconds}s.`,
          type: 'requests',
          code: 'rate_limit_exceeded',
        },
        headers: {
          'retry-after': String(seconds),
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': `${seconds}s`,
        },
      };
    }
    case 'insufficient_quota':
      return {
        status: 429,
        error: {
          message: 'You exceeded your current quota, please check your plan and billing details.',
          type: 'insufficient_quota',
          code: 'insufficient_quota',
        },
        headers: {},
      };
    case 'server_error':
      return {
        status: 500,
        error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error' },
        headers: {},
      };
    case 'custom':
      return {
        status: spec.status,
        error: { message: spec.message, type: spec.type, param: spec.param ?? null, code: spec.code ?? null },
        headers: spec.headers ?? {},
      };
  }
}

/** Little-endian float32, base64: what the API returns for encoding_format "base64". */
function toBase64(vector: Float32Array): string {
  const bytes = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
  // A Float32Array holds the platform's byte order; the API's is little-endian.
  return (os.endianness() === 'LE' ? bytes : Buffer.from(bytes).swap32()).toString('base64');
}

const tokenVectors = new Map<string, Float64Array>();
const TOKEN_VECTOR_CACHE_LIMIT = 50_000;

/**
 * Adds `weight` × a reproducible pseudo-random vector (entries in [-1, 1)) for a
 * seed string to `sum`. xoshiro128** seeded from the seed's sha256: fast and good
 * enough for spreading vectors. Its state is kept in locals rather than an array
 * because a text's vector costs 1,536 steps, and the bench's fake answers thousands
 * of texts a second on the cores the worker and PostgreSQL share.
 */
function addSeededVector(sum: Float64Array, seed: string, weight: number, out?: Float64Array): void {
  const digest = createHash('sha256').update(seed).digest();
  let s0 = digest.readUInt32LE(0);
  let s1 = digest.readUInt32LE(4);
  let s2 = digest.readUInt32LE(8);
  let s3 = digest.readUInt32LE(12);
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  for (let i = 0; i < sum.length; i++) {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    const value = result / 0x80000000 - 1;
    if (out) out[i] = value;
    sum[i] = (sum[i] as number) + weight * value;
  }
}

/** Adds a word's vector to `sum`; words are cached (they repeat across texts), whole texts not. */
function addWordVector(sum: Float64Array, word: string): void {
  const cacheKey = `${sum.length}:word:${word}`;
  const cached = tokenVectors.get(cacheKey);
  if (cached) {
    for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (cached[i] as number);
    return;
  }
  const vector = new Float64Array(sum.length);
  addSeededVector(sum, `word:${word}`, 1, vector);
  if (tokenVectors.size >= TOKEN_VECTOR_CACHE_LIMIT) tokenVectors.clear();
  tokenVectors.set(cacheKey, vector);
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * The fake's embedding of one input: deterministic, L2-normalised, and shaped so
 * that similarity means something. Each word contributes a fixed pseudo-random
 * direction and the whole text one more, so texts sharing words are close,
 * reworded texts less so, and different texts are never identical. A shortened
 * vector (`dimensions`) is the full one cut and renormalised, as with the
 * text-embedding-3 models.
 */
export function fakeEmbedding(input: string | number[], options: { model?: string; dimensions?: number } = {}): number[] {
  return Array.from(fakeEmbeddingFloat32(input, options));
}

/** fakeEmbedding as the float32 values the API sends. */
function fakeEmbeddingFloat32(input: string | number[], options: { model?: string; dimensions?: number }): Float32Array {
  const width = MODELS[options.model ?? 'text-embedding-3-small']?.dimensions ?? 1536;
  const text = typeof input === 'string' ? input : input.join(' ');
  const words = typeof input === 'string' ? (input.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) : input.map(String);
  const sum = new Float64Array(width);
  for (const word of words) addWordVector(sum, word);
  addSeededVector(sum, `text:${text}`, 0.5 * Math.sqrt(Math.max(1, words.length)));
  const size = Math.min(width, options.dimensions ?? width);
  let squares = 0;
  for (let i = 0; i < size; i++) squares += (sum[i] as number) * (sum[i] as number);
  const norm = Math.sqrt(squares) || 1;
  const vector = new Float32Array(size);
  for (let i = 0; i < size; i++) vector[i] = (sum[i] as number) / norm;
  return vector;
}
