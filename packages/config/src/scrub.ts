import { secretKeys } from './logger';

/**
 * Removing secrets from what leaves the process for a third party: error reports
 * (Sentry) and span attributes (the OTLP collector). pino redacts by exact paths;
 * reports carry arbitrary shapes (request headers, breadcrumbs with URLs, exception
 * messages), so here keys are matched by name wherever they are and strings by the
 * shapes secrets take in them.
 */

export const REDACTED = '[redacted]';

const exactKeys = new Set(secretKeys.map((key) => key.toLowerCase()));
/**
 * Key names that hold a secret in any casing or spelling: x-api-key, access_token,
 * client_secret, set-cookie… ("inputTokens" is a count, not a token: hence token at an end only.)
 */
const secretKeyPattern = /password|passwd|^pass$|secret|token$|^token|authorization|cookie|api[-_]?key|private[-_]?key|credential|signature|dsn$|connection[-_]?string|encryption[-_]?key/i;

export function isSecretKey(key: string): boolean {
  return exactKeys.has(key.toLowerCase()) || secretKeyPattern.test(key);
}

const stringRules: [RegExp, string][] = [
  // A Bot API URL carries the bot's token in its path: https://api.telegram.org/bot<id>:<secret>/sendMessage.
  [/\bbot(\d+):[A-Za-z0-9_-]+/g, `bot$1:${REDACTED}`],
  // A password in a connection string or URL: postgres://user:secret@host/db.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s@/]+@/gi, `$1:${REDACTED}@`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, `$1 ${REDACTED}`],
  [/([?&;](?:token|access_token|refresh_token|api_key|apikey|key|secret|password|signature|sig)=)[^&#\s]+/gi, `$1${REDACTED}`],
  // Anthropic and OpenAI keys, wherever they are pasted.
  [/\bsk-(?:ant-)?[A-Za-z0-9_-]{16,}/g, REDACTED],
];

/** The string with every secret-shaped part replaced. */
export function scrubString(value: string): string {
  let out = value;
  for (const [pattern, replacement] of stringRules) out = out.replace(pattern, replacement);
  return out;
}

const MAX_DEPTH = 24;

/**
 * A copy of `value` with the values of secret keys replaced and secret-shaped parts of
 * strings removed. Plain objects and arrays are copied; anything else (dates, class
 * instances) is kept as it is, except Error messages, which are scrubbed in place.
 */
export function scrubSecrets<T>(value: T): T {
  return scrub(value, 0, new WeakSet()) as T;
}

function scrub(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > MAX_DEPTH) return value;
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1, seen));
  if (value instanceof Error) {
    value.message = scrubString(value.message);
    return value;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSecretKey(key) && item !== null && item !== undefined && item !== '' ? REDACTED : scrub(item, depth + 1, seen);
  }
  return out;
}
