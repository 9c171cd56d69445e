import { Queue } from 'bullmq';
import type { Job, JobsOptions } from 'bullmq';
import type { RedisConnection } from './redis';
import { catalog, payloadSchema, retention } from './catalog';
import type { JobData, JobName, JobPayload, QueueName } from './catalog';
import { withProducerSpan } from './trace';

export interface EnqueueOptions {
  /** Chosen deliberately for idempotency: a second add with the same id is a no-op. */
  jobId?: string;
  delay?: number;
  priority?: number;
}

/**
 * Redis could not take the job: it is unreachable, or the connection dropped. Nothing
 * is wrong with the job; the caller may ask again shortly (finance-api answers 503).
 */
export class QueueUnavailableError extends Error {
  constructor(queue: string, cause: unknown) {
    super(`the ${queue} queue cannot be reached: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'QueueUnavailableError';
  }
}

const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** What ioredis says, without a code, when it has no connection to send on. */
const CLIENT_MESSAGES = [/^Connection is closed\.?$/, /^Stream isn't writeable/, /^Reached the max retries per request limit/];

function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && SOCKET_ERRORS.has(code)) return true;
  return typeof message === 'string' && CLIENT_MESSAGES.some((pattern) => pattern.test(message));
}

/**
 * The one way work is put on a queue: the payload is checked against the catalog
 * before it leaves the process, so a bad payload is a bug at the producer, not a
 * failed job somewhere else.
 */
export class Producer {
  private readonly queues = new Map<QueueName, Queue>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly prefix: string,
  ) {}

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  async enqueue<Q extends QueueName, J extends JobName<Q>>(
    queue: Q,
    job: J,
    payload: JobPayload<Q, J>,
    options: EnqueueOptions = {},
  ): Promise<Job<JobData<Q, J>>> {
    const parsed = payloadSchema(queue, job).parse(payload) as JobPayload<Q, J>;
    const defaults = catalog[queue].defaults;
    const opts: JobsOptions = {
      attempts: defaults.attempts,
      backoff: { ...defaults.backoff },
      ...retention,
      ...(options.jobId !== undefined && { jobId: options.jobId }),
      ...(options.delay !== undefined && { delay: options.delay }),
      ...(options.priority !== undefined && { priority: options.priority }),
    };
    return withProducerSpan(queue, job, async (trace, span) => {
      const data = { ...(parsed as object), trace } as JobData<Q, J>;
      let added: Job<JobData<Q, J>>;
      try {
        added = (await this.queue(queue).add(job, data, opts)) as Job<JobData<Q, J>>;
      } catch (err) {
        throw isConnectionError(err) ? new QueueUnavailableError(queue, err) : err;
      }
      if (added.id) span.setAttribute('messaging.message.id', added.id);
      return added;
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
