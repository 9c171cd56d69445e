import { createUser } from '@dealdome/domain';
import { FakeAnthropic, FakeOtlpCollector, FakeTelegram, OtlpSpanKind, platformServiceEnv, startServiceProcess, useTestDatabase, useTestRedis } from '@dealdome/testkit';
import type { ReceivedSpan, ServiceProcess } from '@dealdome/testkit';

const TOKEN = '5252:trace-test';

/**
 * Tracing across the queues with every service as its own process, exporting to a fake
 * OTLP collector: the gateway queues the turn, the runtime answers it (a Messages API
 * call that stores a memory), the embedding-worker embeds the memory and the gateway
 * delivers the reply — each hop a span of the same trace, carried in the jobs' data.
 */
describe('one trace from a Telegram message to its reply, across the services', () => {
  const database = useTestDatabase();
  const redis = useTestRedis();
  const running: ServiceProcess[] = [];
  let telegram: FakeTelegram;
  let anthropic: FakeAnthropic;
  let collector: FakeOtlpCollector;

  beforeAll(async () => {
    [telegram, anthropic, collector] = await Promise.all([
      FakeTelegram.start({ token: TOKEN, bot: { username: 'dealdome_bot' } }),
      FakeAnthropic.start(),
      FakeOtlpCollector.start(),
    ]);
    const common = { ...platformServiceEnv(database, redis), OTEL_EXPORTER_OTLP_ENDPOINT: collector.url };
    running.push(
      ...(await Promise.all([
        startServiceProcess(
          'bot-gateway',
          // The gateway only reads that a key is set: without one it answers that the agents are offline.
          { ...common, BOT_GATEWAY_PORT: '0', ANTHROPIC_API_KEY: 'sk-ant-trace', TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_BASE_URL: telegram.url, TELEGRAM_POLL_TIMEOUT_SECONDS: '1' },
          { readyTimeoutMs: 60_000 },
        ),
        startServiceProcess('agent-runtime', { ...common, AGENT_RUNTIME_PORT: '0', ANTHROPIC_API_KEY: 'sk-ant-trace', ANTHROPIC_BASE_URL: anthropic.url }, { readyTimeoutMs: 60_000 }),
        startServiceProcess('embedding-worker', { ...common, EMBEDDING_WORKER_PORT: '0' }, { readyTimeoutMs: 60_000 }),
      ])),
    );
  }, 90_000);

  afterAll(async () => {
    await Promise.all(running.map((p) => p.kill()));
    await Promise.all([telegram?.close(), anthropic?.close(), collector?.close()]);
  });

  async function until<T>(probe: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('when a member asks Alfred to remember something, then the intake, the turn, the memory’s embedding and the reply’s delivery are spans of one trace', async () => {
    await createUser(database.handle.db, { email: 'trace@dealdome.test', displayName: 'Bo Trace', telegramUserId: '8301' });
    anthropic.enqueue({ content: [{ type: 'tool_use', name: 'remember', input: { content: 'Our supplier ships on Tuesdays.' } }] });
    anthropic.respondWith(() => ({ content: 'Noted: the supplier ships on Tuesdays.' }));

    telegram.sendUserMessage({ chatId: 8301, from: { id: 8301, first_name: 'Bo' }, text: 'remember that our supplier ships on Tuesdays' });
    await until(
      () => telegram.sent.find((c) => c.method === 'sendMessage' && c.ok && String(c.params.text).includes('Tuesdays')),
      'the reply at Telegram',
    );
    // Spans leave in batches; each service sends what is left as it stops.
    await Promise.all(running.map((p) => p.signal('SIGTERM')));

    const delivery = await collector.waitForSpan((s) => s.name === 'process telegram-outbound deliver-message');
    const trace = collector.spans.filter((s) => s.traceId === delivery.traceId);
    const span = (service: string, name: string): ReceivedSpan => {
      const found = trace.find((s) => s.resource['service.name'] === service && s.name === name);
      if (!found) throw new Error(`no span ${name} of ${service} in the trace: ${trace.map((s) => `${String(s.resource['service.name'])} ${s.name}`).join(', ')}`);
      return found;
    };
    const queued = span('bot-gateway', 'send agent-turns run-turn');
    const turn = span('agent-runtime', 'process agent-turns run-turn');
    const memoryQueued = span('agent-runtime', 'send embeddings embed');
    const embedded = span('embedding-worker', 'process embeddings embed');
    const replyQueued = span('agent-runtime', 'send telegram-outbound deliver-message');

    // The trace starts where the message entered, and each job's span is its producer's child.
    expect(queued).toMatchObject({ kind: OtlpSpanKind.PRODUCER, parentSpanId: '' });
    expect(turn).toMatchObject({ kind: OtlpSpanKind.CONSUMER, parentSpanId: queued.spanId });
    expect(embedded).toMatchObject({ kind: OtlpSpanKind.CONSUMER, parentSpanId: memoryQueued.spanId });
    expect(delivery).toMatchObject({ kind: OtlpSpanKind.CONSUMER, parentSpanId: replyQueued.spanId });
    expect(delivery.resource['service.name']).toBe('bot-gateway');

    // The outbound calls are in it too: Claude's Messages API and Telegram's sendMessage, its token cut out of the URL.
    const calls = trace.filter((s) => s.scope === '@opentelemetry/instrumentation-undici').map((s) => String(s.attributes['url.full']));
    expect(calls).toContain(`${anthropic.url}/v1/messages`);
    expect(calls).toContain(`${telegram.url}/bot5252:[redacted]/sendMessage`);
    expect(JSON.stringify(collector.spans)).not.toContain('trace-test');
    expect(trace.some((s) => s.resource['service.name'] === 'embedding-worker' && s.scope === '@opentelemetry/instrumentation-pg')).toBe(true);
  }, 90_000);
});
