import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports';
import { startPrivateRedis } from './servers';
import type { PrivateRedis } from './servers';

/**
 * The Redis set-ups REDIS_URL can name besides one server, built from the binaries on
 * PATH (Debian's `redis-server` package brings redis-server and redis-cli) on free
 * loopback ports, for tests that run the platform across them. Each node is a private
 * Redis (servers.ts); the URL is in the form the services read (@dealdome/config's
 * redis-url.ts).
 */

const run = promisify(execFile);

async function redisCli(args: string[]): Promise<string> {
  try {
    return (await run('redis-cli', args, { timeout: 30_000 })).stdout;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('redis-cli is not on PATH (Debian: apt-get install redis-tools)');
    throw err;
  }
}

/** Polls `probe` until it says yes; `failed` names a reason to stop waiting (a server that exited). */
async function until(what: string, probe: () => Promise<boolean>, failed: () => Error | undefined = () => undefined, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failure = failed();
    if (failure) throw failure;
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface PrivateRedisCluster {
  /** redis+cluster://127.0.0.1:<port>,… naming every master. */
  readonly url: string;
  /** The masters, each a private Redis that can be taken down and brought up. */
  readonly nodes: PrivateRedis[];
  /** Stops every node and deletes their files. */
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of `masters` (at least 3, what `redis-cli --cluster create` asks for)
 * masters and no replicas, the 16384 slots spread over them; resolves once every node
 * reports the cluster ok.
 */
export async function startPrivateRedisCluster(options: { masters?: number } = {}): Promise<PrivateRedisCluster> {
  const masters = options.masters ?? 3;
  if (masters < 3) throw new Error('a Redis Cluster needs at least 3 masters');
  const nodes: PrivateRedis[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    for (let i = 0; i < masters; i++) {
      nodes.push(
        await startPrivateRedis({
          args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'],
        }),
      );
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await redisCli(['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    for (const node of nodes) {
      await until(`the cluster node on port ${node.port} did not report cluster_state:ok`, async () =>
        (await redisCli(['-p', String(node.port), 'cluster', 'info'])).includes('cluster_state:ok'),
      );
    }
    return { url: `redis+cluster://${addresses.join(',')}`, nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface PrivateRedisSentinel {
  /** redis+sentinel://127.0.0.1:<sentinel port>/<master name>. */
  readonly url: string;
  readonly masterName: string;
  /** The master the sentinel watches. */
  readonly master: PrivateRedis;
  readonly sentinelPort: number;
  /** Stops the sentinel and the master and deletes their files. */
  stop(): Promise<void>;
}

/**
 * One private Redis and one sentinel (`redis-server <config> --sentinel`) watching it
 * under `masterName`; resolves once the sentinel names the master's address.
 */
export async function startPrivateRedisSentinel(options: { masterName?: string } = {}): Promise<PrivateRedisSentinel> {
  const masterName = options.masterName ?? 'dealdome';
  const master = await startPrivateRedis();
  const dir = mkdtempSync(path.join(tmpdir(), 'dealdome-sentinel-'));
  let sentinel: ChildProcess | undefined;
  let output = '';
  const killOnExit = () => sentinel?.kill('SIGKILL');
  const stop = async () => {
    const current = sentinel;
    if (current && current.exitCode === null && current.signalCode === null) {
      const exited = new Promise((r) => current.once('exit', r));
      current.kill('SIGTERM');
      await exited;
    }
    process.removeListener('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
    await master.stop();
  };
  try {
    const port = await freePort();
    // The sentinel rewrites its configuration file as it learns: it must be its own, writable.
    const config = path.join(dir, 'sentinel.conf');
    writeFileSync(
      config,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${masterName} 5000`,
        '',
      ].join('\n'),
    );
    const started = spawn('redis-server', [config, '--sentinel'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    sentinel = started;
    process.once('exit', killOnExit);
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    started.stdout?.on('data', keep);
    started.stderr?.on('data', keep);
    let failure: Error | undefined;
    started.once('error', (err) => (failure = err));
    started.once('exit', (code) => (failure ??= new Error(`the sentinel exited with code ${code}: ${output}`)));
    await until(
      `the sentinel on port ${port} did not name master ${masterName}`,
      async () => (await redisCli(['-p', String(port), 'sentinel', 'get-master-addr-by-name', masterName])).includes(String(master.port)),
      () => failure,
    );
    return { url: `redis+sentinel://127.0.0.1:${port}/${masterName}`, masterName, master, sentinelPort: port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
