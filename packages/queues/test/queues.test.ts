import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { createLogger } from '@dealdome/config';
import { useTestRedis } from '@dealdome/testkit';
import { catalog, createWorker, Producer, queueNames } from '../src';
import type { ManagedWorker } from '../src';
import { settled } from './settled';

const logger = createLogger('queues-test', { level: 'silent' });

describe('queues', () => {
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

  it('when the catalog is read, then it names the five queues of the architecture', () => {
    expect(queueNames.sort()).toEqual(['agent-turns', 'embeddings', 'scheduled-tasks', 'shopify-sync', 'telegram-outbound']);
    for (const name of queueNames) expect(catalog[name].defaults.attempts).toBeGreaterThan(0);
  });

  it('when a job is enqueued, then a worker on real Redis receives the parsed payload', async () => {
    const received: unknown[] = [];
    const worker = createWorker(
      'embeddings',
      {
        embed: async (payload) => {
          received.push(payload);
          return { embedded: payload.ids.length };
        },
        'ingest-transcript': async () => undefined,
        'review-memory': async () => undefined,
      },
      { connection: redis.redis, prefix: redis.prefix, logger },
    );
    workers.push(worker);
    const finished = settled(worker, 1);
    const ids = [randomUUID(), randomUUID()];
    await producer.enqueue('embeddings', 'embed', { kind: 'chunk', ids });

    const [job] = await finished;
    expect(received).toEqual([{ kind: 'chunk', ids }]);
    expect(job!.returnvalue).toEqual({ embedded: 2 });
    expect(job!.data).toHaveProperty('trace');
  });

  it('when a payload does not match its schema, then the job fails once without retry and the worker goes on', async () => {
    const handled: string[] = [];
    const worker = createWorker(
      'scheduled-tasks',
      { 'run-task': async (payload) => void handled.push(payload.taskId), housekeeping: async () => undefined },
      { connection: redis.redis, prefix: redis.prefix, logger },
    );
    workers.push(worker);
    const finished = settled(worker, 2);

    // Written past the producer's check, as a buggy or older producer might.
    const raw = new Queue('scheduled-tasks', { connection: redis.redis, prefix: redis.prefix });
    await raw.add('run-task', { taskId: 'not-a-uuid' }, { attempts: 5 });
    await raw.close();
    const good = randomUUID();
    await producer.enqueue('scheduled-tasks', 'run-task', { taskId: good, dueAt: new Date().toISOString() });

    const jobs = await finished;
    const bad = jobs.find((j) => (j.data as { taskId: string }).taskId === 'not-a-uuid')!;
    expect(bad.failedReason).toMatch(/invalid payload: taskId: .*dueAt/);
    expect(bad.attemptsMade).toBe(1);
    expect(handled).toEqual([good]);
  });

  it('when a handler meets a database outage, then the job runs again without spending an attempt, while other failures spend theirs', async () => {
    const outages = [randomUUID(), randomUUID()];
    const seen = new Map<string, number>();
    const worker = createWorker(
      'scheduled-tasks',
      {
        'run-task': async ({ taskId }) => {
          const run = (seen.get(taskId) ?? 0) + 1;
          seen.set(taskId, run);
          // What node-pg raises while PostgreSQL restarts: the session ended, then no server to connect to.
          if (taskId === outages[0] && run <= 2) throw Object.assign(new Error(run === 1 ? 'terminating connection due to administrator command' : 'connect ECONNREFUSED 127.0.0.1:5432'), { code: run === 1 ? '57P01' : 'ECONNREFUSED' });
          if (taskId === outages[1]) throw new Error('a bug of the job');
          return { run };
        },
        housekeeping: async () => undefined,
      },
      { connection: redis.redis, prefix: redis.prefix, logger },
    );
    workers.push(worker);
    const finished = settled(worker, 2);

    // One attempt each: a failure that spent an attempt would end the job at once.
    const raw = new Queue('scheduled-tasks', { connection: redis.redis, prefix: redis.prefix });
    const dueAt = new Date().toISOString();
    await raw.add('run-task', { taskId: outages[0], dueAt }, { attempts: 1 });
    await raw.add('run-task', { taskId: outages[1], dueAt }, { attempts: 1 });
    await raw.close();

    const jobs = await finished;
    const waited = jobs.find((j) => (j.data as { taskId: string }).taskId === outages[0])!;
    const broken = jobs.find((j) => (j.data as { taskId: string }).taskId === outages[1])!;
    expect([waited.finishedOn !== undefined, waited.failedReason, waited.returnvalue, waited.attemptsMade, waited.attemptsStarted]).toEqual([true, undefined, { run: 3 }, 1, 3]);
    expect([broken.failedReason, broken.attemptsMade]).toEqual(['a bug of the job', 1]);
  }, 15_000);

  it('when a producer passes a malformed payload, then enqueue throws and nothing is queued', async () => {
    await expect(
      producer.enqueue('shopify-sync', 'sync-store', { storeId: 'x', reason: 'schedule' }),
    ).rejects.toThrow(/storeId/);
    expect(await producer.queue('shopify-sync').count()).toBe(0);
  });

  it('when the same job id is enqueued twice, then one job exists', async () => {
    const storeId = randomUUID();
    // BullMQ job ids may not contain ':' (it separates key parts).
    const jobId = `sync-${storeId}-202611231000`;
    await producer.enqueue('shopify-sync', 'sync-store', { storeId, reason: 'schedule' }, { jobId });
    await producer.enqueue('shopify-sync', 'sync-store', { storeId, reason: 'schedule' }, { jobId });
    expect(await producer.queue('shopify-sync').getJobCountByTypes('waiting', 'active', 'completed')).toBe(1);
  });

  it('when a worker closes while a job runs past the deadline, then the job is handed back and finished by another worker', async () => {
    const settings = { connection: redis.redis, prefix: redis.prefix, logger };
    let sawAbort = false;
    const stuck = createWorker(
      'agent-turns',
      {
        // Ignores nothing but never finishes on its own: the abort signal is its only way out.
        'run-turn': (_payload, _job, signal) =>
          new Promise<void>(() => signal?.addEventListener('abort', () => (sawAbort = true))),
        'run-check': async () => undefined,
      },
      settings,
    );
    const eventsConnection = redis.redis.duplicate();
    const events = new QueueEvents('agent-turns', { connection: eventsConnection, prefix: redis.prefix });
    await events.waitUntilReady();
    const started = new Promise<void>((resolve) => stuck.worker.once('active', () => resolve()));
    const job = await producer.enqueue('agent-turns', 'run-turn', {
      chatId: '-1001234567890',
      conversationId: randomUUID(),
      messageIds: [randomUUID()],
    });
    await started;

    const closing = Date.now();
    await stuck.close(300);
    expect(Date.now() - closing).toBeLessThan(2000);
    expect(sawAbort).toBe(true);

    const rescuer = createWorker('agent-turns', { 'run-turn': async () => 'answered', 'run-check': async () => undefined }, settings);
    workers.push(rescuer);
    await expect(job.waitUntilFinished(events, 15000)).resolves.toBe('answered');
    const finished = await producer.queue('agent-turns').getJob(job.id!);
    // Handing back is not a failure: the one attempt the rescuer made is the only one counted.
    expect(finished!.attemptsMade).toBe(1);
    await events.close();
    await eventsConnection.quit();
  });

  it('when a worker closes while a job runs within the deadline, then the job finishes first', async () => {
    const worker = createWorker(
      'telegram-outbound',
      {
        'deliver-message': () => new Promise((resolve) => setTimeout(() => resolve('sent'), 300)),
        'deliver-notification': async () => undefined,
        'chat-action': async () => undefined,
      },
      { connection: redis.redis, prefix: redis.prefix, logger },
    );
    const started = new Promise<void>((resolve) => worker.worker.once('active', () => resolve()));
    const job = await producer.enqueue('telegram-outbound', 'deliver-message', { chatId: '42', messageId: randomUUID() });
    await started;
    await worker.close(5000);
    const state = await producer.queue('telegram-outbound').getJobState(job.id!);
    expect(state).toBe('completed');
  });
});
