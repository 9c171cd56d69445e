/**
 * The one retry policy for calls to Anthropic and OpenAI. The SDKs' own retries
 * are switched off (`maxRetries: 0`) so that attempts, delays and the deadline are
 * decided here, in one place.
 */
export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  /** Backoff before the first retry; doubled for each further one. */
  baseDelayMs: number;
  /** Ceiling of the exponential backoff (not of a server's retry-after). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8000 };

/**
 * How long the server asked us to wait: `retry-after-ms` (Anthropic and OpenAI send
 * it on some answers), else `retry-after` as seconds or an HTTP date.
 */
export function retryAfterMs(headers: Headers | undefined | null, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const millis = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(millis) && millis >= 0) return millis;
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Delay before retry number `retry` (1 for the first retry).
 *
 * With a retry-after the server's wait is honoured and up to 10 % is added, so
 * replicas told the same second do not all come back at once. Without one:
 * exponential backoff with "equal jitter", a random point in the upper half of
 * min(maxDelayMs, baseDelayMs · 2^(retry−1)).
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, serverWaitMs?: number, random = Math.random): number {
  if (serverWaitMs !== undefined) return Math.ceil(serverWaitMs * (1 + 0.1 * random()));
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.ceil(exponential / 2 + (exponential / 2) * random());
}

/** Resolves after `ms`, or as soon as the signal aborts (never rejects); one implementation for the platform. */
export { sleep } from '@dealdome/domain';
