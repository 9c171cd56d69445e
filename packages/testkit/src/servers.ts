import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports';

/**
 * Servers of a test's own, for tests that stop and restart them under running
 * services: never the machine's shared PostgreSQL and Redis, which other tests and
 * people use. Both share one shape: takeDown() and bringUp() keep the data and the
 * port, stop() ends the server and deletes its files.
 */
export { startPrivatePostgres } from '@dealdome/db/private-postgres';
export type { PrivatePostgres, PrivatePostgresOptions } from '@dealdome/db/private-postgres';

export interface PrivateRedis {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** A clean shutdown (SIGTERM: the append-only file is flushed), keeping the data; connections are refused until bringUp(). */
  takeDown(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it answers PING (its data loaded). */
  bringUp(): Promise<void>;
  /** takeDown() then bringUp(). */
  restart(): Promise<void>;
  /** Stops it for good and deletes its directory. */
  stop(): Promise<void>;
}

/** Answers PING with PONG? (LOADING while the append-only file is read back.) */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

/**
 * A redis-server (found on PATH; Debian's `redis-server` package) on a free loopback
 * port, configured as the compose file runs the platform's Redis: append-only file
 * flushed every second, no eviction. `args` are more redis-server options.
 */
export async function startPrivateRedis(options: { args?: string[] } = {}): Promise<PrivateRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dealdome-redis-'));
  const port = await freePort();
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--maxmemory-policy', 'noeviction',
    '--daemonize', 'no',
    '--logfile', '',
    ...(options.args ?? []),
  ];
  let server: ChildProcess | undefined;
  let output = '';
  const running = () => server !== undefined && server.exitCode === null && server.signalCode === null;
  const killOnExit = () => server?.kill('SIGKILL');

  const bringUp = async () => {
    if (running()) return;
    output = '';
    const started = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    server = started;
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    started.stdout?.on('data', keep);
    started.stderr?.on('data', keep);
    const failedToStart = new Promise<Error>((resolve) => {
      started.once('error', (err: NodeJS.ErrnoException) =>
        resolve(err.code === 'ENOENT' ? new Error('redis-server is not on PATH (Debian: apt-get install redis-server)') : err),
      );
      started.once('exit', (code) => resolve(new Error(`redis-server exited with code ${code}: ${output}`)));
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const outcome = await Promise.race([failedToStart, pong(port)]);
      if (outcome instanceof Error) throw outcome;
      if (outcome) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within 30 s: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const takeDown = async () => {
    const current = server;
    if (!current || !running()) return;
    const exited = new Promise((r) => current.once('exit', r));
    current.kill('SIGTERM');
    await exited;
  };

  process.once('exit', killOnExit);
  try {
    await bringUp();
  } catch (err) {
    killOnExit();
    process.removeListener('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    takeDown,
    bringUp,
    restart: async () => {
      await takeDown();
      await bringUp();
    },
    stop: async () => {
      try {
        await takeDown();
      } finally {
        process.removeListener('exit', killOnExit);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
