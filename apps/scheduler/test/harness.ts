import { Writable } from 'node:stream';
import type { RedisConnection } from '@dealdome/queues';
import { createLogger } from '@dealdome/config';
import { createRedis, Producer } from '@dealdome/queues';
import type { EnqueueOptions, JobName, JobPayload, QueueName } from '@dealdome/queues';
import { useTestDatabase, useTestRedis } from '@dealdome/testkit';

/** A logger whose JSON lines the test can read. */
export function capturingLogger(name: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(name, {
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  });
  return { logger, lines };
}

export interface EnqueueCall {
  queue: string;
  job: string;
  payload: Record<string, unknown>;
  jobId: string | undefined;
}

/** The real producer, recording every enqueue it is asked for; `failures` makes that many calls throw first. */
export class RecordingProducer extends Producer {
  readonly calls: EnqueueCall[] = [];
  failures = 0;

  override async enqueue<Q extends QueueName, J extends JobName<Q>>(queue: Q, job: J, payload: JobPayload<Q, J>, options: EnqueueOptions = {}) {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('Redis refused the job (test)');
    }
    this.calls.push({ queue, job, payload: payload as Record<string, unknown>, jobId: options.jobId });
    return super.enqueue(queue, job, payload, options);
  }
}

/** The real database and Redis of one test file, with a Redis connection and a producer on them. */
export function useBackends() {
  const database = useTestDatabase();
  const redis = useTestRedis();
  let connection: RedisConnection | undefined;
  let producer: RecordingProducer | undefined;
  beforeAll(() => {
    connection = createRedis(redis.url, undefined, 'scheduler-test');
    producer = new RecordingProducer(connection, redis.prefix);
  });
  afterAll(async () => {
    await producer?.close();
    await connection?.quit();
  });
  return {
    get db() {
      return database.handle.db;
    },
    database,
    redis,
    get connection() {
      if (!connection) throw new Error('only inside tests');
      return connection;
    },
    get producer() {
      if (!producer) throw new Error('only inside tests');
      return producer;
    },
  };
}

/** Waits for a condition, polling. */
export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
