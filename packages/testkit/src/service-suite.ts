import { useTestDatabase } from '@dealdome/db/testing';
import { TcpProxy } from './proxy';
import { useTestRedis } from './redis';
import { startServiceProcess } from './service-process';
import type { ServiceProcess } from './service-process';

const SHUTDOWN_TIMEOUT_MS = 3000;

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function waitFor(predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/**
 * The contract every DealDome service keeps, checked against the real process:
 * it boots on the real database and Redis, answers its operational endpoints,
 * reports PostgreSQL outages on /readyz, and stops cleanly on SIGTERM.
 */
export function describeServiceProcess(app: string, portVariable: string, extraEnv: Record<string, string> = {}): void {
  const database = useTestDatabase();
  const redis = useTestRedis();
  const running: ServiceProcess[] = [];

  const env = (overrides: Record<string, string> = {}) => ({
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    HTTP_HOST: '127.0.0.1',
    [portVariable]: '0',
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    ...extraEnv,
    ...overrides,
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.kill()));
  });

  describe(`${app} as a process`, () => {
    it('when started against PostgreSQL and Redis, then it is alive, ready, serves metrics and exits 0 on SIGTERM within the deadline', async () => {
      const service = await startServiceProcess(app, env());
      running.push(service);

      expect(await getJson(`${service.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
      const ready = await getJson(`${service.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ready', checks: { postgres: { ok: true }, redis: { ok: true } } });

      const metrics = await fetch(`${service.url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain('process_cpu_user_seconds_total');
      expect(text).toContain(`service="${app}"`);

      expect(service.logs.every((line) => line.service === app)).toBe(true);

      const exit = await service.signal('SIGTERM');
      expect(exit.code).toBe(0);
      expect(exit.ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    });

    it('when PostgreSQL becomes unreachable, then /readyz answers 503 and turns 200 again once it is back', async () => {
      const proxy = await TcpProxy.forUrl(database.url).start();
      try {
        const service = await startServiceProcess(app, env({ DATABASE_URL: proxy.rewrite(database.url) }));
        running.push(service);
        const before = await getJson(`${service.url}/readyz`);
        expect(before).toMatchObject({ status: 200, body: { status: 'ready' } });

        await proxy.stop();
        const down = await getJson(`${service.url}/readyz`);
        expect(down.status).toBe(503);
        expect(down.body).toMatchObject({ status: 'not_ready', checks: { postgres: { ok: false }, redis: { ok: true } } });
        expect((await getJson(`${service.url}/healthz`)).status).toBe(200);

        await proxy.start();
        await waitFor(async () => (await getJson(`${service.url}/readyz`)).status === 200, 10000);
      } finally {
        await proxy.stop();
      }
    });

    it('when a variable is missing or malformed, then it refuses to start and names every problem', async () => {
      const attempt = startServiceProcess(app, {
        ...env({ [portVariable]: 'not-a-port', REDIS_URL: 'http://wrong' }),
        DATABASE_URL: '',
      });
      await expect(attempt).rejects.toThrow(/exited with code 1/);
      const message = await attempt.catch((err: Error) => err.message);
      expect(message).toContain('DATABASE_URL');
      expect(message).toContain('REDIS_URL');
      expect(message).toContain(portVariable);
    });
  });
}
