import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Cluster } from 'ioredis';
import { baseEnvSchema, createLogger, parseEnv, parseRedisUrl } from '@dealdome/config';
import type { StartedService } from '@dealdome/config';
import { startPrivateRedisCluster, startPrivateRedisSentinel, useTestDatabase } from '@dealdome/testkit';
import type { PrivateRedisCluster, PrivateRedisSentinel } from '@dealdome/testkit';
import { acquireLease, assertQueuePrefixFits, createRedis, createWorker, openRedis, Producer, redisClientFor, redisDependency, startPlatformService } from '../src';
import type { ManagedWorker, RedisConnection } from '../src';

const logger = createLogger('queues-topologies-test', { level: 'silent' });

function completions(worker: ManagedWorker, count: number): Promise<Job[]> {
  const done: Job[] = [];
  return new Promise((resolve, reject) => {
    worker.worker.on('completed', (job) => {
      done.push(job);
      if (done.length === count) resolve(done);
    });
    worker.worker.on('failed', (job, err) => reject(new Error(`job ${job?.id} failed: ${err.message}`)));
  });
}

const embeddingHandlers = (seen: string[]) => ({
  embed: async ({ ids }: { ids: string[] }) => {
    seen.push(...ids);
    return { embedded: ids.length };
  },
  'ingest-transcript': async () => undefined,
  'review-memory': async () => undefined,
});

describe('the client for each URL form', () => {
  it('when the forms ask for TLS and credentials, then the client carries them to the nodes and the sentinels', () => {
    const cluster = redisClientFor(parseRedisUrl('rediss+cluster://app:pw@h1:7000'), 'probe', { lazyConnect: true }) as Cluster;
    expect(cluster.isCluster).toBe(true);
    expect(cluster.options.redisOptions).toMatchObject({ username: 'app', password: 'pw', tls: {}, maxRetriesPerRequest: null, connectionName: 'probe' });
    expect(cluster.options.dnsLookup).toBeDefined();

    const sentinel = redisClientFor(parseRedisUrl('rediss+sentinel://:pw@s1:26380,s2/main/2?sentinelPassword=sp'), 'probe', { lazyConnect: true }) as Redis;
    expect(sentinel.isCluster).toBe(false);
    expect(sentinel.options).toMatchObject({
      sentinels: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
      ],
      name: 'main',
      role: 'master',
      db: 2,
      password: 'pw',
      sentinelPassword: 'sp',
      tls: {},
      enableTLSForSentinelMode: true,
      failoverDetector: true,
      maxRetriesPerRequest: null,
    });
    cluster.disconnect();
    sentinel.disconnect();
  });
});

