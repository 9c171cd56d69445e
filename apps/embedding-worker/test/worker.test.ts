import type { Job } from 'bullmq';
import { LocalHashingEmbeddingProvider, OpenAIEmbeddingProvider } from '@dealdome/ai';
import type { EmbeddingProvider } from '@dealdome/ai';
import { toVector } from '@dealdome/db';
import { fakeEmbedding } from '@dealdome/testkit';
import { sql } from 'kysely';
import { textKey } from '../src/batcher';
import { writeVectorsFromCache } from '../src/entities';
import { useEmbeddingWorkers } from './support';

const MODEL = 'text-embedding-3-small';

const SRT = [
  '1',
  '00:00:01,000 --> 00:00:04,500',
  'Welcome to the supplier call.',
  '',
  '2',
  '00:12:34,250 --> 00:12:40,000',
  'Our SKU NH-2291 ships from Rotterdam.',
  '',
].join('\r\n');

describe('embedding-worker', () => {
  const suite = useEmbeddingWorkers({ fakeOpenAI: true });
  const { db } = suite;

  function start(options: { batchSize?: number; batchWaitMs?: number; concurrency?: number } = {}) {
    const provider = new OpenAIEmbeddingProvider({ apiKey: 'sk-test', baseURL: suite.openai.baseURL, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
    return suite.start({ provider, concurrency: options.concurrency ?? 8, batchSize: options.batchSize ?? 64, batchWaitMs: options.batchWaitMs ?? 10 });
  }

  const finished = (job: Job, timeoutMs?: number) => suite.finished(job.id!, timeoutMs);

  async function memories(contents: string[]): Promise<string[]> {
    const rows = await db()
      .insertInto('memories')
      .values(contents.map((content) => ({ scope: 'team', kind: 'fact', content })))
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  const inputsSent = () => suite.openai.requests.filter((r) => r.status === 200).flatMap((r) => r.inputs);

  it('when memories are embedded, then each gets a vector of the model, identical texts are embedded once and a second job makes no provider call', async () => {
    start();
    const ids = await memories(['We ship from Rotterdam', 'Black Friday budget is 5000 EUR', 'We ship from Rotterdam']);

    // The two copies of one text are one memory: the newer is merged into the older.
    expect(await finished(await suite.producer.enqueue('embeddings', 'embed', { kind: 'memory', ids }))).toEqual({ embedded: 3, skipped: 0, model: MODEL, merged: 1 });

    const stored = await db().selectFrom('memories').select(['id', 'embedding', 'embedding_model']).where('id', 'in', ids).execute();
    expect(stored.every((m) => m.embedding_model === MODEL && Array.isArray(m.embedding) && m.embedding.length === 1536)).toBe(true);
    expect(inputsSent().sort()).toEqual(['Black Friday budget is 5000 EUR', 'We ship from Rotterdam']);

    // The same texts again, on new rows: the cache answers.
    const again = await memories(['We ship from Rotterdam', 'Black Friday budget is 5000 EUR']);
    const before = suite.openai.requests.length;
    await finished(await suite.producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: again }));
    expect(suite.openai.requests.length).toBe(before);
    const cached = await db().selectFrom('memories').select(['embedding']).where('id', '=', again[0]!).executeTakeFirstOrThrow();
    const original = stored.find((m) => m.id === ids[0])!;
    expect(cached.embedding).toEqual(original.embedding);
  });

  /** A column's vector as pgvector stores it (vector_send: int16 dims, int16 0, big-endian float4 each). */
  async function storedBytes(query: 'cache' | 'memory', key: string): Promise<Buffer> {
    const { rows } = await (query === 'cache'
      ? sql<{ bytes: Buffer }>`SELECT vector_send(embedding) AS bytes FROM embedding_cache WHERE text_sha256 = decode(${key}, 'hex')`
      : sql<{ bytes: Buffer }>`SELECT vector_send(embedding) AS bytes FROM memories WHERE id = ${key}`
    ).execute(db());
    return rows[0]!.bytes;
  }

  /** The bytes a vector of float4 values must be stored as, built independently of the code under test. */
  function float4Bytes(values: readonly number[]): Buffer {
    const view = new DataView(new ArrayBuffer(4 + 4 * values.length));
    view.setInt16(0, values.length);
    values.forEach((v, i) => view.setFloat32(4 + 4 * i, v));
    return Buffer.from(view.buffer);
  }

  it('when the OpenAI API answers a vector, then the cache and the row hold its float4 values bit for bit', async () => {
    start();
    const text = 'Rotterdam warehouse ships within 48 hours';
    const [id] = await memories([text]);

    await finished(await suite.producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: [id!] }));

    const expected = float4Bytes(fakeEmbedding(text));
    expect((await storedBytes('cache', textKey(text))).equals(expected)).toBe(true);
    expect((await storedBytes('memory', id!)).equals(expected)).toBe(true);
  });

  it('when a provider answers values float4 cannot hold exactly, then the cache and the row hold each rounded to the nearest float4', async () => {
    const edges = [0.1, -0, 1e-45, 1.17549435e-38, 12345.678901234, -0.000123456789, 1 / 3, 65504.00000001];
    const values = Array.from({ length: 1536 }, (_, i) => edges[i % edges.length]! * (1 + i / 1536));
    const provider: EmbeddingProvider = { model: 'test-float4', dimensions: 1536, embed: async (texts) => texts.map(() => values) };
    suite.start({ provider, concurrency: 1, batchSize: 4, batchWaitMs: 5 });
    const text = 'Invoice terms are 30 days net';
    const [id] = await memories([text]);

    await finished(await suite.producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: [id!] }));

    const expected = float4Bytes(values);
    expect((await storedBytes('cache', textKey(text))).equals(expected)).toBe(true);
    expect((await storedBytes('memory', id!)).equals(expected)).toBe(true);
  });

  it('when many jobs run at once, then their texts share batches and no request exceeds the batch size', async () => {
    start({ batchSize: 16, batchWaitMs: 30, concurrency: 8 });
    const jobs = [];
    for (let j = 0; j < 8; j++) {
      const ids = await memories(Array.from({ length: 5 }, (_, i) => `fact ${j}-${i} about order volume`));
      jobs.push(await suite.producer.enqueue('embeddings', 'embed', { kind: 'memory', ids }));
    }
    await Promise.all(jobs.map((job) => finished(job)));

    const sizes = suite.openai.requests.filter((r) => r.status === 200).map((r) => r.inputs.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(40);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16);
    // Gathered across jobs: fewer requests than jobs.
    expect(sizes.length).toBeLessThan(8);
  });

  it('when the provider fails for a while, then the job is retried and every vector is written once', async () => {
    // More failures than one attempt's own retries (5): the job fails once and the queue retries it.
    suite.openai.injectError({ error: 'server_error' }, 7);
    start();
    const ids = await memories(['Supplier is late again', 'Meta ads paused on Sunday']);

    await finished(await suite.producer.enqueue('embeddings', 'embed', { kind: 'memory', ids }), 30_000);

    const stored = await db().selectFrom('memories').select(['embedding_model']).where('id', 'in', ids).execute();
    expect(stored.map((m) => m.embedding_model)).toEqual([MODEL, MODEL]);
    const cache = await db().selectFrom('embedding_cache').select(db().fn.countAll<string>().as('n')).where('model', '=', MODEL).executeTakeFirstOrThrow();
    expect(Number(cache.n)).toBeGreaterThanOrEqual(2);
  });

  it('when the API refuses one text of a batch, then only that text fails: the texts batched with it, its own job\'s included, get their vectors', async () => {
    suite.openai.refuseInputsContaining('UNREADABLE');
    // Long enough a wait that both jobs' texts share the first batch.
    start({ batchSize: 64, batchWaitMs: 500 });
    const others = await memories(['The courier strike ends on Friday', 'TikTok ads start in March']);
    const [refused, sibling] = await memories(['An UNREADABLE note', 'Returns take 14 days']);
    const othersJob = await suite.producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: others });
    const mixedJob = await suite.producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: [refused!, sibling!] });

    await finished(othersJob);
    // Its first attempt failed for the refused text alone (the queue retries it later).
    const queue = suite.producer.queue('embeddings');
    const deadline = Date.now() + 20_000;
    while (((await queue.getJob(mixedJob.id!))?.attemptsMade ?? 0) < 1) {
      if (Date.now() > deadline) throw new Error('the job never failed');
      await new Promise((r) => setTimeout(r, 25));
    }
    expect((await queue.getJob(mixedJob.id!))!.failedReason).toMatch(/refused an input of the request \(400/);
    const rows = await db().selectFrom('memories').select(['id', 'embedding_model']).where('id', 'in', [...others, refused!, sibling!]).execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, r.embedding_model]))).toEqual({
      [others[0]!]: MODEL,
      [others[1]!]: MODEL,
      [refused!]: null,
      [sibling!]: MODEL,
    });
    // One batch of four, then halves until the refused text stood alone.
    const requests = suite.openai.requests.map((r) => `${r.inputs.length}:${r.status}`);
    expect(requests.slice(0, 2)).toEqual(['4:400', '2:200']);
    expect(requests.slice(2, 3)).toEqual(['2:400']);
    expect(requests.slice(3).sort()).toEqual(['1:200', '1:400']);
    expect(inputsSent().sort()).toEqual(['Returns take 14 days', 'The courier strike ends on Friday', 'TikTok ads start in March']);
  });

  it('when the API refuses every request (an unknown model), then a batch is sent once, not halved', async () => {
    const provider = new OpenAIEmbeddingProvider({ apiKey: 'sk-test', baseURL: suite.openai.baseURL, model: 'text-embedding-9-none', retry: { baseDelayMs: 5, maxDelayMs: 20 } });
    suite.start({ provider, batchWaitMs: 50 });
    const job = await suite.producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: await memories(['Crates go out on Mondays', 'Labels are printed at 7', 'The dock closes at 5']) });

    const queue = suite.producer.queue('embeddings');
    const deadline = Date.now() + 20_000;
    while (((await queue.getJob(job.id!))?.attemptsMade ?? 0) < 1) {
      if (Date.now() > deadline) throw new Error('the job never failed');
      await new Promise((r) => setTimeout(r, 25));
    }
    expect((await queue.getJob(job.id!))!.failedReason).toMatch(/refused the request \(404/);
    expect(suite.openai.requests.map((r) => `${r.inputs.length}:${r.status}`)).toEqual(['3:404']);
  });

  it('when an earlier attempt wrote a memory\'s vector and stopped before the near-duplicate check, then the next run checks it', async () => {
    const local = new LocalHashingEmbeddingProvider();
    const worker = suite.start({ provider: local, concurrency: 2, batchSize: 16, batchWaitMs: 5 });
    const [older] = await memories(['Every parcel leaves the Utrecht depot by noon']);
    expect(await finished(await suite.producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: [older!] }))).toMatchObject({ embedded: 1, merged: 0 });
    const [newer] = await memories(['every parcel leaves the utrecht depot by noon!']);
    // What the stopped attempt left: the vector in the cache and on the row, no decision recorded.
    const [key] = await worker.batcher.ensureCached(['every parcel leaves the utrecht depot by noon!']);
    expect(await writeVectorsFromCache(db(), 'memory', local.model, [{ id: newer!, key: key! }])).toBe(1);

    const result = await finished(await suite.producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: [newer!] }));

    expect(result).toMatchObject({ embedded: 0, merged: 1 });
    const row = await db().selectFrom('memories').select(['superseded_by']).where('id', '=', newer!).executeTakeFirstOrThrow();
    expect(row.superseded_by).toBe(older);
    const decisions = await db().selectFrom('memory_events').select(['memory_id', 'action']).where('memory_id', 'in', [older!, newer!]).orderBy('created_at').execute();
    expect(decisions).toEqual([
      { memory_id: older, action: 'kept' },
      { memory_id: older, action: 'refreshed' },
      { memory_id: newer, action: 'superseded' },
    ]);
  });

  it("when a row's text changed after it was read, then the vector of the old text is not written to it", async () => {
    const [id] = await memories(['We ship from China']);
    const local = new LocalHashingEmbeddingProvider();
    const [vector] = await local.embed(['We ship from China']);
    await db().insertInto('embedding_cache').values({ model: local.model, text_sha256: Buffer.from(textKey('We ship from China'), 'hex'), embedding: toVector(vector!) }).execute();
    await db().updateTable('memories').set({ content: 'We now ship from Poland' }).where('id', '=', id!).execute();

    expect(await writeVectorsFromCache(db(), 'memory', local.model, [{ id: id!, key: textKey('We ship from China') }])).toBe(0);
    await db().updateTable('memories').set({ content: 'We ship from China' }).where('id', '=', id!).execute();
    expect(await writeVectorsFromCache(db(), 'memory', local.model, [{ id: id!, key: textKey('We ship from China') }])).toBe(1);
    const row = await db().selectFrom('memories').select(['embedding', 'embedding_model']).where('id', '=', id!).executeTakeFirstOrThrow();
    expect(row.embedding_model).toBe(local.model);
    expect(row.embedding![0]).toBeCloseTo(vector![0]!, 6);
  });

  it('when a job embeds a memory that repeats an older one, then the newer is merged into the older (wiring of settleNearDuplicate)', async () => {
    suite.start({ provider: new LocalHashingEmbeddingProvider(), concurrency: 2, batchSize: 16, batchWaitMs: 5 });
    const [older] = await memories(['All orders ship from the Rotterdam warehouse']);
    const [newer] = await memories(['all orders ship from the rotterdam warehouse.']);

    const result = await finished(await suite.producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: [older!, newer!] }));

    expect(result).toMatchObject({ embedded: 2, merged: 1 });
    const row = await db().selectFrom('memories').select(['superseded_by']).where('id', '=', newer!).executeTakeFirstOrThrow();
    expect(row.superseded_by).toBe(older);
  });

  it('when a transcript is ingested, then its chunks keep their times, get vectors and the video is ready; a second ingest calls no provider', async () => {
    start();
    const video = await db()
      .insertInto('videos')
      .values({ title: 'Supplier call', transcript_format: 'srt', transcript: SRT, source: 'api' })
      .returning('id')
      .executeTakeFirstOrThrow();

    const result = await finished(await suite.producer.enqueue('embeddings', 'ingest-transcript', { videoId: video.id }));
    expect(result).toMatchObject({ videoId: video.id, chunks: 1, embedded: 1 });

    const chunks = await db().selectFrom('chunks').select(['content', 'start_seconds', 'end_seconds', 'embedding_model']).where('video_id', '=', video.id).execute();
    expect(chunks).toEqual([
      expect.objectContaining({ start_seconds: '1.000', end_seconds: '760.000', embedding_model: MODEL }),
    ]);
    expect(chunks[0]!.content).toContain('NH-2291');
    const status = await db().selectFrom('videos').select(['status']).where('id', '=', video.id).executeTakeFirstOrThrow();
    expect(status.status).toBe('ready');

    const before = suite.openai.requests.length;
    expect(await finished(await suite.producer.enqueue('embeddings', 'ingest-transcript', { videoId: video.id }, { jobId: 'again' }))).toMatchObject({ embedded: 0 });
    expect(suite.openai.requests.length).toBe(before);
  });

  it('when a transcript cannot be read, then the video is marked failed with the reason and the job is not retried', async () => {
    start();
    const video = await db()
      .insertInto('videos')
      .values({ title: 'Broken', transcript_format: 'vtt', transcript: 'no header here\n\n00:01.000 --> 00:02.000\nhello', source: 'api' })
      .returning('id')
      .executeTakeFirstOrThrow();

    await expect(finished(await suite.producer.enqueue('embeddings', 'ingest-transcript', { videoId: video.id }))).rejects.toThrow(/failed/);
    const row = await db().selectFrom('videos').select(['status', 'error']).where('id', '=', video.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/WEBVTT/);
    expect(suite.openai.requests).toHaveLength(0);
  });
});
