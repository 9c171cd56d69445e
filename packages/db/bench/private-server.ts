/**
 * A PostgreSQL server of the bench's own, for settings that need a server restart
 * (shared_buffers): the machine's shared server is never reconfigured. It runs the
 * binaries of the installation the shared server uses (so its pgvector too), in a
 * fresh data directory that is deleted when it stops. PostgreSQL refuses to run as
 * root, so as root it runs as the `postgres` user.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface PrivateServer {
  /** Connection string of its `postgres` database. */
  url: string;
  stop(): Promise<void>;
}

/** Where the installation's server binaries are, checked against the shared server's major version. */
async function binaries(expectedMajor: number): Promise<string> {
  const { stdout } = await run('pg_config', ['--bindir']).catch(() => {
    throw new Error('pg_config is not on PATH (it comes with the postgresql-server-dev package that scripts/ensure-pgvector.sh installs)');
  });
  const bindir = stdout.trim();
  const { stdout: version } = await run(path.join(bindir, 'postgres'), ['--version']);
  const major = Number(/(\d+)(?:\.\d+)?/.exec(version)?.[1]);
  if (major !== expectedMajor) throw new Error(`pg_config points at PostgreSQL ${major}, the server runs ${expectedMajor}`);
  return bindir;
}

/** Starts the server on a free port with `settings` (postgresql.conf names) over the defaults. */
export async function startPrivateServer(options: { sharedUrl: string; settings: Record<string, string> }): Promise<PrivateServer> {
  const shared = new pg.Client({ connectionString: options.sharedUrl });
  await shared.connect();
  const { rows } = await shared.query<{ major: number }>(`SELECT current_setting('server_version_num')::int / 10000 AS major`).finally(() => shared.end());
  const bindir = await binaries(rows[0]!.major);

  const dir = mkdtempSync(path.join(tmpdir(), 'dealdome-bench-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    chownSync(dir, Number(uid), Number(gid));
  }
  const command = (file: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bindir, file), ...args]] : [path.join(bindir, file), args]);

  let server: ChildProcess | undefined;
  const cleanUp = () => rmSync(dir, { recursive: true, force: true });
  try {
    const data = path.join(dir, 'data');
    await run(...command('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-sync']));
    const port = await freePort();
    const settings = { listen_addresses: '127.0.0.1', port: String(port), unix_socket_directories: dir, ...options.settings };
    const [file, args] = command('postgres', ['-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])]);
    const started = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    server = started;
    let stderr = '';
    started.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    for (let attempt = 0; ; attempt++) {
      if (started.exitCode !== null) throw new Error(`the bench's PostgreSQL server exited: ${stderr}`);
      const client = new pg.Client({ connectionString: url });
      try {
        await client.connect();
        await client.end();
        break;
      } catch (err) {
        await client.end().catch(() => undefined);
        if (attempt > 100) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return {
      url,
      stop: async () => {
        const exited = started.exitCode === null ? new Promise((r) => started.once('exit', r)) : Promise.resolve();
        await run(...command('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w']));
        await exited;
        cleanUp();
      },
    };
  } catch (err) {
    server?.kill('SIGKILL');
    cleanUp();
    throw err;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
