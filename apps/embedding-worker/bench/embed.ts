/**
 * `pnpm bench:embed`: texts per second through the embedding-worker, run as its own
 * process from its bundle, against the fake OpenAI API answering each request after
 * 20 ms. Seeds a scratch database with products of distinct text, queues `embed`
 * jobs of BENCH_JOB_SIZE ids, and times until every job is done. Runs, in order:
 *
 * 1. BENCH_INDEXED_TEXTS products as deployed: their HNSW index is maintained on
 *    every vector written.
 * 2. BENCH_TEXTS products with that index dropped (in the scratch database only): a
 *    kind with no vector index and no follow-up work, so what the worker itself
 *    sustains, none of it cached.
 * 3. The same texts on new rows: every vector comes from embedding_cache.
 * 4. BENCH_INDEXED_TEXTS memories, with their HNSW index maintained and each one
 *    checked for near-duplicates, as deployed.
 *
 * Prints a markdown table, with the CPU seconds each run cost the bench process
 * (mostly the fake computing and serialising vectors), the worker and the scratch
 * database's PostgreSQL backends (read from /proc, so only when PostgreSQL runs on
 * this machine; background processes such as the WAL writer are not counted).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { migrate, openDatabase } from '@dealdome/db';
import { createStore } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { createScratchDatabase } from '@dealdome/db/testing';
import { Producer } from '@dealdome/queues';
import { FakeOpenAI, freePort, waitForReady } from '@dealdome/testkit';

const TEXTS = Number(process.env.BENCH_TEXTS ?? 20_000);
const INDEXED_TEXTS = Number(process.env.BENCH_INDEXED_TEXTS ?? 2_000);
const JOB_SIZE = Number(process.env.BENCH_JOB_SIZE ?? 100);
const LATENCY_MS = Number(process.env.BENCH_PROVIDER_LATENCY_MS ?? 20);
const SETTINGS: Record<string, string> = {
  EMBEDDING_CONCURRENCY: process.env.EMBEDDING_CONCURRENCY ?? '16',
  EMBEDDING_BATCH_SIZE: process.env.EMBEDDING_BATCH_SIZE ?? '256',
  EMBEDDING_BATCH_WAIT_MS: process.env.EMBEDDING_BATCH_WAIT_MS ?? '20',
};

const WORDS = ['order', 'refund', 'supplier', 'warehouse', 'Rotterdam', 'margin', 'campaign', 'budget', 'shipping', 'return', 'SKU', 'bundle', 'invoice', 'Meta', 'TikTok', 'Google'];

/** A distinct, sentence-like text per index. */
function textOf(i: number): string {
  const words = Array.from({ length: 12 }, (_, k) => WORDS[(i * 7 + k * 13 + Math.floor(i / (k + 1))) % WORDS.length]);
  return `Memory ${i}: ${words.join(' ')}.`;
}

