import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ErrorEvent } from '@sentry/node';
import { baseEnvSchema, EnvError, parseEnv, REDACTED, scrubEvent, scrubSecrets, scrubString, startTracing, tracesUrl } from '../src';

const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/d', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('observability configuration', () => {
  it('when OTEL_EXPORTER_OTLP_HEADERS is given, then it is read as percent-encoded key=value pairs', () => {
    const env = parseEnv('test', baseEnvSchema, {
      ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D%3D, x-team = ops',
    });
    expect(env.OTEL_EXPORTER_OTLP_HEADERS).toEqual({ 'x-api-key': 'abc==', 'x-team': 'ops' });
    expect(tracesUrl(env.OTEL_EXPORTER_OTLP_ENDPOINT!)).toBe('http://collector:4318/v1/traces');
  });

  it('when the variables are empty, then tracing and error reporting are off', () => {
    const env = parseEnv('test', baseEnvSchema, { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: '', SENTRY_DSN: '' });
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(env.SENTRY_DSN).toBeUndefined();
  });

  it('when an endpoint, a DSN or the headers are malformed, then start-up is refused naming each', () => {
    const attempt = () =>
      parseEnv('test', baseEnvSchema, { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318', OTEL_EXPORTER_OTLP_HEADERS: 'no-equals-sign', SENTRY_DSN: 'not a url' });
    expect(attempt).toThrow(EnvError);
    const message = (() => {
      try {
        attempt();
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_HEADERS', 'SENTRY_DSN']) expect(message).toContain(name);
  });
});

describe('secret scrubbing', () => {
  it('when strings carry secrets, then only the secret parts are cut out', () => {
    expect(scrubString('POST https://api.telegram.org/bot123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage')).toBe(
      `POST https://api.telegram.org/bot123456:${REDACTED}/sendMessage`,
    );
    expect(scrubString('connect ECONNREFUSED postgres://dealdome:hunter2@db:5432/dealdome')).toBe(`connect ECONNREFUSED postgres://dealdome:${REDACTED}@db:5432/dealdome`);
    expect(scrubString('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig')).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(scrubString('GET /hook?token=abc123&store=7')).toBe(`GET /hook?token=${REDACTED}&store=7`);
    expect(scrubString('key sk-ant-api03-abcdefghijklmnopqrstuv was refused')).toBe(`key ${REDACTED} was refused`);
    expect(scrubString('nothing secret for ann@example.com')).toBe('nothing secret for ann@example.com');
  });

  it('when a Sentry event holds secrets in headers, bodies, extras and breadcrumbs, then beforeSend replaces every one and keeps the rest', () => {
    const event = {
      type: undefined,
      message: 'login failed for ann@example.com',
      exception: { values: [{ type: 'Error', value: 'redis://:s3cret@redis:6379 refused' }] },
      request: {
        url: 'http://api/v1/auth/login',
        headers: { Authorization: 'Bearer abc.def.ghi', Cookie: 'sid=1', 'X-Telegram-Bot-Api-Secret-Token': 'whsec', 'user-agent': 'curl' },
        data: { email: 'ann@example.com', password: 'correct horse' },
      },
      extra: { apiKey: 'k-1', usage: { inputTokens: 1200 }, nested: { TELEGRAM_BOT_TOKEN: '1:AA', refresh_token: 'rt' } },
      breadcrumbs: [{ category: 'fetch', data: { url: 'https://api.telegram.org/bot42:SECRETPART/getMe', method: 'GET' } }],
    } as unknown as ErrorEvent;

    const scrubbed = scrubEvent(event);
    const text = JSON.stringify(scrubbed);
    for (const secret of ['abc.def.ghi', 'sid=1', 'whsec', 'correct horse', 'k-1', '1:AA', '"rt"', 'SECRETPART', 's3cret']) expect(text).not.toContain(secret);
    expect(scrubbed.request?.headers).toMatchObject({ Authorization: REDACTED, Cookie: REDACTED, 'user-agent': 'curl' });
    expect(scrubbed.extra).toMatchObject({ usage: { inputTokens: 1200 } });
    expect(text).toContain('ann@example.com');
    // The original is left as it was: Sentry may hand the same objects to other hooks.
    expect((event.request?.headers as Record<string, string>).Authorization).toBe('Bearer abc.def.ghi');
  });

  it('when a nested value repeats or cycles, then scrubbing terminates', () => {
    const cyclic: Record<string, unknown> = { password: 'x' };
    cyclic.self = cyclic;
    expect(scrubSecrets(cyclic)).toMatchObject({ password: REDACTED });
  });
});

describe('tracing', () => {
  it('when a span carries a bot token in its URL or error, then the exported span does not', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing({ service: 'config-test', exporter });
    try {
      const span = trace.getTracer('test').startSpan('POST', { kind: SpanKind.CLIENT, attributes: { 'url.full': 'https://api.telegram.org/bot7:TOKENPART/sendMessage' } });
      span.recordException(new Error('connect to postgres://u:pw123@h/d failed'));
      span.end();
      await tracing.flush();
      const [exported] = exporter.getFinishedSpans();
      expect(exported!.attributes['url.full']).toBe(`https://api.telegram.org/bot7:${REDACTED}/sendMessage`);
      expect(JSON.stringify(exported!.events)).not.toContain('pw123');
    } finally {
      await tracing.shutdown();
    }
  });

  it('when tracing has no endpoint and no exporter, then nothing is started and spans stay no-ops', async () => {
    const tracing = startTracing({ service: 'config-test' });
    expect(tracing.enabled).toBe(false);
    const span = trace.getTracer('test').startSpan('anything');
    expect(span.isRecording()).toBe(false);
    span.end();
    await tracing.shutdown();
  });
});
