import { addDays, agents, LocalHashingEmbeddingProvider, todayIn } from '@dealdome/ai';
import type { EmbeddingProvider } from '@dealdome/ai';
import { toVector } from '@dealdome/db';
import type { RecordedAnthropicRequest } from '@dealdome/testkit';
import {
  createAdSpend,
  createFixedCost,
  createStore,
  decidePendingAction,
  profitAndLoss,
  upsertDailyFinancials,
} from '@dealdome/domain';
import { lastToolResult, textOf, useTurnHarness } from './harness';

const TEAM_ZONE = 'Pacific/Kiritimati'; // UTC+14: its "yesterday" is often not UTC's

describe('run-turn worker', () => {
  const h = useTurnHarness();
  let storeId: string;

  beforeAll(async () => {
    await h.setSetting('team.timezone', TEAM_ZONE);
    const store = await createStore(h.db, { name: 'Nordic Home', shopDomain: 'nordic-home.myshopify.com', currency: 'EUR', timezone: 'Europe/Amsterdam' });
    storeId = store.id;
    const yesterday = addDays(todayIn(TEAM_ZONE), -1);
    // Different figures on the days around it: resolving "yesterday" in the wrong zone shows.
    for (const [offset, revenue] of [[-1, '900.00'], [0, '1234.56'], [1, '2000.00']] as const) {
      await upsertDailyFinancials(h.db, storeId, addDays(yesterday, offset), {
        revenue,
        discounts: '34.56',
        refunds: '0',
        cogs: '400.10',
        shippingCosts: '55.00',
        transactionFees: '20.33',
        orders: 17,
        units: 21,
      });
    }
    await createAdSpend(h.db, { storeId, date: yesterday, platform: 'meta', amount: '210.40', currency: 'EUR' }, null);
    await createFixedCost(h.db, { name: 'Rent', category: 'office', amount: '3100', currency: 'EUR', startMonth: yesterday.slice(0, 7) });
  });

  it("when asked for yesterday's profit, then Roos calls get_pnl and the reply carries the exact figure profitAndLoss computes", async () => {
    const person = await h.user('member', 'Anna de Vries');
    const conversation = await h.conversation(person.id, 'roos');
    const question = await h.say(conversation, "what was yesterday's profit?");
    h.fake.enqueue({ content: [{ type: 'tool_use', name: 'get_pnl', input: { range: 'yesterday' } }] });
    h.fake.respondWith((request) => {
      const pnl = JSON.parse(lastToolResult(request).content);
      return { content: `Yesterday (${pnl.from}) the net profit was <b>${pnl.totals.netProfit} ${pnl.currency}</b> & margin ${pnl.totals.marginPct}%.` };
    });
    h.startWorker();

    const job = await h.enqueueTurn(conversation, question);
    const outcome = await h.finished(job);

    const yesterday = addDays(todayIn(TEAM_ZONE), -1);
    const expected = await profitAndLoss(h.db, { from: yesterday, to: yesterday, groupBy: 'day' });
    const stored = await h.messages(conversation.id);
    expect(stored.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    const [asked, toolUse, toolResult, reply] = stored;
    expect(asked!.answered_by).toBe(reply!.id);
    expect(toolUse!.content).toEqual([expect.objectContaining({ type: 'tool_use', name: 'get_pnl', input: { range: 'yesterday' } })]);
    expect(toolResult!.content).toEqual([expect.objectContaining({ type: 'tool_result' })]);
    expect(textOf(reply!.content)).toContain(`${expected.totals.netProfit} EUR`);
    // Made valid Telegram HTML: the model's bare "&" is escaped, its <b> kept.
    expect(textOf(reply!.content)).toContain('</b> &amp; margin');
    expect(reply!.agent).toBe('roos');
    expect(outcome).toEqual({ answered: reply!.id, outcome: 'completed', agent: 'roos' });

    const delivery = await h.delivery(reply!.id);
    expect(delivery?.name).toBe('deliver-message');
    expect(delivery?.data).toMatchObject({ chatId: conversation.chatId, messageId: reply!.id });

    // The cached system block is the agent's constant prompt; the person and the time come after it.
    const [stable, volatile] = h.fake.requests[0]!.system as { text: string; cache_control?: unknown }[];
    expect(stable).toEqual({ type: 'text', text: agents.roos.prompt, cache_control: { type: 'ephemeral' } });
    expect(volatile!.cache_control).toBeUndefined();
    expect(volatile!.text).toContain('Anna de Vries');
    expect(volatile!.text).toContain(TEAM_ZONE);
    expect(stable!.text).not.toContain('Anna');
  });

  it('when a turn completes, then its model, tokens, cost and latency are stored on the reply', async () => {
    const person = await h.user();
    const conversation = await h.conversation(person.id, 'alfred');
    const question = await h.say(conversation, 'hello Alfred');
    h.fake.enqueue({
      content: 'Hello! How can I help?',
      usage: { input_tokens: 1000, output_tokens: 200, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
    h.startWorker({ model: 'claude-sonnet-4-6' });

    await h.finished(await h.enqueueTurn(conversation, question));

    const [reply] = await h.replies(conversation.id);
    expect(reply).toMatchObject({
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      input_tokens: 1000,
      output_tokens: 200,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      // 1000 × $3 + 200 × $15 per million tokens.
      cost_usd: '0.006000',
      user_id: person.id,
    });
    expect(reply!.latency_ms).toEqual(expect.any(Number));
    expect(await h.registry.getSingleMetricAsString('agent_tokens_total')).toMatch(/agent_tokens_total\{agent="alfred",model="claude-sonnet-4-6",kind="output"\} 200/);
    expect(await h.registry.getSingleMetricAsString('agent_cost_usd_total')).toMatch(/agent_cost_usd_total\{agent="alfred",model="claude-sonnet-4-6"\} 0\.006/);
    expect(await h.registry.getSingleMetricAsString('agent_model_call_duration_seconds')).toMatch(
      /agent_model_call_duration_seconds_count\{agent="alfred",model="claude-sonnet-4-6"\} 1/,
    );
    expect(await h.registry.getSingleMetricAsString('agent_turns_total')).toMatch(/agent_turns_total\{agent="alfred",outcome="completed"\} \d+/);
  });

  it('when two messages arrive while a turn runs, then the next turn answers both together, in order', async () => {
    const person = await h.user();
    const conversation = await h.conversation(person.id, 'alfred');
    const first = await h.say(conversation, 'first question');
    // The handler runs when a request arrives; the first answer then takes 1.5 s, long enough to send two more messages.
    let firstArrived!: () => void;
    const firstInFlight = new Promise<void>((resolve) => (firstArrived = resolve));
    let arrived = 0;
    h.fake.respondWith(() => {
      if (arrived++ > 0) return { content: 'second answer' };
      firstArrived();
      return { content: 'first answer', latencyMs: 1500 };
    });
    h.startWorker({ concurrency: 3 });

    const firstJob = await h.enqueueTurn(conversation, first);
    await firstInFlight;
    const second = await h.say(conversation, 'second question');
    const third = await h.say(conversation, 'third question');
    const jobs = [firstJob, await h.enqueueTurn(conversation, second), await h.enqueueTurn(conversation, third)];
    const results = await Promise.all(jobs.map((job) => h.finished(job)));

    expect(h.fake.requests).toHaveLength(2);
    expect(h.fake.requests[1]!.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'first question' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'first answer' }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'second question' },
          { type: 'text', text: 'third question' },
        ],
      },
    ]);
    const replies = await h.replies(conversation.id);
    expect(replies.map((r) => textOf(r.content))).toEqual(['first answer', 'second answer']);
    const stored = await h.messages(conversation.id);
    const answeredBy = Object.fromEntries(stored.filter((m) => m.role === 'user').map((m) => [m.id, m.answered_by]));
    expect(answeredBy).toEqual({ [first]: replies[0]!.id, [second]: replies[1]!.id, [third]: replies[1]!.id });
    // One of the two later jobs found its message answered by the other's turn.
    expect(results.filter((r) => 'redelivered' in (r as object))).toEqual([{ redelivered: [replies[1]!.id] }]);
    // "typing…" was queued again and again while the slow first turn ran.
    const outbound = await h.producer.queue('telegram-outbound').getJobs(['waiting', 'delayed', 'completed']);
    const typing = outbound.filter((j) => j.name === 'chat-action' && j.data.chatId === conversation.chatId);
    expect(typing.length).toBeGreaterThanOrEqual(3);
    expect(typing[0]!.data).toMatchObject({ action: 'typing' });
  });

  it('when the answer comes before the typing delay, then no "typing…" is queued at all', async () => {
    const person = await h.user();
    const conversation = await h.conversation(person.id);
    const question = await h.say(conversation, 'quick one');
    h.fake.respondWith(() => ({ content: 'quick answer' }));
    h.startWorker({ typingDelayMs: 60_000 });

    await h.finished(await h.enqueueTurn(conversation, question));

    const outbound = await h.producer.queue('telegram-outbound').getJobs(['waiting', 'delayed', 'completed']);
    expect(outbound.filter((j) => j.name === 'chat-action' && j.data.chatId === conversation.chatId)).toEqual([]);
    expect(outbound.filter((j) => j.name === 'deliver-message' && j.data.chatId === conversation.chatId)).toHaveLength(1);
  });

  it("when memories are relevant to the message, then the team's and the asker's own reach the prompt, another person's never", async () => {
    const embeddings = new LocalHashingEmbeddingProvider();
    const ana = await h.user('member', 'Ana');
    const bo = await h.user('member', 'Bo');
    const stored = [
      { scope: 'team', user_id: null, content: 'The Rotterdam warehouse ships all orders on Tuesdays' },
      { scope: 'user', user_id: ana.id, content: 'Ana wants orders from the warehouse to ship with DHL' },
      { scope: 'user', user_id: bo.id, content: 'Bo wants orders from the warehouse to ship with UPS' },
      { scope: 'team', user_id: null, content: 'Black Friday budget is 5000 EUR for Meta' },
    ] as const;
    for (const m of stored) {
      const [vector] = await embeddings.embed([m.content]);
      await h.db
        .insertInto('memories')
        .values({ scope: m.scope, user_id: m.user_id, kind: 'fact', content: m.content, embedding: toVector(vector!), embedding_model: embeddings.model })
        .execute();
    }
    const conversation = await h.conversation(ana.id);
    const question = await h.say(conversation, 'When do orders ship from the warehouse?');
    h.fake.respondWith(() => ({ content: 'On Tuesdays.' }));
    h.startWorker({ embeddings, memoriesPerTurn: 3 });

    await h.finished(await h.enqueueTurn(conversation, question));

    const system = JSON.stringify(h.fake.requests[0]!.system);
    expect(system).toContain('The Rotterdam warehouse ships all orders on Tuesdays');
    expect(system).toContain('Ana wants orders from the warehouse to ship with DHL');
    // As relevant as Ana's, but Bo's own.
    expect(system).not.toContain('Bo wants');
    // The memories sit after the cache breakpoint: the cached prefix stays the same from turn to turn.
    const blocks = h.fake.requests[0]!.system as { text: string; cache_control?: unknown }[];
    const cachedUpTo = blocks.findIndex((b) => b.cache_control !== undefined);
    expect(blocks.findIndex((b) => b.text.includes('Rotterdam warehouse'))).toBeGreaterThan(cachedUpTo);
  });

  it('when embedding the message for memory recall hangs, then the turn goes on without memories once the timeout passes', async () => {
    const aborted: string[] = [];
    // An embeddings API that never answers: the request ends only when its caller gives up.
    const hanging: EmbeddingProvider = {
      model: 'hanging-model',
      dimensions: 1536,
      embed: (_texts, options) =>
        new Promise((_resolve, reject) => {
          options?.signal?.addEventListener('abort', () => {
            aborted.push(String(options.signal?.reason));
            reject(options.signal?.reason as Error);
          });
        }),
    };
    const person = await h.user('member');
    const conversation = await h.conversation(person.id);
    const question = await h.say(conversation, 'What did we decide about the Rotterdam warehouse?');
    h.fake.respondWith(() => ({ content: 'Nothing about it is remembered.' }));
    h.startWorker({ embeddings: hanging, recallEmbedTimeoutMs: 200 });

    await h.finished(await h.enqueueTurn(conversation, question));

    expect(aborted).toHaveLength(1);
    expect(aborted[0]).toContain('TimeoutError');
    expect(await h.replies(conversation.id)).toHaveLength(1);
  });

  it("when the asker writes in a group, then only the team's memories reach the prompt and a personal memory is not stored there", async () => {
    const embeddings = new LocalHashingEmbeddingProvider();
    const ana = await h.user('member', 'Ana');
    for (const m of [
      { scope: 'team', user_id: null, content: 'The Rotterdam warehouse ships all orders on Tuesdays' },
      { scope: 'user', user_id: ana.id, content: 'Ana wants orders from the warehouse to ship with DHL' },
    ] as const) {
      const [vector] = await embeddings.embed([m.content]);
      await h.db
        .insertInto('memories')
        .values({ scope: m.scope, user_id: m.user_id, kind: 'fact', content: m.content, embedding: toVector(vector!), embedding_model: embeddings.model })
        .execute();
    }
    const conversation = await h.conversation(ana.id, 'alfred', { group: true });
    const question = await h.say(conversation, 'When do orders ship from the warehouse? Remember that I prefer DHL.');
    h.fake.enqueue({ content: [{ type: 'tool_use', name: 'remember', input: { content: 'Ana prefers DHL', scope: 'personal' } }] });
    h.fake.enqueue({ content: 'On Tuesdays.' });
    h.startWorker({ embeddings, memoriesPerTurn: 3 });

    await h.finished(await h.enqueueTurn(conversation, question));

    const system = JSON.stringify(h.fake.requests[0]!.system);
    expect(system).toContain('The Rotterdam warehouse ships all orders on Tuesdays');
    expect(system).not.toContain('Ana wants');
    expect(JSON.stringify(h.fake.requests[1]!.messages)).toContain('Personal memories are kept only in a private chat');
    expect(await h.db.selectFrom('memories').select('content').where('content', '=', 'Ana prefers DHL').execute()).toEqual([]);
  });

  it('when a job is retried after its answer was stored, then no second reply is written and the delivery is queued again under the same id', async () => {
    const person = await h.user();
    const conversation = await h.conversation(person.id, 'alfred');
    const question = await h.say(conversation, 'remind me what we decided');
    h.fake.enqueue({ content: 'the only answer' });
    h.startWorker();
    await h.finished(await h.enqueueTurn(conversation, question));
    const [reply] = await h.replies(conversation.id);
    // As if the runtime died after storing the answer and before queueing its delivery.
    await (await h.delivery(reply!.id))!.remove();

    const retried = await h.finished(await h.enqueueTurn(conversation, question, `run-turn-${question}-retry`));

    expect(retried).toEqual({ redelivered: [reply!.id] });
    expect(await h.replies(conversation.id)).toHaveLength(1);
    expect((await h.messages(conversation.id)).filter((m) => m.role === 'assistant')).toHaveLength(1);
    expect(h.fake.requests).toHaveLength(1);
    const delivery = await h.delivery(reply!.id);
    expect(delivery?.data).toMatchObject({ chatId: conversation.chatId, messageId: reply!.id });
  });

  it('when Roos proposes ad spend, then nothing is recorded until the person confirms, and confirming twice records it once', async () => {
    const person = await h.user('member');
    const other = await h.user('admin', 'Bram');
    const conversation = await h.conversation(person.id, 'roos');
    const question = await h.say(conversation, 'log 120.50 of meta spend for Nordic Home yesterday');
    h.fake.enqueue({
      content: [{ type: 'tool_use', name: 'propose_ad_spend', input: { store: 'nordic home', date: 'yesterday', platform: 'meta', amount: '120.50' } }],
    });
    h.fake.respondWith(() => ({ content: 'I will record <b>120.50 EUR</b> of Meta spend for Nordic Home. Press Confirm.' }));
    h.startWorker();
    const countEntries = async () =>
      Number((await h.db.selectFrom('ad_spend_entries').select((eb) => eb.fn.countAll().as('n')).where('amount', '=', '120.5').executeTakeFirstOrThrow()).n);

    await h.finished(await h.enqueueTurn(conversation, question));

    expect(await countEntries()).toBe(0);
    const [reply] = await h.replies(conversation.id);
    const action = await h.db.selectFrom('pending_actions').selectAll().where('conversation_id', '=', conversation.id).executeTakeFirstOrThrow();
    expect(action).toMatchObject({ status: 'pending', kind: 'create_ad_spend', user_id: person.id });
    expect(action.payload).toMatchObject({ storeId, platform: 'meta', amount: '120.50', currency: 'EUR', date: addDays(todayIn(TEAM_ZONE), -1) });
    expect(reply!.reply_markup).toEqual({
      inline_keyboard: [
        [
          { text: 'Confirm', callback_data: `pa:${action.id}:confirm` },
          { text: 'Cancel', callback_data: `pa:${action.id}:cancel` },
        ],
      ],
    });

    await expect(decidePendingAction(h.db, action.id, other.id, 'confirm')).rejects.toMatchObject({ status: 403 });
    const decisions = await Promise.all([
      decidePendingAction(h.db, action.id, person.id, 'confirm'),
      decidePendingAction(h.db, action.id, person.id, 'confirm'),
    ]);
    expect(decisions.map((d) => d.outcome).sort()).toEqual(['already_decided', 'confirmed']);
    expect(await countEntries()).toBe(1);
    const again = await decidePendingAction(h.db, action.id, person.id, 'cancel');
    expect(again).toMatchObject({ outcome: 'already_decided', action: { status: 'confirmed' } });
    expect(await countEntries()).toBe(1);
  });

  it('when Anthropic answers 529 to every attempt, then the reply says plainly that the AI is unavailable', async () => {
    const person = await h.user();
    const conversation = await h.conversation(person.id, 'alfred');
    const question = await h.say(conversation, 'are you there?');
    h.fake.injectError({ error: 'overloaded' }, 20);
    h.startWorker();

    const outcome = await h.finished(await h.enqueueTurn(conversation, question));

    const [reply] = await h.replies(conversation.id);
    expect(textOf(reply!.content)).toMatch(/^AI unavailable right now/);
    expect(outcome).toMatchObject({ outcome: 'unavailable' });
    expect(h.fake.requests.length).toBeGreaterThanOrEqual(2);
    expect(h.fake.requests.every((r) => r.status === 529)).toBe(true);
    expect(await h.delivery(reply!.id)).toBeDefined();
  });

  it('when no API key is configured, then the turn is answered with an offline note and no request reaches Anthropic', async () => {
    const person = await h.user();
    const conversation = await h.conversation(person.id, 'roos');
    const question = await h.say(conversation, "what was yesterday's profit?");
    h.startWorker({ offline: true });

    const outcome = await h.finished(await h.enqueueTurn(conversation, question));

    const [reply] = await h.replies(conversation.id);
    expect(textOf(reply!.content)).toContain('The agents are offline');
    expect(textOf(reply!.content)).toContain('/pnl');
    expect(reply!.cost_usd).toBeNull();
    expect(outcome).toMatchObject({ outcome: 'offline' });
    expect(h.fake.requests).toHaveLength(0);
    expect(await h.delivery(reply!.id)).toBeDefined();
  });

  it("when a person's monthly AI budget is spent, then the turn is refused with a clear message and no model call", async () => {
    const person = await h.user();
    const conversation = await h.conversation(person.id, 'alfred');
    const earlier = await h.say(conversation, 'an expensive question');
    h.fake.enqueue({
      content: 'an expensive answer',
      usage: { input_tokens: 10_000, output_tokens: 2000, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
    h.startWorker({ model: 'claude-sonnet-4-6' });
    await h.finished(await h.enqueueTurn(conversation, earlier)); // costs $0.06
    await h.setSetting('ai.monthly_budget_usd', '0.05');

    const question = await h.say(conversation, 'one more?');
    const outcome = await h.finished(await h.enqueueTurn(conversation, question));
    await h.setSetting('ai.monthly_budget_usd', null);

    const replies = await h.replies(conversation.id);
    expect(replies).toHaveLength(2);
    expect(textOf(replies[1]!.content)).toContain("You have used this month's AI budget ($0.06 of $0.05)");
    expect(outcome).toMatchObject({ outcome: 'budget' });
    expect(h.fake.requests).toHaveLength(1);
  });

  it('when the budget setting is not an amount, then the reply says so instead of ignoring it, and no model is called', async () => {
    const person = await h.user();
    const conversation = await h.conversation(person.id, 'alfred');
    const question = await h.say(conversation, 'hello?');
    await h.setSetting('ai.monthly_budget_usd', 'lots');
    h.startWorker();

    const outcome = await h.finished(await h.enqueueTurn(conversation, question));
    await h.setSetting('ai.monthly_budget_usd', null);

    const [reply] = await h.replies(conversation.id);
    expect(textOf(reply!.content)).toContain('The setting "ai.monthly_budget_usd" is not an amount in USD');
    expect(outcome).toMatchObject({ outcome: 'cannot_start' });
    expect(h.fake.requests).toHaveLength(0);
  });

  it('when Elisa searches the knowledge base, then the results cite the video and the time span', async () => {
    const video = await h.db
      .insertInto('videos')
      .values({ title: 'Scaling with Meta ads', url: 'https://videos.example.com/meta-scaling', transcript_format: 'srt', transcript: '…', status: 'ready' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await h.db
      .insertInto('chunks')
      .values([
        { video_id: video.id, chunk_index: 0, content: 'Welcome to the course about creatives.', token_count: 8, start_seconds: '0', end_seconds: '30' },
        {
          video_id: video.id,
          chunk_index: 1,
          content: 'When ROAS drops below break-even for three days, cut the ad set budget by half.',
          token_count: 18,
          start_seconds: '754.500',
          end_seconds: '790.000',
        },
      ])
      .execute();
    const person = await h.user();
    const conversation = await h.conversation(person.id, 'elisa');
    const question = await h.say(conversation, 'what do we do when ROAS drops below break-even?');
    h.fake.enqueue({ content: [{ type: 'tool_use', name: 'search_knowledge', input: { query: 'ROAS below break-even' } }] });
    let found: { results: { video: string; url: string; start: string; end: string; text: string }[] } | undefined;
    h.fake.respondWith((request: RecordedAnthropicRequest) => {
      found = JSON.parse(lastToolResult(request).content);
      const top = found!.results[0]!;
      return { content: `Cut the ad set budget by half after three days below break-even (<i>${top.video}</i>, ${top.start}).` };
    });
    h.startWorker();

    await h.finished(await h.enqueueTurn(conversation, question));

    expect(found!.results[0]).toEqual({
      video: 'Scaling with Meta ads',
      url: 'https://videos.example.com/meta-scaling',
      link: 'https://videos.example.com/meta-scaling?t=754',
      start: '12:34',
      end: '13:10',
      text: 'When ROAS drops below break-even for three days, cut the ad set budget by half.',
    });
    const [reply] = await h.replies(conversation.id);
    expect(textOf(reply!.content)).toContain('(<i>Scaling with Meta ads</i>, 12:34)');
    const metrics = await h.db.selectFrom('search_metrics').selectAll().where('agent', '=', 'elisa').execute();
    expect(metrics).toEqual([expect.objectContaining({ mode: 'fulltext', result_count: 1, user_id: person.id })]);
  });

  it('when Alfred hands a finance question over, then Roos answers the same message, the conversation stays with Roos and a second handoff is refused', async () => {
    const person = await h.user();
    const conversation = await h.conversation(person.id, 'alfred');
    const question = await h.say(conversation, 'how much did we spend on ads this month?');
    h.fake.enqueue(
      { content: [{ type: 'tool_use', name: 'handoff', input: { to: 'roos', reason: 'ad spend this month' } }], usage: { input_tokens: 100, output_tokens: 10 } },
      { content: [{ type: 'tool_use', name: 'handoff', input: { to: 'alfred', reason: 'back again' } }], usage: { input_tokens: 100, output_tokens: 10 } },
      { content: 'This month so far: <b>210.40 EUR</b> on Meta.', usage: { input_tokens: 100, output_tokens: 10 } },
    );
    h.startWorker({ model: 'claude-sonnet-4-6' });

    const outcome = await h.finished(await h.enqueueTurn(conversation, question));

    const [toAlfred, toRoos, afterRefusal] = h.fake.requests;
    expect((toAlfred!.system as { text: string }[])[0]!.text).toBe(agents.alfred.prompt);
    expect((toRoos!.system as { text: string }[])[0]!.text).toBe(agents.roos.prompt);
    expect((toRoos!.system as { text: string }[])[1]!.text).toContain('Alfred handed this message to you: ad spend this month');
    expect(toRoos!.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'how much did we spend on ads this month?' }] }]);
    expect(lastToolResult(afterRefusal!)).toMatchObject({ is_error: true, content: expect.stringContaining('already handed over once') });
    expect(h.fake.requests).toHaveLength(3);

    const [reply] = await h.replies(conversation.id);
    expect(outcome).toEqual({ answered: reply!.id, outcome: 'completed', agent: 'roos' });
    expect(reply).toMatchObject({ agent: 'roos', input_tokens: 300, output_tokens: 30 });
    const after = await h.db.selectFrom('conversations').select('agent').where('id', '=', conversation.id).executeTakeFirstOrThrow();
    expect(after.agent).toBe('roos');
  });
});
