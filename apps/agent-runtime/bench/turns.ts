/**
 * `pnpm bench:turns`: turns through the real bot-gateway, BullMQ and agent-runtime,
 * each its own process, with Telegram and the model faked in this process (the model
 * answers at once with a plain end_turn). Seeds a scratch database with one member
 * per chat, then sends user messages and times each from the moment its update is
 * available to getUpdates until the reply's sendMessage reaches the fake: the
 * platform's overhead, since the model takes 0 ms. Counts lost replies (none within
 * the timeout) and duplicated ones (a message answered by more than one sendMessage).
 *
 * Two runs: at a steady offered rate (latency: p50/p99) and all at once (capacity:
 * turns/s). Prints a markdown table.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { migrate, openDatabase } from '@dealdome/db';
import { createScratchDatabase } from '@dealdome/db/testing';
import { createUser } from '@dealdome/domain';
import { FakeAnthropic, FakeTelegram, freePort, waitForReady } from '@dealdome/testkit';
import type { RecordedAnthropicRequest, TelegramCall } from '@dealdome/testkit';

const TURNS = Number(process.env.BENCH_TURNS ?? 1000);
const CHATS = Number(process.env.BENCH_CHATS ?? 50);
const STEADY_RATE = Number(process.env.BENCH_RATE ?? 50);
const LOST_AFTER_MS = Number(process.env.BENCH_LOST_AFTER_MS ?? 30_000);
const TOKEN = '7777:bench-turns';
const FIRST_CHAT = 910_000;

/**
 * The services' settings. The per-chat and global send limits protect real Telegram
 * (about one message a second per private chat, 30 a second per bot); against the
 * fake they would measure the limiter, not the platform, so they are raised.
 */
const SETTINGS: Record<string, string> = {
  AGENT_CONCURRENCY: process.env.AGENT_CONCURRENCY ?? '16',
  TELEGRAM_OUTBOUND_CONCURRENCY: process.env.TELEGRAM_OUTBOUND_CONCURRENCY ?? '16',
  TELEGRAM_GLOBAL_MESSAGES_PER_SECOND: '0',
  TELEGRAM_PRIVATE_CHAT_BURST: '100000',
  TELEGRAM_POLL_TIMEOUT_SECONDS: '10',
  DATABASE_POOL_MAX: process.env.DATABASE_POOL_MAX ?? '10',
};

/** When the model was asked about each message: splits the overhead into intake + turn start, and the rest. */
const modelAt = new Map<number, number>();

interface Sent {
  index: number;
  chatId: number;
  /** performance.now() when the update was handed to the fake's getUpdates queue. */
  at: number;
}

