// Starts the five services side by side, each as its own `node` process (as in
// production), prefixes their logs, waits until every /readyz answers 200 and
// prints where each listens. Ctrl-C (or SIGTERM) stops them all gracefully.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const services = [
  { name: 'finance-api', portVar: 'FINANCE_API_PORT', port: 3000, role: 'REST API + ops endpoints' },
  { name: 'bot-gateway', portVar: 'BOT_GATEWAY_PORT', port: 9401, role: 'ops endpoints' },
  { name: 'agent-runtime', portVar: 'AGENT_RUNTIME_PORT', port: 9402, role: 'ops endpoints' },
  { name: 'embedding-worker', portVar: 'EMBEDDING_WORKER_PORT', port: 9403, role: 'ops endpoints' },
  { name: 'scheduler', portVar: 'SCHEDULER_PORT', port: 9404, role: 'ops endpoints' },
];

const children = new Map();
let stopping = false;

for (const s of services) {
  s.port = Number(process.env[s.portVar] || s.port);
  const child = spawn(process.execPath, ['--enable-source-maps', `apps/${s.name}/dist/main.js`], {
    env: { ...process.env, [s.portVar]: String(s.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `${s.name.padEnd(17)}| `;
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop();
      for (const line of lines) process.stdout.write(prefix + line + '\n');
    });
  }
  child.on('exit', (code, signal) => {
    children.delete(s.name);
    if (!stopping) {
      process.stderr.write(`${s.name} exited (${signal ?? code}); stopping the platform\n`);
      stop(1);
    } else if (children.size === 0) {
      process.exit(process.exitCode ?? 0);
    }
  });
  children.set(s.name, child);
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  for (const child of children.values()) child.kill('SIGTERM');
  if (children.size === 0) process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

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

const results = await Promise.all(services.map(ready));
if (!stopping) {
  if (results.every(Boolean)) {
    const rows = services.map((s) => `  ${s.name.padEnd(17)} http://127.0.0.1:${s.port}  (${s.role}: /healthz /readyz /metrics)`);
    const file = process.env.DEALDOME_CREDENTIALS_FILE;
    const credentials = file && existsSync(file) ? `\nSign in to the API (POST /v1/auth/login) as:\n${readFileSync(file, 'utf8').replace(/^/gm, '  ')}` : '';
    process.stdout.write(`\nDealDome is running:\n${rows.join('\n')}\n${credentials}Press Ctrl-C to stop.\n\n`);
  } else {
    process.stderr.write(`not ready: ${services.filter((_, i) => !results[i]).map((s) => s.name).join(', ')}\n`);
    stop(1);
  }
}
