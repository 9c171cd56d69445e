import { randomUUID } from 'node:crypto';
import type { RedisConnection } from './redis';

/**
 * A lease on one Redis key, shared by every replica: set with NX and a TTL, holding a
 * random token. While held it is extended every ttl/3; if an extension finds another
 * token (or cannot reach Redis for a whole TTL) the lease is lost and `lost` aborts.
 * A crashed holder's lease lapses after the TTL. Each script touches one key, so it
 * runs as well on a Redis Cluster as on one server.
 */
export interface Lease {
  /** Aborted when the lease can no longer be vouched for. */
  readonly lost: AbortSignal;
  /** Gives the lease up (only if it is still ours) and stops extending it. */
  release(): Promise<void>;
}

const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * SET key token NX PX ttl: true when the key is now ours. When Redis goes away right
 * after it ran the SET, the reply is lost and ioredis sends the command again once it
 * has reconnected; that second SET finds the key the first one set, with our token,
 * and must count as taken, or the key is held by nobody until it expires.
 */
export async function setIfAbsent(redis: RedisConnection, key: string, token: string, ttlMs: number): Promise<boolean> {
  if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK') return true;
  return (await redis.get(key)) === token;
}

/** The lease on `key`, or undefined while someone else holds it. */
export async function acquireLease(redis: RedisConnection, key: string, ttlMs: number, what = key): Promise<Lease | undefined> {
  const token = randomUUID();
  if (!(await setIfAbsent(redis, key, token, ttlMs))) return undefined;

  const controller = new AbortController();
  let confirmedAt = Date.now();
  let released = false;
  const extend = async () => {
    try {
      const extended = await redis.eval(EXTEND, 1, key, token, ttlMs);
      if (extended === 1) confirmedAt = Date.now();
      else controller.abort(new Error(`${what} was lost`));
    } catch (err) {
      if (Date.now() - confirmedAt >= ttlMs) controller.abort(err);
    }
  };
  const timer = setInterval(() => {
    if (!released && !controller.signal.aborted) void extend();
  }, Math.max(100, Math.floor(ttlMs / 3)));
  timer.unref();

  return {
    lost: controller.signal,
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      await redis.eval(RELEASE, 1, key, token);
    },
  };
}
