import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { testRedisUrl } from './backends';

/** Deletes every key under a prefix (SCAN, never KEYS, so a shared server is not blocked). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/**
 * One shared Redis, isolated per test file by a key prefix given to BullMQ
 * (QUEUE_PREFIX); the keys are removed afterwards.
 */
export function useTestRedis(): { readonly url: string; readonly prefix: string; readonly redis: Redis } {
  const prefix = `test_${randomBytes(4).toString('hex')}`;
  let redis: Redis | undefined;
  beforeAll(() => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    if (!redis) return;
    await deleteKeys(redis, prefix);
    await redis.quit();
  });
  return {
    get url() {
      return testRedisUrl();
    },
    prefix,
    get redis() {
      if (!redis) throw new Error('the test Redis client exists only inside tests');
      return redis;
    },
  };
}
