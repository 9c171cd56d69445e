import { Redis } from 'ioredis';
import { createLogger, parseEnv } from '@dealdome/config';
import type { StartedService } from '@dealdome/config';
import { createUser } from '@dealdome/domain';
import { startPrivateRedisCluster, useTestDatabase } from '@dealdome/testkit';
import type { PrivateRedisCluster } from '@dealdome/testkit';
import { envSchema } from '../src/env';
import { startFinanceApi } from '../src/service';
import { JWT_SECRET, SETTINGS_KEY } from './harness';

/**
 * finance-api on a Redis Cluster of three masters. The login limits keep their counts
 * with Lua scripts that the store loads with SCRIPT LOAD — a command without a key, which
 * a cluster client sends to any one node — and runs with EVALSHA on the node of the
 * key's slot.
 */
describe('finance-api on a Redis Cluster', () => {
  const database = useTestDatabase();
  let cluster: PrivateRedisCluster;
  let service: StartedService;

  beforeAll(async () => {
    cluster = await startPrivateRedisCluster();
    const env = parseEnv('finance-api', envSchema, {
      DATABASE_URL: database.url,
      REDIS_URL: cluster.url,
      QUEUE_PREFIX: '{dealdome}',
      HTTP_HOST: '127.0.0.1',
      FINANCE_API_PORT: '0',
      JWT_SECRET,
      SETTINGS_ENCRYPTION_KEY: SETTINGS_KEY,
      LOGIN_RATE_LIMIT_MAX: '3',
    });
    service = await startFinanceApi(env, createLogger('finance-api', { level: 'silent' }));
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
    await cluster?.stop();
  });

  const onEveryNode = async (work: (node: Redis) => Promise<unknown>) => {
    for (const { url } of cluster.nodes) {
      const node = new Redis(url);
      try {
        await work(node);
      } finally {
        node.disconnect();
      }
    }
  };

  const login = (email: string, password: string) =>
    fetch(`${service.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });

  it('when the service is up, then /readyz reports the cluster ready', async () => {
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('when wrong passwords are tried, then each is counted, even after the scripts vanished from every node, until the limit answers 429', async () => {
    const { email } = (await createUser(database.handle.db, { email: 'cluster@dealdome.test', role: 'member' })).user;
    for (let attempt = 1; attempt <= 3; attempt++) {
      // As after a failover or a restart: the store's loaded scripts are gone and it must load them again where its key lives.
      await onEveryNode((node) => node.script('FLUSH'));
      const wrong = await login(email, `wrong-${attempt}`);
      expect({ attempt, status: wrong.status }).toEqual({ attempt, status: 401 });
    }
    expect((await login(email, 'wrong-again')).status).toBe(429);

    const keys: string[] = [];
    await onEveryNode(async (node) => keys.push(...(await node.keys('*ratelimit*'))));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key.startsWith('{dealdome}:ratelimit:login-')).toBe(true);
  });
});
