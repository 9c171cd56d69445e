import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Recorder, clientGone, headersWithoutSecrets, startFake, readBody, sendJson, sleep } from './http';
import type { LoopbackServer } from './http';

/**
 * A fake Anthropic Messages API on loopback: `POST /v1/messages` as
 * @anthropic-ai/sdk sends it (give the client `baseURL: fake.url`), answered
 * from a script. It checks the request the way the API does (400
 * invalid_request_error), counts plausible tokens including prompt caching, and
 * can answer with the API's errors. `stream: true` is answered with the same
 * server-sent events the API sends, so `client.messages.stream()` works too.
 *
 * Token counts are approximations: ceil(characters / 4) of each block's JSON.
 */

export type AnthropicStopReason =
  'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'pause_turn' | 'refusal' | 'model_context_window_exceeded';

export type AnthropicContentBlock =
  { type: 'text'; text: string } | { type: 'tool_use'; id?: string; name: string; input: Record<string, unknown> };

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  server_tool_use: null;
  service_tier: 'standard';
}

/** What the model "says". A string is one text block. Omitted fields are derived. */
export interface AnthropicReply {
  content: string | AnthropicContentBlock[];
  /** Default: tool_use when a block is one, else end_turn. */
  stop_reason?: AnthropicStopReason;
  /** Overrides the computed counts field by field. */
  usage?: Partial<Omit<AnthropicUsage, 'cache_creation'>>;
  /** Delay before this answer, on top of the fake's latencyMs. */
  latencyMs?: number;
}

/**
 * The API's errors. spend_limit is the 429 `rate_limit_error` whose
 * `error.details.error_code` is `enforced_spend_limit_reached` and that carries
 * no retry-after: retrying cannot succeed until the limit resets.
 */
export type AnthropicErrorSpec =
  | { error: 'rate_limit'; retryAfter?: number }
  | { error: 'spend_limit' }
  | { error: 'overloaded'; retryAfter?: number }
  | { error: 'api_error' }
  | { error: 'request_too_large' }
  | { error: 'custom'; status: number; type: string; message: string; headers?: Record<string, string> };

export type AnthropicAnswer = AnthropicReply | AnthropicErrorSpec;

export interface RecordedAnthropicRequest {
  /** The request-id header the fake answered with. */
  requestId: string;
  at: number;
  method: string;
  path: string;
  /** Every header except x-api-key and authorization. */
  headers: Record<string, string>;
  /** The SDK's retry counter (x-stainless-retry-count); 0 for a first attempt. */
  retryCount: number;
  body: Record<string, unknown>;
  model?: string;
  system?: unknown;
  tools?: unknown[];
  messages?: unknown[];
  maxTokens?: number;
  stream: boolean;
  /** HTTP status the fake answered. */
  status: number;
}

export type AnthropicHandler = (request: RecordedAnthropicRequest) => AnthropicAnswer | Promise<AnthropicAnswer>;

export interface FakeAnthropicOptions {
  port?: number;
  host?: string;
  /** When set, other keys get 401 authentication_error. */
  apiKey?: string;
  /** Delay before every answer. */
  latencyMs?: number;
  /** Prompts shorter than this are not cached, silently, as in the API (default 1024, Sonnet's minimum). */
  minCacheableTokens?: number;
}

interface CacheBreakpoint {
  key: string;
  tokens: number;
  ttlMs: number;
}

const FIVE_MINUTES = 5 * 60 * 1000;
const ONE_HOUR = 60 * 60 * 1000;
const MAX_CACHE_BREAKPOINTS = 4;

export class FakeAnthropic {
  /** Root URL: the SDK's `baseURL`. */
  readonly url: string;
  private readonly server: LoopbackServer;
  private readonly options: FakeAnthropicOptions;
  private readonly closing = new AbortController();
  private readonly recorder = new Recorder<RecordedAnthropicRequest>();
  private readonly script: AnthropicAnswer[] = [];
  private readonly injected: { error: AnthropicErrorSpec; remaining: number; until?: number }[] = [];
  private readonly holds: ((request: RecordedAnthropicRequest) => void)[] = [];
  private handler: AnthropicHandler | undefined;
  private readonly cache = new Map<string, number>();

  private constructor(server: LoopbackServer, options: FakeAnthropicOptions) {
    this.server = server;
    this.url = server.url;
    this.options = options;
  }

