import { diag, DiagLogLevel } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { z } from 'zod';
import { observabilityEnv } from './env';
import { withDeadline } from './lifecycle';
import { reportError, startErrorReporting, stopErrorReporting } from './sentry';
import { startTracing } from './telemetry';
import type { Tracing } from './telemetry';

/**
 * The process's tracing and error reporting. Started by each service's src/instrument.ts,
 * the first module its entry point imports: the instrumentations patch pg, ioredis,
 * express and http as they are required, so the SDK must be running before the
 * service's own modules load. That is before runMain validates the environment, so
 * only the variables below are read here; a bad value starts nothing, and runMain then
 * stops the process with every problem of the environment listed.
 */

const schema = z.object({
  NODE_ENV: z.string().optional(),
  ...observabilityEnv,
});

let tracing: Tracing | undefined;

export function startObservability(service: string, source: NodeJS.ProcessEnv = process.env): void {
  if (tracing) return;
  const parsed = schema.safeParse(source);
  if (!parsed.success) return;
  const env = parsed.data;
  tracing = startTracing({ service, endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT, headers: env.OTEL_EXPORTER_OTLP_HEADERS });
  startErrorReporting({ service, dsn: env.SENTRY_DSN, environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV ?? 'development' });
}

/** The SDK's own problems (a collector that does not answer, a refused export) go to the service's log. */
export function logObservabilityProblems(logger: Logger): void {
  if (!tracing?.enabled) return;
  const log = logger.child({ component: 'opentelemetry' });
  diag.setLogger(
    {
      error: (message, ...args) => log.error({ details: args.map(String) }, message),
      warn: (message, ...args) => log.warn({ details: args.map(String) }, message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

/** Sends the spans and error reports still queued, within `timeoutMs`, and stops both. */
export async function stopObservability(timeoutMs: number): Promise<void> {
  const stopping = tracing;
  tracing = undefined;
  await Promise.all([
    stopping && withDeadline(stopping.shutdown(), timeoutMs).catch(() => undefined),
    stopErrorReporting(timeoutMs).catch(() => undefined),
  ]);
}

export { reportError };
