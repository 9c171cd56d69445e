import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** Something a service depends on: readiness asks it, shutdown closes it. */
export interface Dependency {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  check(): Promise<void>;
  close(): Promise<void>;
}

export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  checks: Record<string, { ok: boolean; latencyMs: number; error?: string }>;
}

const CHECK_TIMEOUT_MS = 2000;

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

async function timed(dep: Dependency): Promise<{ ok: boolean; latencyMs: number; error?: string }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      dep.check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    // Only the message: a driver error can carry a connection string in its details.
    const error = err instanceof Error ? err.message : String(err);
    return { ok: false, latencyMs: Math.round(performance.now() - started), error };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The operational endpoints every service answers: `/healthz` (the process is
 * alive), `/readyz` (every dependency answers and the service is not draining),
 * `/metrics` (Prometheus text). Returned as a request handler so finance-api can
 * mount it on its API port and workers on their own small server.
 */
export class OpsEndpoints {
  private draining = false;

  constructor(
    private readonly dependencies: Dependency[],
    readonly registry: Registry,
  ) {}

  /** Readiness turns 503 from here on, so load balancers stop sending work. */
  startDraining(): void {
    this.draining = true;
  }

  async readiness(): Promise<ReadinessReport> {
    const results = await Promise.all(this.dependencies.map(async (dep) => [dep.name, await timed(dep)] as const));
    const checks = Object.fromEntries(results);
    const ok = !this.draining && results.every(([, r]) => r.ok);
    return { status: ok ? 'ready' : 'not_ready', checks };
  }

  /** Answers the request and returns true when the path is one of ours. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    switch (path) {
      case '/healthz':
        sendJson(res, 200, { status: 'ok' });
        return true;
      case '/readyz':
        this.readiness().then(
          (report) => sendJson(res, report.status === 'ready' ? 200 : 503, { ...report, draining: this.draining }),
          () => sendJson(res, 503, { status: 'not_ready' }),
        );
        return true;
      case '/metrics':
        this.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(text);
          },
          () => sendJson(res, 500, { status: 'error' }),
        );
        return true;
      default:
        return false;
    }
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export interface ListeningServer {
  server: http.Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Starts an HTTP server and resolves once it listens; port 0 picks a free one. */
export async function listen(
  handler: http.RequestListener,
  host: string,
  port: number,
): Promise<ListeningServer> {
  const server = http.createServer(handler);
  // Keep-alive sockets would hold close() open past the shutdown deadline.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    server,
    port: address.port,
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** The small server a worker exposes: only the operational endpoints. */
export function startOpsServer(ops: OpsEndpoints, host: string, port: number): Promise<ListeningServer> {
  return listen(
    (req, res) => {
      if (!ops.handle(req, res)) sendJson(res, 404, { status: 'not_found' });
    },
    host,
    port,
  );
}