  static start(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
    return startFake(options, (server) => new FakeAnthropic(server, options), (fake, req, res) => fake.handle(req, res));
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.server.close();
  }

  /** Every request received, in order, including rejected ones and retries. */
  get requests(): readonly RecordedAnthropicRequest[] {
    return this.recorder.all;
  }

  waitForRequest(predicate: (request: RecordedAnthropicRequest) => boolean, timeoutMs = 5000): Promise<RecordedAnthropicRequest> {
    return this.recorder.waitFor(predicate, timeoutMs, (all) => `${all.length} request(s) received`);
  }

  /** Answers for the next requests, in order. Errors in the script count as answers. */
  enqueue(...answers: AnthropicAnswer[]): this {
    this.script.push(...answers);
    return this;
  }

  /** Answers requests once the script is used up. */
  respondWith(handler: AnthropicHandler): this {
    this.handler = handler;
    return this;
  }

  /**
   * The next `times` requests fail with this error, ahead of the script; with
   * `{ forMs }`, every request does until that much time has passed (an outage).
   */
  injectError(error: AnthropicErrorSpec, times: number | { forMs: number } = 1): this {
    if (typeof times === 'number') this.injected.push({ error, remaining: times });
    else this.injected.push({ error, remaining: Infinity, until: Date.now() + times.forMs });
    return this;
  }

  /**
   * The next request gets no answer: it is held until its client goes away (a process
   * killed mid-call) or the fake closes, then recorded with status 0. Resolves when
   * that request arrives, so a test can act while the call is in flight.
   */
  holdNextRequest(): Promise<RecordedAnthropicRequest> {
    return new Promise((resolve) => this.holds.push(resolve));
  }

  /** Answers still waiting in the script. */
  get remainingScript(): number {
    return this.script.length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const requestId = `req_${randomId(24)}`;
    const headers = headersWithoutSecrets(req, ['x-api-key', 'authorization']);
    const raw = await readBody(req);
    const record: RecordedAnthropicRequest = {
      requestId,
      at: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      headers,
      retryCount: Number(headers['x-stainless-retry-count'] ?? 0) || 0,
      body: {},
      stream: false,
      status: 0,
    };
    const answerError = (
      status: number,
      type: string,
      message: string,
      extraHeaders: Record<string, string> = {},
      details?: unknown,
    ) => {
      record.status = status;
      this.recorder.push(record);
      sendJson(
        res,
        status,
        { type: 'error', error: { type, message, ...(details !== undefined ? { details } : {}) }, request_id: requestId },
        { 'request-id': requestId, ...extraHeaders },
      );
    };

    if (req.method !== 'POST' || url.pathname !== '/v1/messages') {
      answerError(404, 'not_found_error', `${req.method} ${url.pathname} is not faked; only POST /v1/messages is`);
      return;
    }
    const key = req.headers['x-api-key'] ?? bearer(req.headers.authorization);
    if (!key) {
      answerError(401, 'authentication_error', 'x-api-key header is required');
      return;
    }
    if (this.options.apiKey !== undefined && key !== this.options.apiKey) {
      answerError(401, 'authentication_error', 'invalid x-api-key');
      return;
    }
    if (!req.headers['anthropic-version']) {
      answerError(400, 'invalid_request_error', 'anthropic-version: header is required');
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      answerError(400, 'invalid_request_error', 'There was an error parsing the body of your request: invalid JSON');
      return;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      answerError(400, 'invalid_request_error', 'The request body must be a JSON object');
      return;
    }
    const request = body as Record<string, unknown>;
    Object.assign(record, {
      body: request,
      stream: request.stream === true,
      ...(typeof request.model === 'string' ? { model: request.model } : {}),
      ...(request.system !== undefined ? { system: request.system } : {}),
      ...(Array.isArray(request.tools) ? { tools: request.tools } : {}),
      ...(Array.isArray(request.messages) ? { messages: request.messages } : {}),
      ...(typeof request.max_tokens === 'number' ? { maxTokens: request.max_tokens } : {}),
    });

    const invalid = validateRequest(request);
    if (invalid) {
      answerError(400, 'invalid_request_error', invalid);
      return;
    }

    const signal = AbortSignal.any([clientGone(req, res), this.closing.signal]);
    const hold = this.holds.shift();
    if (hold) {
      hold(record);
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      this.recorder.push(record);
      return;
    }
    const now = Date.now();
    for (let i = this.injected.length - 1; i >= 0; i--) if ((this.injected[i]!.until ?? Infinity) <= now) this.injected.splice(i, 1);
    const injected = this.injected[0];
    let answer: AnthropicAnswer;
    if (injected) {
      injected.remaining -= 1;
      if (injected.remaining <= 0) this.injected.shift();
      answer = injected.error;
    } else if (this.script.length > 0) {
      answer = this.script.shift() as AnthropicAnswer;
    } else if (this.handler) {
      try {
        answer = await this.handler(record);
      } catch (err) {
        answerError(500, 'api_error', `FakeAnthropic handler failed: ${(err as Error).message}`, { 'x-should-retry': 'false' });
        return;
      }
    } else {
      answerError(500, 'api_error', 'FakeAnthropic has no scripted answer for this request: enqueue() one or set respondWith()', {
        'x-should-retry': 'false',
      });
      return;
    }

    await sleep((this.options.latencyMs ?? 0) + ('latencyMs' in answer ? (answer.latencyMs ?? 0) : 0), signal);
    if (signal.aborted) {
      this.recorder.push(record);
      return;
    }

    if ('error' in answer) {
      const { status, type, message, headers: errorHeaders, details } = errorResponse(answer);
      answerError(status, type, message, errorHeaders, details);
      return;
    }

    const content = normaliseContent(answer.content);
    const offered = new Set(
      (Array.isArray(request.tools) ? request.tools : [])
        .map((t) => (t as { name?: unknown }).name)
        .filter((n) => typeof n === 'string'),
    );
    const unknownTool = content.find((b) => b.type === 'tool_use' && !offered.has(b.name));
    if (unknownTool && unknownTool.type === 'tool_use') {
      answerError(
        500,
        'api_error',
        `FakeAnthropic script calls tool "${unknownTool.name}" that the request did not offer (offered: ${[...offered].join(', ') || 'none'})`,
        { 'x-should-retry': 'false' },
      );
      return;
    }
    const message = {
      id: `msg_${randomId(24)}`,
      type: 'message' as const,
      role: 'assistant' as const,
      model: request.model as string,
      content,
      stop_reason: answer.stop_reason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'),
      stop_sequence: null,
      stop_details: null,
      container: null,
      usage: this.usageFor(request, content, answer.usage),
    };
    record.status = 200;
    this.recorder.push(record);
    if (request.stream === true) streamMessage(res, requestId, message);
    else sendJson(res, 200, message, { 'request-id': requestId });
  }

