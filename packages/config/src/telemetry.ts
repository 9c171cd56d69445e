import { context, propagation, trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { scrubString } from './scrub';

/**
 * Tracing through OpenTelemetry. Libraries and our own code speak only
 * @opentelemetry/api; this module is the one place an SDK is started, and only when
 * spans have somewhere to go. Without OTEL_EXPORTER_OTLP_ENDPOINT nothing is started:
 * the API stays the no-op it is by default, so a span costs a function call.
 *
 * The instrumentations patch modules as they are required. The service bundles keep
 * pg, ioredis and express out of the bundle for that reason (tsup.shared.ts), and each
 * service starts tracing in the first module its entry point imports (src/instrument.ts),
 * before any of them is loaded.
 */

/** Paths every service answers for probes and scrapes: a trace each would bury the ones that matter. */
const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export interface TracingOptions {
  service: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to <endpoint>/v1/traces as OTLP/HTTP protobuf. */
  endpoint?: string | undefined;
  /** OTEL_EXPORTER_OTLP_HEADERS, parsed: sent with every export (a collector's API key). */
  headers?: Record<string, string> | undefined;
  /** Spans go here instead of an OTLP endpoint, each as it ends (tests). */
  exporter?: SpanExporter;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Exports the spans ended so far. */
  flush(): Promise<void>;
  /** Exports what is left, then stops: instrumentations off, the API back to its no-op. */
  shutdown(): Promise<void>;
}

const disabled: Tracing = { enabled: false, flush: async () => undefined, shutdown: async () => undefined };

export function startTracing(options: TracingOptions): Tracing {
  if (!options.exporter && !options.endpoint) return disabled;
  const exporter = options.exporter ?? new OTLPTraceExporter({ url: tracesUrl(options.endpoint!), headers: options.headers ?? {} });
  const provider = new NodeTracerProvider({
    resource: defaultResource()
      // OTEL_RESOURCE_ATTRIBUTES (deployment.environment…), the host and the process.
      .merge(detectResources({ detectors: [envDetector, hostDetector, processDetector] }))
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.service })),
    spanProcessors: [
      new ScrubbingSpanProcessor(),
      // A test reads its spans as soon as they end; a service sends them in batches off the request path.
      options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter),
    ],
  });
  // W3C traceparent/tracestate: the format the queues carry in job data (packages/queues/src/trace.ts).
  provider.register();
  const unregister = registerInstrumentations({ tracerProvider: provider, instrumentations: instrumentations() });
  let stopping: Promise<void> | undefined;
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    shutdown: () =>
      (stopping ??= (async () => {
        unregister();
        await provider.shutdown();
        trace.disable();
        context.disable();
        propagation.disable();
      })()),
  };
}

/** OTLP/HTTP's signal path on the collector's base URL (what the SDK does with OTEL_EXPORTER_OTLP_ENDPOINT). */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

function instrumentations() {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => OPS_PATHS.has((req.url ?? '/').split('?')[0]!),
    }),
    // fetch(): the Anthropic, OpenAI, Shopify and Telegram clients.
    new UndiciInstrumentation({
      // The gateway's long poll waits up to 30 s for nothing most of the time: a root trace per wait is noise.
      ignoreRequestHook: (req) => /\/getUpdates$/.test(req.path.split('?')[0]!),
    }),
    // Queries outside any span are the pool's own and the readiness probe's: no trace of their own.
    new PgInstrumentation({ requireParentSpan: true }),
    // BullMQ's workers poll Redis without pause; only commands issued inside a job or request are traced.
    // The command name only: arguments hold job data and keys such as a login rate limit's email address.
    new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    // Routers and route handlers; the dozen global middlewares would add a span each to every request.
    new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
  ];
}

/**
 * Secrets out of spans before an exporter sees them: a Bot API URL carries the bot's
 * token, a driver error the connection string. Runs as each span ends (onEnding, pinned
 * SDK version: the hook is marked experimental), when every attribute is set.
 */
class ScrubbingSpanProcessor implements SpanProcessor {
  onStart(): void {}

  onEnding(span: Span): void {
    for (const [key, value] of Object.entries(span.attributes)) {
      if (typeof value !== 'string') continue;
      const clean = scrubString(value);
      if (clean !== value) span.setAttribute(key, clean);
    }
    for (const event of span.events) {
      for (const [key, value] of Object.entries(event.attributes ?? {})) {
        if (typeof value === 'string') event.attributes![key] = scrubString(value);
      }
    }
    if (span.status.message) span.setStatus({ ...span.status, message: scrubString(span.status.message) });
    span.updateName(scrubString(span.name));
  }

  onEnd(_span: ReadableSpan): void {}

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}
