import { randomBytes } from 'node:crypto';
import { migrate, openDatabase } from '@dealdome/db';
import type { Database, DatabaseHandle } from '@dealdome/db';
import { Producer } from '@dealdome/queues';
import type { QueueName } from '@dealdome/queues';
import { platformServiceEnv, startPrivatePostgres, startPrivateRedis, startServiceProcess } from '@dealdome/testkit';
import type { PrivatePostgres, PrivateRedis, ServiceProcess } from '@dealdome/testkit';
import { Redis } from 'ioredis';
import pg from 'pg';

export type App = 'bot-gateway' | 'agent-runtime' | 'embedding-worker' | 'finance-api' | 'scheduler';

const PORT_VARIABLE: Record<App, string> = {
  'bot-gateway': 'BOT_GATEWAY_PORT',
  'agent-runtime': 'AGENT_RUNTIME_PORT',
  'embedding-worker': 'EMBEDDING_WORKER_PORT',
  'finance-api': 'FINANCE_API_PORT',
  scheduler: 'SCHEDULER_PORT',
};

export const SETTINGS_ENCRYPTION_KEY = Buffer.alloc(32, 9).toString('base64');

/** What an app needs beyond the shared variables to start at all. */
const REQUIRED: Partial<Record<App, Record<string, string>>> = {
  'finance-api': { JWT_SECRET: 'fault-suite-secret-that-is-long-enough-0123456789', SETTINGS_ENCRYPTION_KEY },
  scheduler: { SETTINGS_ENCRYPTION_KEY },
};

export interface FaultPlatform {
  /** The suite's own PostgreSQL server (takeDown, bringUp, restart). */
  readonly postgres: PrivatePostgres;
  /** The suite's own Redis server (takeDown, bringUp, restart). */
  readonly redisServer: PrivateRedis;
  /** The migrated platform database on it, and a Kysely handle for the test's own reads and writes. */
  readonly database: { url: string; handle: DatabaseHandle };
  readonly db: Database;
  /** The Redis the services use, with the test's own client on it and the key prefix they share. */
  readonly redis: { url: string; prefix: string; redis: Redis };
  /** Enqueues as the services do (catalog-checked payloads, the catalog's attempts and backoff). */
  readonly producer: Producer;
  /** Starts an app's real entry point as its own process with the platform's variables plus `env`; killed after the file. */
  start(app: App, env?: Record<string, string>): Promise<ServiceProcess>;
}

/**
 * Registers beforeAll/afterAll for one fault scenario: a PostgreSQL and a Redis server
 * of the file's own (the scenarios stop and restart them; the machine's shared servers
 * are never touched), the platform database on it migrated by the project's migrator,
 * and the service processes the test starts, killed at the end.
 * FAULTS_SERVICE_LOGS=1 prints every service's log lines after the file.
 */
export function useFaultPlatform(): FaultPlatform {
  let postgres: PrivatePostgres | undefined;
  let redisServer: PrivateRedis | undefined;
  let database: { url: string; handle: DatabaseHandle } | undefined;
  let redis: { url: string; prefix: string; redis: Redis } | undefined;
  let producer: Producer | undefined;
  const services: { app: App; process: ServiceProcess }[] = [];

  beforeAll(async () => {
    [postgres, redisServer] = await Promise.all([startPrivatePostgres({ settings: { fsync: 'off', full_page_writes: 'off' } }), startPrivateRedis()]);
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query('CREATE DATABASE dealdome').finally(() => admin.end());
    const url = postgres.url.replace(/\/postgres$/, '/dealdome');
    await migrate(url);
    database = { url, handle: await openDatabase({ url, poolMax: 4 }) };
    const client = new Redis(redisServer.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    // Restarts are the point of the suite: the test's own client waits them out quietly.
    client.on('error', () => undefined);
    redis = { url: redisServer.url, prefix: `faults_${randomBytes(3).toString('hex')}`, redis: client };
    producer = new Producer(client, redis.prefix);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.process.kill()));
    if (process.env.FAULTS_SERVICE_LOGS === '1') {
      for (const { app, process: service } of services) {
        process.stderr.write(`---- ${app} ----\n${service.logs.map((l) => JSON.stringify(l)).join('\n')}\n${service.stderr()}\n`);
      }
    }
    await producer?.close();
    redis?.redis.disconnect();
    await database?.handle.close();
    await Promise.all([postgres?.stop(), redisServer?.stop()]);
  }, 60_000);

  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the fault platform exists only inside tests');
    return value;
  };

  return {
    get postgres() {
      return need(postgres);
    },
    get redisServer() {
      return need(redisServer);
    },
    get database() {
      return need(database);
    },
    get db() {
      return need(database).handle.db;
    },
    get redis() {
      return need(redis);
    },
    get producer() {
      return need(producer);
    },
    async start(app, env = {}) {
      const service = await startServiceProcess(
        app,
        { ...platformServiceEnv(need(database), need(redis)), [PORT_VARIABLE[app]]: '0', ...REQUIRED[app], ...env },
        { readyTimeoutMs: 60_000 },
      );
      services.push({ app, process: service });
      return service;
    },
  };
}

/** Polls `probe` every 100 ms until it returns something other than undefined or false. */
export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves once none of the queues has a job waiting, running or put off. */
export function queuesIdle(platform: FaultPlatform, names: readonly QueueName[], timeoutMs = 30_000): Promise<true> {
  return until(
    async () => {
      for (const name of names) {
        const counts = await platform.producer.queue(name).getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        if (Object.values(counts).some((n) => n > 0)) return false;
      }
      return true;
    },
    `${names.join(' and ')} to be idle`,
    timeoutMs,
  );
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A duration a scenario takes from FAULTS_<NAME>_MS, else the figure. */
export function durationFromEnv(name: string, fallbackMs: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallbackMs;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number of milliseconds, not ${JSON.stringify(raw)}`);
  return value;
}
