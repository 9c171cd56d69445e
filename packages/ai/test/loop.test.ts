import type Anthropic from '@anthropic-ai/sdk';
import { AppError } from '@dealdome/domain';
import { FakeAnthropic } from '@dealdome/testkit';
import { z } from 'zod';
import { buildSystemBlocks, createAnthropicClient, createToolRegistry, defineTool, runTurn } from '../src';
import type { RunTurnOptions, TurnEvent } from '../src';

interface Ctx {
  storeId: string;
}

const MODEL = 'claude-sonnet-4-6';

describe('runTurn against the fake Anthropic API', () => {
  let fake: FakeAnthropic;
  let client: Anthropic;
  const ran: { name: string; input: unknown; ctx: Ctx }[] = [];

  const getRevenue = defineTool({
    name: 'get_revenue',
    description: 'Revenue of one store on one day.',
    input: z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }),
    run: async (input, ctx: Ctx) => {
      ran.push({ name: 'get_revenue', input, ctx });
      return { day: input.day, store: ctx.storeId, revenue: '1200.00', currency: 'EUR' };
    },
  });
  const getAdSpend = defineTool({
    name: 'get_ad_spend',
    description: 'Ad spend of one store on one day.',
    input: z.object({ day: z.string() }),
    run: async (input, ctx: Ctx) => {
      ran.push({ name: 'get_ad_spend', input, ctx });
      return { day: input.day, spend: '310.50', currency: 'EUR' };
    },
  });
  const broken = defineTool({
    name: 'broken_report',
    description: 'Always fails with an internal error.',
    input: z.object({}),
    run: async () => {
      throw new Error('connect ECONNREFUSED db-internal:5432 password=hunter2');
    },
  });
  const missing = defineTool({
    name: 'find_product',
    description: 'Fails with an error written for users.',
    input: z.object({ sku: z.string() }),
    run: async () => {
      throw new AppError(404, 'not_found', 'Product was not found.');
    },
  });
  const waitsForever = defineTool({
    name: 'slow_export',
    description: 'Never finishes until aborted.',
    input: z.object({}),
    run: (_input, ctx) =>
      new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })),
  });
  const tools = createToolRegistry<Ctx>([getRevenue, getAdSpend, broken, missing, waitsForever]);

  beforeEach(async () => {
    ran.length = 0;
    fake = await FakeAnthropic.start();
    client = createAnthropicClient({ apiKey: 'sk-test', baseURL: fake.url });
  });
  afterEach(async () => {
    await fake.close();
  });

  function turn(overrides: Partial<RunTurnOptions<Ctx>> = {}) {
    return runTurn<Ctx>({
      client,
      model: MODEL,
      system: buildSystemBlocks('You are Roos, the finance agent of DealDome.', 'Today is 2026-05-02.'),
      tools,
      toolContext: { storeId: 'store-1' },
      messages: [{ role: 'user', content: 'What was the revenue on 1 May?' }],
      maxTokens: 1024,
      maxToolRounds: 4,
      deadlineMs: 10_000,
      retry: { baseDelayMs: 20, maxDelayMs: 100 },
      ...overrides,
    });
  }

  const lastMessage = (index: number) => fake.requests[index]?.messages?.at(-1) as Anthropic.MessageParam;
  const blocks = (message: Anthropic.MessageParam) => message.content as Anthropic.ContentBlockParam[];

  it('when the model calls a tool and then answers, then the second request answers that tool_use id and tools and system are cached', async () => {
    fake.enqueue(
      { content: [{ type: 'tool_use', id: 'toolu_rev1', name: 'get_revenue', input: { day: '2026-05-01' } }] },
      { content: 'Revenue was 1 200.00 EUR.' },
    );

    const result = await turn();

    expect(result.outcome).toBe('completed');
    expect(result.text).toBe('Revenue was 1 200.00 EUR.');
    expect(result.toolRounds).toBe(1);
    expect(fake.requests).toHaveLength(2);
    const answer = lastMessage(1);
    expect(answer.role).toBe('user');
    expect(blocks(answer)).toEqual([
      {
        type: 'tool_result',
        tool_use_id: 'toolu_rev1',
        content: JSON.stringify({ day: '2026-05-01', store: 'store-1', revenue: '1200.00', currency: 'EUR' }),
      },
    ]);
    const sentTools = fake.requests[0]?.tools as Anthropic.Tool[];
    expect(sentTools.map((t) => t.name)).toEqual(['get_revenue', 'get_ad_spend', 'broken_report', 'find_product', 'slow_export']);
    expect(sentTools.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
    expect(sentTools.slice(0, -1).every((t) => t.cache_control === undefined)).toBe(true);
    expect(sentTools[0]?.input_schema).toMatchObject({ type: 'object', required: ['day'] });
    expect(fake.requests[0]?.system).toEqual([
      { type: 'text', text: 'You are Roos, the finance agent of DealDome.', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'Today is 2026-05-02.' },
    ]);
    expect(result.messages.map((m) => m.role)).toEqual(['assistant', 'user', 'assistant']);
    expect(blocks(result.messages[0] as Anthropic.MessageParam)).toEqual([
      { type: 'tool_use', id: 'toolu_rev1', name: 'get_revenue', input: { day: '2026-05-01' } },
    ]);
    expect(ran).toEqual([{ name: 'get_revenue', input: { day: '2026-05-01' }, ctx: expect.objectContaining({ storeId: 'store-1', toolUseId: 'toolu_rev1' }) }]);
  });

  it('when one response holds two tool_use blocks, then both run in order and one user message answers both', async () => {
    fake.enqueue(
      {
        content: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 'toolu_a', name: 'get_revenue', input: { day: '2026-05-01' } },
          { type: 'tool_use', id: 'toolu_b', name: 'get_ad_spend', input: { day: '2026-05-01' } },
        ],
      },
      { content: 'Revenue 1 200.00 EUR, ad spend 310.50 EUR.' },
    );

    const result = await turn();

    expect(result.outcome).toBe('completed');
    expect(ran.map((r) => r.name)).toEqual(['get_revenue', 'get_ad_spend']);
    const answer = blocks(lastMessage(1));
    expect(answer.map((b) => b.type)).toEqual(['tool_result', 'tool_result']);
    expect(answer.map((b) => (b as Anthropic.ToolResultBlockParam).tool_use_id)).toEqual(['toolu_a', 'toolu_b']);
    expect(result.toolCalls.map((c) => c.toolUseId)).toEqual(['toolu_a', 'toolu_b']);
  });

  it('when a tool throws, then the model gets an is_error result without internals and the loop continues', async () => {
    fake.enqueue(
      {
        content: [
          { type: 'tool_use', id: 'toolu_x', name: 'broken_report', input: {} },
          { type: 'tool_use', id: 'toolu_y', name: 'find_product', input: { sku: 'MUG-1' } },
        ],
      },
      { content: 'The report failed and the product does not exist.' },
    );

    const result = await turn();

    expect(result.outcome).toBe('completed');
    const [internal, userFacing] = blocks(lastMessage(1)) as Anthropic.ToolResultBlockParam[];
    expect(internal?.is_error).toBe(true);
    expect(internal?.content).toMatch(/broken_report failed with an unexpected error/);
    expect(JSON.stringify(internal)).not.toMatch(/hunter2|db-internal|ECONNREFUSED/);
    expect(userFacing).toMatchObject({ is_error: true, content: 'find_product failed: Product was not found.' });
    expect(result.toolCalls[0]?.error).toBeInstanceOf(Error);
    expect(result.toolCalls.map((c) => c.isError)).toEqual([true, true]);
  });

  it('when the model sends input the schema rejects, then the tool does not run and the result is an is_error naming the field', async () => {
    fake.enqueue(
      { content: [{ type: 'tool_use', id: 'toolu_bad', name: 'get_revenue', input: { day: 'yesterday' } }] },
      { content: 'I need a date.' },
    );

    const result = await turn();

    expect(ran).toHaveLength(0);
    const [answer] = blocks(lastMessage(1)) as Anthropic.ToolResultBlockParam[];
    expect(answer).toMatchObject({ tool_use_id: 'toolu_bad', is_error: true });
    expect(answer?.content).toMatch(/^Invalid input for get_revenue: day: /);
    expect(result.outcome).toBe('completed');
  });

  it('when the model keeps calling tools past the cap, then the extra calls are answered "not run" and a final call forbids tools', async () => {
    const call = (id: string) => ({ content: [{ type: 'tool_use' as const, id, name: 'get_revenue', input: { day: '2026-05-01' } }] });
    fake.enqueue(call('toolu_1'), call('toolu_2'), call('toolu_3'), { content: 'Here is what I have so far.' });

    const result = await turn({ maxToolRounds: 2 });

    expect(result.outcome).toBe('completed');
    expect(result.text).toBe('Here is what I have so far.');
    expect(result.toolLimitReached).toBe(true);
    expect(result.toolRounds).toBe(2);
    expect(ran).toHaveLength(2);
    expect(fake.requests).toHaveLength(4);
    expect(fake.requests[2]?.body.tool_choice).toBeUndefined();
    expect(fake.requests[3]?.body.tool_choice).toEqual({ type: 'none' });
    expect(fake.requests[3]?.tools).toHaveLength(5);
    expect(blocks(lastMessage(3))).toEqual([
      { type: 'tool_result', tool_use_id: 'toolu_3', content: expect.stringMatching(/^Not run: the limit/), is_error: true },
    ]);
    expect(result.messages.map((m) => m.role)).toEqual(['assistant', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
  });

  it('when the model still calls a tool after the final call, then the outcome is tool_limit and nothing is left to store', async () => {
    const call = (id: string) => ({ content: [{ type: 'tool_use' as const, id, name: 'get_revenue', input: { day: '2026-05-01' } }] });
    fake.enqueue(call('toolu_1'), call('toolu_2'), call('toolu_3'));

    const result = await turn({ maxToolRounds: 1 });

    expect(result.outcome).toBe('tool_limit');
    expect(result.messages).toEqual([]);
    expect(result.toolCalls).toHaveLength(1);
  });

  it('when the answer hits max_tokens, then the partial text comes back flagged truncated', async () => {
    fake.enqueue({ content: 'Revenue in May was 1 200.00 EUR, which is', stop_reason: 'max_tokens' });

    const result = await turn();

    expect(result.outcome).toBe('truncated');
    expect(result.stopReason).toBe('max_tokens');
    expect(result.text).toBe('Revenue in May was 1 200.00 EUR, which is');
    expect(result.messages).toEqual([{ role: 'assistant', content: [{ type: 'text', text: 'Revenue in May was 1 200.00 EUR, which is' }] }]);
  });

  it('when max_tokens cuts a tool_use short, then it is not run and not stored', async () => {
    fake.enqueue({
      content: [
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'toolu_cut', name: 'get_revenue', input: {} },
      ],
      stop_reason: 'max_tokens',
    });

    const result = await turn();

    expect(result.outcome).toBe('truncated');
    expect(ran).toHaveLength(0);
    expect(result.messages).toEqual([{ role: 'assistant', content: [{ type: 'text', text: 'Let me look.' }] }]);
  });

  it('when the model refuses, then the outcome is refused and the refused content is not stored', async () => {
    fake.enqueue({ content: 'I cannot help with that.', stop_reason: 'refusal' });

    const result = await turn();

    expect(result.outcome).toBe('refused');
    expect(result.text).toBe('I cannot help with that.');
    expect(result.messages).toEqual([]);
  });

  it('when the model pauses its turn, then the paused content is sent back and the continuation joins the same message', async () => {
    fake.enqueue({ content: 'Looking through the transcripts…', stop_reason: 'pause_turn' }, { content: ' Found it: episode 12.' });

    const result = await turn();

    expect(fake.requests).toHaveLength(2);
    expect(lastMessage(1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Looking through the transcripts…' }] });
    expect(result.outcome).toBe('completed');
    expect(result.text).toBe('Looking through the transcripts… Found it: episode 12.');
    expect(result.messages).toHaveLength(1);
  });

  it('when a stop sequence ends the answer, then the outcome is completed with that stop reason', async () => {
    fake.enqueue({ content: 'Total: 1 200.00 EUR', stop_reason: 'stop_sequence' });

    const result = await turn({ stopSequences: ['###'] });

    expect(result).toMatchObject({ outcome: 'completed', stopReason: 'stop_sequence', text: 'Total: 1 200.00 EUR' });
    expect(fake.requests[0]?.body.stop_sequences).toEqual(['###']);
  });

  it('when the API answers 429 with retry-after, then the retry waits at least that long and the SDK does not retry on its own', async () => {
    fake.injectError({ error: 'rate_limit', retryAfter: 1 }).enqueue({ content: 'Done.' });
    const events: TurnEvent[] = [];

    const result = await turn({ onEvent: (e) => events.push(e) });

    expect(result.outcome).toBe('completed');
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);
    expect((fake.requests[1]?.at ?? 0) - (fake.requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(fake.requests.map((r) => r.retryCount)).toEqual([0, 0]);
    const retry = events.find((e) => e.type === 'retry');
    expect(retry).toMatchObject({ type: 'retry', attempt: 1, error: { status: 429, type: 'rate_limit_error' } });
    expect((retry as { delayMs: number }).delayMs).toBeGreaterThanOrEqual(1000);
    expect(result.calls[0]?.attempts).toBe(2);
  });

  it('when the API stays overloaded (529), then attempts are bounded and the outcome is unavailable', async () => {
    fake.injectError({ error: 'overloaded' }, 10);

    const result = await turn({ retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 40 } });

    expect(result.outcome).toBe('unavailable');
    expect(fake.requests).toHaveLength(3);
    expect(result.error).toMatchObject({ status: 529, type: 'overloaded_error' });
    expect(result.messages).toEqual([]);
    expect(result.costUsd).toBe('0');
  });

  it('when a 500 api_error is followed by success, then the turn completes after one retry', async () => {
    fake.injectError({ error: 'api_error' }).enqueue({ content: 'Done.' });

    const result = await turn();

    expect(result.outcome).toBe('completed');
    expect(fake.requests.map((r) => r.status)).toEqual([500, 200]);
  });

  it('when the spend limit is reached, then there is no retry and the outcome says so', async () => {
    fake.injectError({ error: 'spend_limit' }).enqueue({ content: 'never sent' });

    const result = await turn();

    expect(result.outcome).toBe('spend_limit');
    expect(fake.requests).toHaveLength(1);
    expect(result.error).toMatchObject({ status: 429, code: 'enforced_spend_limit_reached' });
    expect(fake.remainingScript).toBe(1);
  });

  it('when the request is invalid (413), then it is not retried and the outcome is failed', async () => {
    fake.injectError({ error: 'request_too_large' });

    const result = await turn();

    expect(result.outcome).toBe('failed');
    expect(fake.requests).toHaveLength(1);
    expect(result.error).toMatchObject({ status: 413, type: 'request_too_large' });
  });

  it('when the wait the API asks for does not fit in the deadline, then the turn ends unavailable at once', async () => {
    fake.injectError({ error: 'rate_limit', retryAfter: 30 });

    const result = await turn({ deadlineMs: 2000 });

    expect(result.outcome).toBe('unavailable');
    expect(result.retryAfterMs).toBe(30_000);
    expect(result.latencyMs).toBeLessThan(1000);
    expect(fake.requests).toHaveLength(1);
  });

  it('when the API is slower than the deadline, then the outcome is deadline and the turn returns on time', async () => {
    fake.enqueue({ content: 'too late', latencyMs: 3000 });

    const result = await turn({ deadlineMs: 300 });

    expect(result.outcome).toBe('deadline');
    expect(result.latencyMs).toBeGreaterThanOrEqual(300);
    expect(result.latencyMs).toBeLessThan(1500);
    expect(result.messages).toEqual([]);
  });

  it('when a tool outlives the deadline, then the tool is aborted and the outcome is deadline with the call recorded nowhere to store', async () => {
    fake.enqueue({ content: [{ type: 'tool_use', id: 'toolu_slow', name: 'slow_export', input: {} }] });

    const result = await turn({ deadlineMs: 300 });

    expect(result.outcome).toBe('deadline');
    expect(result.latencyMs).toBeLessThan(1500);
    expect(result.messages).toEqual([]);
    expect(result.calls).toHaveLength(1);
  });

  it('when the caller aborts, then the outcome is aborted', async () => {
    fake.enqueue({ content: 'too late', latencyMs: 3000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);

    const result = await turn({ signal: controller.signal });

    expect(result.outcome).toBe('aborted');
  });

  it('when calls report usage, then each call and the total carry exact token counts and USD cost', async () => {
    fake.enqueue(
      {
        content: [{ type: 'tool_use', id: 'toolu_u', name: 'get_revenue', input: { day: '2026-05-01' } }],
        usage: { input_tokens: 1000, output_tokens: 500, cache_creation_input_tokens: 2000, cache_read_input_tokens: 0 },
      },
      { content: 'Done.', usage: { input_tokens: 1200, output_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 2000 } },
    );

    const result = await turn();

    // Sonnet 4.6: $3 input, $15 output, $3.75 cache write, $0.30 cache read per MTok.
    // 1000×3 + 500×15 + 2000×3.75 = 18 000 → $0.018; 1200×3 + 30×15 + 2000×0.30 = 4 650 → $0.00465.
    expect(result.calls.map((c) => c.costUsd)).toEqual(['0.018', '0.00465']);
    expect(result.costUsd).toBe('0.02265');
    expect(result.calls[0]).toMatchObject({ model: MODEL, inputTokens: 1000, outputTokens: 500, cacheWriteTokens: 2000, cacheReadTokens: 0 });
    expect(result.usage).toEqual({ inputTokens: 2200, outputTokens: 530, cacheReadTokens: 2000, cacheWriteTokens: 2000, cacheWrite1hTokens: 0 });
    expect(result.calls.every((c) => c.requestId?.startsWith('req_'))).toBe(true);
    expect(result.model).toBe(MODEL);
  });

  it('when the model is not in the price table, then usage is counted and cost is null', async () => {
    fake.enqueue({ content: 'Hi.', usage: { input_tokens: 10, output_tokens: 2 } });

    const result = await turn({ model: 'claude-unreleased-9' });

    expect(result.calls[0]?.costUsd).toBeNull();
    expect(result.costUsd).toBeNull();
    expect(result.usage.inputTokens).toBe(10);
  });

  it('when the API key is sent, then it travels only in the x-api-key header and never in the outcome', async () => {
    fake.enqueue({ content: 'Hi.' });
    const events: TurnEvent[] = [];

    const result = await turn({ onEvent: (e) => events.push(e) });

    expect(JSON.stringify({ result, events, headers: fake.requests[0]?.headers })).not.toContain('sk-test');
  });
});
