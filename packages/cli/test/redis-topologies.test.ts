import { createLogger } from '@dealdome/config';
import { createRedis, Producer, redisDependency } from '@dealdome/queues';
import { startPrivateRedisCluster, startPrivateRedisSentinel } from '@dealdome/testkit';
import type { PrivateRedisCluster, PrivateRedisSentinel } from '@dealdome/testkit';
import { buildProgram, describeError } from '../src/main';

const logger = createLogger('cli-test', { level: 'silent' });

/** The queue commands reach Redis the way the services do: through the URL forms of REDIS_URL. */
describe('pnpm dealdome queues:* on a Redis Cluster and through Sentinel', () => {
  const saved = { ...process.env };
  let cluster: PrivateRedisCluster;
  let sentinel: PrivateRedisSentinel;

  beforeAll(async () => {
    [cluster, sentinel] = await Promise.all([startPrivateRedisCluster(), startPrivateRedisSentinel()]);
  }, 60_000);
  afterAll(async () => {
    process.env = saved;
    await Promise.all([cluster?.stop(), sentinel?.stop()]);
  });

  async function run(env: Record<string, string>, ...args: string[]): Promise<string[]> {
    Object.assign(process.env, env);
    const lines: string[] = [];
    await buildProgram((line) => lines.push(line)).exitOverride().parseAsync(['node', 'dealdome', ...args]);
    return lines;
  }

  /** One waiting embed job under `prefix` at `url`, added as a service would. */
  async function enqueueOne(url: string, prefix: string) {
    const connection = createRedis(url, logger, 'cli-test-producer');
    const producer = new Producer(connection, prefix);
    try {
      await producer.enqueue('embeddings', 'review-memory', { memoryId: '00000000-0000-4000-8000-000000000001' });
    } finally {
      await producer.close();
      await redisDependency(connection).close();
    }
  }

  const waitingOf = (lines: string[], queue: string) => Number(lines.find((l) => l.startsWith(`${queue} `))!.trim().split(/\s+/)[1]);

  it.each([
    ['a cluster', () => cluster.url, '{dealdome}'],
    ['a sentinel', () => sentinel.url, 'dealdome'],
  ])('when REDIS_URL names %s, then queues:counts counts the jobs there', async (_what, url, prefix) => {
    await enqueueOne(url(), prefix);
    const lines = await run({ REDIS_URL: url(), QUEUE_PREFIX: prefix }, 'queues:counts');
    expect(waitingOf(lines, 'embeddings')).toBe(1);
  });

  it('when the prefix holds no hash tag on a cluster, then the command refuses before touching Redis', async () => {
    const err = await run({ REDIS_URL: cluster.url, QUEUE_PREFIX: 'dealdome' }, 'queues:counts').catch((e: unknown) => e);
    expect(describeError(err)).toMatch(/QUEUE_PREFIX must hold a \{hash tag\} on Redis Cluster/);
  });
});
