import { trace } from '@opentelemetry/api';
import * as Sentry from '@sentry/node';
import type { ErrorEvent, EventHint } from '@sentry/node';
import { scrubSecrets } from './scrub';

/**
 * Error reporting to Sentry, only when SENTRY_DSN is set. What is reported: errors that
 * end the process (runMain), unknown errors behind an API 500 (finance-api), and jobs
 * that failed for good (packages/queues). Everything is scrubbed of secrets first.
 */

export interface ErrorReportingOptions {
  service: string;
  dsn: string | undefined;
  environment: string;
}

let reporting = false;

/** Sentry integrations that install process-wide handlers: runMain reports those errors itself, then flushes and exits. */
const PROCESS_HANDLERS = new Set(['OnUncaughtException', 'OnUnhandledRejection']);

export function startErrorReporting(options: ErrorReportingOptions): boolean {
  if (!options.dsn) return false;
  Sentry.init({
    dsn: options.dsn,
    environment: options.environment,
    initialScope: { tags: { service: options.service } },
    // Tracing is OpenTelemetry's (telemetry.ts): Sentry neither starts an SDK of its own
    // nor adds its headers to outgoing requests; it reports errors.
    skipOpenTelemetrySetup: true,
    tracePropagationTargets: [],
    sendDefaultPii: false,
    integrations: (defaults) => defaults.filter((integration) => !PROCESS_HANDLERS.has(integration.name)),
    beforeSend: scrubEvent,
    beforeBreadcrumb: (breadcrumb) => scrubSecrets(breadcrumb),
  });
  reporting = true;
  return true;
}

/**
 * The event as it may leave the process: header, cookie, token, password and key
 * values replaced wherever they appear, and secret-shaped strings (a bot token in a
 * URL, a password in a connection string, a bearer token) cut out of messages.
 */
export function scrubEvent(event: ErrorEvent, _hint?: EventHint): ErrorEvent {
  return scrubSecrets(event);
}

/** Reports an error (a no-op without SENTRY_DSN), tagged with the active trace so the two can be joined. */
export function reportError(err: unknown, context: Record<string, unknown> = {}): void {
  if (!reporting) return;
  const span = trace.getActiveSpan()?.spanContext();
  Sentry.captureException(err, { extra: context, ...(span && { tags: { trace_id: span.traceId } }) });
}

/** Sends what is queued, waiting at most `timeoutMs`, and stops reporting. */
export async function stopErrorReporting(timeoutMs: number): Promise<void> {
  if (!reporting) return;
  reporting = false;
  await Sentry.close(timeoutMs);
}
