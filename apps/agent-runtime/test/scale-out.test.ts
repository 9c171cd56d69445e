import { Redis } from 'ioredis';
import { createUser } from '@dealdome/domain';
import {
  FakeAnthropic,
  FakeTelegram,
  platformServiceEnv,
  startPrivateRedisCluster,
  startServiceProcess,
  useTestDatabase,
} from '@dealdome/testkit';
import type { PrivateRedisCluster, RecordedAnthropicRequest, ServiceProcess, TelegramCall } from '@dealdome/testkit';

const TOKEN = '6161:scale-test';
const PREFIX = '{dealdome}';

/**
 * Scaling out: two bot-gateways and two agent-runtimes, each its own process, on a
 * Redis Cluster of three masters (REDIS_URL=redis+cluster://…, a hash-tagged
 * QUEUE_PREFIX). One gateway polls (the polling lease), both send; both runtimes take
 * turns, one per chat at a time (the chat lock). Every message is answered once.
 */
describe('two gateways and two runtimes on a Redis Cluster', () => {
  const database = useTestDatabase();
  let cluster: PrivateRedisCluster;
  let telegram: FakeTelegram;
  let anthropic: FakeAnthropic;
  let gateways: ServiceProcess[] = [];
  let runtimes: ServiceProcess[] = [];

  beforeAll(async () => {
    cluster = await startPrivateRedisCluster();
    telegram = await FakeTelegram.start({ token: TOKEN, bot: { username: 'dealdome_bot' }, strictHtml: true });
    // Slow enough answers that turns of two chats overlap across the runtimes.
    anthropic = await FakeAnthropic.start({ latencyMs: 200 });
    anthropic.respondWith((request) => ({ content: `Echo: ${asked(request).join(' + ')}` }));
    const common = {
      ...platformServiceEnv(database, { url: cluster.url, prefix: PREFIX }),
      ANTHROPIC_API_KEY: 'sk-ant-scale',
    };
    const gateway = () =>
      startServiceProcess(
        'bot-gateway',
        { ...common, BOT_GATEWAY_PORT: '0', TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_BASE_URL: telegram.url, TELEGRAM_POLL_TIMEOUT_SECONDS: '1' },
        { readyTimeoutMs: 90_000 },
      );
    const runtime = () =>
      startServiceProcess('agent-runtime', { ...common, AGENT_RUNTIME_PORT: '0', ANTHROPIC_BASE_URL: anthropic.url, AGENT_CONCURRENCY: '2' }, { readyTimeoutMs: 90_000 });
    const started = await Promise.allSettled([gateway(), gateway(), runtime(), runtime()]);
    const up = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    [gateways, runtimes] = [up.slice(0, 2), up.slice(2)];
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(up.map((p) => p.kill()));
      throw failed.reason;
    }
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...gateways, ...runtimes].map((p) => p.signal('SIGTERM')));
    await telegram?.close();
    await anthropic?.close();
    await cluster?.stop();
  }, 60_000);

  /** The texts of the request's newest user message: what the turn answers. */
  function asked(request: RecordedAnthropicRequest): string[] {
    const content = (request.messages?.at(-1) as { content: { type: string; text?: string }[] }).content ?? [];
    return content.filter((b) => b.type === 'text').map((b) => b.text ?? '');
  }

  async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 45_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const repliesIn = (chatId: number): TelegramCall[] => telegram.sent.filter((c) => c.method === 'sendMessage' && c.ok && Number(c.chatId) === chatId);
  /** How many of the chat's replies carry this word: each word is one message, and must be answered exactly once. */
  const answered = (chatId: number, word: string) => repliesIn(chatId).filter((c) => String(c.params.text).split(/[\s+:]+/).includes(word)).length;
  const pollerOf = (p: ServiceProcess) => p.logs.some((l) => l.msg === 'this replica holds the polling lease: it polls Telegram');

  it('when members of several chats write at once, then every message is answered exactly once, turns run on both runtimes, and every key sits in the slot of the prefix', async () => {
    const chats = [9101, 9102, 9103, 9104];
    for (const id of chats) await createUser(database.handle.db, { email: `scale${id}@dealdome.test`, displayName: `Member ${id}`, telegramUserId: String(id) });

    const words: [number, string][] = [];
    for (const id of chats) {
      for (let i = 1; i <= 3; i++) {
        const word = `w${id}x${i}`;
        words.push([id, word]);
        telegram.sendUserMessage({ chatId: id, from: { id, first_name: `M${id}` }, text: word });
      }
    }
    await until(() => words.every(([id, word]) => answered(id, word) >= 1), 'an answer to every message');
    // Queued repeats (a second turn for messages answered together, a retried delivery) would arrive now.
    await new Promise((r) => setTimeout(r, 2000));
    expect(words.map(([id, word]) => [word, answered(id, word)])).toEqual(words.map(([, word]) => [word, 1]));

    const ran = runtimes.map((p) => p.logs.filter((l) => l.msg === 'turn answered').length);
    expect(ran.every((n) => n > 0)).toBe(true);
    expect(gateways.filter(pollerOf)).toHaveLength(1);
    expect(telegram.sent.filter((c) => c.method === 'getUpdates' && c.error?.error_code === 409)).toEqual([]);

    const keys: { port: number; key: string }[] = [];
    for (const node of cluster.nodes) {
      const direct = new Redis(node.url);
      try {
        keys.push(...(await direct.keys('*')).map((key) => ({ port: node.port, key })));
      } finally {
        direct.disconnect();
      }
    }
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => !k.key.startsWith(`${PREFIX}:`))).toEqual([]);
    expect(new Set(keys.map((k) => k.port)).size).toBe(1);
  }, 120_000);

  it('when the polling gateway stops, then the other takes over the intake and the conversation goes on', async () => {
    const poller = gateways.find(pollerOf)!;
    const other = gateways.find((g) => g !== poller)!;
    expect(await poller.signal('SIGTERM')).toMatchObject({ code: 0 });
    gateways = [other];
    await until(() => pollerOf(other), 'the other gateway to take the polling lease', 15_000);
    telegram.sendUserMessage({ chatId: 9101, from: { id: 9101, first_name: 'M9101' }, text: 'after-handover' });
    await until(() => answered(9101, 'after-handover') === 1, 'the answer after the handover');
  }, 60_000);
});