async function main(): Promise<void> {
  const scratch = await createScratchDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const url = scratch.url;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench_${randomBytes(3).toString('hex')}`;
  let child: ChildProcess | undefined;
  let fake: FakeOpenAI | undefined;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const producer = new Producer(redis, prefix);
  await migrate(url);
  const handle = await openDatabase({ url });
  try {
    fake = await FakeOpenAI.start({ latencyMs: LATENCY_MS });
    const port = await freePort();
    const root = path.resolve(__dirname, '..', '..', '..');
    child = spawn(process.execPath, ['--enable-source-maps', path.join(root, 'apps', 'embedding-worker', 'dist', 'main.js')], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: url,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        HTTP_HOST: '127.0.0.1',
        EMBEDDING_WORKER_PORT: String(port),
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
        MIGRATE_ON_START: 'false',
        OPENAI_API_KEY: 'sk-bench',
        OPENAI_BASE_URL: fake.baseURL,
        ...SETTINGS,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    await waitForReady(`http://127.0.0.1:${port}/readyz`);

    const store = await createStore(handle.db, { name: 'Bench', shopDomain: 'bench.myshopify.com', currency: 'EUR', timezone: 'UTC' });
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    const measureRun = async (run: string, kind: 'product' | 'memory', count: number) => ({ run, ...(await measure(handle.db, producer, fake!, metricsUrl, kind, count, store.id)) });
    const runs = [await measureRun('products, distinct texts, none cached, HNSW index', 'product', INDEXED_TEXTS)];
    await sql`TRUNCATE embedding_cache`.execute(handle.db);
    // Product search (migration 0008) indexes products' vectors; without the index they
    // are the kind that measures the worker alone.
    await sql`DROP INDEX products_embedding_hnsw`.execute(handle.db);
    runs.push(await measureRun('products, distinct texts, none cached, no vector index', 'product', TEXTS));
    runs.push(await measureRun('products, the same texts on new rows, all cached, no vector index', 'product', TEXTS));
    await sql`TRUNCATE embedding_cache`.execute(handle.db);
    runs.push(await measureRun('memories, distinct texts, HNSW index and near-duplicate check', 'memory', INDEXED_TEXTS));
    const metrics = await (await fetch(metricsUrl)).text();
    const count = (source: string) => Number(new RegExp(`^embedding_texts_total\\{[^}]*source="${source}"[^}]*\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);

    process.stdout.write(
      `\nJobs of ${JOB_SIZE} texts; fake provider latency ${LATENCY_MS} ms; ` +
        Object.entries(SETTINGS).map(([k, v]) => `${k}=${v}`).join(', ') +
        `; worker metrics: ${count('provider')} texts from the provider, ${count('cache')} from the cache\n\n`,
    );
    process.stdout.write(
      '| run | texts | seconds | texts/s | provider requests | inputs per request (mean / max) | CPU s: bench (fake) / worker / PostgreSQL |\n|---|---|---|---|---|---|---|\n',
    );
    for (const r of runs) {
      process.stdout.write(
        `| ${r.run} | ${r.texts} | ${r.seconds.toFixed(2)} | ${r.textsPerSecond.toFixed(0)} | ${r.requests} | ${r.meanInputs.toFixed(0)} / ${r.maxInputs} | ${r.benchCpuSeconds.toFixed(1)} / ${r.workerCpuSeconds.toFixed(1)} / ${r.postgresCpuSeconds.toFixed(1)} |\n`,
      );
    }
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    await producer.close();
    redis.disconnect();
    await fake?.close();
    await handle.close();
    await scratch.drop();
  }
}

/** Queues `count` new rows' embeddings and times until every job is done and every row has its vector. */
async function measure(db: Database, producer: Producer, fake: FakeOpenAI, metricsUrl: string, kind: 'product' | 'memory', count: number, storeId: string) {
  const ids = await seed(db, kind, count, storeId);
  const requestsBefore = fake.requests.length;
  const workerCpuBefore = await workerCpuSeconds(metricsUrl);
  const postgresCpuBefore = await backendCpuSeconds(db);
  const benchCpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < ids.length; i += JOB_SIZE) {
    await producer.enqueue('embeddings', 'embed', { kind, ids: ids.slice(i, i + JOB_SIZE) });
  }
  await untilDone(db, producer, kind);
  const seconds = (performance.now() - started) / 1000;
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const requests = fake.requests.slice(requestsBefore).filter((r) => r.status === 200);
  return {
    texts: count,
    seconds,
    textsPerSecond: count / seconds,
    requests: requests.length,
    maxInputs: Math.max(0, ...requests.map((r) => r.inputs.length)),
    meanInputs: requests.length ? requests.reduce((n, r) => n + r.inputs.length, 0) / requests.length : 0,
    benchCpuSeconds: (benchCpu.user + benchCpu.system) / 1e6,
    workerCpuSeconds: (await workerCpuSeconds(metricsUrl)) - workerCpuBefore,
    postgresCpuSeconds: cpuSecondsSince(postgresCpuBefore, await backendCpuSeconds(db)),
  };
}

/** The worker process's CPU time so far, from its /metrics (prom-client's process_cpu_seconds_total). */
async function workerCpuSeconds(metricsUrl: string): Promise<number> {
  const metrics = await (await fetch(metricsUrl)).text();
  return Number(/^process_cpu_seconds_total(?:\{[^}]*\})? (\S+)/m.exec(metrics)?.[1] ?? Number.NaN);
}

/** CPU seconds so far of each backend connected to the bench's database, by pid; empty when /proc cannot tell. */
async function backendCpuSeconds(db: Database): Promise<Map<number, number>> {
  const { rows } = await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`.execute(db);
  const seconds = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      // Fields after the command name; utime and stime are the 14th and 15th of the whole line.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      seconds.set(pid, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    } catch {
      return new Map();
    }
  }
  return seconds;
}

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these. */
const CLOCK_TICKS = 100;

/** CPU used between two samples; a backend that started in between counts from zero, one that ended is lost. NaN when /proc could not tell. */
function cpuSecondsSince(before: Map<number, number>, after: Map<number, number>): number {
  if (after.size === 0) return Number.NaN;
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

let skus = 0;
/** `count` rows with the texts of indexes 0…count-1: a second call repeats the first call's texts on new rows. */
async function seed(db: Database, kind: 'product' | 'memory', count: number, storeId: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1000) {
    const n = Math.min(1000, count - i);
    const rows =
      kind === 'product'
        ? await db
            .insertInto('products')
            .values(Array.from({ length: n }, (_, k) => ({ store_id: storeId, sku: `SKU-${skus++}`, name: textOf(i + k), cost_price: '1.00', currency: 'EUR' })))
            .returning('id')
            .execute()
        : await db
            .insertInto('memories')
            .values(Array.from({ length: n }, (_, k) => ({ scope: 'team', kind: 'fact', content: textOf(i + k) })))
            .returning('id')
            .execute();
    ids.push(...rows.map((r) => r.id));
  }
  return ids;
}

/** Polls every 100 ms until the queue has no job left to run or running and no row lacks its vector. */
async function untilDone(db: Database, producer: Producer, kind: 'product' | 'memory'): Promise<void> {
  const deadline = Date.now() + 600_000;
  const table = kind === 'product' ? 'products' : 'memories';
  for (;;) {
    const counts = await producer.queue('embeddings').getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE embedding_model IS NULL`.execute(db);
    if (jobs === 0 && rows[0]!.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0]!.n} texts still without a vector, ${jobs} jobs left`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