describe('Redis Cluster', () => {
  let cluster: PrivateRedisCluster;
  const connections: RedisConnection[] = [];
  const connect = async (name: string) => {
    const redis = await openRedis(cluster.url, logger, name);
    connections.push(redis);
    return redis;
  };

  beforeAll(async () => {
    cluster = await startPrivateRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(connections.map((c) => redisDependency(c).close()));
    await cluster?.stop();
  });

  /** Every key on every master, with the node it is on. */
  async function keysByNode(): Promise<Map<number, string[]>> {
    const found = new Map<number, string[]>();
    for (const node of cluster.nodes) {
      const direct = new Redis(node.url);
      try {
        found.set(node.port, await direct.keys('*'));
      } finally {
        direct.disconnect();
      }
    }
    return found;
  }

  it('when REDIS_URL names a cluster, then the connection is a cluster client that knows every master', async () => {
    const redis = await connect('cluster-probe');
    expect(redis.isCluster).toBe(true);
    expect((redis as Cluster).nodes('master').map((n) => n.options.port).sort()).toEqual(cluster.nodes.map((n) => n.port).sort());
  });

  it('when producers and two workers of the catalog share a hash-tagged prefix, then every job completes once and every key sits in the one slot of the tag', async () => {
    const prefix = `{dd-${randomUUID().slice(0, 8)}}`;
    const producerConnection = await connect('producer');
    const producer = new Producer(producerConnection, prefix);
    const seen: string[] = [];
    const workers = [
      createWorker('embeddings', embeddingHandlers(seen), { connection: await connect('worker-1'), prefix, logger, concurrency: 4 }),
      createWorker('embeddings', embeddingHandlers(seen), { connection: await connect('worker-2'), prefix, logger, concurrency: 4 }),
    ];
    const ids = Array.from({ length: 40 }, () => randomUUID());
    let completed = 0;
    const allDone = new Promise<void>((resolve, reject) => {
      for (const w of workers) {
        w.worker.on('completed', () => {
          if (++completed === ids.length) resolve();
        });
        w.worker.on('failed', (job, err) => reject(new Error(`job ${job?.id} failed: ${err.message}`)));
      }
    });
    try {
      // Plain, delayed and deduplicated adds: each runs a different multi-key script.
      await Promise.all(ids.map((id, i) => producer.enqueue('embeddings', 'embed', { kind: 'chunk', ids: [id] }, { jobId: `embed-${id}`, ...(i % 5 === 0 && { delay: 50 }) })));
      await producer.enqueue('embeddings', 'embed', { kind: 'chunk', ids: [ids[0]!] }, { jobId: `embed-${ids[0]}` });
      await allDone;
      expect(seen.sort()).toEqual([...ids].sort());
      expect(completed).toBe(ids.length);

      const byNode = await keysByNode();
      const ours = [...byNode.entries()].map(([port, keys]) => [port, keys.filter((k) => k.startsWith(prefix))] as const).filter(([, keys]) => keys.length > 0);
      // Wait, completed sets, job hashes, meta, events, … all on one node, in one slot.
      expect(ours).toHaveLength(1);
      const [, keys] = ours[0]!;
      expect(keys.length).toBeGreaterThan(ids.length);
      const slots = new Set(await Promise.all(keys.map((k) => (producerConnection as Cluster).cluster('KEYSLOT', k))));
      expect(slots.size).toBe(1);
    } finally {
      await Promise.all(workers.map((w) => w.close(2000)));
      await producer.close();
    }
  });

  it('when the prefix holds no hash tag, then start-up refuses it, and the queue really could not work', async () => {
    expect(() => assertQueuePrefixFits(cluster.url, 'dealdome')).toThrow(/QUEUE_PREFIX must hold a \{hash tag\}/);
    expect(() => assertQueuePrefixFits(cluster.url, '{dealdome')).toThrow(/QUEUE_PREFIX/);
    expect(() => assertQueuePrefixFits(cluster.url, '{dealdome}')).not.toThrow();
    expect(() => assertQueuePrefixFits('redis://127.0.0.1:6379', 'dealdome')).not.toThrow();

    const producer = new Producer(await connect('untagged'), `untagged-${randomUUID().slice(0, 8)}`);
    try {
      await expect(producer.enqueue('embeddings', 'embed', { kind: 'chunk', ids: [randomUUID()] })).rejects.toThrow(/CROSSSLOT/);
    } finally {
      await producer.close();
    }
  });

  it('when two replicas contend for a lease (the chat lock), then one holds it, it outlives its TTL while held, and the other gets it once released', async () => {
    const [a, b] = [await connect('lease-a'), await connect('lease-b')];
    const key = `{dealdome}:agent-turns:chat-lock:${randomUUID()}`;
    const held = await acquireLease(a, key, 300);
    expect(held).toBeDefined();
    expect(await acquireLease(b, key, 300)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 700));
    expect(held!.lost.aborted).toBe(false);
    expect(await acquireLease(b, key, 300)).toBeUndefined();
    await held!.release();
    const next = await acquireLease(b, key, 300);
    expect(next).toBeDefined();
    await next!.release();
  });
});

describe('Redis through Sentinel', () => {
  const database = useTestDatabase();
  let sentinel: PrivateRedisSentinel;
  let service: StartedService | undefined;

  beforeAll(async () => {
    sentinel = await startPrivateRedisSentinel({ masterName: 'dealdome-test' });
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
    await sentinel?.stop();
  });

  it('when REDIS_URL is a sentinel URL, then a service finds the master through the sentinel, is ready, and its jobs live on that master', async () => {
    expect(sentinel.url).toMatch(/^redis\+sentinel:\/\/127\.0\.0\.1:\d+\/dealdome-test$/);
    const env = parseEnv('queues-test', baseEnvSchema, {
      DATABASE_URL: database.url,
      REDIS_URL: sentinel.url,
      QUEUE_PREFIX: 'sentinel-test',
      HTTP_HOST: '127.0.0.1',
    });
    const seen: string[] = [];
    let worker: ManagedWorker | undefined;
    service = await startPlatformService({
      service: 'queues-test',
      env,
      logger,
      port: 0,
      setup: ({ redis }) => {
        worker = createWorker('embeddings', embeddingHandlers(seen), { connection: redis, prefix: env.QUEUE_PREFIX, logger });
        return { consumers: [{ name: 'embeddings', close: (ms) => worker!.close(ms) }] };
      },
    });
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });

    const producerConnection = createRedis(sentinel.url, logger, 'sentinel-producer');
    const producer = new Producer(producerConnection, env.QUEUE_PREFIX);
    try {
      const done = completions(worker!, 1);
      const id = randomUUID();
      const job = await producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: [id] });
      await done;
      expect(seen).toEqual([id]);
      const master = new Redis(sentinel.master.url);
      try {
        expect(await master.exists(`sentinel-test:embeddings:${job.id}`)).toBe(1);
      } finally {
        master.disconnect();
      }
    } finally {
      await producer.close();
      await redisDependency(producerConnection).close();
    }
  });
});
