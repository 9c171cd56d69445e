import { Api, NetworkError, ParseError, TelegramApiError, TimeoutError } from 'node-telegram-bot-api';

/** What the outbound worker needs of a Bot API client (a `new Api(...)` or a `Bot`'s `api`). */
export type TelegramSender = Pick<Api, 'sendMessage' | 'sendChatAction'>;

export interface TelegramClientOptions {
  token: string;
  /** Bot API root, `https://api.telegram.org` unless a local Bot API server or the emulator is used. */
  apiRoot?: string;
  /** Per-request timeout. */
  timeoutMs?: number;
}

/**
 * A client for sending. The library's own retries (on 429, 5xx and network errors)
 * are off: the queue is the one retry policy, so a 429 pauses the queue instead of
 * holding a worker slot asleep, and a failed send is retried with the job's backoff.
 */
export function createTelegramClient(options: TelegramClientOptions): Api {
  return new Api(options.token, {
    ...(options.apiRoot !== undefined && { apiRoot: options.apiRoot }),
    maxRetries: 0,
    timeoutMs: options.timeoutMs ?? 15_000,
  });
}

/** What to do about a failed call. */
export type SendFailure =
  /** 429: wait `retryAfterMs`, then try again. */
  | { kind: 'rate_limited'; retryAfterMs: number; message: string }
  /** Telegram refused the call for good (chat not found, bot blocked, bad request). */
  | { kind: 'rejected'; errorCode: number; message: string }
  /** Worth another try with backoff: 5xx, network, timeout, an unreadable answer, or a failure of ours. */
  | { kind: 'transient'; reason: 'server_error' | 'network' | 'api_error' | 'internal'; message: string };

/** Telegram's answer when parse_mode HTML does not parse ("Bad Request: can't parse entities: …"). */
export function isHtmlRejected(err: unknown): boolean {
  return err instanceof TelegramApiError && err.errorCode === 400 && /can't parse entities/i.test(err.description);
}

/**
 * Sorts a failed call. 400 and 403 cannot succeed by retrying (chat not found, bot
 * blocked or kicked, message too long); other 4xx (401 a revoked token, 404, 409) are
 * a deployment problem that a fix may cure, so they are retried with backoff.
 */
export function classifyFailure(err: unknown, secrets: readonly string[]): SendFailure {
  const message = describeError(err, secrets);
  if (err instanceof TelegramApiError) {
    if (err.errorCode === 429) return { kind: 'rate_limited', retryAfterMs: Math.max(1, err.retryAfter ?? 1) * 1000, message };
    if (err.errorCode === 400 || err.errorCode === 403) return { kind: 'rejected', errorCode: err.errorCode, message };
    return { kind: 'transient', reason: err.errorCode >= 500 ? 'server_error' : 'api_error', message };
  }
  if (err instanceof NetworkError || err instanceof TimeoutError || err instanceof ParseError) {
    return { kind: 'transient', reason: 'network', message };
  }
  return { kind: 'transient', reason: 'internal', message };
}

// Telegram bot tokens: the bot's numeric id, a colon, 35 URL-safe characters.
const TOKEN_SHAPE = /\d{5,}:[A-Za-z0-9_-]{30,}/g;

/** Removes secrets from text that is about to be logged or stored with a failed job. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    out = out.split(secret).join('[redacted]').split(encodeURIComponent(secret)).join('[redacted]');
  }
  return out.replace(TOKEN_SHAPE, '[redacted]');
}

/**
 * An error's message with its causes, secrets removed. The client's errors can carry
 * the request URL — `{apiRoot}/bot{token}/{method}` — in a cause (a URL that fails to
 * parse is quoted whole by fetch), so an error object itself is never logged.
 */
export function describeError(err: unknown, secrets: readonly string[]): string {
  const messages: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    // Duck-typed: fetch's errors may come from another realm, where instanceof Error is false.
    const { message, cause } = typeof current === 'object' ? (current as { message?: unknown; cause?: unknown }) : {};
    messages.push(typeof message === 'string' ? message : typeof current === 'string' ? current : JSON.stringify(current));
    current = cause;
  }
  return redact(messages.join(': caused by: '), secrets);
}
