import { UnrecoverableError, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import type { ZodObject } from 'zod';
import type { Redis } from 'ioredis';
import type { Logger } from '@dealdome/config';
import { withDeadline } from '@dealdome/config';
import { catalog } from './catalog';
import type { JobName, JobPayload, QueueName, TraceCarrier } from './catalog';
import { withJobSpan } from './trace';

/** One handler per job name of the queue: a missing handler is a compile error. */
export type Handlers<Q extends QueueName> = {
  [J in JobName<Q>]: (payload: JobPayload<Q, J>, job: Job) => Promise<unknown>;
};

export interface WorkerOptions {
  connection: Redis;
  prefix: string;
  logger: Logger;
  concurrency?: number;
  /** How long a job's lock lasts without renewal; an abandoned job is handed back after it lapses. */
  lockDuration?: number;
  stalledInterval?: number;
}

export interface ManagedWorker {
  worker: Worker;
  /**
   * Stops taking jobs and waits up to `deadlineMs` for the running ones. Jobs still
   * running after that are abandoned: their locks lapse and BullMQ's stalled-job
   * check hands them to another worker, so nothing is lost.
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
  const table = handlers as Record<string, (payload: unknown, job: Job) => Promise<unknown>>;

  const processor = async (job: Job) => {
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
    return withJobSpan(trace, `${queue} ${job.name}`, { 'messaging.system': 'bullmq', 'messaging.destination.name': queue, 'messaging.message.id': job.id ?? '' }, () =>
      handler(parsed.data, job),
    );
  };

  const worker = new Worker(queue, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 1,
    ...(options.lockDuration !== undefined && { lockDuration: options.lockDuration }),
    ...(options.stalledInterval !== undefined && { stalledInterval: options.stalledInterval }),
  });
  worker.on('failed', (job, err) =>
    logger.warn({ jobId: job?.id, job: job?.name, attempt: job?.attemptsMade, err: { message: err.message } }, 'job failed'),
  );
  worker.on('error', (err) => logger.error({ err: { message: err.message } }, 'worker error'));

  return {
    worker,
    close: async (deadlineMs) => {
      const outcome = await withDeadline(worker.close(), deadlineMs);
      if (outcome === 'timeout') {
        logger.warn({ deadlineMs }, 'jobs still running at the shutdown deadline; handing them back');
        await worker.close(true);
      }
    },
  };
}
