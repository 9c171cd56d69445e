import { LocalHashingEmbeddingProvider } from '@dealdome/ai';
import { createLogger, parseEnv } from '@dealdome/config';
import type { StartedService } from '@dealdome/config';
import { toVector } from '@dealdome/db';
import { Producer } from '@dealdome/queues';
import { useTestDatabase, useTestRedis } from '@dealdome/testkit';
import { PRODUCT_BACKFILL_BATCH, queueProductBackfill } from '../src/backfill';
import { envSchema } from '../src/env';
import { startEmbeddingWorker } from '../src/service';

const logger = createLogger('embedding-worker-test', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const LOCAL = new LocalHashingEmbeddingProvider().model;

describe('product embedding backfill', () => {
  const database = useTestDatabase();
  const redis = useTestRedis();
  const db = () => database.handle.db;
  let producer: Producer;
  let storeId: string;

  beforeAll(async () => {
    producer = new Producer(redis.redis, redis.prefix);
    storeId = (await db().insertInto('stores').values({ name: 'Nordic Home', currency: 'EUR', timezone: 'UTC' }).returning('id').executeTakeFirstOrThrow()).id;
  });
  beforeEach(async () => {
    await db().deleteFrom('products').execute();
    await producer.queue('embeddings').obliterate({ force: true });
  });
  afterAll(async () => {
    await producer.close();
  });

  async function products(count: number, vector?: { model: string }): Promise<string[]> {
    const rows = await db()
      .insertInto('products')
      .values(
        Array.from({ length: count }, (_, i) => ({
          store_id: storeId,
          sku: `SKU-${vector?.model ?? 'none'}-${i}`,
          name: `Product ${i}`,
          cost_price: '1.00',
          currency: 'EUR',
          ...(vector && { embedding: toVector([1, ...new Array<number>(1535).fill(0)]), embedding_model: vector.model }),
        })),
      )
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  const queuedIds = async () =>
    (await producer.queue('embeddings').getJobs(['waiting', 'delayed', 'active', 'completed'])).flatMap((j) => (j.name === 'embed' && j.data.kind === 'product' ? (j.data.ids as string[]) : []));

  it('when products lack a vector of the model, then they are queued in batches, once however often it runs', async () => {
    const missing = await products(PRODUCT_BACKFILL_BATCH + 1);
    const otherModel = await products(2, { model: 'text-embedding-3-small' });
    await products(3, { model: LOCAL });

    expect(await queueProductBackfill(db(), producer, LOCAL)).toEqual({ products: PRODUCT_BACKFILL_BATCH + 3, jobs: 2 });
    expect(await queueProductBackfill(db(), producer, LOCAL)).toEqual({ products: PRODUCT_BACKFILL_BATCH + 3, jobs: 2 });
    expect((await queuedIds()).sort()).toEqual([...missing, ...otherModel].sort());
  });

  it('when the embedding-worker starts, then the products without a vector are embedded', async () => {
    const missing = await products(3);
    const env = parseEnv('embedding-worker', envSchema, {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: redis.prefix,
      HTTP_HOST: '127.0.0.1',
      EMBEDDING_WORKER_PORT: '0',
      LOG_LEVEL: 'silent',
    });
    let service: StartedService | undefined;
    try {
      service = await startEmbeddingWorker(env, logger);
      const deadline = Date.now() + 20_000;
      for (;;) {
        const rows = await db().selectFrom('products').select('embedding_model').where('id', 'in', missing).execute();
        if (rows.every((r) => r.embedding_model === LOCAL)) break;
        if (Date.now() > deadline) throw new Error(`not embedded: ${JSON.stringify(rows)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await queueProductBackfill(db(), producer, LOCAL)).toEqual({ products: 0, jobs: 0 });
    } finally {
      await service?.stop();
    }
  });
});
