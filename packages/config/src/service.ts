import type http from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { withDeadline } from './lifecycle';
import type { RunningService } from './main';
import { createMetricsRegistry, listen, OpsEndpoints } from './ops';
import type { Dependency } from './ops';
import type { BaseEnv } from './env';

export interface ServiceOptions {
  service: string;
  logger: Logger;
  env: Pick<BaseEnv, 'HTTP_HOST' | 'SHUTDOWN_TIMEOUT_MS'>;
  port: number;
  /** Connections the service needs: each is probed by /readyz and closed last on stop. */
  dependencies: Dependency[];
  registry?: Registry;
  /** Everything that is not /healthz, /readyz or /metrics (finance-api's express app). */
  app?: http.RequestListener;
  /** Work intake to stop on shutdown (queue workers), each given the drain deadline. */
  consumers?: { name: string; close(deadlineMs: number): Promise<void> }[];
}

export interface StartedService extends RunningService {
  ops: OpsEndpoints;
  port: number;
}

/**
 * The shape every DealDome process shares. Stop order: readiness turns 503, work
 * intake stops and in-flight jobs drain within the deadline, the HTTP server
 * closes, then pools and clients.
 */
export async function startService(options: ServiceOptions): Promise<StartedService> {
  const registry = options.registry ?? createMetricsRegistry(options.service);
  const ops = new OpsEndpoints(options.dependencies, registry);
  const app = options.app;
  const server = await listen(
    (req, res) => {
      if (ops.handle(req, res)) return;
      if (app) return app(req, res);
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'not_found' }));
    },
    options.env.HTTP_HOST,
    options.port,
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      ops.startDraining();
      const consumers = options.consumers ?? [];
      await Promise.all(
        consumers.map(async (c) => {
          try {
            await c.close(options.env.SHUTDOWN_TIMEOUT_MS);
          } catch (err) {
            options.logger.error({ err, consumer: c.name }, 'consumer did not close cleanly');
          }
        }),
      );
      const closed = await withDeadline(server.close(), options.env.SHUTDOWN_TIMEOUT_MS);
      if (closed === 'timeout') server.server.closeAllConnections();
      for (const dep of [...options.dependencies].reverse()) {
        try {
          await dep.close();
        } catch (err) {
          options.logger.error({ err, dependency: dep.name }, 'dependency did not close cleanly');
        }
      }
    })();
    return stopping;
  };

  return { url: server.url, port: server.port, ops, stop };
}
