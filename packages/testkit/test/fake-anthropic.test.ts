import Anthropic from '@anthropic-ai/sdk';
import { FakeAnthropic } from '../src';

const MODEL = 'claude-sonnet-5-5';
const revenueTool = {
  name: 'get_revenue',
  description: 'Revenue of one day',
  input_schema: { type: 'object' as const, properties: { day: { type: 'string' } }, required: ['day'] },
};

describe('fake Anthropic Messages API', () => {
  let fake: FakeAnthropic;

  beforeEach(async () => {
    fake = await FakeAnthropic.start({ minCacheableTokens: 256 });
  });

  afterEach(async () => {
    await fake.close();
  });

  const client = (maxRetries = 0) => new Anthropic({ apiKey: 'sk-ant-test-key', baseURL: fake.url, maxRetries });

  it('when an agent runs a tool loop, then tool_use and tool_result round-trip and every request is recorded without the key', async () => {
    fake.enqueue(
      {
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', name: 'get_revenue', input: { day: '2026-05-01' } },
        ],
      },
      { content: 'Revenue on 1 May was 1 200.00 EUR.' },
    );
    const question = { role: 'user' as const, content: 'What was revenue on 1 May?' };

    const first = await client().messages.create({
      model: MODEL,
      max_tokens: 512,
      system: 'You are the finance agent.',
      tools: [revenueTool],
      messages: [question],
    });
    const toolUse = first.content.find((b) => b.type === 'tool_use');
    const second = await client().messages.create({
      model: MODEL,
      max_tokens: 512,
      system: 'You are the finance agent.',
      tools: [revenueTool],
      messages: [
        question,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse?.id ?? '', content: '1200.00 EUR' }] },
      ],
    });

    expect(first).toMatchObject({ type: 'message', role: 'assistant', model: MODEL, stop_reason: 'tool_use' });
    expect(toolUse).toMatchObject({
      type: 'tool_use',
      id: expect.stringMatching(/^toolu_01\w{22}$/),
      name: 'get_revenue',
      input: { day: '2026-05-01' },
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content).toEqual([{ type: 'text', text: 'Revenue on 1 May was 1 200.00 EUR.' }]);
    expect(fake.remainingScript).toBe(0);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[0]).toMatchObject({
      model: MODEL,
      system: 'You are the finance agent.',
      tools: [revenueTool],
      maxTokens: 512,
      status: 200,
    });
    expect(fake.requests[1]?.messages).toHaveLength(3);
    expect(fake.requests[0]?.headers).toHaveProperty('anthropic-version');
    expect(fake.requests[0]?.headers).not.toHaveProperty('x-api-key');
    expect(fake.requests[0]?.headers).not.toHaveProperty('authorization');
    expect(JSON.stringify(fake.requests)).not.toContain('sk-ant-test-key');
  });

  it('when usage is not scripted, then input tokens follow the prompt size and the usage fields are all present', async () => {
    fake.respondWith(() => ({ content: 'ok' }));

    const short = await client().messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    const long = await client().messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'word '.repeat(400) }],
    });
    fake.enqueue({ content: 'scripted', stop_reason: 'max_tokens', usage: { input_tokens: 10, output_tokens: 64 } });
    const scripted = await client().messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });

    expect(short.usage).toMatchObject({
      input_tokens: expect.any(Number),
      output_tokens: expect.any(Number),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
    expect(long.usage.input_tokens).toBeGreaterThan(short.usage.input_tokens + 400);
    expect(long.usage.input_tokens).toBeLessThan(short.usage.input_tokens + 600);
    expect(scripted).toMatchObject({ stop_reason: 'max_tokens', usage: { input_tokens: 10, output_tokens: 64 } });
  });

  it('when the prompt has a cache breakpoint, then the first call writes the cache and the next one reads it', async () => {
    fake.respondWith(() => ({ content: 'ok' }));
    const system = [{ type: 'text' as const, text: 'Policy. '.repeat(300), cache_control: { type: 'ephemeral' as const } }];
    const ask = (content: string) =>
      client().messages.create({ model: MODEL, max_tokens: 64, system, messages: [{ role: 'user', content }] });

    const cold = await ask('first question');
    const warm = await ask('second question');
    const tiny = await client().messages.create({
      model: MODEL,
      max_tokens: 64,
      system: [{ type: 'text', text: 'Short.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'hi' }],
    });

    expect(cold.usage.cache_creation_input_tokens).toBeGreaterThan(256);
    expect(cold.usage.cache_read_input_tokens).toBe(0);
    expect(warm.usage.cache_read_input_tokens).toBe(cold.usage.cache_creation_input_tokens);
    expect(warm.usage.cache_creation_input_tokens).toBe(0);
    expect(warm.usage.input_tokens).toBeLessThan(20);
    expect(tiny.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });

  it('when a request breaks the API rules, then it fails with 400 invalid_request_error as the API words it', async () => {
    const reject = async (body: Record<string, unknown>) => {
      const err = await client()
        .messages.create(body as unknown as Anthropic.MessageCreateParamsNonStreaming)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      const apiError = err as InstanceType<typeof Anthropic.BadRequestError>;
      expect(apiError.type).toBe('invalid_request_error');
      return apiError.apiMessage;
    };
    const toolTurn = { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_revenue', input: {} }] };
    const breakpoint = { type: 'text', text: 'x', cache_control: { type: 'ephemeral' } };

    expect(await reject({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })).toBe('max_tokens: Field required');
    expect(await reject({ max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).toBe('model: Field required');
    expect(await reject({ model: MODEL, max_tokens: 10 })).toBe('messages: Field required');
    expect(await reject({ model: MODEL, max_tokens: 10, messages: [{ role: 'assistant', content: 'hi' }] })).toBe(
      'messages: first message must use the "user" role',
    );
    expect(
      await reject({
        model: MODEL,
        max_tokens: 10,
        tools: [revenueTool],
        messages: [
          { role: 'user', content: 'hi' },
          toolTurn,
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: 'x' }] },
        ],
      }),
    ).toMatch(/^messages\.2\.content\.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_2\./);
    expect(
      await reject({
        model: MODEL,
        max_tokens: 10,
        tools: [revenueTool],
        messages: [{ role: 'user', content: 'hi' }, toolTurn, { role: 'user', content: 'and?' }],
      }),
    ).toMatch(/^messages\.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1\./);
    expect(
      await reject({
        model: MODEL,
        max_tokens: 10,
        system: [breakpoint, breakpoint, breakpoint],
        messages: [{ role: 'user', content: [breakpoint, breakpoint] }],
      }),
    ).toBe('A maximum of 4 blocks with cache_control may be provided. Found 5.');
    expect(fake.requests.every((r) => r.status === 400)).toBe(true);
  });

  it('when the API answers 429 with retry-after, then the SDK waits that long, retries, and the fake sees the retry', async () => {
    fake.injectError({ error: 'rate_limit', retryAfter: 1 }).enqueue({ content: 'after the wait' });

    const message = await client(2).messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });

    expect(message.content).toEqual([{ type: 'text', text: 'after the wait' }]);
    expect(fake.requests.map((r) => [r.status, r.retryCount])).toEqual([
      [429, 0],
      [200, 1],
    ]);
    expect((fake.requests[1]?.at ?? 0) - (fake.requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('when the spend limit is reached, then the 429 carries enforced_spend_limit_reached and no retry-after', async () => {
    fake.injectError({ error: 'spend_limit' }, 2);

    const err = await client(1)
      .messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    const rateLimit = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(rateLimit).toMatchObject({ status: 429, type: 'rate_limit_error', errorCode: 'enforced_spend_limit_reached' });
    expect(rateLimit.headers.get('retry-after')).toBeNull();
    expect(rateLimit.requestID).toBe(fake.requests.at(-1)?.requestId);
    // The SDK cannot tell it apart from a passing rate limit and retries; callers must check errorCode.
    expect(fake.requests).toHaveLength(2);
  });

  it('when the API is overloaded or fails, then 529 and 500 surface with the error body shape and a request-id', async () => {
    fake.injectError({ error: 'overloaded' }).injectError({ error: 'api_error' });
    const ask = () =>
      client()
        .messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );

    const overloaded = (await ask()) as InstanceType<typeof Anthropic.APIError>;
    const failed = await ask();

    expect(overloaded).toBeInstanceOf(Anthropic.OverloadedError);
    expect(overloaded).toMatchObject({ status: 529, type: 'overloaded_error' });
    expect(overloaded.error).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
      request_id: expect.stringMatching(/^req_01/),
    });
    expect(failed).toBeInstanceOf(Anthropic.InternalServerError);
    expect(failed).toMatchObject({ status: 500, type: 'api_error', requestID: fake.requests[1]?.requestId });
  });

  it('when the API is overloaded for a period, then every request gets 529 until it is over and the script answers after', async () => {
    fake.injectError({ error: 'overloaded' }, { forMs: 300 }).respondWith(() => ({ content: 'back' }));
    const ask = () =>
      client()
        .messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] })
        .then((m) => m.content, (e: unknown) => (e as InstanceType<typeof Anthropic.APIError>).status);

    const during = [await ask(), await ask()];
    await new Promise((r) => setTimeout(r, 350));

    expect(during).toEqual([529, 529]);
    expect(await ask()).toEqual([{ type: 'text', text: 'back' }]);
  });

  it('when a request is held, then it is announced on arrival, answered never, and recorded once its client gives up', async () => {
    const held = fake.holdNextRequest();
    fake.respondWith(() => ({ content: 'the next one' }));
    const gaveUp = new AbortController();
    const first = client()
      .messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'first' }] }, { signal: gaveUp.signal })
      .catch((e: unknown) => e);

    const arrived = await held;
    expect(arrived.messages).toEqual([{ role: 'user', content: 'first' }]);
    const second = await client().messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'second' }] });
    gaveUp.abort();

    expect(await first).toBeInstanceOf(Anthropic.APIUserAbortError);
    expect(second.content).toEqual([{ type: 'text', text: 'the next one' }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.requests.map((r) => [r.requestId === arrived.requestId, r.status])).toEqual([
      [false, 200],
      [true, 0],
    ]);
  });

  it('when nothing is scripted or the script calls a tool not offered, then the request fails at once without SDK retries', async () => {
    const apiMessage = (e: unknown) => (e as InstanceType<typeof Anthropic.APIError>).apiMessage;
    const unscripted = await client(2)
      .messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] })
      .then(() => 'answered', apiMessage);
    fake.enqueue({ content: [{ type: 'tool_use', name: 'delete_store', input: {} }] });
    const wrongTool = await client(2)
      .messages.create({ model: MODEL, max_tokens: 64, tools: [revenueTool], messages: [{ role: 'user', content: 'hi' }] })
      .then(() => 'answered', apiMessage);

    expect(unscripted).toMatch(/no scripted answer/);
    expect(wrongTool).toMatch(/calls tool "delete_store" that the request did not offer \(offered: get_revenue\)/);
    expect(fake.requests).toHaveLength(2);
  });

  it('when the SDK streams, then the server-sent events assemble the scripted message', async () => {
    fake.enqueue({
      content: [
        { type: 'text', text: 'Checking the numbers for the first of May, one moment please.' },
        { type: 'tool_use', name: 'get_revenue', input: { day: '2026-05-01', currency: 'EUR' } },
      ],
    });
    const texts: string[] = [];

    const seen = fake.waitForRequest((r) => r.stream);
    const stream = client().messages.stream({
      model: MODEL,
      max_tokens: 256,
      tools: [revenueTool],
      messages: [{ role: 'user', content: 'hi' }],
    });
    stream.on('text', (text) => texts.push(text));
    const message = await stream.finalMessage();

    expect(texts.length).toBeGreaterThan(1);
    expect(texts.join('')).toBe('Checking the numbers for the first of May, one moment please.');
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content[1]).toMatchObject({
      type: 'tool_use',
      name: 'get_revenue',
      input: { day: '2026-05-01', currency: 'EUR' },
    });
    expect(message.usage.output_tokens).toBeGreaterThan(1);
    expect(await seen).toMatchObject({ stream: true, status: 200, tools: [revenueTool] });
  });

  it('when the fake requires a key, then a wrong key gets 401 authentication_error', async () => {
    const strict = await FakeAnthropic.start({ apiKey: 'sk-ant-right' });
    try {
      const err = await new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: strict.url, maxRetries: 0 }).messages
        .create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);

      expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
      expect(err).toMatchObject({ status: 401, type: 'authentication_error' });
    } finally {
      await strict.close();
    }
  });
});