async function main(): Promise<void> {
  const scratch = await createScratchDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const url = scratch.url;
  cpuGroups.database = new URL(url).pathname.slice(1);
  const children: ChildProcess[] = [];
  let telegram: FakeTelegram | undefined;
  let anthropic: FakeAnthropic | undefined;
  try {
    await migrate(url);
    const handle = await openDatabase({ url });
    for (let i = 0; i < CHATS; i++) {
      await createUser(handle.db, { email: `bench${i}@dealdome.test`, displayName: `Bench ${i}`, telegramUserId: String(FIRST_CHAT + i) });
    }
    await handle.close();

    // Arrival time of every sendMessage on this process's clock; the fake's own `at` has only ms resolution.
    const arrivals: { call: TelegramCall; at: number }[] = [];
    telegram = await FakeTelegram.start({ token: TOKEN, onCall: (call) => call.method === 'sendMessage' && arrivals.push({ call, at: performance.now() }) });
    anthropic = await FakeAnthropic.start();
    // The answer names every message the turn answered, so each reply can be matched to its messages.
    anthropic.respondWith((request) => {
      const indexes = askedIndexes(request);
      for (const i of indexes) modelAt.set(i, performance.now());
      return { content: `ok ${indexes.join(' ')}` };
    });

    const root = path.resolve(__dirname, '..', '..', '..');
    const common = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: url,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: `bench_${randomBytes(3).toString('hex')}`,
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      MIGRATE_ON_START: 'false',
      ANTHROPIC_API_KEY: 'sk-ant-bench',
      // Traces of the run go to a collector when one is named (how BENCHMARKS.md's breakdown of a message's time was taken).
      ...(process.env.OTEL_EXPORTER_OTLP_ENDPOINT && { OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT }),
      ...SETTINGS,
    };
    const [gatewayPort, runtimePort] = [await freePort(), await freePort()];
    const start = (app: string, env: Record<string, string>) => {
      // BENCH_CPU_PROFILE_DIR=dir writes each service's V8 CPU profiles in a folder per service when it stops (open it in Chrome DevTools).
      const profile = process.env.BENCH_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.join(process.env.BENCH_CPU_PROFILE_DIR, app)}`] : [];
      // The bundles `pnpm start` and the images run (`pnpm bench:turns` builds them first).
      const child = spawn(process.execPath, [...profile, '--enable-source-maps', path.join(root, 'apps', app, 'dist', 'main.js')], {
        cwd: root,
        env: { ...common, ...env },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      children.push(child);
      if (app === 'bot-gateway') cpuGroups.gateway = child.pid;
      if (app === 'agent-runtime') cpuGroups.runtime = child.pid;
    };
    start('bot-gateway', { BOT_GATEWAY_PORT: String(gatewayPort), TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_BASE_URL: telegram.url });
    start('agent-runtime', { AGENT_RUNTIME_PORT: String(runtimePort), ANTHROPIC_BASE_URL: anthropic.url });
    await Promise.all([waitForReady(`http://127.0.0.1:${gatewayPort}/readyz`), waitForReady(`http://127.0.0.1:${runtimePort}/readyz`)]);

    const fake = telegram;
    let next = 0;
    const sent: Sent[] = [];
    const send = (chatId: number) => {
      const index = next++;
      fake.sendUserMessage({ chatId, from: { id: chatId, first_name: 'Bench' }, text: `m${index}` });
      sent.push({ index, chatId, at: performance.now() });
      return sent[sent.length - 1]!;
    };
    const chatOf = (i: number) => FIRST_CHAT + (i % CHATS);

    // Warm-up, not measured: one turn per chat (JIT, pools, each chat's conversation row).
    const warm = Array.from({ length: CHATS }, (_, i) => send(chatOf(i)));
    await collect(warm, arrivals, LOST_AFTER_MS);
    // A running platform's tables have statistics (autovacuum keeps them); this
    // database was created a moment ago, and without them the planner takes every
    // table for a page or so and can pick an index that walks all chats' messages.
    const analyze = new pg.Client({ connectionString: url });
    await analyze.connect();
    await analyze.query('ANALYZE');
    await analyze.end();

    const runs = [];
    // Latency: messages leave at evenly spaced times, round robin over the chats.
    const steady: Sent[] = [];
    const steadyCpu = machineCpu();
    const steadyStart = performance.now();
    for (let i = 0; i < TURNS; i++) {
      const wait = steadyStart + (i * 1000) / STEADY_RATE - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      steady.push(send(chatOf(i)));
    }
    runs.push({ name: `steady ${STEADY_RATE} msg/s`, ...(await collect(steady, arrivals, LOST_AFTER_MS, steadyCpu)) });
    // Capacity: every message at once.
    const burstCpu = machineCpu();
    const burst = Array.from({ length: TURNS }, (_, i) => send(chatOf(i)));
    runs.push({ name: `all ${TURNS} at once`, ...(await collect(burst, arrivals, LOST_AFTER_MS, burstCpu)) });

    const modelCalls = anthropic.requests.length;
    process.stdout.write(
      `\n${TURNS} turns per run over ${CHATS} chats; model faked at 0 ms; ` +
        `AGENT_CONCURRENCY=${SETTINGS.AGENT_CONCURRENCY}, TELEGRAM_OUTBOUND_CONCURRENCY=${SETTINGS.TELEGRAM_OUTBOUND_CONCURRENCY}; ` +
        `send limits raised for the fake (TELEGRAM_GLOBAL_MESSAGES_PER_SECOND=0, TELEGRAM_PRIVATE_CHAT_BURST=100000); ` +
        `${modelCalls} model calls in all\n\n`,
    );
    process.stdout.write(
      '| run | turns/s | p50 ms | p99 ms | max ms | update → model p50 / p99 ms | model → sendMessage p50 / p99 ms | messages per reply | CPU busy | CPU ms per message: gateway / runtime / PostgreSQL / Redis / bench | lost | duplicated |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n',
    );
    for (const r of runs) {
      process.stdout.write(
        `| ${r.name} | ${r.turnsPerSecond.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.max} | ${r.toModel} | ${r.afterModel} | ${r.perReply.toFixed(2)} | ${Number.isNaN(r.busy) ? 'n/a' : `${(r.busy * 100).toFixed(0)} %`} | ${r.cpuPerMessage} | ${r.lost} | ${r.duplicated} |\n`,
      );
    }
  } finally {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
    await telegram?.close();
    await anthropic?.close();
    await scratch.drop();
  }
}

/** The message indexes ("m12") in the newest user message of a request: what this turn answers. */
function askedIndexes(request: RecordedAnthropicRequest): number[] {
  const last = request.messages?.at(-1) as { content: { type: string; text?: string }[] } | undefined;
  return (last?.content ?? []).flatMap((b) => (b.type === 'text' ? [...(b.text ?? '').matchAll(/\bm(\d+)\b/g)].map((m) => Number(m[1])) : []));
}

/**
 * Waits until every message of the run has a reply (or LOST_AFTER_MS passed since the
 * last one), then for one more quiet second so late duplicates are counted too.
 */
