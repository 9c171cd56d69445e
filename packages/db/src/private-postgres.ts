/**
 * A PostgreSQL server of the caller's own, for work that must not touch the machine's
 * shared server: a benchmark that needs a server setting (shared_buffers), a fault
 * test that stops and restarts the server under running services. It runs the
 * binaries of the installation `pg_config` on PATH names (so that installation's
 * pgvector) in a fresh data directory that is deleted when it stops. PostgreSQL
 * refuses to run as root, so as root it runs as the `postgres` user.
 *
 * Kept in this package rather than in @dealdome/testkit because the benchmark in
 * bench/ uses it and testkit depends on this package; testkit re-exports it.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface PrivatePostgres {
  /** Connection string of its `postgres` database (user `postgres`, no password, loopback). */
  readonly url: string;
  readonly port: number;
  /** Stops the server with a fast shutdown (sessions are ended), keeping its data; connections are refused until bringUp(). */
  takeDown(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  bringUp(): Promise<void>;
  /** takeDown() then bringUp(). */
  restart(): Promise<void>;
  /** Stops it for good and deletes its data directory. */
  stop(): Promise<void>;
}

export interface PrivatePostgresOptions {
  /** postgresql.conf settings over the defaults. */
  settings?: Record<string, string>;
  /** A server whose major version the binaries must have (so that its extensions are the ones loaded here). */
  sameVersionAs?: string;
}

/** The server binaries of the installation pg_config on PATH describes, checked for pgvector. */
async function installation(): Promise<string> {
  const ask = async (flag: string) => (await run('pg_config', [flag])).stdout.trim();
  let bindir: string;
  let sharedir: string;
  try {
    [bindir, sharedir] = await Promise.all([ask('--bindir'), ask('--sharedir')]);
  } catch {
    throw new Error('pg_config is not on PATH: a private PostgreSQL server needs the server binaries (Debian: postgresql and postgresql-server-dev-<major>)');
  }
  if (!existsSync(path.join(bindir, 'postgres'))) throw new Error(`pg_config names ${bindir}, which holds no postgres binary: install the PostgreSQL server package`);
  if (!existsSync(path.join(sharedir, 'extension', 'vector.control'))) {
    throw new Error(`the PostgreSQL installation in ${bindir} has no pgvector (no vector.control under ${sharedir}); scripts/ensure-pgvector.sh builds it`);
  }
  return bindir;
}

async function majorOf(bindir: string): Promise<number> {
  const { stdout } = await run(path.join(bindir, 'postgres'), ['--version']);
  return Number(/(\d+)(?:\.\d+)?/.exec(stdout)?.[1]);
}

async function serverMajor(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ major: number }>(`SELECT current_setting('server_version_num')::int / 10000 AS major`);
    return rows[0]!.major;
  } finally {
    await client.end();
  }
}

/** Resolves once a connection succeeds; rejects if the server exits first or `timeoutMs` passes. */
async function accepting(url: string, server: ChildProcess, stderr: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) throw new Error(`the private PostgreSQL server exited: ${stderr()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Starts the server on a free loopback port. */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const bindir = await installation();
  if (options.sameVersionAs) {
    const [mine, theirs] = await Promise.all([majorOf(bindir), serverMajor(options.sameVersionAs)]);
    if (mine !== theirs) throw new Error(`pg_config points at PostgreSQL ${mine}, the server to match runs ${theirs}`);
  }

  const dir = mkdtempSync(path.join(tmpdir(), 'dealdome-pg-'));
  // As root, every binary runs as the postgres user (spawned with its uid, so the server is our own child to kill).
  let owner: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0) {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    owner = { uid: Number(uid), gid: Number(gid) };
    chownSync(dir, owner.uid, owner.gid);
  }
  const asOwner = { cwd: dir, ...owner };
  const data = path.join(dir, 'data');
  const cleanUp = () => rmSync(dir, { recursive: true, force: true });

  let server: ChildProcess | undefined;
  let stderr = '';
  const killOnExit = () => server?.kill('SIGKILL');
  try {
    await run(path.join(bindir, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-sync'], asOwner);
    const port = await freePort();
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const settings = { listen_addresses: '127.0.0.1', port: String(port), unix_socket_directories: dir, ...options.settings };
    const args = ['-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];

    const bringUp = async () => {
      if (server && server.exitCode === null && server.signalCode === null) return;
      stderr = '';
      const started = spawn(path.join(bindir, 'postgres'), args, { ...asOwner, stdio: ['ignore', 'ignore', 'pipe'] });
      server = started;
      started.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
      await accepting(url, started, () => stderr);
    };
    const takeDown = async () => {
      const running = server;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((r) => running.once('exit', r));
      await run(path.join(bindir, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w'], asOwner);
      await exited;
    };

    // A test process that dies leaves no server behind.
    process.once('exit', killOnExit);
    await bringUp();
    return {
      url,
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
          cleanUp();
        }
      },
    };
  } catch (err) {
    killOnExit();
    process.removeListener('exit', killOnExit);
    cleanUp();
    throw err;
  }
}

/** A TCP port on loopback that nothing listens on right now (the OS picks it); testkit re-exports it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
