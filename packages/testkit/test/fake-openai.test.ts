import OpenAI from 'openai';
import { FakeOpenAI, fakeEmbedding } from '../src';

const MODEL = 'text-embedding-3-small';

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] ?? 0) * (b[i] ?? 0);
    na += (a[i] ?? 0) ** 2;
    nb += (b[i] ?? 0) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

describe('fake OpenAI embeddings API', () => {
  let fake: FakeOpenAI;

  beforeEach(async () => {
    fake = await FakeOpenAI.start();
  });

  afterEach(async () => {
    await fake.close();
  });

  const client = (maxRetries = 0) => new OpenAI({ apiKey: 'sk-test-key', baseURL: fake.baseURL, maxRetries });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (err: unknown) => err as InstanceType<typeof OpenAI.APIError>,
    );

  it('when a batch is embedded with the SDK defaults, then it asks for base64 and gets unit vectors of 1536 floats in input order', async () => {
    const inputs = ['red cotton t-shirt', 'blue denim jeans', 'gift card 50 EUR'];

    const response = await client().embeddings.create({ model: MODEL, input: inputs });

    expect(fake.requests[0]).toMatchObject({ encodingFormat: 'base64', model: MODEL, inputs, status: 200 });
    expect(fake.requests[0]?.headers).not.toHaveProperty('authorization');
    expect(response.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(response.usage).toEqual({ prompt_tokens: 5 + 4 + 4, total_tokens: 13 });
    for (const [index, item] of response.data.entries()) {
      expect(item.embedding).toHaveLength(1536);
      expect(Math.hypot(...item.embedding)).toBeCloseTo(1, 5);
      expect(Array.from(item.embedding)).toEqual(fakeEmbedding(inputs[index] ?? '', { model: MODEL }));
    }
  });

  it('when the same text is embedded twice or as floats, then the vector is the same', async () => {
    const asBase64 = await client().embeddings.create({ model: MODEL, input: 'weekly P&L' });
    const asFloat = await client().embeddings.create({ model: MODEL, input: 'weekly P&L', encoding_format: 'float' });

    expect(fake.requests[1]?.encodingFormat).toBe('float');
    expect(Array.from(asBase64.data[0]?.embedding ?? [])).toEqual(asFloat.data[0]?.embedding);
  });

  it('when dimensions is given, then the vector is the full one cut to that width and renormalised', async () => {
    const full = fakeEmbedding('blue denim jeans', { model: MODEL });

    const short = await client().embeddings.create({ model: MODEL, input: 'blue denim jeans', dimensions: 256 });
    const vector = short.data[0]?.embedding ?? [];

    expect(vector).toHaveLength(256);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    expect(cosine(vector, full.slice(0, 256))).toBeCloseTo(1, 5);
    const ada = await failure(client().embeddings.create({ model: 'text-embedding-ada-002', input: 'x', dimensions: 256 }));
    expect(ada).toMatchObject({
      status: 400,
      param: 'dimensions',
      message: expect.stringContaining('does not support specifying dimensions'),
    });
  });

  it('when texts share words, then their vectors are closer than those of unrelated texts', () => {
    const shirt = fakeEmbedding('red cotton t-shirt');

    expect(cosine(shirt, fakeEmbedding('a t-shirt in red cotton'))).toBeGreaterThan(0.6);
    expect(Math.abs(cosine(shirt, fakeEmbedding('invoice payment terms')))).toBeLessThan(0.2);
    expect(cosine(shirt, fakeEmbedding('cotton t-shirt red'))).toBeLessThan(0.99);
  });

  it("when a request breaks the input limits, then it fails with the API's 400 error body", async () => {
    const tooMany = await failure(
      client().embeddings.create({ model: MODEL, input: Array.from({ length: 2049 }, (_, i) => `item ${i}`) }),
    );
    const empty = await failure(client().embeddings.create({ model: MODEL, input: ['ok', ''] }));
    const tooLong = await failure(client().embeddings.create({ model: MODEL, input: ['x'.repeat(8192 * 4 + 1)] }));
    const tooMuch = await failure(
      client().embeddings.create({ model: MODEL, input: Array.from({ length: 40 }, () => 'y'.repeat(8000 * 4)) }),
    );
    const unknownModel = await failure(client().embeddings.create({ model: 'text-embedding-4-huge', input: 'x' }));

    expect(tooMany).toBeInstanceOf(OpenAI.BadRequestError);
    expect(tooMany?.error).toEqual({
      message:
        "Invalid 'input': array too long. Expected an array with maximum length 2048, but got an array with length 2049 instead.",
      type: 'invalid_request_error',
      param: 'input',
      code: 'array_above_max_length',
    });
    expect(empty).toMatchObject({ status: 400, param: 'input[1]', error: { message: "Invalid 'input[1]': empty string." } });
    expect(tooLong).toMatchObject({
      status: 400,
      error: { message: "Invalid 'input[0]': maximum input length is 8192 tokens." },
    });
    expect(tooMuch?.error).toEqual({
      message: 'Requested 320000 tokens, max 300000 tokens per request',
      type: 'max_tokens_per_request',
      param: null,
      code: 'max_tokens_per_request',
    });
    expect(unknownModel).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknownModel).toMatchObject({ code: 'model_not_found' });
    expect(fake.requests.map((r) => r.status)).toEqual([400, 400, 400, 400, 404]);
  });

  it('when a request is held, then it is announced on arrival and recorded unanswered once its client gives up', async () => {
    const held = fake.holdNextRequest();
    const gaveUp = new AbortController();
    const first = failure(client().embeddings.create({ model: MODEL, input: ['held text'] }, { signal: gaveUp.signal }));

    const arrived = await held;
    const second = await client().embeddings.create({ model: MODEL, input: ['next text'] });
    gaveUp.abort();

    expect(arrived.inputs).toEqual(['held text']);
    expect(await first).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(second.data).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.requests.map((r) => [r.inputs, r.status])).toEqual([
      [['next text'], 200],
      [['held text'], 0],
    ]);
  });

  it('when the API answers 429 with retry-after, then the SDK retries and the fake sees both attempts', async () => {
    fake.injectError({ error: 'rate_limit', retryAfter: 1 });

    const retried = fake.waitForRequest((r) => r.retryCount === 1);
    const response = await client(1).embeddings.create({ model: MODEL, input: 'retry me' });

    expect(response.data).toHaveLength(1);
    expect(await retried).toMatchObject({ status: 200, inputs: ['retry me'] });
    expect(fake.requests.map((r) => [r.status, r.retryCount])).toEqual([
      [429, 0],
      [200, 1],
    ]);
    expect((fake.requests[1]?.at ?? 0) - (fake.requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('when quota is exhausted or the server fails, then the SDK surfaces the 429 and 500 with their codes', async () => {
    fake.injectError({ error: 'insufficient_quota' }).injectError({ error: 'server_error' });

    const quota = await failure(client().embeddings.create({ model: MODEL, input: 'x' }));
    const server = await failure(client().embeddings.create({ model: MODEL, input: 'x' }));

    expect(quota).toBeInstanceOf(OpenAI.RateLimitError);
    expect(quota).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
    expect(server).toBeInstanceOf(OpenAI.InternalServerError);
    expect(server).toMatchObject({ status: 500, type: 'server_error', requestID: fake.requests[1]?.requestId });
  });

  it('when no API key is sent or the fake wants another, then it answers 401', async () => {
    const strict = await FakeOpenAI.start({ apiKey: 'sk-right' });
    try {
      const wrong = await failure(
        new OpenAI({ apiKey: 'sk-wrong-key', baseURL: strict.baseURL, maxRetries: 0 }).embeddings.create({
          model: MODEL,
          input: 'x',
        }),
      );
      const none = await fetch(`${strict.baseURL}/embeddings`, { method: 'POST', body: '{}' });

      expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(wrong).toMatchObject({ code: 'invalid_api_key' });
      expect(none.status).toBe(401);
    } finally {
      await strict.close();
    }
  });
});
