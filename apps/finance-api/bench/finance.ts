/**
 * `pnpm bench:finance`: seeds 10 stores × 730 days into a scratch database, starts
 * finance-api as its own process, and drives two routes with autocannon in turn:
 * the monthly all-stores P&L (with currency conversion) and a trivial authenticated
 * route (GET /v1/me). Prints p50/p95/req/s of both and their ratio.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import pg from 'pg';
import { migrate, openDatabase } from '@dealdome/db';
import { withDatabase } from '@dealdome/db/testing';
import { createApiToken, seedDemoData } from '@dealdome/domain';

const STORES = 10;
const DAYS = 730;
const DURATION_SECONDS = Number(process.env.BENCH_DURATION_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const PORT = Number(process.env.BENCH_PORT ?? 3999);

async function main(): Promise<void> {
  const server = withDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'postgres');
  const name = `dealdome_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = withDatabase(server, name);
  let child: ReturnType<typeof spawn> | undefined;
  try {
    await migrate(url);
    const handle = await openDatabase({ url });
    const until = '2026-10-31';
    const seeded = await seedDemoData(handle.db, { stores: STORES, days: DAYS, until, seed: 7 });
    const { secret } = await createApiToken(handle.db, { name: 'bench', scopes: ['finance:read'] }, null);
    await sql`ANALYZE`.execute(handle.db);
    await handle.close();
    process.stdout.write(`seeded ${JSON.stringify(seeded)}\n`);

    const root = path.resolve(__dirname, '..', '..', '..');
    child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'apps/finance-api/src/main.ts')], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: url,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        QUEUE_PREFIX: `bench_${randomBytes(3).toString('hex')}`,
        FINANCE_API_PORT: String(PORT),
        HTTP_HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
        JWT_SECRET: randomBytes(48).toString('base64url'),
        SETTINGS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    await waitForReady(`http://127.0.0.1:${PORT}/readyz`);

    const from = '2024-11-01';
    const headers = { authorization: `Bearer ${secret}` };
    const pnlPath = (to: string) => `/v1/reports/pnl?from=${from}&to=${to}&groupBy=month`;
    // Every request of the cold run asks for another range, so none is served from
    // the report cache: this is the cost of computing the report.
    const coldPaths = Array.from({ length: 700 }, (_, i) => pnlPath(addDays(until, -i)));
    const routes = [
      { name: 'P&L monthly, all stores, converted', paths: [pnlPath(until)] },
      { name: 'P&L as above, cold (a new range each request)', paths: coldPaths },
      { name: 'GET /v1/me (trivial, authenticated)', paths: ['/v1/me'] },
    ];
    const results = [];
    for (const route of routes) {
      const first = route.paths[0]!;
      const check = await fetch(`http://127.0.0.1:${PORT}${first}`, { headers });
      if (check.status !== 200) throw new Error(`${first} answered ${check.status}: ${await check.text()}`);
      // Warm-up (not for the cold run: it would fill the cache), then the measured run.
      if (route.paths.length === 1) await run(PORT, route.paths, headers, 3);
      results.push({ name: route.name, result: await run(PORT, route.paths.slice(1).concat(first), headers, DURATION_SECONDS) });
    }

    const rows = results.map(({ name: label, result }) => ({
      route: label,
      p50: result.latency.p50,
      p95: percentile95(result),
      reqPerSec: result.requests.average,
      errors: result.errors + result.non2xx,
    }));
    const [pnl, , trivial] = rows as [(typeof rows)[number], (typeof rows)[number], (typeof rows)[number]];
    process.stdout.write(`\n${STORES} stores × ${DAYS} days, ${CONNECTIONS} connections, ${DURATION_SECONDS} s per route\n\n`);
    process.stdout.write('| route | p50 ms | p95 ms | req/s | errors |\n|---|---|---|---|---|\n');
    for (const r of rows) process.stdout.write(`| ${r.route} | ${r.p50} | ${r.p95} | ${r.reqPerSec.toFixed(0)} | ${r.errors} |\n`);
    const ratio = pnl.reqPerSec / trivial.reqPerSec;
    process.stdout.write(`\nP&L ÷ trivial req/s: ${ratio.toFixed(2)} (target ≥ 0.50); P&L p95 ${pnl.p95} ms (target ≤ 15 ms)\n`);
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

function percentile95(result: autocannon.Result): number {
  // autocannon reports p90 and p97_5; p95 lies between them: take the conservative one.
  const latency = result.latency as unknown as Record<string, number>;
  return latency.p95 ?? latency.p97_5 ?? result.latency.p99;
}

/**
 * Drives the paths for `duration` seconds. Each request takes the next path of one
 * shared rotation, so concurrent connections never ask for the same path at once.
 */
function run(port: number, paths: string[], headers: Record<string, string>, duration: number): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    headers,
    connections: CONNECTIONS,
    duration,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }) }],
  });
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

async function waitForReady(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('finance-api did not become ready');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
