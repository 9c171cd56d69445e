import { createLogger, createMetricsRegistry, startService } from '../src';
import type { Dependency, StartedService } from '../src';

const logger = createLogger('ops-test', { level: 'silent' });
const env = { HTTP_HOST: '127.0.0.1', SHUTDOWN_TIMEOUT_MS: 500 };

function dependency(name: string, check: () => Promise<void>): Dependency & { closed: boolean } {
  const dep = { name, check, closed: false, close: async () => void (dep.closed = true) };
  return dep;
}

describe('startService', () => {
  let service: StartedService | undefined;
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  it('when every dependency answers, then /readyz is 200 and lists each check', async () => {
    service = await startService({ service: 's', logger, env, port: 0, dependencies: [dependency('postgres', async () => undefined)] });
    const res = await fetch(`${service.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', checks: { postgres: { ok: true } } });
  });

  it('when a dependency fails or hangs, then /readyz is 503 and says which', async () => {
    service = await startService({
      service: 's',
      logger,
      env,
      port: 0,
      dependencies: [
        dependency('postgres', () => Promise.reject(new Error('connection refused'))),
        dependency('redis', () => new Promise(() => undefined)),
      ],
    });
    const res = await fetch(`${service.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: 'not_ready',
      checks: { postgres: { ok: false, error: 'connection refused' }, redis: { ok: false, error: 'no answer within 2000 ms' } },
    });
  });

  it('when /metrics is asked, then Prometheus text with the service label comes back', async () => {
    service = await startService({ service: 'metrics-svc', logger, env, port: 0, dependencies: [], registry: createMetricsRegistry('metrics-svc') });
    const res = await fetch(`${service.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toMatch(/nodejs_heap_size_total_bytes\{service="metrics-svc"\}/);
  });

  it('when stopped, then consumers drain first and dependencies close last', async () => {
    const order: string[] = [];
    const dep = dependency('postgres', async () => undefined);
    const originalClose = dep.close;
    dep.close = async () => {
      order.push('postgres');
      await originalClose();
    };
    const started = await startService({
      service: 's',
      logger,
      env,
      port: 0,
      dependencies: [dep],
      consumers: [{ name: 'worker', close: async (deadline) => void order.push(`worker:${deadline}`) }],
    });
    await started.stop();
    expect(order).toEqual(['worker:500', 'postgres']);
    await expect(fetch(`${started.url}/healthz`)).rejects.toThrow();
  });
});
