import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { FakeOtlpCollector, OtlpSpanKind, platformServiceEnv, repoRoot, startServiceProcess, useTestDatabase, useTestRedis } from '@dealdome/testkit';
import type { ServiceProcess } from '@dealdome/testkit';

/**
 * The built bundle (dist/main.js, what `pnpm start` and the image run), not the sources:
 * the instrumentations patch pg, ioredis and express as they are required, which only
 * works because tsup.shared.ts keeps them out of the bundle.
 */
describe('finance-api bundle: traces and metrics', () => {
  const database = useTestDatabase();
  const redis = useTestRedis();
  const running: ServiceProcess[] = [];
  let collector: FakeOtlpCollector;

  beforeAll(async () => {
    execFileSync('pnpm', ['exec', 'tsup'], { cwd: path.join(repoRoot, 'apps', 'finance-api'), stdio: 'pipe', timeout: 120_000 });
    collector = await FakeOtlpCollector.start();
  }, 150_000);
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.kill()));
  });
  afterAll(async () => {
    await collector.close();
  });

  const start = async (extra: Record<string, string>) => {
    const service = await startServiceProcess(
      'finance-api',
      {
        ...platformServiceEnv(database, redis),
        FINANCE_API_PORT: '0',
        JWT_SECRET: 'telemetry-test-secret-that-is-long-enough-0123456789',
        SETTINGS_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
        LOG_LEVEL: 'info',
        ...extra,
      },
      { bundle: true },
    );
    running.push(service);
    return service;
  };

  const login = async (url: string) => {
    const res = await fetch(`${url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@dealdome.test', password: 'not-the-password' }),
    });
    await res.text();
    return res;
  };

  it('when OTEL_EXPORTER_OTLP_ENDPOINT is set, then a request is one trace of an http server span with its pg queries, exported on exit, and its log line carries the trace', async () => {
    const service = await start({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    expect((await login(service.url)).status).toBe(401);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/http_request_duration_seconds_count\{service="finance-api",method="POST",route="\/v1\/auth\/login",status="401"\} 1/);
    // Spans leave in batches; SIGTERM sends what is left before the process exits.
    expect((await service.signal('SIGTERM')).code).toBe(0);

    const server = await collector.waitForSpan((s) => s.kind === OtlpSpanKind.SERVER && s.attributes['http.route'] === '/v1/auth/login');
    expect(server).toMatchObject({ name: 'POST /v1/auth/login', scope: '@opentelemetry/instrumentation-http', parentSpanId: '' });
    expect(server.attributes['http.response.status_code']).toBe(401);
    expect(server.resource['service.name']).toBe('finance-api');
    const inTrace = collector.spans.filter((s) => s.traceId === server.traceId);
    const query = inTrace.find((s) => s.scope === '@opentelemetry/instrumentation-pg' && s.kind === OtlpSpanKind.CLIENT && /^pg\.query/.test(s.name));
    expect(query?.attributes['db.query.text']).toMatch(/from "users"/);
    expect(inTrace.some((s) => s.scope === '@opentelemetry/instrumentation-ioredis')).toBe(true);
    // No probe or scrape makes a trace of its own.
    expect(collector.spans.some((s) => s.name.includes('/metrics'))).toBe(false);

    const logged = service.logs.find((l) => l.msg === 'request completed' && (l.req as { url?: string } | undefined)?.url === '/v1/auth/login');
    expect(logged).toMatchObject({ trace_id: server.traceId });
  });

  it('when OTEL_EXPORTER_OTLP_ENDPOINT is not set, then no SDK runs: no span is exported and no log line carries a trace id', async () => {
    const before = collector.spans.length;
    const service = await start({});
    expect((await login(service.url)).status).toBe(401);
    expect((await service.signal('SIGTERM')).code).toBe(0);

    expect(collector.spans.length).toBe(before);
    expect(service.logs.some((l) => 'trace_id' in l)).toBe(false);
  });
});
