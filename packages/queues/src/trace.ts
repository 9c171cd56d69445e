import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import type { TraceCarrier } from './catalog';

const tracer = trace.getTracer('@dealdome/queues');

/** The active trace context, serialised for job data (empty when no SDK is started). */
export function currentTraceCarrier(): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Messaging attributes of OpenTelemetry's semantic conventions, plus the job's name. */
function messagingAttributes(operation: 'send' | 'process', queue: string, job: string): Record<string, string> {
  return {
    'messaging.system': 'bullmq',
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.destination.name': queue,
    'bullmq.job.name': job,
  };
}

async function inSpan<T>(span: Span, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Runs `send` in a producer span and hands it that span's carrier to store in the job,
 * so the consumer's span (withJobSpan) becomes the producer's child: one trace from the
 * code that queued a job to the code that ran it, however many queues apart.
 */
export function withProducerSpan<T>(queue: string, job: string, send: (carrier: TraceCarrier, span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(`send ${queue} ${job}`, { kind: SpanKind.PRODUCER, attributes: messagingAttributes('send', queue, job) }, (span) =>
    inSpan(span, () => send(currentTraceCarrier(), span)),
  );
}

/** Runs a job handler in a consumer span whose parent is the producer's context. */
export async function withJobSpan<T>(
  carrier: TraceCarrier | undefined,
  queue: string,
  job: string,
  attributes: Record<string, string | number>,
  run: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), carrier ?? {});
  return context.with(parent, () =>
    tracer.startActiveSpan(
      `process ${queue} ${job}`,
      { kind: SpanKind.CONSUMER, attributes: { ...messagingAttributes('process', queue, job), ...attributes } },
      (span) => inSpan(span, run),
    ),
  );
}
