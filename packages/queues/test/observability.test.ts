import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue, UnrecoverableError } from 'bullmq';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { createLogger, startErrorReporting, startService, startTracing, stopErrorReporting } from '@dealdome/config';
import type { StartedService, Tracing } from '@dealdome/config';
import { FakeSentry, useTestRedis } from '@dealdome/testkit';
import { createWorker, Producer } from '../src';
import type { ManagedWorker } from '../src';
import { settled } from './settled';

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('queues-test', { level: 'info', destination }) };
}

describe('queues: traces and metrics', () => {
  const redis = useTestRedis();
  const workers: ManagedWorker[] = [];
  let producer: Producer;

  beforeAll(() => {
    producer = new Producer(redis.redis, redis.prefix);
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close(1000)));
  });
  afterAll(async () => {
    await producer.close();
  });

  describe('with tracing started', () => {
    const exporter = new InMemorySpanExporter();
    let tracing: Tracing;
    beforeAll(() => {
      tracing = startTracing({ service: 'queues-test', exporter });
    });
    afterAll(async () => {
      await tracing.shutdown();
    });

    it('when a job is queued inside a span, then its consumer span is the producer span’s child in the same trace, and the handler’s log lines carry that trace', async () => {
      const { lines, logger } = capturedLogger();
      const worker = createWorker(
        'agent-turns',
        {
          'run-turn': async (payload) => {
            logger.info({ chatId: payload.chatId }, 'turn ran');
            return trace.getActiveSpan()?.spanContext().traceId;
          },
          'run-check': async () => undefined,
        },
        { connection: redis.redis, prefix: redis.prefix, logger },
      );
      workers.push(worker);
      const finished = settled(worker, 1);

      const requestTraceId = await trace.getTracer('test').startActiveSpan('telegram update', async (span) => {
        await producer.enqueue('agent-turns', 'run-turn', { chatId: '42', conversationId: randomUUID(), messageIds: [randomUUID()] });
        span.end();
        return span.spanContext().traceId;
      });
      const [job] = await finished;
      await tracing.flush();

      const spans = exporter.getFinishedSpans();
      const producerSpan = spans.find((s) => s.name === 'send agent-turns run-turn')!;
      const consumerSpan = spans.find((s) => s.name === 'process agent-turns run-turn')!;
      expect(producerSpan.kind).toBe(SpanKind.PRODUCER);
      expect(consumerSpan.kind).toBe(SpanKind.CONSUMER);
      expect(producerSpan.spanContext().traceId).toBe(requestTraceId);
      expect(consumerSpan.spanContext().traceId).toBe(requestTraceId);
      expect(consumerSpan.parentSpanContext?.spanId).toBe(producerSpan.spanContext().spanId);
      expect(consumerSpan.attributes).toMatchObject({ 'messaging.system': 'bullmq', 'messaging.destination.name': 'agent-turns', 'messaging.message.id': job!.id });
      expect(job!.returnvalue).toBe(requestTraceId);

      const line = lines.find((l) => l.msg === 'turn ran')!;
      expect(line).toMatchObject({ trace_id: requestTraceId, span_id: consumerSpan.spanContext().spanId });
    });
  });

  describe('with a registry served on /metrics', () => {
    const registry = new Registry();
    let service: StartedService;
    beforeAll(async () => {
      service = await startService({
        service: 'queues-test',
        logger: createLogger('queues-test', { level: 'silent' }),
        env: { HTTP_HOST: '127.0.0.1', SHUTDOWN_TIMEOUT_MS: 1000 },
        port: 0,
        dependencies: [],
        registry,
      });
    });
    afterAll(async () => {
      await service.stop();
    });

    it('when jobs fail and one waits, then /metrics shows their durations, failed attempts (final or not) and the queue depth', async () => {
      const logger = createLogger('queues-test', { level: 'silent' });
      let attempts = 0;
      const worker = createWorker(
        'scheduled-tasks',
        {
          'run-task': async () => {
            attempts += 1;
            throw new Error(`attempt ${attempts} failed`);
          },
          housekeeping: async () => {
            throw new UnrecoverableError('nothing to retry');
          },
        },
        { connection: redis.redis, prefix: redis.prefix, logger, registry },
      );
      workers.push(worker);
      const ended = settled(worker, 3);
      // Two attempts a moment apart, rather than the catalog's retry policy of minutes.
      const raw = new Queue('scheduled-tasks', { connection: redis.redis, prefix: redis.prefix });
      await raw.add('run-task', { taskId: randomUUID(), dueAt: new Date().toISOString() }, { attempts: 2, backoff: { type: 'fixed', delay: 10 } });
      await producer.enqueue('scheduled-tasks', 'housekeeping', {});
      await ended;
      // A job due later: counted as delayed.
      await raw.add('run-task', { taskId: randomUUID(), dueAt: new Date().toISOString() }, { delay: 60_000 });
      await raw.close();

      const text = await (await fetch(`${service.url}/metrics`)).text();
      expect(text).toMatch(/job_duration_seconds_count\{queue="scheduled-tasks",job="run-task",outcome="failed"\} 2/);
      expect(text).toMatch(/job_duration_seconds_count\{queue="scheduled-tasks",job="housekeeping",outcome="failed"\} 1/);
      expect(text).toMatch(/job_failures_total\{queue="scheduled-tasks",job="run-task",final="false"\} 1/);
      expect(text).toMatch(/job_failures_total\{queue="scheduled-tasks",job="run-task",final="true"\} 1/);
      expect(text).toMatch(/job_failures_total\{queue="scheduled-tasks",job="housekeeping",final="true"\} 1/);
      expect(text).toMatch(/queue_jobs\{queue="scheduled-tasks",state="failed"\} 2/);
      expect(text).toMatch(/queue_jobs\{queue="scheduled-tasks",state="delayed"\} 1/);
      expect(text).toMatch(/queue_jobs\{queue="scheduled-tasks",state="active"\} 0/);
    });
  });

  describe('with errors reported to Sentry', () => {
    let sentry: FakeSentry;
    beforeAll(async () => {
      sentry = await FakeSentry.start();
      startErrorReporting({ service: 'queues-test', dsn: sentry.dsn, environment: 'test' });
    });
    afterAll(async () => {
      await stopErrorReporting(2000);
      await sentry.close();
    });

    it('when a job fails for good, then Sentry gets one event naming its queue and job, with the secrets in its message cut out', async () => {
      const logger = createLogger('queues-test', { level: 'silent' });
      const worker = createWorker(
        'embeddings',
        {
          embed: async () => undefined,
          'ingest-transcript': async () => undefined,
          'review-memory': async () => {
            throw new UnrecoverableError(
              'review failed: postgres://dealdome:hunter2@db:5432/dealdome refused; https://api.telegram.org/bot123:AAsecretPART/sendMessage; Bearer eyJhbGci.payload.sig',
            );
          },
        },
        { connection: redis.redis, prefix: redis.prefix, logger },
      );
      workers.push(worker);
      const ended = settled(worker, 1);
      const job = await producer.enqueue('embeddings', 'review-memory', { memoryId: randomUUID() });
      await ended;

      const { event, raw } = await sentry.waitForEvent((e) => (e.extra as { jobId?: string } | undefined)?.jobId === job.id);
      for (const secret of ['hunter2', 'AAsecretPART', 'eyJhbGci.payload.sig']) expect(raw).not.toContain(secret);
      expect(event).toMatchObject({ environment: 'test', tags: { service: 'queues-test' }, extra: { queue: 'embeddings', job: 'review-memory' } });
      const [exception] = (event.exception as { values: { type: string; value: string }[] }).values;
      expect(exception).toMatchObject({ type: 'UnrecoverableError' });
      expect(exception!.value).toContain('postgres://dealdome:[redacted]@db:5432/dealdome');
    });
  });
});
