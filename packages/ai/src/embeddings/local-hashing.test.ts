import { AppError } from '@dealdome/domain';
import { LocalHashingEmbeddingProvider } from './local-hashing';

const cosine = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + value * (b[i] as number), 0);
const norm = (v: number[]) => Math.sqrt(cosine(v, v));

describe('LocalHashingEmbeddingProvider', () => {
  const provider = new LocalHashingEmbeddingProvider();

  it('when the same text is embedded twice, by two instances, then the vectors are identical', async () => {
    const [a] = await provider.embed(['Revenue of the Amsterdam store in May']);
    const [b] = await new LocalHashingEmbeddingProvider().embed(['Revenue of the Amsterdam store in May']);
    expect(a).toEqual(b);
    expect(provider.model).toBe('local-hashing-v1');
    expect(provider.dimensions).toBe(1536);
    expect(a).toHaveLength(1536);
  });

  it('when texts are embedded, then every vector has unit length', async () => {
    const vectors = await provider.embed(['a', 'Ship the mugs to Rotterdam', '🙂🙂', 'x'.repeat(10_000)]);
    for (const vector of vectors) expect(norm(vector)).toBeCloseTo(1, 10);
  });

  it('when texts share words, then they are closer than unrelated texts', async () => {
    const [query, similar, unrelated] = await provider.embed([
      'What was the revenue of the Amsterdam store in May?',
      'May revenue for the Amsterdam store',
      'How do I print a shipping label for parcels to Germany',
    ]);
    const near = cosine(query as number[], similar as number[]);
    const far = cosine(query as number[], unrelated as number[]);
    expect(near).toBeGreaterThan(0.5);
    expect(far).toBeLessThan(0.2);
    expect(near).toBeGreaterThan(far + 0.3);
  });

  it('when a word changes form, then the character 3-grams keep the texts close', async () => {
    const [order, orders, refund] = await provider.embed(['order', 'orders', 'refund']);
    expect(cosine(order as number[], orders as number[])).toBeGreaterThan(cosine(order as number[], refund as number[]) + 0.3);
  });

  it('when a text is blank, then the batch is rejected with a 400 naming it', async () => {
    await expect(provider.embed(['fine', '  '])).rejects.toEqual(expect.objectContaining({ status: 400, code: 'embedding_input_invalid' }));
    await expect(provider.embed([''])).rejects.toBeInstanceOf(AppError);
  });
});
