import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { ZodObject } from 'zod';
import type { Redis } from 'ioredis';
import type { Logger } from '@dealdome/config';
import { withDeadline } from '@dealdome/config';
import { catalog } from './catalog';
import type { JobName, JobPayload, QueueName, TraceCarrier } from './catalog';
import { withJobSpan } from './trace';

const HAND_BACK = Symbol('hand back');
const SHUTDOWN_REASON = 'worker shutting down';

/** One handler per job name of the queue: a missing handler is a compile error. */
export type Handlers<Q extends QueueName> = {
  [J in JobName<Q>]: (payload: JobPayload<Q, J>, job: Job, signal?: AbortSignal) => Promise<unknown>;
};

export interface WorkerOptions {
  connection: Redis;
  prefix: string;
  logger: Logger;
  concurrency?: number;
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

export function createWorker<Q extends QueueName>(
  queue: Q,
  handlers: Handlers<Q>,
  options: WorkerOptions,
): ManagedWorker {
  const logger = options.logger.child({ queue });
  const schemas = catalog[queue].jobs as Record<string, ZodObject>;
  const table = handlers as Record<string, (payload: unknown, job: Job, signal?: AbortSignal) => Promise<unknown>>;

  const processor = async (job: Job, token?: string, signal?: AbortSignal) => {
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
    const attributes = { 'messaging.system': 'bullmq', 'messaging.destination.name': queue, 'messaging.message.id': job.id ?? '' };
    const work = withJobSpan(trace, `${queue} ${job.name}`, attributes, () => handler(parsed.data, job, signal));
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

  const worker = new Worker(queue, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 1,
  });
  worker.on('failed', (job, err) =>
    logger.warn({ jobId: job?.id, job: job?.name, attempt: job?.attemptsMade, err: { message: err.message } }, 'job failed'),
  );
  worker.on('error', (err) => logger.error({ err: { message: err.message } }, 'worker error'));

  return {
    worker,
    close: async (deadlineMs) => {
      const closing = worker.close();
      if ((await withDeadline(closing, deadlineMs)) === 'timeout') {
        logger.warn({ deadlineMs }, 'jobs still running at the shutdown deadline; handing them back');
        worker.cancelAllJobs(SHUTDOWN_REASON);
        await closing;
      }
    },
  };
}
