import { createHash } from 'node:crypto';
import { LocalHashingEmbeddingProvider } from '@dealdome/ai';
import { createLogger } from '@dealdome/config';
import { toVector } from '@dealdome/db';
import { financeDataVersion, relevanceFloor } from '@dealdome/domain';
import { Producer, createWorker } from '@dealdome/queues';
import { useFinanceApi } from './harness';

const problemType = 'application/problem+json';
const local = new LocalHashingEmbeddingProvider();
const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
type QueuedJob = { id?: string; name: string; data: { kind?: string; ids?: string[] }; timestamp: number };

describe('finance-api product search', () => {
  const api = useFinanceApi();
  let producer: Producer;
  let member: string;
  let viewer: string;
  let nordic: string;
  let brooklyn: string;

  /** The product's vector as the embedding-worker writes it: of its name and description, with the model. */
  async function embed(productId: string): Promise<void> {
    const product = await api.db.selectFrom('products').select(['name', 'description']).where('id', '=', productId).executeTakeFirstOrThrow();
    const [vector] = await local.embed([product.description ? `${product.name}\n${product.description}` : product.name]);
    await api.db.updateTable('products').set({ embedding: toVector(vector!), embedding_model: local.model }).where('id', '=', productId).execute();
  }

  async function create(storeId: string, fields: { sku: string; name: string; description?: string; status?: string }): Promise<string> {
    const res = await api.request('POST', '/v1/products', { token: member, body: { storeId, costPrice: '4.20', currency: 'EUR', ...fields } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  /** The embed jobs queued for a product, oldest first. */
  async function embedJobs(productId: string): Promise<QueuedJob[]> {
    const jobs: QueuedJob[] = await producer.queue('embeddings').getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
    return jobs
      .filter((j) => j.name === 'embed' && j.data.kind === 'product' && j.data.ids?.includes(productId))
      .sort((a, b) => a.timestamp - b.timestamp);
  }

  async function search(query: string, token = viewer) {
    const res = await api.request('GET', `/v1/products/search?${query}`, { token });
    expect(res.status).toBe(200);
    return res.body as { query: string; model: string; hits: Record<string, unknown>[] };
  }

  let fan: string;
  let organiser: string;
  let bottle: string;
  let brooklynOrganiser: string;

  beforeAll(async () => {
    producer = new Producer(api.redis.redis, api.redis.prefix);
    member = (await api.userWithToken('member')).accessToken;
    viewer = (await api.userWithToken('viewer')).accessToken;
    const store = async (name: string) =>
      (await api.db.insertInto('stores').values({ name, currency: 'EUR', timezone: 'Europe/Amsterdam' }).returning('id').executeTakeFirstOrThrow()).id;
    nordic = await store('Nordic Home');
    brooklyn = await store('Brooklyn Goods');
    fan = await create(nordic, { sku: 'NH-2291', name: 'Oscillating desk fan', description: 'Quiet three-speed fan for the office.' });
    // Embedded by its name alone: the lexical local provider puts a query of the same words close enough to count.
    organiser = await create(nordic, { sku: 'BDO-01', name: 'Bamboo desk organiser', status: 'winning' });
    bottle = await create(nordic, { sku: 'SWB-750', name: 'Stainless steel water bottle', description: 'Keeps drinks cold for 24 hours.' });
    brooklynOrganiser = await create(brooklyn, { sku: 'BDO-01', name: 'Bamboo desk organiser' });
    for (const id of [fan, organiser, bottle, brooklynOrganiser]) await embed(id);
  });
  afterAll(async () => {
    await producer.close();
  });

  describe('embedding jobs', () => {
    it('when a product is created, then one embed job named by its id and text is queued; an unchanged update queues none', async () => {
      const id = await create(nordic, { sku: 'LAMP-01', name: 'Desk lamp' });
      const [job, ...others] = await embedJobs(id);
      expect(others).toEqual([]);
      expect(job!.id).toBe(`embed-product-${id}-${sha256('Desk lamp')}`);
      expect(job!.data).toMatchObject({ kind: 'product', ids: [id] });

      await embed(id);
      for (const body of [{ name: 'Desk lamp' }, { status: 'paused' }, { sku: 'LAMP-001', description: null }]) {
        expect((await api.request('PATCH', `/v1/products/${id}`, { token: member, body })).status).toBe(200);
      }
      expect((await embedJobs(id)).map((j) => j.id)).toEqual([job!.id]);
      // The vector of an unchanged text is kept.
      expect(await api.db.selectFrom('products').select('embedding_model').where('id', '=', id).executeTakeFirstOrThrow()).toEqual({ embedding_model: local.model });
    });

    it('when a name or description changes, then the old vector is dropped and the new text is queued', async () => {
      const id = await create(nordic, { sku: 'RUG-01', name: 'Wool rug' });
      await embed(id);
      const res = await api.request('PATCH', `/v1/products/${id}`, { token: member, body: { description: 'Hand-woven, 160 by 230 cm.' } });
      expect(res.status).toBe(200);
      const row = await api.db.selectFrom('products').select(['embedding', 'embedding_model']).where('id', '=', id).executeTakeFirstOrThrow();
      expect(row).toEqual({ embedding: null, embedding_model: null });
      expect((await embedJobs(id)).map((j) => j.id)).toEqual([
        `embed-product-${id}-${sha256('Wool rug')}`,
        `embed-product-${id}-${sha256('Wool rug\nHand-woven, 160 by 230 cm.')}`,
      ]);
    });

    it('when the text comes back to one whose job already ran, then that job is queued again and the product embedded', async () => {
      const id = await create(nordic, { sku: 'MAT-01', name: 'Yoga mat' });
      // Stands in for the embedding-worker, writing vectors as it does.
      const worker = createWorker(
        'embeddings',
        {
          embed: async ({ kind, ids }) => {
            if (kind === 'product') for (const productId of ids) await embed(productId);
          },
          'review-memory': async () => undefined,
          'ingest-transcript': async () => undefined,
        },
        { connection: api.redis.redis, prefix: api.redis.prefix, logger: createLogger('embedding-worker', { level: 'silent' }) },
      );
      const state = async () => api.db.selectFrom('products').select(['name', 'embedding_model']).where('id', '=', id).executeTakeFirstOrThrow();
      try {
        const first = `embed-product-${id}-${sha256('Yoga mat')}`;
        await eventually(async () => (await producer.queue('embeddings').getJobState(first)) === 'completed');
        await api.request('PATCH', `/v1/products/${id}`, { token: member, body: { name: 'Yoga mat, cork' } });
        await eventually(async () => (await state()).embedding_model !== null);
        await api.request('PATCH', `/v1/products/${id}`, { token: member, body: { name: 'Yoga mat' } });
        expect((await embedJobs(id)).map((j) => j.id)).toEqual([`embed-product-${id}-${sha256('Yoga mat, cork')}`, first]);
        await eventually(async () => (await state()).embedding_model !== null);
        const [vector] = await local.embed(['Yoga mat']);
        const stored = await api.db.selectFrom('products').select('embedding').where('id', '=', id).executeTakeFirstOrThrow();
        expect(cosine(stored.embedding!, vector!)).toBeCloseTo(1, 5);
      } finally {
        await worker.close(2000);
      }
    });

    it('when a vector is written, then the finance data version stays; a status, name or cost change still moves it', async () => {
      const version = async () => BigInt(await financeDataVersion(api.db));
      const id = await create(nordic, { sku: 'CUP-01', name: 'Travel cup' });

      let before = await version();
      await embed(id);
      expect(await version()).toBe(before);
      // The description is read by no report either.
      await api.request('PATCH', `/v1/products/${id}`, { token: member, body: { description: 'Double-walled steel.' } });
      expect(await version()).toBe(before);

      before = await version();
      await api.request('PATCH', `/v1/products/${id}`, { token: member, body: { status: 'winning' } });
      expect(await version()).toBeGreaterThan(before);
      before = await version();
      await api.request('PATCH', `/v1/products/${id}`, { token: member, body: { name: 'Travel cup 350 ml' } });
      expect(await version()).toBeGreaterThan(before);
      before = await version();
      await api.request('POST', `/v1/products/${id}/costs`, { token: member, body: { costPrice: '3.10', effectiveFrom: '2026-01-01' } });
      expect(await version()).toBeGreaterThan(before);
    });
  });

  describe('GET /v1/products/search', () => {
    it('when the query is a SKU, then the text side finds it although its vector is nowhere near', async () => {
      const [queryVector] = await local.embed(['NH-2291']);
      const [fanVector] = await local.embed(['Oscillating desk fan\nQuiet three-speed fan for the office.']);
      expect(cosine(queryVector!, fanVector!)).toBeLessThan(relevanceFloor(local.model));

      const answer = await search('q=NH-2291');
      expect(answer).toMatchObject({ query: 'NH-2291', model: 'local-hashing-v1' });
      expect(answer.hits).toEqual([
        {
          id: fan,
          storeId: nordic,
          sku: 'NH-2291',
          name: 'Oscillating desk fan',
          description: 'Quiet three-speed fan for the office.',
          costPrice: '4.20',
          currency: 'EUR',
          status: 'testing',
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
          score: expect.any(Number),
          vectorSimilarity: null,
          textRank: 1,
          matchedBy: 'text',
        },
      ]);
      // Its beginning, in any case, and inside a sentence.
      expect((await search('q=nh-22')).hits.map((h) => h.id)).toEqual([fan]);
      expect((await search(`q=${encodeURIComponent('what does (NH-2291) cost?')}`)).hits[0]).toMatchObject({ id: fan, textRank: 1 });
    });

    it('when the query says a name in other words, then the vector side finds it too and it ranks first', async () => {
      const { hits } = await search(`q=${encodeURIComponent('desk organisers bamboo')}&storeId=${nordic}`);
      expect(hits[0]).toMatchObject({ id: organiser, matchedBy: 'both', textRank: 1 });
      expect(hits[0]!.vectorSimilarity as number).toBeGreaterThanOrEqual(relevanceFloor(local.model));
      // The fan shares "desk" only: found by its words, not its meaning.
      expect(hits.find((h) => h.id === fan)).toMatchObject({ matchedBy: 'text', vectorSimilarity: null });
      const scores = hits.map((h) => h.score as number);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    });

    it('when a product shares neither words nor meaning with the query, then the relevance floor keeps it out', async () => {
      const { hits } = await search(`q=${encodeURIComponent('bamboo desk organiser')}&storeId=${nordic}`);
      expect(hits.map((h) => h.id)).not.toContain(bottle);
      expect(hits.map((h) => h.id)).toEqual(expect.arrayContaining([organiser, fan]));
      expect((await search('q=trampoline')).hits).toEqual([]);
    });

    it('when a product search runs, then a search_metrics row records it with its target, person and timings', async () => {
      const searcher = await api.userWithToken('viewer');
      const answer = await search(`q=${encodeURIComponent('bamboo desk organiser')}&storeId=${nordic}`, searcher.accessToken);
      expect(answer.hits.length).toBeGreaterThan(0);
      const rows = await api.db.selectFrom('search_metrics').selectAll().where('user_id', '=', searcher.user.id).execute();
      expect(rows).toEqual([
        expect.objectContaining({
          target: 'products',
          query: 'bamboo desk organiser',
          mode: 'hybrid',
          embedding_model: local.model,
          result_count: answer.hits.length,
        }),
      ]);
      const [row] = rows;
      expect(Number(row!.top_similarity)).toBeGreaterThanOrEqual(relevanceFloor(local.model));
      expect(Number(row!.top_score)).toBeCloseTo(answer.hits[0]!.score as number, 6);
      expect(Number(row!.latency_ms)).toBeGreaterThanOrEqual(Number(row!.database_ms) + Number(row!.embedding_ms) - 0.01);
    });

    it('when a store or status is given, then only its products come back', async () => {
      const q = `q=${encodeURIComponent('bamboo desk organiser')}`;
      const everywhere = (await search(q)).hits.filter((h) => h.sku === 'BDO-01');
      expect(everywhere.map((h) => h.id).sort()).toEqual([organiser, brooklynOrganiser].sort());
      expect((await search(`${q}&storeId=${brooklyn}`)).hits.map((h) => h.id)).toEqual([brooklynOrganiser]);
      expect((await search(`q=BDO-01&storeId=${brooklyn}`)).hits.map((h) => h.id)).toEqual([brooklynOrganiser]);
      expect((await search(`${q}&status=winning`)).hits.map((h) => h.id)).toEqual([organiser]);
      expect((await search(`${q}&limit=1`)).hits).toHaveLength(1);
    });

    it('when the query is empty, too long or a filter is wrong, then 400 names the field', async () => {
      for (const [query, field] of [
        ['', 'q'],
        ['q=', 'q'],
        ['q=%20%20', 'q'],
        [`q=${'x'.repeat(201)}`, 'q'],
        ['q=fan&storeId=nordic', 'storeId'],
        ['q=fan&status=sold', 'status'],
        ['q=fan&limit=0', 'limit'],
        ['q=fan&limit=51', 'limit'],
      ] as const) {
        const res = await api.request('GET', `/v1/products/search?${query}`, { token: viewer });
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toContain(problemType);
        expect(Object.keys(res.body.errors)).toEqual([field]);
      }
      expect((await api.request('GET', `/v1/products/search?q=${'x'.repeat(200)}`, { token: viewer })).status).toBe(200);
    });

    it('when the caller lacks finance:read, then the search is refused as the product list is', async () => {
      expect((await api.request('GET', '/v1/products/search?q=fan')).status).toBe(401);
      const admin = (await api.userWithToken('admin')).accessToken;
      const tokenWith = async (scopes: string[]) => (await api.request('POST', '/v1/api-tokens', { token: admin, body: { name: scopes.join(' '), scopes } })).body.token as string;
      expect((await api.request('GET', '/v1/products/search?q=fan', { token: await tokenWith(['knowledge:read']) })).status).toBe(403);
      expect((await api.request('GET', '/v1/products/search?q=fan', { token: await tokenWith(['finance:read']) })).status).toBe(200);
    });
  });
});

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the condition was not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
