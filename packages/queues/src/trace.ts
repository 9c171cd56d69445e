import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { TraceCarrier } from './catalog';

const tracer = trace.getTracer('@dealdome/queues');

/** The active trace context, serialised for job data (empty when no SDK is started). */
export function currentTraceCarrier(): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Runs a job handler in a consumer span whose parent is the producer's context. */
export async function withJobSpan<T>(
  carrier: TraceCarrier | undefined,
  name: string,
  attributes: Record<string, string | number>,
  run: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), carrier ?? {});
  return context.with(parent, () =>
    tracer.startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes }, async (span) => {
      try {
        return await run();
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    }),
  );
}
