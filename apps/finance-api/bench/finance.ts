/**
 * `pnpm bench:finance`: seeds 10 stores × 730 days into a scratch database, starts
 * finance-api as its own process, and drives routes with autocannon in turn: the
 * monthly all-stores P&L (with currency conversion), the same P&L cold (a new range
 * each request, so never from the report cache) and a trivial authenticated route
 * (GET /v1/me). Each runs once as fast as the server answers (req/s: capacity) and
 * once at a steady offered load (p50/p95: latency). Prints the table and the ratio.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { migrate, openDatabase } from '@dealdome/db';
import { createScratchDatabase } from '@dealdome/db/testing';
import { createApiToken, seedDemoData } from '@dealdome/domain';
import { waitForReady } from '@dealdome/testkit';

const STORES = 10;
const DAYS = 730;
const DURATION_SECONDS = Number(process.env.BENCH_DURATION_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const PORT = Number(process.env.BENCH_PORT ?? 3999);
// The steady load latency is measured at: well above what a team's dashboards ask
// for, well below what the server can answer, so the figure is service time rather
// than queueing behind the load generator's own connections.
const STEADY_RATE = Number(process.env.BENCH_STEADY_RATE ?? 200);

async function main(): Promise<void> {
  const scratch = await createScratchDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const url = scratch.url;
  let child: ReturnType<typeof spawn> | undefined;
  try {
    await migrate(url);
    const handle = await openDatabase({ url });
    const until = '2026-10-31';
    const seeded = await seedDemoData(handle.db, { stores: STORES, days: DAYS, until, seed: 7 });
    const { secret } = await createApiToken(handle.db, { name: 'bench', scopes: ['finance:read'] }, null);
    // Settle the freshly loaded tables so autovacuum does not run during the measurement.
    await sql`VACUUM ANALYZE`.execute(handle.db);
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
      { name: 'P&L monthly, all stores, converted', paths: [pnlPath(until)], steady: true },
      { name: 'P&L as above, cold (a new range each request)', paths: coldPaths, steady: false },
      { name: 'GET /v1/me (trivial, authenticated)', paths: ['/v1/me'], steady: true },
    ];
    const rows = [];
    for (const route of routes) {
      const first = route.paths[0]!;
      const check = await fetch(`http://127.0.0.1:${PORT}${first}`, { headers });
      if (check.status !== 200) throw new Error(`${first} answered ${check.status}: ${await check.text()}`);
      const paths = route.paths.slice(1).concat(first);
      // Warm-up (not for the cold run: it would fill the cache), then the measured runs:
      // as fast as the server answers (capacity), then at a steady offered load (latency).
      if (route.steady) await run(PORT, paths, headers, 3);
      const saturated = await run(PORT, paths, headers, DURATION_SECONDS);
      const steady = route.steady ? await paced(PORT, paths, headers, DURATION_SECONDS, STEADY_RATE) : undefined;
      rows.push({
        route: route.name,
        reqPerSec: saturated.requests.average,
        saturated: { p50: percentile(saturated.samples, 50), p95: percentile(saturated.samples, 95) },
        steady: steady && { p50: percentile(steady.samples, 50), p95: percentile(steady.samples, 95) },
        errors: saturated.errors + saturated.non2xx + (steady?.errors ?? 0),
      });
    }

    const [pnl, , trivial] = rows as [(typeof rows)[number], (typeof rows)[number], (typeof rows)[number]];
    process.stdout.write(
      `\n${STORES} stores × ${DAYS} days; ${CONNECTIONS} connections; ${DURATION_SECONDS} s per run; ` +
        `steady load ${STEADY_RATE} req/s\n\n`,
    );
    process.stdout.write(
      '| route | req/s (saturated) | p50 / p95 ms saturated | p50 / p95 ms at steady load | errors |\n|---|---|---|---|---|\n',
    );
    const ms = (l?: { p50: number; p95: number }) => (l ? `${l.p50} / ${l.p95}` : '—');
    for (const r of rows) {
      process.stdout.write(`| ${r.route} | ${r.reqPerSec.toFixed(0)} | ${ms(r.saturated)} | ${ms(r.steady)} | ${r.errors} |\n`);
    }
    const ratio = pnl.reqPerSec / trivial.reqPerSec;
    process.stdout.write(
      `\nP&L ÷ trivial req/s: ${ratio.toFixed(2)} (target ≥ 0.50); ` +
        `P&L p95 at ${STEADY_RATE} req/s: ${pnl.steady?.p95} ms (target ≤ 15 ms; saturated: ${pnl.saturated.p95} ms)\n`,
    );
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    }
    await scratch.drop();
  }
}

/** The q-th percentile (nearest rank) of the measured latencies, in ms with one decimal. */
function percentile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))] ?? NaN;
  return Math.round(value * 10) / 10;
}

/**
 * Drives the paths for `duration` seconds. Each request takes the next path of one
 * shared rotation, so concurrent connections never ask for the same path at once.
 */
function run(port: number, paths: string[], headers: Record<string, string>, duration: number): Promise<autocannon.Result & { samples: number[] }> {
  let next = 0;
  // Every response's latency, for exact percentiles (autocannon's summary has p90 and p97.5, no p95).
  const samples: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        headers,
        connections: CONNECTIONS,
        duration,
        requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }) }],
      },
      (err: unknown, result) => (err ? reject(err instanceof Error ? err : new Error(`autocannon failed: ${JSON.stringify(err)}`)) : resolve({ ...result, samples })),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => samples.push(responseTime));
  });
}

/**
 * An open-loop load: requests leave at evenly spaced times (`rate` per second)
 * whether or not earlier ones have been answered, and each latency counts from the
 * time its request was due, so a slow answer cannot hide the ones queued behind it.
 * (autocannon's own rate limit sends each second's requests in one burst.)
 */
async function paced(port: number, paths: string[], headers: Record<string, string>, duration: number, rate: number) {
  const samples: number[] = [];
  let errors = 0;
  const start = performance.now();
  const total = Math.round(duration * rate);
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      fetch(`http://127.0.0.1:${port}${paths[i % paths.length]!}`, { headers }).then(
        async (res) => {
          await res.arrayBuffer();
          samples.push(performance.now() - due);
          if (res.status !== 200) errors += 1;
        },
        () => void (errors += 1),
      ),
    );
  }
  await Promise.all(inFlight);
  return { samples, errors };
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