  private usageFor(
    request: Record<string, unknown>,
    content: AnthropicContentBlock[],
    override: AnthropicReply['usage'],
  ): AnthropicUsage {
    const blocks = promptBlocks(request);
    const total = blocks.reduce((sum, b) => sum + b.tokens, 0);
    const breakpoints: CacheBreakpoint[] = [];
    let prefixTokens = 0;
    const prefixHash = createHash('sha256');
    blocks.forEach((block, index) => {
      prefixTokens += block.tokens;
      prefixHash.update(block.canonical);
      const automatic = index === blocks.length - 1 ? (request.cache_control as CacheControl | undefined) : undefined;
      const control = block.cacheControl ?? automatic;
      if (control)
        breakpoints.push({
          key: prefixHash.copy().digest('hex'),
          tokens: prefixTokens,
          ttlMs: control.ttl === '1h' ? ONE_HOUR : FIVE_MINUTES,
        });
    });

    const now = Date.now();
    let read = 0;
    let readIndex = -1;
    breakpoints.forEach((bp, index) => {
      const expires = this.cache.get(bp.key);
      if (expires !== undefined && expires > now) {
        read = bp.tokens;
        readIndex = index;
      }
    });
    if (readIndex >= 0) {
      const hit = breakpoints[readIndex] as CacheBreakpoint;
      this.cache.set(hit.key, now + hit.ttlMs);
    }
    let created = 0;
    let created1h = 0;
    const last = breakpoints.at(-1);
    if (last && breakpoints.length - 1 > readIndex && last.tokens >= (this.options.minCacheableTokens ?? 1024)) {
      for (const bp of breakpoints.slice(readIndex + 1)) this.cache.set(bp.key, now + bp.ttlMs);
      created = last.tokens - read;
      if (last.ttlMs === ONE_HOUR) created1h = created;
    }
    const usage: AnthropicUsage = {
      input_tokens: Math.max(1, total - read - created),
      output_tokens: Math.max(1, Math.ceil(JSON.stringify(content).length / 4)),
      cache_creation_input_tokens: created,
      cache_read_input_tokens: read,
      cache_creation: { ephemeral_5m_input_tokens: created - created1h, ephemeral_1h_input_tokens: created1h },
      server_tool_use: null,
      service_tier: 'standard',
    };
    return { ...usage, ...override };
  }
}

