import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { parseRedisUrl, queuePrefixProblem } from '@dealdome/config';
import type { Dependency, Logger, RedisTarget } from '@dealdome/config';

/** A connection to the platform's Redis: one server (directly or found through Sentinel) or a Cluster. */
export type RedisConnection = Redis | Cluster;

/** Whether the connection is to a Redis Cluster (a command without a key then reaches just one of its nodes). */
export function isCluster(redis: RedisConnection): redis is Cluster {
  return redis.isCluster;
}

const retry = (attempt: number) => Math.min(attempt * 200, 5000);

/**
 * BullMQ workers block on Redis and must wait out a restart rather than fail the
 * command (maxRetriesPerRequest: null); producers share the same settings so an
 * enqueue during a short outage waits for the reconnection instead of losing work.
 */
function clientOptions(name: string): RedisOptions {
  return { maxRetriesPerRequest: null, enableReadyCheck: true, connectionName: name, retryStrategy: retry };
}

/** The ioredis client for a parsed REDIS_URL; `lazyConnect` leaves it unconnected until first used. */
export function redisClientFor(target: RedisTarget, name: string, extra: { lazyConnect?: boolean } = {}): RedisConnection {
  const base = { ...clientOptions(name), ...extra };
  if (target.mode === 'standalone') return new Redis(target.url, base);
  const auth = {
    ...(target.username !== undefined && { username: target.username }),
    ...(target.password !== undefined && { password: target.password }),
    ...(target.tls && { tls: {} }),
  };
  if (target.mode === 'sentinel') {
    return new Redis({
      ...base,
      ...auth,
      sentinels: target.sentinels,
      name: target.masterName,
      role: 'master',
      db: target.db,
      ...(target.sentinelPassword !== undefined && { sentinelPassword: target.sentinelPassword }),
      ...(target.tls && { enableTLSForSentinelMode: true, sentinelTLS: {} }),
      // Sentinel announces a failover; the client moves to the new master at once instead of at its next error.
      failoverDetector: true,
    });
  }
  const options: ClusterOptions = {
    redisOptions: { ...base, ...auth },
    clusterRetryStrategy: retry,
    enableReadyCheck: true,
    ...(extra.lazyConnect && { lazyConnect: true }),
    // With TLS the certificate names the configured host; the addresses the cluster announces are IPs.
    ...(target.tls && { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) }),
  };
  return new Cluster(target.nodes, options);
}

/** A Redis connection for REDIS_URL (any of its forms; see @dealdome/config's redis-url.ts). */
export function createRedis(url: string, logger?: Logger, name = 'dealdome'): RedisConnection {
  const redis = redisClientFor(parseRedisUrl(url), name);
  redis.on('error', (err: Error) => logger?.warn({ err: { message: err.message } }, 'redis connection error'));
  return redis;
}

/** Refuses, before anything connects, a QUEUE_PREFIX whose keys would spread over a Cluster's slots. */
export function assertQueuePrefixFits(url: string, prefix: string): void {
  const problem = queuePrefixProblem(parseRedisUrl(url), prefix);
  if (problem) throw new Error(problem);
}

export function redisDependency(redis: RedisConnection): Dependency {
  return {
    name: 'redis',
    check: async () => {
      // A ping on a disconnected client would queue until reconnection; fail fast instead.
      if (redis.status !== 'ready') throw new Error(`redis connection is ${String(redis.status)}`);
      const answer = await redis.ping();
      if (answer !== 'PONG') throw new Error(`unexpected PING answer ${String(answer)}`);
    },
    close: async () => {
      if (redis.status !== 'end') await redis.quit().catch(() => undefined);
      // QUIT ends the data connection only; a Sentinel client's watch on the sentinels
      // (failoverDetector) is ended by disconnect(), which is a no-op for the rest.
      redis.disconnect();
    },
  };
}

/** Connects and waits until Redis answers, so a service never reports ready without it. */
export async function openRedis(url: string, logger: Logger, name: string, timeoutMs = 15000): Promise<RedisConnection> {
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
