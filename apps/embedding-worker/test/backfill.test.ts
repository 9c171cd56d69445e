import { LocalHashingEmbeddingProvider } from '@dealdome/ai';
import { createLogger, parseEnv } from '@dealdome/config';
import type { StartedService } from '@dealdome/config';
import { toVector } from '@dealdome/db';
import { Producer } from '@dealdome/queues';
import { useTestDatabase, useTestRedis } from '@dealdome/testkit';
import { BACKFILL_BATCH, queueEmbeddingBackfill } from '../src/backfill';
import { envSchema } from '../src/env';
import { startEmbeddingWorker } from '../src/service';

const logger = createLogger('embedding-worker-test', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const LOCAL = new LocalHashingEmbeddingProvider().model;

describe('embedding backfill', () => {
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
    await db().deleteFrom('memories').execute();
    await db().deleteFrom('videos').execute();
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

  const unitVector = toVector([1, ...new Array<number>(1535).fill(0)]);

  async function memories(contents: string[], vector?: { model: string }, superseded = false): Promise<string[]> {
    const rows = await db()
      .insertInto('memories')
      .values(
        contents.map((content) => ({
          scope: 'team',
          user_id: null,
          kind: 'fact',
          content,
          ...(vector && { embedding: unitVector, embedding_model: vector.model }),
          ...(superseded && { superseded_at: new Date() }),
        })),
      )
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  async function videoChunks(status: 'ready' | 'processing', count: number, vector?: { model: string }): Promise<string[]> {
    const video = await db()
      .insertInto('videos')
      .values({ title: `Video ${status}`, source: 'upload', transcript_format: 'txt', transcript: 'words', status })
      .returning('id')
      .executeTakeFirstOrThrow();
    const rows = await db()
      .insertInto('chunks')
      .values(
        Array.from({ length: count }, (_, i) => ({
          video_id: video.id,
          chunk_index: i,
          content: `Part ${i} of the ${status} video`,
          token_count: 6,
          start_seconds: i * 60,
          end_seconds: i * 60 + 60,
          ...(vector && { embedding: unitVector, embedding_model: vector.model }),
        })),
      )
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  const queuedIds = async (kind: 'product' | 'memory' | 'chunk') =>
    (await producer.queue('embeddings').getJobs(['waiting', 'delayed', 'active', 'completed'])).flatMap((j) => (j.name === 'embed' && j.data.kind === kind ? (j.data.ids as string[]) : []));
  const none = { rows: 0, jobs: 0 };

  it('when products lack a vector of the model, then they are queued in batches, once however often it runs', async () => {
    const missing = await products(BACKFILL_BATCH + 1);
    const otherModel = await products(2, { model: 'text-embedding-3-small' });
    await products(3, { model: LOCAL });

    const expected = { product: { rows: BACKFILL_BATCH + 3, jobs: 2 }, memory: none, chunk: none };
    expect(await queueEmbeddingBackfill(db(), producer, LOCAL)).toEqual(expected);
    expect(await queueEmbeddingBackfill(db(), producer, LOCAL)).toEqual(expected);
    expect((await queuedIds('product')).sort()).toEqual([...missing, ...otherModel].sort());
  });

  it('when the model changed, then current memories and the chunks of ready videos are queued too; history and videos still ingesting are not', async () => {
    const unembedded = await memories(['We ship from Poland']);
    const oldModel = await memories(['Our supplier ships on Tuesdays', 'Returns take 14 days'], { model: 'text-embedding-3-small' });
    await memories(['We ship from China'], { model: 'text-embedding-3-small' }, true);
    await memories(['Prices end in .95'], { model: LOCAL });
    const readyChunks = await videoChunks('ready', 3, { model: 'text-embedding-3-small' });
    await videoChunks('processing', 2);
    await videoChunks('ready', 1, { model: LOCAL });

    expect(await queueEmbeddingBackfill(db(), producer, LOCAL)).toEqual({ product: none, memory: { rows: 3, jobs: 1 }, chunk: { rows: 3, jobs: 1 } });
    expect((await queuedIds('memory')).sort()).toEqual([...unembedded, ...oldModel].sort());
    expect((await queuedIds('chunk')).sort()).toEqual([...readyChunks].sort());
  });

  it('when the embedding-worker starts, then the products, memories and ready chunks without a vector are embedded', async () => {
    const missing = await products(3);
    const memory = await memories(['Our supplier ships on Tuesdays'], { model: 'text-embedding-3-small' });
    const chunks = await videoChunks('ready', 2, { model: 'text-embedding-3-small' });
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
        const rows = [
          ...(await db().selectFrom('products').select('embedding_model').where('id', 'in', missing).execute()),
          ...(await db().selectFrom('memories').select('embedding_model').where('id', 'in', memory).execute()),
          ...(await db().selectFrom('chunks').select('embedding_model').where('id', 'in', chunks).execute()),
        ];
        if (rows.every((r) => r.embedding_model === LOCAL)) break;
        if (Date.now() > deadline) throw new Error(`not embedded: ${JSON.stringify(rows)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await queueEmbeddingBackfill(db(), producer, LOCAL)).toEqual({ product: none, memory: none, chunk: none });
    } finally {
      await service?.stop();
    }
  });
});
