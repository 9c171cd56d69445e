import { trace } from '@opentelemetry/api';
import pino from 'pino';
import type { Logger, LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino replaces with "[redacted]". Secrets can arrive in config objects,
 * request headers and job data; listing them here is cheaper than auditing every
 * log call.
 */
/** Keys that hold a secret wherever they appear (top level or one object down); error reports match them too (scrub.ts). */
export const secretKeys = [
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'secret',
  'authorization',
  'connectionString',
  'DATABASE_URL',
  'DATABASE_READ_URL',
  'REDIS_URL',
  'TELEGRAM_BOT_TOKEN',
  'TELEGRAM_WEBHOOK_SECRET',
  'ANTHROPIC_API_KEY',
  'OPENAI_API_KEY',
  'JWT_SECRET',
  'SETTINGS_ENCRYPTION_KEY',
  'SETTINGS_ENCRYPTION_KEY_PREVIOUS',
  'SHOPIFY_ENCRYPTION_KEY',
  'SENTRY_DSN',
];

export const redactPaths = [
  ...secretKeys.flatMap((key) => [key, `*.${key}`]),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-telegram-bot-api-secret-token"]',
];

/**
 * The active span's ids on every line logged inside it, so a log line leads to its
 * trace and back. Without a started SDK there is never an active span: nothing is added.
 */
function traceIds(): Record<string, string> {
  const span = trace.getActiveSpan()?.spanContext();
  return span ? { trace_id: span.traceId, span_id: span.spanId } : {};
}

export function createLogger(
  service: string,
  options: { level?: string; destination?: pino.DestinationStream } = {},
): Logger {
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    mixin: traceIds,
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

/** A connection string with its password removed, safe to log. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = 'redacted';
    return url.toString();
  } catch {
    return '[unparseable url]';
  }
}
