import { Redis } from 'ioredis';
import type { Dependency, Logger } from '@dealdome/config';

/**
 * BullMQ workers block on Redis and must wait out a restart rather than fail the
 * command (maxRetriesPerRequest: null); producers share the same settings so an
 * enqueue during a short outage waits for the reconnection instead of losing work.
 */
export function createRedis(url: string, logger?: Logger, name = 'dealdome'): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: name,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
  });
  redis.on('error', (err: Error) => logger?.warn({ err: { message: err.message } }, 'redis connection error'));
  return redis;
}

export function redisDependency(redis: Redis): Dependency {
  return {
    name: 'redis',
    check: async () => {
      // A ping on a disconnected client would queue until reconnection; fail fast instead.
      if (redis.status !== 'ready') throw new Error(`redis connection is ${String(redis.status)}`);
      const answer = await redis.ping();
      if (answer !== 'PONG') throw new Error(`unexpected PING answer ${String(answer)}`);
    },
    close: async () => {
      if (redis.status === 'end') return;
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Connects and waits until Redis answers, so a service never reports ready without it. */
export async function openRedis(url: string, logger: Logger, name: string, timeoutMs = 15000): Promise<Redis> {
  const redis = createRedis(url, logger, name);
  if (redis.status === 'ready') return redis;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.disconnect();
      reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return redis;
}
