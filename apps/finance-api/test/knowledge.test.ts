import { parse as parseCsv } from 'csv-parse/sync';
import { LocalHashingEmbeddingProvider } from '@dealdome/ai';
import { toVector } from '@dealdome/db';
import type { Database } from '@dealdome/db';
import { FakeOpenAI, fakeEmbedding } from '@dealdome/testkit';
import { useFinanceApi } from './harness';

const problemType = 'application/problem+json';

/** Two videos of transcript chunks, embedded as the embedding-worker would with `embed`. */
async function seedKnowledge(db: Database, model: string, embed: (texts: string[]) => Promise<number[][]>) {
  const withUrl = await db
    .insertInto('videos')
    .values({ title: 'Returns and refunds', url: 'https://www.youtube.com/watch?v=returns', transcript_format: 'srt', transcript: '(chunks)', status: 'ready' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const withoutUrl = await db
    .insertInto('videos')
    .values({ title: 'Office notes', url: null, transcript_format: 'txt', transcript: '(chunks)', status: 'ready' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const chunks = [
    { video_id: withUrl.id, chunk_index: 0, content: 'Our refund policy: damaged items are refunded within two days, no questions asked.', start_seconds: '754.500', end_seconds: '801.000' },
    { video_id: withUrl.id, chunk_index: 1, content: 'Chargebacks cost more than a refund, so refund quickly when a parcel arrives broken.', start_seconds: '801.000', end_seconds: '840.250' },
    { video_id: withoutUrl.id, chunk_index: 0, content: 'The refund form lives in the shared drive.', start_seconds: null, end_seconds: null },
    { video_id: withoutUrl.id, chunk_index: 1, content: 'Water the office plants every Monday morning.', start_seconds: null, end_seconds: null },
  ];
  const vectors = await embed(chunks.map((c) => c.content));
  await db
    .insertInto('chunks')
    .values(chunks.map((c, i) => ({ ...c, token_count: 20, embedding: toVector(vectors[i]!), embedding_model: model })))
    .execute();
}

describe('finance-api knowledge search', () => {
  describe('with the local hashing provider (no OpenAI key)', () => {
    const api = useFinanceApi();
    const local = new LocalHashingEmbeddingProvider();

    beforeAll(async () => {
      await seedKnowledge(api.db, local.model, (texts) => local.embed(texts));
    });

    it('when no credentials are sent, then the answer is a 401 problem', async () => {
      const res = await api.request('GET', '/v1/knowledge/search?q=refund');
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain(problemType);
    });

    it('when a viewer searches, then passages come back best first with citations that open the video at their start', async () => {
      const viewer = await api.userWithToken('viewer');
      const res = await api.request('GET', `/v1/knowledge/search?q=${encodeURIComponent('refund policy for damaged items')}`, { token: viewer.accessToken });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ query: 'refund policy for damaged items', model: 'local-hashing-v1' });
      const hits = res.body.hits as Record<string, unknown>[];
      expect(hits[0]).toEqual({
        chunkId: expect.any(String),
        videoId: expect.any(String),
        videoTitle: 'Returns and refunds',
        videoUrl: 'https://www.youtube.com/watch?v=returns',
        startSeconds: '754.500',
        endSeconds: '801.000',
        start: '12:34',
        end: '13:21',
        text: 'Our refund policy: damaged items are refunded within two days, no questions asked.',
        score: expect.any(Number),
        vectorRank: 1,
        textRank: 1,
        similarity: expect.any(Number),
        link: 'https://www.youtube.com/watch?v=returns&t=754',
      });
      expect(hits.find((h) => h.videoTitle === 'Office notes')).toMatchObject({ text: 'The refund form lives in the shared drive.', link: null, start: null });
      // The passage about plants shares no word with the question: the relevance floor keeps it out.
      expect(hits.map((h) => h.text)).not.toContain('Water the office plants every Monday morning.');
      const scores = hits.map((h) => h.score as number);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));

      const metric = await api.db.selectFrom('search_metrics').selectAll().where('user_id', '=', viewer.user.id).executeTakeFirstOrThrow();
      expect(metric).toMatchObject({ mode: 'hybrid', result_count: hits.length, embedding_model: 'local-hashing-v1' });
      expect(Number(metric.embedding_ms)).toBeGreaterThanOrEqual(0);
      expect(Number(metric.latency_ms)).toBeGreaterThanOrEqual(Number(metric.database_ms));
    });

    it('when the question or the limit is out of range, then 400 names the field', async () => {
      const { accessToken: token } = await api.userWithToken('member');
      for (const [query, field] of [
        ['', 'q'],
        ['q=', 'q'],
        ['q=%20%20', 'q'],
        [`q=${'x'.repeat(501)}`, 'q'],
        ['q=refund&limit=0', 'limit'],
        ['q=refund&limit=51', 'limit'],
        ['q=refund&limit=ten', 'limit'],
      ] as const) {
        const res = await api.request('GET', `/v1/knowledge/search?${query}`, { token });
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toContain(problemType);
        expect(Object.keys(res.body.errors)).toEqual([field]);
      }
      const one = await api.request('GET', '/v1/knowledge/search?q=refund&limit=1', { token });
      expect(one.status).toBe(200);
      expect(one.body.hits).toHaveLength(1);
      expect((await api.request('GET', `/v1/knowledge/search?q=${'x'.repeat(500)}`, { token })).status).toBe(200);
    });

    it('when an API token holds knowledge:read, then it may search but not read finances; finance:read may search too', async () => {
      const admin = await api.userWithToken('admin');
      const tokenWith = async (scopes: string[]) => {
        const res = await api.request('POST', '/v1/api-tokens', { token: admin.accessToken, body: { name: scopes.join(' '), scopes } });
        expect(res.status).toBe(201);
        return res.body.token as string;
      };
      const searcher = await tokenWith(['knowledge:read']);
      expect((await api.request('GET', '/v1/knowledge/search?q=refund', { token: searcher })).status).toBe(200);
      expect((await api.request('GET', '/v1/stores', { token: searcher })).status).toBe(403);
      const reader = await tokenWith(['finance:read']);
      expect((await api.request('GET', '/v1/knowledge/search?q=refund', { token: reader })).status).toBe(200);
      const writer = await tokenWith(['finance:write']);
      expect((await api.request('GET', '/v1/knowledge/search?q=refund', { token: writer })).status).toBe(403);
    });

    it('when the hits are asked for as CSV, then each is a line with its citation', async () => {
      const { accessToken: token } = await api.userWithToken('viewer');
      const json = await api.request('GET', '/v1/knowledge/search?q=refund', { token });
      const res = await api.request('GET', '/v1/knowledge/search?q=refund&format=csv', { token });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      const [header, ...rows] = parseCsv(res.body as string);
      expect(header).toContain('link');
      expect(rows.map((row) => row[header!.indexOf('chunkId')])).toEqual(json.body.hits.map((h: { chunkId: string }) => h.chunkId));
    });
  });

  describe('with OpenAI embeddings', () => {
    const overrides: Record<string, string> = { OPENAI_API_KEY: 'sk-test-knowledge' };
    let openai: FakeOpenAI;
    // Registered before the service's own set-up, so the service starts pointed at the fake.
    beforeAll(async () => {
      openai = await FakeOpenAI.start({ apiKey: overrides.OPENAI_API_KEY });
      overrides.OPENAI_BASE_URL = openai.baseURL;
    });
    afterAll(async () => {
      await openai.close();
    });
    const api = useFinanceApi(overrides);

    beforeAll(async () => {
      await seedKnowledge(api.db, 'text-embedding-3-small', async (texts) => texts.map((text) => fakeEmbedding(text)));
    });

    it('when a key is configured, then the question is embedded through the API and compared with vectors of that model', async () => {
      const { accessToken: token } = await api.userWithToken('viewer');
      const res = await api.request('GET', '/v1/knowledge/search?q=refund%20policy', { token });
      expect(res.status).toBe(200);
      expect(res.body.model).toBe('text-embedding-3-small');
      expect(res.body.hits[0]).toMatchObject({ vectorRank: expect.any(Number), textRank: expect.any(Number) });
      const request = openai.requests.at(-1)!;
      expect(request).toMatchObject({ path: '/v1/embeddings', model: 'text-embedding-3-small', inputs: ['refund policy'], status: 200 });
    });

    it('when the embeddings API refuses, then the words alone are searched and the metric says so', async () => {
      const viewer = await api.userWithToken('viewer');
      openai.injectError({ error: 'insufficient_quota' });
      const res = await api.request('GET', '/v1/knowledge/search?q=refund', { token: viewer.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.hits.length).toBeGreaterThan(0);
      expect(res.body.hits.every((h: { vectorRank: number | null; textRank: number | null }) => h.vectorRank === null && h.textRank !== null)).toBe(true);
      const metric = await api.db.selectFrom('search_metrics').selectAll().where('user_id', '=', viewer.user.id).executeTakeFirstOrThrow();
      expect(metric).toMatchObject({ mode: 'fulltext', embedding_model: null, embedding_ms: null });
    });
  });
});
