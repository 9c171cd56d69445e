import { createLogger } from '@dealdome/config';
import { Producer } from '@dealdome/queues';
import type { ManagedWorker } from '@dealdome/queues';
import { FakeOpenAI, useTestDatabase, useTestRedis } from '@dealdome/testkit';
import { Registry } from 'prom-client';
import { createEmbeddingWorker } from '../src/worker';
import type { EmbeddingWorkerDeps } from '../src/worker';

export const logger = createLogger('embedding-worker-test', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** How a job ended, as the queue keeps it. */
export interface JobOutcome {
  state: 'completed' | 'failed';
  returnvalue: unknown;
  failedReason: string | undefined;
}

/**
 * A suite's database (one cloned database per file), Redis, a producer for the
 * `embeddings` queue and the workers it starts, closed after each test; with
 * `fakeOpenAI`, a fake OpenAI API started afresh for each test. Call it at the top of
 * a describe block.
 */
export function useEmbeddingWorkers(options: { fakeOpenAI?: boolean } = {}) {
  const database = useTestDatabase();
  const redis = useTestRedis();
  const workers: ManagedWorker[] = [];
  let producer: Producer | undefined;
  let openai: FakeOpenAI | undefined;

  beforeAll(() => {
    producer = new Producer(redis.redis, redis.prefix);
  });
  if (options.fakeOpenAI) {
    beforeEach(async () => {
      openai = await FakeOpenAI.start();
    });
  }
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close(2000)));
    await openai?.close();
    openai = undefined;
  });
  afterAll(async () => {
    await producer?.close();
  });

  const suite = {
    database,
    redis,
    db: () => database.handle.db,
    get producer(): Producer {
      if (!producer) throw new Error('the producer exists from beforeAll on');
      return producer;
    },
    /** The fake OpenAI API of the running test (with `fakeOpenAI`). */
    get openai(): FakeOpenAI {
      if (!openai) throw new Error('the fake OpenAI API runs in tests of a suite made with fakeOpenAI');
      return openai;
    },

    /** The embeddings worker as the service starts it (final-failure listener included), on this suite's database and Redis. */
    start(deps: Pick<EmbeddingWorkerDeps, 'provider'> & Partial<Omit<EmbeddingWorkerDeps, 'db' | 'redis' | 'prefix'>>) {
      const worker = createEmbeddingWorker({
        db: database.handle.db,
        redis: redis.redis,
        prefix: redis.prefix,
        logger,
        registry: new Registry(),
        concurrency: 4,
        batchSize: 64,
        batchWaitMs: 10,
        ...deps,
      });
      workers.push(worker);
      return worker;
    },

    /** Waits until the job has completed or failed for good. */
    async settled(jobId: string, timeoutMs = 20_000): Promise<JobOutcome> {
      const queue = suite.producer.queue('embeddings');
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // The state first: a job read before it completes would carry no return value yet.
        const state = await queue.getJobState(jobId);
        if (state === 'completed' || state === 'failed') {
          const stored = (await queue.getJob(jobId))!;
          return { state, returnvalue: stored.returnvalue, failedReason: stored.failedReason };
        }
        if (Date.now() > deadline) throw new Error(`job ${jobId} is still ${state}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },

    /** The job's return value once it has completed; throws with its reason when it failed. */
    async finished(jobId: string, timeoutMs = 20_000): Promise<unknown> {
      const outcome = await suite.settled(jobId, timeoutMs);
      if (outcome.state === 'failed') throw new Error(`job ${jobId} failed: ${outcome.failedReason}`);
      return outcome.returnvalue;
    },
  };
  return suite;
}