interface CacheControl {
  type?: string;
  ttl?: string;
}

interface PromptBlock {
  tokens: number;
  canonical: string;
  cacheControl?: CacheControl;
}

/** Tools, then system, then messages: the order in which the API builds (and caches) the prompt. */
function promptBlocks(request: Record<string, unknown>): PromptBlock[] {
  const blocks: PromptBlock[] = [];
  const add = (value: unknown) => {
    const { cache_control: cacheControl, ...rest } = (
      typeof value === 'object' && value !== null ? value : { text: value }
    ) as Record<string, unknown>;
    const canonical = JSON.stringify(rest);
    blocks.push({ tokens: Math.ceil(canonical.length / 4), canonical, ...(cacheControl ? { cacheControl: cacheControl } : {}) });
  };
  if (Array.isArray(request.tools)) request.tools.forEach(add);
  if (typeof request.system === 'string') add(request.system);
  else if (Array.isArray(request.system)) request.system.forEach(add);
  for (const message of (request.messages as { role: string; content: unknown }[] | undefined) ?? []) {
    if (typeof message.content === 'string') add({ role: message.role, text: message.content });
    else if (Array.isArray(message.content)) message.content.forEach(add);
  }
  return blocks;
}

function normaliseContent(content: AnthropicReply['content']): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
  return blocks.map((block) =>
    block.type === 'tool_use'
      ? { type: 'tool_use', id: block.id ?? `toolu_${randomId(24)}`, name: block.name, input: block.input }
      : { type: 'text', text: block.text },
  );
}

function errorResponse(spec: AnthropicErrorSpec): {
  status: number;
  type: string;
  message: string;
  headers: Record<string, string>;
  details?: unknown;
} {
  const retryAfter = (seconds: number | undefined): Record<string, string> =>
    seconds === undefined ? {} : { 'retry-after': String(seconds) };
  switch (spec.error) {
    case 'rate_limit':
      return {
        status: 429,
        type: 'rate_limit_error',
        message: "This request would exceed your organization's rate limit of input tokens per minute. Please try again later.",
        headers: retryAfter(spec.retryAfter ?? 1),
      };
    case 'spend_limit':
      return {
        status: 429,
        type: 'rate_limit_error',
        message: "This request would exceed your organization's monthly spend limit. Usage resumes at the start of next month.",
        headers: {},
        details: { error_code: 'enforced_spend_limit_reached' },
      };
    case 'overloaded':
      return { status: 529, type: 'overloaded_error', message: 'Overloaded', headers: retryAfter(spec.retryAfter) };
    case 'api_error':
      return { status: 500, type: 'api_error', message: 'Internal server error', headers: {} };
    case 'request_too_large':
      return {
        status: 413,
        type: 'request_too_large',
        message: 'Request exceeds the maximum allowed number of bytes.',
        headers: {},
      };
    case 'custom':
      return { status: spec.status, type: spec.type, message: spec.message, headers: spec.headers ?? {} };
  }
}

