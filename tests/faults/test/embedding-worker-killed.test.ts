import { createHash } from 'node:crypto';
import { chunkTranscript, createProduct, createStore, createVideo, parseTranscript } from '@dealdome/domain';
import { jobIds } from '@dealdome/queues';
import { FakeOpenAI } from '@dealdome/testkit';
import type { Job } from 'bullmq';
import { sql } from 'kysely';
import { until, useFaultPlatform } from '../src/platform';

const MODEL = 'text-embedding-3-small';
const PRODUCTS = 120;
const PRODUCTS_PER_JOB = 10;
const VIDEOS = 2;

const words = ['margin', 'parcel', 'supplier', 'bundle', 'refund', 'campaign', 'stock', 'courier', 'invoice', 'season', 'customer', 'return'];
/** Paragraphs of plain text long enough for about twenty chunks per video. */
function transcript(video: number): string {
  return Array.from({ length: 160 }, (_, p) =>
    Array.from({ length: 50 }, (_, w) => words[(video * 7 + p * 3 + w * 5) % words.length]).join(' ') + ` (video ${video}, paragraph ${p}).`,
  ).join('\n\n');
}

/**
 * embedding-worker is killed with SIGKILL while batches are at OpenAI. The jobs it
 * held are handed to the next worker once their locks lapse; the texts already in
 * embedding_cache are not sent to OpenAI again, no chunk is stored twice, and every
 * product and chunk ends with the one vector of its text.
 */
describe('embedding-worker killed with SIGKILL mid-batch', () => {
  const platform = useFaultPlatform();
  let openai: FakeOpenAI;
  // Two jobs at a time and a slow provider: when the worker dies some jobs are done, two are at OpenAI and the rest wait.
  const workerEnv = () => ({
    OPENAI_API_KEY: 'sk-faults',
    OPENAI_BASE_URL: openai.baseURL,
    EMBEDDING_CONCURRENCY: '2',
    EMBEDDING_BATCH_SIZE: '16',
  });

  beforeAll(async () => {
    openai = await FakeOpenAI.start({ latencyMs: 1000 });
  });
  afterAll(async () => {
    await openai?.close();
  });

  const cacheKeys = async () =>
    new Set((await sql<{ key: string }>`SELECT encode(text_sha256, 'hex') AS key FROM embedding_cache WHERE model = ${MODEL}`.execute(platform.db)).rows.map((r) => r.key));

  it('when the worker dies during a batch, then after a new worker every product and chunk has its vector, each text cached once and none embedded again', async () => {
    const db = platform.db;
    // Started first: at start-up it queues products without a vector itself, and this test queues its own jobs.
    const doomed = await platform.start('embedding-worker', workerEnv());
    const store = await createStore(db, { name: 'Faults shop', currency: 'EUR', timezone: 'UTC' });
    const products = [];
    for (let i = 0; i < PRODUCTS; i++) {
      products.push(await createProduct(db, { storeId: store.id, sku: `SKU-${i}`, name: `Product ${i} ${words[i % words.length]}`, costPrice: '1.00', currency: 'EUR', status: 'testing' }, null));
    }
    const videos = [];
    for (let v = 0; v < VIDEOS; v++) videos.push(await createVideo(db, { title: `Training ${v}`, source: 'api', transcript: transcript(v) }, null));
    const expectedChunks = videos.map((_, v) => chunkTranscript(parseTranscript('txt', transcript(v))).length);
    expect(Math.min(...expectedChunks)).toBeGreaterThan(16);

    const jobs: Job[] = [];
    for (const video of videos) jobs.push(await platform.producer.enqueue('embeddings', 'ingest-transcript', { videoId: video.id }, { jobId: jobIds.ingestTranscript(video.id) }));
    for (let i = 0; i < PRODUCTS; i += PRODUCTS_PER_JOB) {
      jobs.push(await platform.producer.enqueue('embeddings', 'embed', { kind: 'product', ids: products.slice(i, i + PRODUCTS_PER_JOB).map((p) => p.id) }));
    }

    await until(async () => (await cacheKeys()).size >= 20, 'the first batches to be cached');
    // Mid-batch: the next batch is held at OpenAI, and the process dies while it waits there.
    const held = await openai.holdNextRequest();
    await doomed.kill();
    const killedAt = Date.now();
    const cachedBeforeKill = await cacheKeys();
    await until(() => openai.requests.some((r) => r.requestId === held.requestId && r.status === 0), 'the held request to be cut off', 5000);
    expect(cachedBeforeKill.size).toBeLessThan(PRODUCTS + expectedChunks.reduce((a, b) => a + b, 0));

    await platform.start('embedding-worker', workerEnv());
    const queue = platform.producer.queue('embeddings');
    await until(
      async () => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
        if (counts.failed! > 0) throw new Error(`${counts.failed} embeddings job(s) failed`);
        const states = await Promise.all(jobs.map((j) => queue.getJobState(j.id!)));
        return states.every((s) => s === 'completed') && Object.values(counts).every((n) => n === 0);
      },
      'every embeddings job to complete',
      150_000,
    );

    // Every chunk once, every row with the vector cached for its text.
    const chunkCounts = await db.selectFrom('chunks').select(['video_id', sql<number>`count(*)::int`.as('n')]).groupBy('video_id').execute();
    expect(videos.map((v) => chunkCounts.find((c) => c.video_id === v.id)?.n)).toEqual(expectedChunks);
    for (const table of ['products', 'chunks'] as const) {
      const text = table === 'products' ? sql`t.name || coalesce(E'\\n' || nullif(t.description, ''), '')` : sql`t.content`;
      const { rows } = await sql<{ rows: number; matching: number }>`
        SELECT count(*)::int AS rows,
               count(*) FILTER (WHERE t.embedding_model = ${MODEL} AND t.embedding = c.embedding)::int AS matching
        FROM ${sql.table(table)} t
        LEFT JOIN embedding_cache c ON c.model = ${MODEL} AND c.text_sha256 = sha256(convert_to(${text}, 'UTF8'))`.execute(db);
      expect({ table, ...rows[0] }).toEqual({ table, rows: table === 'products' ? PRODUCTS : expectedChunks.reduce((a, b) => a + b, 0), matching: rows[0]!.rows });
    }
    const distinctTexts = await sql<{ n: number }>`
      SELECT count(DISTINCT k)::int AS n FROM (
        SELECT sha256(convert_to(name || coalesce(E'\\n' || nullif(description, ''), ''), 'UTF8')) AS k FROM products
        UNION ALL SELECT sha256(convert_to(content, 'UTF8')) FROM chunks) texts`.execute(db);
    expect((await cacheKeys()).size).toBe(distinctTexts.rows[0]!.n);

    // What was cached before the kill was never sent to OpenAI again.
    const keyOf = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
    const resent = openai.requests
      .filter((r) => r.at >= killedAt)
      .flatMap((r) => r.inputs.filter((i): i is string => typeof i === 'string'))
      .filter((text) => cachedBeforeKill.has(keyOf(text)));
    expect(resent).toEqual([]);
  });
});
