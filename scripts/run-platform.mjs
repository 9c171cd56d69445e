// Starts the five services and the dashboard side by side, each as its own `node` process (as in
// production), prefixes their logs, waits until every /readyz answers 200 and
// prints where each listens. Ctrl-C (or SIGTERM) stops them all gracefully.
//
// Without a bot token (run.sh sets DEALDOME_TELEGRAM_EMULATOR=true) the local
// Telegram emulator runs too, first: bot-gateway talks to it instead of Telegram and
// `pnpm chat` plays a team member there. It is stopped last, once the services have
// drained, so the gateway's last sends still find it.
//
// Each service runs in its own process group, so a terminal's Ctrl-C (SIGINT to the
// whole foreground group) reaches only this launcher, which passes exactly one signal
// on to each service: a service that got the terminal's SIGINT *and* ours would take
// the second as "exit now" and skip its graceful stop. A second Ctrl-C (a moment
// later, not the same one delivered twice) is passed on too, and then does mean "exit
// now". When whatever started the launcher goes away (`pnpm start` stopped with
// SIGTERM kills its `sh`, not us), the services are stopped the same way, never left
// behind.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const services = [
  { name: 'finance-api', portVar: 'FINANCE_API_PORT', port: 3000, role: 'REST API + ops endpoints' },
  { name: 'bot-gateway', portVar: 'BOT_GATEWAY_PORT', port: 9401, role: 'ops endpoints' },
  { name: 'agent-runtime', portVar: 'AGENT_RUNTIME_PORT', port: 9402, role: 'ops endpoints' },
  { name: 'embedding-worker', portVar: 'EMBEDDING_WORKER_PORT', port: 9403, role: 'ops endpoints' },
  { name: 'scheduler', portVar: 'SCHEDULER_PORT', port: 9404, role: 'ops endpoints' },
  // The Next.js server built by `turbo run build`; it reaches finance-api at the port above.
  { name: 'dashboard', portVar: 'DASHBOARD_PORT', port: 3100, role: 'financial dashboard in the browser: /healthz /readyz', entry: 'apps/dashboard/.next/standalone/apps/dashboard/start.mjs' },
];

const emulatorPort = Number(process.env.TELEGRAM_EMULATOR_PORT || 8081);
const emulator =
  process.env.DEALDOME_TELEGRAM_EMULATOR === 'true'
    ? { name: 'telegram-emulator', portVar: 'TELEGRAM_EMULATOR_PORT', port: emulatorPort, url: `http://127.0.0.1:${emulatorPort}` }
    : undefined;

const children = new Map();
const failed = [];
let stopping = false;
let exitCode = 0;

// Output may go to a terminal or pipe that is already gone (the parent was killed).
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
const say = (line) => process.stdout.write(`${line}\n`);

/** Starts one process in its own process group, its output prefixed with its name. */
function launch(name, args, env) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const prefix = `${name.padEnd(18)}| `;
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop();
      for (const line of lines) process.stdout.write(prefix + line + '\n');
    });
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    const how = signal ?? `code ${code}`;
    if (code !== 0) failed.push(`${name} (${how})`);
    if (!stopping) {
      process.stderr.write(`${name} exited (${how}); stopping the platform\n`);
      stop('SIGTERM', 1);
    } else {
      say(`${name} stopped (${code === 0 ? 'exit code 0' : how})`);
    }
    if (stopping) stopEmulatorAfterServices();
    if (stopping && children.size === 0) finish();
  });
  children.set(name, child);
}

function startServices() {
  for (const s of services) {
    s.port = Number(process.env[s.portVar] || s.port);
    const env = { ...process.env, [s.portVar]: String(s.port) };
    // The gateway's stand-in token is accepted by the emulator, which takes any token.
    if (emulator && s.name === 'bot-gateway') env.TELEGRAM_API_BASE_URL = emulator.url;
    if (s.entry) {
      // The dashboard needs none of the services' secrets: only where it listens and where the API is.
      const api = services.find((x) => x.name === 'finance-api');
      const own = { PATH: process.env.PATH, HTTP_HOST: process.env.HTTP_HOST ?? '', [s.portVar]: String(s.port) };
      launch(s.name, [s.entry], { ...own, DASHBOARD_API_BASE_URL: process.env.DASHBOARD_API_BASE_URL || `http://127.0.0.1:${api.port}` });
      continue;
    }
    launch(s.name, ['--enable-source-maps', `apps/${s.name}/dist/main.js`], env);
  }
}

function finish() {
  if (failed.length > 0) {
    process.stderr.write(`not stopped cleanly: ${failed.join(', ')}\n`);
    exitCode = exitCode || 1;
  } else if (exitCode === 0) {
    say('DealDome stopped; every service exited 0');
  }
  process.exit(exitCode);
}

