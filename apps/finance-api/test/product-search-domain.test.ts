import { EMBEDDING_DIMENSIONS, toVector } from '@dealdome/db';
import { useTestDatabase } from '@dealdome/db/testing';
import { RELEVANCE_FLOOR, createProduct, searchProducts } from '@dealdome/domain';
import type { QueryEmbedder } from '@dealdome/domain';

const SEMANTIC = 'text-embedding-3-small';

/** A unit vector whose cosine similarity with the query's (the first axis) is exactly `cos`. */
function atSimilarity(cos: number): number[] {
  const v = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  v[0] = cos;
  v[1] = Math.sqrt(1 - cos * cos);
  return v;
}

/**
 * A semantic model's behaviour without its network: every query lies on the first
 * axis, and each product is given its similarity to it, as a model that understood
 * the words would place them. (The local provider is lexical: it cannot show a
 * match by meaning alone.)
 */
const semantic: QueryEmbedder = { model: SEMANTIC, embed: async (texts) => texts.map(() => atSimilarity(1)) };

describe('searchProducts', () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;
  let storeId: string;

  async function product(sku: string, name: string, vector: { similarity: number; model?: string } | null, description?: string): Promise<string> {
    const { id } = await createProduct(db(), { storeId, sku, name, description: description ?? null, costPrice: '2.00', currency: 'EUR', status: 'testing' }, null);
    if (vector) {
      await db()
        .updateTable('products')
        .set({ embedding: toVector(atSimilarity(vector.similarity)), embedding_model: vector.model ?? SEMANTIC })
        .where('id', '=', id)
        .execute();
    }
    return id;
  }

  beforeEach(async () => {
    await db().deleteFrom('product_costs').execute();
    await db().deleteFrom('products').execute();
    await db().deleteFrom('stores').execute();
    storeId = (await db().insertInto('stores').values({ name: 'Nordic Home', currency: 'EUR', timezone: 'UTC' }).returning('id').executeTakeFirstOrThrow()).id;
  });

  it('when a product means what the query asks without sharing a word, then the vector side alone finds it; an unrelated one stays out', async () => {
    const cushion = await product('SC-10', 'Ergonomic seat cushion', { similarity: 0.62 }, 'Memory foam, washable cover.');
    const bottle = await product('SWB-750', 'Stainless steel water bottle', { similarity: 0.12 });
    const { hits, mode } = await searchProducts(db(), semantic, { q: 'something soft to sit on', limit: 10 });
    expect(mode).toBe('hybrid');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ id: cushion, matchedBy: 'vector', textRank: null });
    expect(hits[0]!.vectorSimilarity).toBeCloseTo(0.62, 5);
    expect(hits.map((h) => h.id)).not.toContain(bottle);
    expect(RELEVANCE_FLOOR.default).toBeGreaterThan(0.12);
  });

  it('when the query names a SKU whose vector is far while others are near, then the text side finds it', async () => {
    for (let i = 0; i < 5; i++) await product(`DF-${i}`, `Desk fan ${i}`, { similarity: 0.9 });
    const sku = await product('NH-2291', 'Oscillating tower', { similarity: 0 });
    const unembedded = await product('NH-2292', 'Oscillating tower, white', null);
    const { hits } = await searchProducts(db(), semantic, { q: 'NH-2291', limit: 10 });
    // The near products are kept too (a semantic model would mean it); the SKU is what the text side put first.
    expect(hits.find((h) => h.id === sku)).toMatchObject({ matchedBy: 'text', textRank: 1, vectorSimilarity: null });
    expect(hits.map((h) => h.id)).not.toContain(unembedded);
    const prefix = await searchProducts(db(), semantic, { q: 'NH-229', limit: 10 });
    expect(prefix.hits.filter((h) => h.matchedBy === 'text').map((h) => h.id).sort()).toEqual([sku, unembedded].sort());
  });

  it('when a vector was made by another model, then it is not compared with the query', async () => {
    await product('OT-1', 'Velvet pouf', { similarity: 0.99, model: 'another-model' });
    expect((await searchProducts(db(), semantic, { q: 'round footstool', limit: 10 })).hits).toEqual([]);
  });

  it('when the query cannot be embedded, then its words are searched alone and the failure is told', async () => {
    const fan = await product('DF-1', 'Desk fan', { similarity: 0.9 });
    await product('LMP-1', 'Floor lamp', { similarity: 0.95 });
    const failures: unknown[] = [];
    const down: QueryEmbedder = { model: SEMANTIC, embed: async () => Promise.reject(new Error('the embedding API is down')) };
    const { hits, mode } = await searchProducts(db(), down, { q: 'fan for the desk', limit: 10 }, { onEmbeddingFailure: (err) => failures.push(err) });
    expect(mode).toBe('fulltext');
    expect(hits).toMatchObject([{ id: fan, matchedBy: 'text', textRank: 1, vectorSimilarity: null }]);
    expect(failures).toEqual([new Error('the embedding API is down')]);
  });

  it('when a word is in the name of one product and the description of another, then the name ranks first', async () => {
    const described = await product('ST-1', 'Standing mat', null, 'Goes well with a bamboo desk.');
    const named = await product('BD-1', 'Bamboo desk', null);
    const { hits } = await searchProducts(db(), semantic, { q: 'bamboo', limit: 10 });
    expect(hits.map((h) => [h.id, h.textRank])).toEqual([
      [named, 1],
      [described, 2],
    ]);
  });
});
