import { createMetricsRegistry, startService } from '@dealdome/config';
import type { BaseEnv, Logger, ServiceOptions, StartedService } from '@dealdome/config';
import { openDatabaseFromEnv, openReadDatabase } from '@dealdome/db';
import type { Database, DatabaseHandle } from '@dealdome/db';
import type { RedisConnection } from './redis';
import { Producer } from './producer';
import { assertQueuePrefixFits, openRedis, redisDependency } from './redis';

/** What every DealDome service holds: the database, the queue Redis and a producer on it. */
export interface Platform {
  database: DatabaseHandle;
  /** Where reads that may lag a little go: the read replica's pool when the service was given one, else the primary's. Never written to. */
  reads: Database;
  redis: RedisConnection;
  producer: Producer;
  env: BaseEnv;
  logger: Logger;
  /** The service's Prometheus registry, served at /metrics: workers add their own metrics to it. */
  registry: ReturnType<typeof createMetricsRegistry>;
}

export interface PlatformServiceOptions {
  service: string;
  env: BaseEnv;
  logger: Logger;
  port: number;
  /** A read replica (DATABASE_READ_URL) for `reads`; probed by /readyz as postgres-read. */
  readDatabaseUrl?: string;
  /** Builds what the service adds on top: its HTTP app (finance-api) and its queue workers. */
  setup?: (platform: Platform) => Pick<ServiceOptions, 'app' | 'consumers'>;
}

/**
 * Connects a service to PostgreSQL (migrating or verifying the schema first) and to
 * Redis, then serves it: readiness probes both, shutdown drains the workers before
 * closing the producer, Redis and the pool.
 */
export async function startPlatformService(options: PlatformServiceOptions): Promise<StartedService> {
  const { service, env, logger } = options;
  assertQueuePrefixFits(env.REDIS_URL, env.QUEUE_PREFIX);
  const database = await openDatabaseFromEnv(env, logger, service);
  const readDatabase = options.readDatabaseUrl
    ? await openReadDatabase({ url: options.readDatabaseUrl, poolMax: env.DATABASE_POOL_MAX, logger, applicationName: `${service}-read` }).catch(
        async (err: unknown) => {
          await database.close();
          throw err;
        },
      )
    : undefined;
  const redis = await openRedis(env.REDIS_URL, logger, service);
  const producer = new Producer(redis, env.QUEUE_PREFIX);
  const redisDep = redisDependency(redis);
  const registry = createMetricsRegistry(service);
  const reads = readDatabase?.db ?? database.db;
  const extras = options.setup?.({ database, reads, redis, producer, env, logger, registry }) ?? {};
  return startService({
    service,
    logger,
    env,
    port: options.port,
    registry,
    ...extras,
    dependencies: [
      database.dependency,
      ...(readDatabase ? [readDatabase.dependency] : []),
      {
        ...redisDep,
        close: async () => {
          await producer.close();
          await redisDep.close();
        },
      },
    ],
  });
}