/** The checks the API makes before a model sees the request; the message of the first that fails. */
function validateRequest(request: Record<string, unknown>): string | undefined {
  if (request.model === undefined) return 'model: Field required';
  if (typeof request.model !== 'string' || request.model === '') return 'model: Input should be a valid string';
  if (request.max_tokens === undefined) return 'max_tokens: Field required';
  if (typeof request.max_tokens !== 'number' || !Number.isInteger(request.max_tokens))
    return 'max_tokens: Input should be a valid integer';
  if (request.max_tokens < 1) return 'max_tokens: Input should be greater than or equal to 1';
  if (request.messages === undefined) return 'messages: Field required';
  if (!Array.isArray(request.messages)) return 'messages: Input should be a valid list';
  const messages = request.messages as unknown[];
  if (messages.length === 0) return 'messages: at least one message is required';

  for (const [index, raw] of messages.entries()) {
    const message = raw as { role?: unknown; content?: unknown };
    if (message.role !== 'user' && message.role !== 'assistant')
      return `messages.${index}.role: Input should be 'user' or 'assistant'`;
    const empty = message.content === '' || (Array.isArray(message.content) && message.content.length === 0);
    if (message.content === undefined) return `messages.${index}.content: Field required`;
    if (empty && !(index === messages.length - 1 && message.role === 'assistant')) {
      return `messages.${index}: all messages must have non-empty content except for the optional final assistant message`;
    }
  }
  if ((messages[0] as { role: string }).role !== 'user') return 'messages: first message must use the "user" role';

  // A tool_result naming an id the previous turn did not call is reported before a call left unanswered.
  for (const [index, raw] of messages.entries()) {
    const blocks = contentBlocks(raw);
    const offered = new Set(toolUseIds(messages[index - 1]));
    for (const [position, block] of blocks.entries()) {
      if (block.type !== 'tool_result') continue;
      if (!block.tool_use_id || !offered.has(block.tool_use_id)) {
        return (
          `messages.${index}.content.${position}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${block.tool_use_id}. ` +
          'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.'
        );
      }
    }
  }
  for (const [index, raw] of messages.entries()) {
    if ((raw as { role: string }).role !== 'assistant' || index === messages.length - 1) continue;
    const answered = new Set(
      contentBlocks(messages[index + 1])
        .filter((b) => b.type === 'tool_result')
        .map((b) => b.tool_use_id),
    );
    const missing = toolUseIds(raw).filter((id) => !answered.has(id));
    if (missing.length > 0) {
      return (
        `messages.${index}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. ` +
        'Each `tool_use` block must have a corresponding `tool_result` block in the next message.'
      );
    }
  }

  if (request.tools !== undefined) {
    if (!Array.isArray(request.tools)) return 'tools: Input should be a valid list';
    for (const [index, tool] of (request.tools as Record<string, unknown>[]).entries()) {
      const custom = tool.type === undefined || tool.type === 'custom';
      if (custom && typeof tool.name !== 'string') return `tools.${index}.name: Field required`;
      if (custom && typeof tool.input_schema !== 'object') return `tools.${index}.input_schema: Field required`;
    }
  }

  const breakpoints = promptBlocks(request).filter((b) => b.cacheControl).length;
  if (breakpoints > MAX_CACHE_BREAKPOINTS) {
    return `A maximum of ${MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints}.`;
  }
  return undefined;
}

interface ContentBlockParam {
  type?: string;
  id?: string;
  tool_use_id?: string;
}

function contentBlocks(message: unknown): ContentBlockParam[] {
  const content = (message as { content?: unknown } | undefined)?.content;
  return Array.isArray(content) ? (content as ContentBlockParam[]) : [];
}

function toolUseIds(message: unknown): string[] {
  return contentBlocks(message)
    .filter((b) => b.type === 'tool_use' && typeof b.id === 'string')
    .map((b) => b.id as string);
}

/** The event sequence of a streamed message: start, one start/delta…/stop per block, delta with the stop reason, stop. */
function streamMessage(
  res: ServerResponse,
  requestId: string,
  message: { content: AnthropicContentBlock[]; usage: AnthropicUsage; stop_reason: string } & Record<string, unknown>,
): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': requestId });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const { content, usage, stop_reason: stopReason, ...rest } = message;
  send('message_start', {
    type: 'message_start',
    message: { ...rest, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } },
  });
  send('ping', { type: 'ping' });
  content.forEach((block, index) => {
    if (block.type === 'text') {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const piece of chunks(block.text, 24)) {
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
      }
    } else {
      send('content_block_start', { type: 'content_block_start', index, content_block: { ...block, input: {} } });
      for (const piece of chunks(JSON.stringify(block.input), 24)) {
        send('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: piece },
        });
      }
    }
    send('content_block_stop', { type: 'content_block_stop', index });
  });
  send('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null, stop_details: null },
    usage: {
      output_tokens: usage.output_tokens,
      input_tokens: usage.input_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
    },
  });
  send('message_stop', { type: 'message_stop' });
  res.end();
}

function chunks(text: string, size: number): string[] {
  if (text.length === 0) return [];
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Ids shaped like the API's (`msg_01…`, `toolu_01…`, `req_01…`). */
function randomId(length: number): string {
  const bytes = randomBytes(length);
  let id = '01';
  for (let i = 2; i < length; i++) id += ALPHABET[(bytes[i] ?? 0) % ALPHABET.length];
  return id;
}