let stoppingSince = 0;
let stopSignal = 'SIGTERM';
function stop(signal = 'SIGTERM', code = 0) {
  if (stopping) {
    // The same stop delivered twice (a terminal's Ctrl-C reaches pnpm too, which may
    // pass it on): ignored. A second signal a moment later is passed on, and the
    // services (and the emulator) then exit at once.
    if (Date.now() - stoppingSince < 1000) return;
    say(`second signal (${signal}): the services exit now`);
    for (const child of children.values()) child.kill(signal);
    return;
  }
  stopping = true;
  stoppingSince = Date.now();
  stopSignal = signal;
  exitCode = code;
  const running = [...children.keys()].filter((name) => name !== emulator?.name);
  if (running.length > 0) {
    const also = children.has(emulator?.name) ? ', then the Telegram emulator' : '';
    say(`\nstopping ${running.length} services${also} (${signal})…`);
  }
  for (const name of running) children.get(name).kill(signal);
  stopEmulatorAfterServices();
  if (children.size === 0) finish();
}

let emulatorSignalled = false;
function stopEmulatorAfterServices() {
  const child = emulator && children.get(emulator.name);
  if (!child || emulatorSignalled || children.size > 1) return;
  emulatorSignalled = true;
  child.kill(stopSignal);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stop(signal === 'SIGHUP' ? 'SIGTERM' : signal));

// The services are in their own process groups: if the launcher dies, they must not
// outlive it. Its parent going away (ppid changes) means nobody is watching any more.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent && !stopping) {
    process.stderr.write('the command that started DealDome went away; stopping the services\n');
    stop('SIGTERM');
  }
}, 500).unref();
process.on('exit', () => {
  for (const child of children.values()) child.kill('SIGTERM');
});

// The demo admin kept by run.sh, unless it was written for another database.
function keptCredentials(text) {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const database = lines.find((line) => line.startsWith('database: '));
  if (database && process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    url.password = '';
    if (database.slice('database: '.length) !== url.href) return '';
  }
  return lines.filter((line) => line !== database).join('\n');
}

async function ready(s) {
  for (let i = 0; i < 120 && !stopping; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${s.port}/readyz`);
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  return false;
}

/** Whether anything accepts connections on the port. */
function listening(port) {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts the emulator and waits until it answers. A port already taken is refused
 * up front: the gateway would otherwise talk to whatever listens there (an emulator
 * left from another checkout, say) while ours fails to start.
 */
async function startEmulator() {
  if (await listening(emulator.port)) {
    process.stderr.write(
      `something already listens on 127.0.0.1:${emulator.port}, where the Telegram emulator should run; ` +
        `stop it, or set ${emulator.portVar} to a free port (or TELEGRAM_BOT_TOKEN to use Telegram)\n`,
    );
    return false;
  }
  launch(emulator.name, ['--import', 'tsx', 'packages/testkit/src/fakes/telegram-server.ts'], {
    ...process.env,
    [emulator.portVar]: String(emulator.port),
  });
  for (let i = 0; i < 120 && !stopping && children.has(emulator.name); i++) {
    try {
      const res = await fetch(`${emulator.url}/_emulator/chats`);
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  return false;
}

/** How to start the chat, for the person reading the "running" block. */
function chatHint() {
  const [id, email] = (process.env.DEALDOME_CHAT_USER ?? '').split(' ');
  const flags = [
    ...(id && id !== '1001' ? [`--user-id ${id}`] : []),
    ...(emulator.port !== 8081 ? [`--url ${emulator.url}`] : []),
  ];
  const command = ['pnpm chat', ...flags].join(' ');
  if (!id) {
    return (
      '\nNo team member is linked for the chat (there is no demo admin): link one with\n' +
      `  pnpm dealdome users:link --email you@example.com --telegram-id 1001\nthen run \`${command}\` in another terminal.\n`
    );
  }
  return `\nTalk to the bot: run \`${command}\` in another terminal (as ${email}, Telegram user ${id}).\n`;
}

if (emulator && !(await startEmulator())) {
  if (!stopping) {
    if (children.has(emulator.name)) process.stderr.write('not ready: telegram-emulator\n');
    stop('SIGTERM', 1);
  }
} else if (!stopping) {
  startServices();
  const results = await Promise.all(services.map(ready));
  if (!stopping) {
    if (results.every(Boolean)) {
      const rows = services.map((s) => `  ${s.name.padEnd(17)} http://127.0.0.1:${s.port}  (${s.entry ? s.role : `${s.role}: /healthz /readyz /metrics`})`);
      if (emulator) rows.push(`  ${emulator.name.padEnd(17)} ${emulator.url}  (local Telegram Bot API: no TELEGRAM_BOT_TOKEN is set)`);
      const file = process.env.DEALDOME_CREDENTIALS_FILE;
      const kept = file && existsSync(file) ? keptCredentials(readFileSync(file, 'utf8')) : '';
      let credentials = '';
      if (kept) credentials = `\nSign in to the dashboard (or the API, POST /v1/auth/login) as:\n${kept.replace(/^/gm, '  ')}\n`;
      else if (file) {
        credentials =
          `\nNo demo admin of this database is kept in ${file} (it was seeded from elsewhere);\n` +
          'create a login with: pnpm dealdome users:create --email you@example.com --role admin\n';
      }
      const chat = emulator ? chatHint() : '';
      say(`\nDealDome is running:\n${rows.join('\n')}\n${credentials}${chat}Press Ctrl-C to stop.\n`);
    } else {
      process.stderr.write(`not ready: ${services.filter((_, i) => !results[i]).map((s) => s.name).join(', ')}\n`);
      stop('SIGTERM', 1);
    }
  }
}
