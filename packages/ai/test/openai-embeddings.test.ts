import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '@dealdome/domain';
import { FakeOpenAI, fakeEmbedding } from '@dealdome/testkit';
import { OpenAIEmbeddingProvider } from '../src';
import type { OpenAIEmbeddingProviderOptions } from '../src';

describe('OpenAIEmbeddingProvider against the fake OpenAI API', () => {
  let fake: FakeOpenAI;

  beforeEach(async () => {
    fake = await FakeOpenAI.start({ apiKey: 'sk-openai-test' });
  });
  afterEach(async () => {
    await fake.close();
  });

  const provider = (options: Partial<OpenAIEmbeddingProviderOptions> = {}) =>
    new OpenAIEmbeddingProvider({ apiKey: 'sk-openai-test', baseURL: fake.baseURL, retry: { baseDelayMs: 10, maxDelayMs: 40 }, ...options });

  it('when one text is embedded, then it gets the model’s 1536-wide vector', async () => {
    const embeddings = provider();

    const [vector] = await embeddings.embed(['Mugs sold out in the Amsterdam store']);

    expect(embeddings.model).toBe('text-embedding-3-small');
    expect(embeddings.dimensions).toBe(1536);
    expect(vector).toHaveLength(1536);
    expect(vector).toEqual(fakeEmbedding('Mugs sold out in the Amsterdam store'));
    expect(fake.requests[0]).toMatchObject({ model: 'text-embedding-3-small', dimensions: 1536, encodingFormat: 'base64', status: 200 });
  });

  it('when 5000 texts are embedded, then they go in 3 requests of at most 2048 and come back in order', async () => {
    const texts = Array.from({ length: 5000 }, (_, i) => `product ${i} description`);

    const vectors = await provider().embed(texts);

    expect(fake.requests.map((r) => r.inputs.length)).toEqual([2048, 2048, 904]);
    expect(vectors).toHaveLength(5000);
    for (const i of [0, 2047, 2048, 4999]) expect(vectors[i]).toEqual(fakeEmbedding(texts[i] as string));
    // The fake computes every vector in this process, ~1 ms each under jest: 5000 take ~6 s.
  }, 90_000);

  it('when texts are token-heavy, then requests are split to stay within 300,000 tokens', async () => {
    // 30,000 characters ≈ 7,500 tokens each: 40 fit in one request.
    const texts = Array.from({ length: 100 }, (_, i) => `${i} `.padEnd(30_000, 'lorem ipsum '));

    const vectors = await provider().embed(texts);

    expect(fake.requests.map((r) => r.inputs.length)).toEqual([40, 40, 20]);
    expect(fake.requests.every((r) => r.status === 200)).toBe(true);
    expect(vectors).toHaveLength(100);
  });

  it('when a text is over 8192 tokens, then it is cut to its first 32,768 characters instead of failing the batch', async () => {
    const long = 'a'.repeat(40_000);

    await provider().embed([long, 'short']);

    expect(fake.requests[0]?.inputs.map((i) => (i as string).length)).toEqual([32_768, 5]);
  });

  it('when a text is empty, then nothing is sent and the error names the index', async () => {
    const error = await provider()
      .embed(['fine', ''])
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 400, code: 'embedding_input_invalid', fieldErrors: { 'texts.1': ['is empty'] } });
    expect(fake.requests).toHaveLength(0);
  });

  it('when the API answers 429 with retry-after, then the provider waits that long and retries', async () => {
    fake.injectError({ error: 'rate_limit', retryAfter: 1 });
    const retries: unknown[] = [];

    const vectors = await provider({ onRetry: (info) => retries.push(info) }).embed(['hello']);

    expect(vectors).toHaveLength(1);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);
    expect((fake.requests[1]?.at ?? 0) - (fake.requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(fake.requests.map((r) => r.retryCount)).toEqual([0, 0]);
    expect(retries).toEqual([expect.objectContaining({ attempt: 1, status: 429, code: 'rate_limit_exceeded' })]);
  });

  it('when the API keeps failing with 500, then attempts are bounded and the error is embedding_unavailable', async () => {
    fake.injectError({ error: 'server_error' }, 10);

    const error = await provider({ retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 } })
      .embed(['hello'])
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 503, code: 'embedding_unavailable' });
    expect(fake.requests).toHaveLength(3);
  });

  it('when the quota is exhausted, then there is no retry', async () => {
    fake.injectError({ error: 'insufficient_quota' }, 3);

    const error = await provider()
      .embed(['hello'])
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 402, code: 'embedding_quota_exhausted' });
    expect(fake.requests).toHaveLength(1);
  });

  it('when the key is wrong, then the error says the API refused and does not show the key', async () => {
    const error = await provider({ apiKey: 'sk-wrong-key-123' })
      .embed(['hello'])
      .catch((e: unknown) => e as Error);

    expect(error).toMatchObject({ status: 502, code: 'embedding_failed' });
    expect(String((error as Error).message)).not.toContain('sk-wrong');
  });

  it('when a shorter width is configured, then the API is asked for it', async () => {
    const [vector] = await provider({ dimensions: 256 }).embed(['hello']);

    expect(vector).toHaveLength(256);
    expect(fake.requests[0]?.dimensions).toBe(256);
  });

  it('when an OpenAI-compatible server answers floats although base64 was asked for, then the floats are taken', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.25, -0.5, 0.125] }], model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const embeddings = new OpenAIEmbeddingProvider({ apiKey: 'sk-test', baseURL: `http://127.0.0.1:${port}/v1`, model: 'compatible-model', dimensions: 3 });

      expect(await embeddings.embed(['hello'])).toEqual([[0.25, -0.5, 0.125]]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
