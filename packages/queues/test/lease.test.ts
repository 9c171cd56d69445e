import { randomUUID } from 'node:crypto';
import { useTestRedis } from '@dealdome/testkit';
import { acquireLease, setIfAbsent } from '../src';

describe('leases', () => {
  const redis = useTestRedis();

  it('when the same SET arrives twice, as ioredis sends one again whose reply a Redis restart lost, then the key is still ours; another token is refused', async () => {
    const key = `${redis.prefix}:lease:${randomUUID()}`;
    const token = randomUUID();

    expect(await setIfAbsent(redis.redis, key, token, 10_000)).toBe(true);
    expect(await setIfAbsent(redis.redis, key, token, 10_000)).toBe(true);
    expect(await setIfAbsent(redis.redis, key, randomUUID(), 10_000)).toBe(false);
    expect(await acquireLease(redis.redis, key, 10_000)).toBeUndefined();
  });
});
