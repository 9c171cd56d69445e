import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

export interface ServiceProcess {
  child: ChildProcess;
  /** Base URL of /healthz, /readyz and /metrics, read from the service's "ready" log line. */
  url: string;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  stderr(): string;
  /** Sends a signal and resolves with the exit code and how long the exit took. */
  signal(signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
  kill(): Promise<void>;
}

/**
 * Runs an app's real entry point (apps/<name>/src/main.ts) as its own process, the
 * way an operator would, and waits until it logs that it serves (at LOG_LEVEL info
 * or below: the "ready to serve" line is what is waited for). A process that exits
 * or does not become ready in time is killed and the start fails. `bundle` runs the
 * built dist/main.js instead, as the image does (build it first).
 */
export async function startServiceProcess(
  app: string,
  env: Record<string, string>,
  options: { readyTimeoutMs?: number; bundle?: boolean } = {},
): Promise<ServiceProcess> {
  const args = options.bundle
    ? ['--enable-source-maps', path.join(repoRoot, 'apps', app, 'dist', 'main.js')]
    : ['--import', 'tsx', path.join(repoRoot, 'apps', app, 'src', 'main.ts')];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buffered = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${app} did not become ready within ${options.readyTimeoutMs ?? 20000} ms\n${stderr}`)),
      options.readyTimeoutMs ?? 20000,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        try {
          const entryLog = JSON.parse(line) as Record<string, unknown>;
          logs.push(entryLog);
          if (typeof entryLog.url === 'string' && String(entryLog.msg).endsWith('ready to serve')) {
            clearTimeout(timer);
            resolve(entryLog.url);
          }
        } catch {
          stderr += `${line}\n`;
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${app} exited with code ${code} before it was ready\n${stderr}`));
    });
  });
  let url: string;
  try {
    url = await ready;
  } catch (err) {
    // A service that never became ready is not left running behind the failed test.
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    throw err;
  }

  return {
    child,
    url,
    logs,
    stderr: () => stderr,
    signal: async (signal) => {
      const started = Date.now();
      child.kill(signal);
      const code = await exited;
      return { code, ms: Date.now() - started };
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/**
 * The environment every service process of an end-to-end test shares: the test's
 * database (already migrated by the fixture) and Redis prefix, loopback only, a short
 * shutdown, and logs at TEST_LOG_LEVEL (info by default: the ready line is read from it).
 */
export function platformServiceEnv(database: { url: string }, redis: { url: string; prefix: string }): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    HTTP_HOST: '127.0.0.1',
    MIGRATE_ON_START: 'false',
    SHUTDOWN_TIMEOUT_MS: '3000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
  };
}