async function collect(run: Sent[], arrivals: { call: TelegramCall; at: number }[], lostAfterMs: number, cpuBefore = machineCpu()) {
  const wanted = new Map(run.map((s) => [s.index, s]));
  const replies = new Map<number, number[]>();
  let seen = 0;
  let replyCount = 0;
  const scan = () => {
    for (; seen < arrivals.length; seen++) {
      const { call, at } = arrivals[seen]!;
      const indexes = [...(typeof call.params.text === 'string' ? call.params.text : '').matchAll(/\d+/g)].map((m) => Number(m[0])).filter((i) => wanted.has(i));
      if (indexes.length > 0) replyCount += 1;
      for (const i of indexes) replies.set(i, [...(replies.get(i) ?? []), at]);
    }
  };
  const last = run.at(-1)!.at;
  while (replies.size < wanted.size && performance.now() - last < lostAfterMs) {
    await new Promise((r) => setTimeout(r, 20));
    scan();
  }
  let quietSince = performance.now();
  while (performance.now() - quietSince < 1000) {
    const before = arrivals.length;
    await new Promise((r) => setTimeout(r, 100));
    if (arrivals.length !== before) quietSince = performance.now();
  }
  const cpuAfter = machineCpu();
  scan();
  const latencies = run.flatMap((s) => (replies.has(s.index) ? [Math.min(...replies.get(s.index)!) - s.at] : []));
  const toModel = run.flatMap((s) => (modelAt.has(s.index) ? [modelAt.get(s.index)! - s.at] : []));
  const afterModel = run.flatMap((s) => (modelAt.has(s.index) && replies.has(s.index) ? [Math.min(...replies.get(s.index)!) - modelAt.get(s.index)!] : []));
  const firstSent = run[0]!.at;
  const lastReply = Math.max(...run.flatMap((s) => replies.get(s.index) ?? []));
  return {
    p50: percentile(latencies, 50),
    toModel: `${percentile(toModel, 50)} / ${percentile(toModel, 99)}`,
    afterModel: `${percentile(afterModel, 50)} / ${percentile(afterModel, 99)}`,
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    turnsPerSecond: (latencies.length * 1000) / (lastReply - firstSent),
    perReply: replies.size / Math.max(1, replyCount),
    lost: run.length - replies.size,
    duplicated: [...replies.values()].filter((at) => at.length > 1).length,
    busy: cpuBefore && cpuAfter ? (cpuAfter.busy - cpuBefore.busy) / Math.max(1, cpuAfter.total - cpuBefore.total) : NaN,
    // CPU per message answered, by process: what each message costs, whatever the load.
    cpuPerMessage:
      cpuBefore && cpuAfter && latencies.length > 0
        ? (Object.keys(cpuAfter.processes) as (keyof ProcessCpu)[])
            .map((group) => ((cpuAfter.processes[group] - cpuBefore.processes[group]) / latencies.length).toFixed(1))
            .join(' / ')
        : 'n/a',
  };
}

/** Busy and total CPU time of the whole machine so far (Linux /proc/stat, in ticks); undefined elsewhere. */
function machineCpu(): { busy: number; total: number; processes: ProcessCpu } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    // idle and iowait
    return { busy: total - fields[3]! - (fields[4] ?? 0), total, processes: processCpu() };
  } catch {
    return undefined;
  }
}

/** Where the CPU goes, by process group (each in ms). */
type ProcessCpu = Record<'gateway' | 'runtime' | 'postgres' | 'redis' | 'bench', number>;
const cpuGroups: { gateway?: number; runtime?: number; database?: string } = {};
const CLOCK_TICK_MS = 10;

/**
 * CPU used so far (user + system, Linux /proc) by the two services, the scratch
 * database's PostgreSQL backends, Redis (any redis-server on the machine) and this
 * process (the bench with both fakes). Backends that ended before a snapshot drop out
 * of it; the services' pools keep theirs for the whole run.
 */
function processCpu(): ProcessCpu {
  const used: ProcessCpu = { gateway: 0, runtime: 0, postgres: 0, redis: 0, bench: 0 };
  const own = process.cpuUsage();
  used.bench = (own.user + own.system) / 1000;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    let command: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
    const id = Number(pid);
    if (id === cpuGroups.gateway) used.gateway += ms;
    else if (id === cpuGroups.runtime) used.runtime += ms;
    else if (cpuGroups.database && command.startsWith('postgres:') && command.includes(` ${cpuGroups.database} `)) used.postgres += ms;
    else if (command.startsWith('redis-server') || command.includes('/redis-server')) used.redis += ms;
  }
  return used;
}

/** The q-th percentile (nearest rank), in ms with one decimal. */
function percentile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const value = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))] ?? NaN;
  return Math.round(value * 10) / 10;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
