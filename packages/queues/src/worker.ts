import { DelayedError, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { Registry } from 'prom-client';
import type { ZodObject } from 'zod';
import type { RedisConnection } from './redis';
import type { Logger } from '@dealdome/config';
import { reportError, withDeadline } from '@dealdome/config';
import { isDatabaseUnavailable } from '@dealdome/db';
import { catalog } from './catalog';
import type { JobName, JobPayload, QueueName, TraceCarrier } from './catalog';
import { jobMetrics, watchQueueDepth } from './metrics';
import { withJobSpan } from './trace';

const HAND_BACK = Symbol('hand back');
const SHUTDOWN_REASON = 'worker shutting down';
/** How long a job that met a database outage waits before it runs again (±25 %). */
const DATABASE_WAIT_MS = 2000;

/** One handler per job name of the queue: a missing handler is a compile error. */
export type Handlers<Q extends QueueName> = {
  [J in JobName<Q>]: (payload: JobPayload<Q, J>, job: Job, signal?: AbortSignal) => Promise<unknown>;
};

export interface WorkerOptions {
  connection: RedisConnection;
  prefix: string;
  logger: Logger;
  concurrency?: number;
  /** The service's Prometheus registry: job durations and failures, and the queue's depth, are reported on it. */
  registry?: Registry;
}

export interface ManagedWorker {
  worker: Worker;
  /**
   * Stops taking jobs and waits up to `deadlineMs` for the running ones. Jobs still
   * running after that are handed back: moved to the queue again without spending an
   * attempt, for another worker (or this service's next start) to run. Handlers see
   * their abort signal fire and should stop.
   */
  close(deadlineMs: number): Promise<void>;
}

/**
 * Whether a failure, as a worker's 'failed' event reports it, is the job's last: it
 * was unrecoverable or spent its last attempt, so the queue will not run it again.
 * A listener that must settle what the job leaves behind (a row it marked as in
 * progress) acts on these only.
 */
export function isFinalFailure(job: Job | undefined, err: Error): boolean {
  // attemptsMade counts this attempt already; a job that is gone (no `job`) is not retried either.
  return !job || err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
}

export function createWorker<Q extends QueueName>(
  queue: Q,
  handlers: Handlers<Q>,
  options: WorkerOptions,
): ManagedWorker {
  const logger = options.logger.child({ queue });
  const schemas = catalog[queue].jobs as Record<string, ZodObject>;
  const table = handlers as Record<string, (payload: unknown, job: Job, signal?: AbortSignal) => Promise<unknown>>;

  const metrics = jobMetrics(options.registry);
  // A job name from Redis that is not in the catalog is one label value, not one each.
  const jobLabel = (name: string | undefined) => (name !== undefined && name in schemas ? name : '(unknown)');

  const run = async (job: Job, token?: string, signal?: AbortSignal) => {
    const log = logger.child({ jobId: job.id, job: job.name });
    const schema = schemas[job.name];
    const handler = table[job.name];
    if (!schema || !handler) {
      log.error('job name is not in the catalog; failing it without retry');
      throw new UnrecoverableError(`unknown job ${job.name} on queue ${queue}`);
    }
    const { trace, ...rest } = (job.data ?? {}) as { trace?: TraceCarrier };
    const parsed = schema.safeParse(rest);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
      log.error({ problems }, 'job payload does not match its schema; failing it without retry');
      throw new UnrecoverableError(`invalid payload: ${problems.join('; ')}`);
    }
    const attributes = { 'messaging.message.id': job.id ?? '', 'bullmq.job.attempt': job.attemptsMade + 1 };
    const work = withJobSpan(trace, queue, job.name, attributes, () => handler(parsed.data, job, signal));
    if (!signal) return work;
    let onAbort: (() => void) | undefined;
    const handedBack = new Promise<typeof HAND_BACK>((resolve) => {
      onAbort = () => resolve(HAND_BACK);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const outcome = await Promise.race([work, handedBack]);
      if (outcome !== HAND_BACK) return outcome;
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
    // The handler may still settle later; its result no longer matters.
    work.catch(() => undefined);
    log.warn('job handed back at shutdown');
    await job.moveToDelayed(Date.now(), token);
    throw new DelayedError();
  };

  const processor = async (job: Job, token?: string, signal?: AbortSignal) => {
    const started = performance.now();
    let outcome = 'failed';
    try {
      const result = await run(job, token, signal);
      outcome = 'completed';
      return result;
    } catch (err) {
      if (err instanceof DelayedError) outcome = 'handed_back';
      else if (token && isDatabaseUnavailable(err)) {
        // PostgreSQL restarting or failing over is not the job's failure: it waits for the
        // database as long as that takes and keeps its attempts for failures of its own.
        outcome = 'handed_back';
        const delayMs = Math.round(DATABASE_WAIT_MS * (0.75 + Math.random() * 0.5));
        logger.warn({ jobId: job.id, job: job.name, delayMs, err: { message: (err as Error).message } }, 'the database is unavailable; the job waits for it without spending an attempt');
        await job.moveToDelayed(Date.now() + delayMs, token);
        throw new DelayedError();
      }
      throw err;
    } finally {
      metrics.duration.observe({ queue, job: jobLabel(job.name), outcome }, (performance.now() - started) / 1000);
    }
  };

  const worker = new Worker(queue, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 1,
  });
  worker.on('failed', (job, err) => {
    logger.warn({ jobId: job?.id, job: job?.name, attempt: job?.attemptsMade, err: { message: err.message } }, 'job failed');
    const final = isFinalFailure(job, err);
    metrics.failures.inc({ queue, job: jobLabel(job?.name), final: String(final) });
    if (final) reportError(err, { queue, job: job?.name, jobId: job?.id, attempts: job?.attemptsMade });
  });
  worker.on('error', (err) => logger.error({ err: { message: err.message } }, 'worker error'));

  // The depth is read through a Queue on the same connection (a Worker cannot count).
  const counted = options.registry && new Queue(queue, { connection: options.connection, prefix: options.prefix });
  const unwatch = counted && watchQueueDepth(options.registry!, counted);

  return {
    worker,
    close: async (deadlineMs) => {
      unwatch?.();
      const closing = worker.close();
      if ((await withDeadline(closing, deadlineMs)) === 'timeout') {
        logger.warn({ deadlineMs }, 'jobs still running at the shutdown deadline; handing them back');
        worker.cancelAllJobs(SHUTDOWN_REASON);
        await closing;
      }
      await counted?.close();
    },
  };
}
