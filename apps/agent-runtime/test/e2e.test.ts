import { addDays, todayIn } from '@dealdome/ai';
import { createAdSpend, createStore, createUser, profitAndLoss, upsertDailyFinancials } from '@dealdome/domain';
import { FakeAnthropic, FakeTelegram, platformServiceEnv, startServiceProcess, useTestDatabase, useTestRedis } from '@dealdome/testkit';
import type { RecordedAnthropicRequest, ServiceProcess, TelegramCall } from '@dealdome/testkit';
import { Queue } from 'bullmq';
import { lastToolResult, textOf } from './harness';

const TOKEN = '5151:e2e-test';

/**
 * The whole path with every service as its own process: FakeTelegram → bot-gateway
 * (long polling, intake, run-turn) → agent-runtime (Claude tool-use loop against
 * FakeAnthropic, the finance tools on the real database) → bot-gateway's outbound
 * worker → sendMessage at FakeTelegram. Nothing is called in-process but the fakes.
 */
describe('a question from Telegram to the reply, gateway and runtime as processes', () => {
  const database = useTestDatabase();
  const redis = useTestRedis();
  const running: ServiceProcess[] = [];
  let telegram: FakeTelegram;
  let anthropic: FakeAnthropic;
  let queues: Queue[];

  beforeAll(async () => {
    telegram = await FakeTelegram.start({ token: TOKEN, bot: { username: 'dealdome_bot' }, strictHtml: true });
    anthropic = await FakeAnthropic.start();
    const common = {
      ...platformServiceEnv(database, redis),
      ANTHROPIC_API_KEY: 'sk-ant-e2e',
    };
    const [gateway, runtime] = await Promise.all([
      startServiceProcess(
        'bot-gateway',
        { ...common, BOT_GATEWAY_PORT: '0', TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_BASE_URL: telegram.url, TELEGRAM_POLL_TIMEOUT_SECONDS: '1' },
        { readyTimeoutMs: 60_000 },
      ),
      startServiceProcess('agent-runtime', { ...common, AGENT_RUNTIME_PORT: '0', ANTHROPIC_BASE_URL: anthropic.url }, { readyTimeoutMs: 60_000 }),
    ]);
    running.push(gateway, runtime);
    queues = ['agent-turns', 'telegram-outbound'].map((name) => new Queue(name, { connection: redis.redis, prefix: redis.prefix }));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(running.map((p) => p.signal('SIGTERM')));
    await Promise.all((queues ?? []).map((q) => q.close()));
    await telegram?.close();
    await anthropic?.close();
  }, 30_000);

  const member = async (telegramId: number, displayName: string) =>
    (await createUser(database.handle.db, { email: `e2e${telegramId}@dealdome.test`, displayName, telegramUserId: String(telegramId) })).user;

  const sentTo = (chatId: number): TelegramCall[] =>
    telegram.sent.filter((c) => c.method === 'sendMessage' && c.ok && String(c.chatId) === String(chatId));

  /** Waits for a condition; the timeout is generous because two processes and a tool loop run between send and reply. */
  async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Telegram has the confirmation of every update and no job of either queue is waiting or running. */
  const settled = () =>
    until(async () => {
      if (telegram.pendingUpdates.length > 0) return false;
      for (const queue of queues) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
        if (Object.values(counts).some((n) => n > 0)) return false;
      }
      return true;
    }, 'the updates to be confirmed and both queues to be idle');

  /** The text blocks of the request's newest user message: what this turn answers. */
  const asked = (request: RecordedAnthropicRequest) =>
    ((request.messages?.at(-1) as { content: { type: string; text?: string }[] }).content ?? [])
      .filter((b) => b.type === 'text')
      .map((b) => b.text ?? '');

  it("when a member asks Roos for yesterday's profit and Telegram delivers the question twice, then Telegram gets one reply carrying profitAndLoss's netProfit, stored with tokens and cost", async () => {
    const db = database.handle.db;
    const person = await member(8101, 'Anna de Vries');
    const yesterday = addDays(todayIn('UTC'), -1);
    const store = await createStore(db, { name: 'Nordic Home', currency: 'EUR', timezone: 'UTC' });
    await upsertDailyFinancials(db, store.id, yesterday, {
      revenue: '1234.56', discounts: '34.56', refunds: '12.00', cogs: '400.10', shippingCosts: '55.00', transactionFees: '20.33', orders: 17, units: 21,
    });
    await createAdSpend(db, { storeId: store.id, date: yesterday, platform: 'meta', amount: '210.40', currency: 'EUR' }, null);

    anthropic.enqueue({ content: [{ type: 'tool_use', name: 'get_pnl', input: { range: 'yesterday' } }] });
    // The figure in the answer is read from the tool result the runtime sent back, so it can only be right if it went through the tool.
    anthropic.respondWith((request) => {
      const pnl = JSON.parse(lastToolResult(request).content) as { from: string; currency: string; totals: { netProfit: string } };
      return { content: `Yesterday (${pnl.from}) the net profit was <b>${pnl.totals.netProfit} ${pnl.currency}</b>.` };
    });

    telegram.sendUserMessage({ chatId: 8101, from: { id: 8101, first_name: 'Anna' }, text: '/roos' });
    await until(() => sentTo(8101).length === 1, 'the /roos confirmation');
    expect(sentTo(8101)[0]!.params.text).toContain('You are now talking to Roos');
    const question = telegram.sendUserMessage({ chatId: 8101, from: { id: 8101, first_name: 'Anna' }, text: "what was yesterday's profit?" });

    const expected = await profitAndLoss(db, { from: yesterday, to: yesterday, groupBy: 'day' });
    const answer = await until(() => sentTo(8101)[1], 'the answer at Telegram');
    expect(answer.params.text).toContain(`${expected.totals.netProfit} EUR`);
    expect(answer.params.parse_mode).toBe('HTML');

    // Telegram delivers the question again (a lost confirmation): nothing more is sent.
    telegram.redeliver(question);
    await settled();
    expect(sentTo(8101).map((c) => c.params.text)).toEqual([sentTo(8101)[0]!.params.text, answer.params.text]);
    expect(anthropic.requests.map((r) => r.tools?.some((t) => (t as { name: string }).name === 'get_pnl'))).toEqual([true, true]);
    expect(anthropic.requests).toHaveLength(2);

    const stored = await db
      .selectFrom('messages as m')
      .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
      .selectAll('m')
      .where('c.chat_id', '=', '8101')
      .orderBy('m.created_at')
      .execute();
    // The tool call is kept as an assistant message too; the reply is the one with the turn's usage.
    const replies = stored.filter((m) => m.role === 'assistant' && m.input_tokens !== null);
    expect(replies).toHaveLength(1);
    const reply = replies[0]!;
    expect(stored.filter((m) => m.role === 'assistant').map((m) => m.content)).toEqual([
      [expect.objectContaining({ type: 'text', text: expect.stringContaining('You are now talking to Roos') })],
      [expect.objectContaining({ type: 'tool_use', name: 'get_pnl', input: { range: 'yesterday' } })],
      reply.content,
    ]);
    expect(textOf(reply.content)).toContain(`${expected.totals.netProfit} EUR`);
    expect(reply).toMatchObject({ agent: 'roos', user_id: person.id, model: expect.any(String) });
    expect(reply.input_tokens).toBeGreaterThan(0);
    expect(reply.output_tokens).toBeGreaterThan(0);
    expect(Number(reply.cost_usd)).toBeGreaterThan(0);
    const questions = stored.filter((m) => m.role === 'user' && textOf(m.content) === "what was yesterday's profit?");
    expect(questions).toHaveLength(1);
    expect(questions[0]!.answered_by).toBe(reply.id);
  }, 90_000);

  it('when three messages arrive in quick succession, then they are answered in order, one turn at a time, each exactly once', async () => {
    await member(8102, 'Bram');
    const calls: { start: number; end: number; asked: string[] }[] = [];
    let requestsSoFar = 0;
    anthropic.respondWith((request) => {
      const texts = asked(request);
      // The first answer takes a second, long enough for the next two messages to arrive while its turn runs.
      const latencyMs = requestsSoFar++ === 0 ? 1000 : 0;
      calls.push({ start: Date.now(), end: Date.now() + latencyMs, asked: texts });
      return { content: `answering: ${texts.join(' | ')}`, latencyMs };
    });
    const from = { id: 8102, first_name: 'Bram' };

    telegram.sendUserMessage({ chatId: 8102, from, text: 'quick one' });
    await until(() => calls.length === 1, 'the first turn to reach the model');
    telegram.sendUserMessage({ chatId: 8102, from, text: 'quick two' });
    telegram.sendUserMessage({ chatId: 8102, from, text: 'quick three' });

    const db = database.handle.db;
    const users = await until(async () => {
      const rows = await db
        .selectFrom('messages as m')
        .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
        .select(['m.id', 'm.content', 'm.answered_by', 'm.created_at'])
        .where('c.chat_id', '=', '8102')
        .where('m.role', '=', 'user')
        .orderBy('m.created_at')
        .execute();
      return rows.length === 3 && rows.every((r) => r.answered_by !== null) ? rows : undefined;
    }, 'all three messages to be answered');
    await settled();

    expect(users.map((u) => textOf(u.content))).toEqual(['quick one', 'quick two', 'quick three']);
    const replyIds = [...new Set(users.map((u) => u.answered_by!))];
    const replies = await db.selectFrom('messages').select(['id', 'content', 'created_at']).where('id', 'in', replyIds).orderBy('created_at').execute();
    // Answered in order: a later message never has an earlier reply than the one before it.
    const replyOrder = replies.map((r) => r.id);
    const positions = users.map((u) => replyOrder.indexOf(u.answered_by!));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(positions[0]).toBe(0);

    // One turn at a time: no model call started before the previous one had answered,
    // and each turn after the first saw the previous reply in its history.
    for (let i = 1; i < calls.length; i++) expect(calls[i]!.start).toBeGreaterThanOrEqual(calls[i - 1]!.end);
    const requests = anthropic.requests.slice(-calls.length);
    for (let i = 1; i < requests.length; i++) {
      const history = JSON.stringify(requests[i]!.messages);
      expect(history).toContain(`answering: ${calls[i - 1]!.asked.join(' | ')}`);
    }

    // Telegram got every reply once, in the order they were stored, and every message appears in exactly one.
    const sent = sentTo(8102).map((c) => String(c.params.text));
    expect(sent).toEqual(replies.map((r) => textOf(r.content)));
    expect(calls.map((c) => c.asked.join(' | '))).toEqual(sent.map((t) => t.replace(/^answering: /, '')));
    const all = sent.join(' | ');
    for (const text of ['quick one', 'quick two', 'quick three']) expect(all.split(text)).toHaveLength(2);
    expect(all.indexOf('quick one')).toBeLessThan(all.indexOf('quick two'));
    expect(all.indexOf('quick two')).toBeLessThan(all.indexOf('quick three'));
  }, 90_000);
});
