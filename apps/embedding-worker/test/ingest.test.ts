import type { Job } from 'bullmq';
import { OpenAIEmbeddingProvider } from '@dealdome/ai';
import type { EmbeddingProvider } from '@dealdome/ai';
import { jobIds } from '@dealdome/queues';
import { useEmbeddingWorkers } from './support';
const MODEL = 'text-embedding-3-small';

const SRT = [
  '1',
  '00:00:01,000 --> 00:00:04,500',
  'Welcome to the packaging review.',
  '',
  '2',
  '00:12:34,250 --> 00:12:40,000',
  'Boxes for SKU NH-3310 come from Gdansk.',
  '',
].join('\n');

const VTT = ['WEBVTT', '', '00:00.000 --> 00:03.250', 'Short and sweet.', '', '01:02:03.500 --> 01:02:07.125', 'That is all.', ''].join('\n');

describe('embedding-worker transcript ingestion', () => {
  const suite = useEmbeddingWorkers({ fakeOpenAI: true });
  const { db } = suite;

  /** The embeddings worker as the service runs it (it marks a video failed when its ingest job gives up). */
  const start = (provider: EmbeddingProvider = new OpenAIEmbeddingProvider({ apiKey: 'sk-test', baseURL: suite.openai.baseURL, retry: { baseDelayMs: 5, maxDelayMs: 20 } })) =>
    suite.start({ provider });
  const settled = (job: Job, timeoutMs?: number) => suite.settled(job.id!, timeoutMs);

  async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (accept(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function video(values: { title: string; transcript: string; format?: 'txt' | 'srt' | 'vtt'; durationSeconds?: string }): Promise<string> {
    const row = await db()
      .insertInto('videos')
      .values({
        title: values.title,
        transcript_format: values.format ?? 'srt',
        transcript: values.transcript,
        source: 'api',
        duration_seconds: values.durationSeconds ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  const ingest = (videoId: string) => suite.producer.enqueue('embeddings', 'ingest-transcript', { videoId }, { jobId: jobIds.ingestTranscript(videoId) });
  const videoRow = (id: string) => db().selectFrom('videos').select(['status', 'error', 'duration_seconds']).where('id', '=', id).executeTakeFirstOrThrow();
  const chunksOf = (id: string) =>
    db().selectFrom('chunks').select(['content', 'embedding', 'embedding_model']).where('video_id', '=', id).orderBy('chunk_index').execute();

  it('when a second video carries the same transcript, then embedding_cache serves its chunks and the provider gets no request', async () => {
    start();
    const first = await video({ title: 'Packaging review', transcript: SRT });
    expect((await settled(await ingest(first))).state).toBe('completed');
    const requestsAfterFirst = suite.openai.requests.length;
    expect(requestsAfterFirst).toBeGreaterThan(0);

    const second = await video({ title: 'Packaging review (re-upload)', transcript: SRT });
    const outcome = await settled(await ingest(second));

    expect(outcome).toMatchObject({ state: 'completed', returnvalue: { videoId: second, chunks: 1, embedded: 1 } });
    expect(suite.openai.requests.length).toBe(requestsAfterFirst);
    const [original, copy] = [await chunksOf(first), await chunksOf(second)];
    expect(copy).toHaveLength(original.length);
    expect(copy.map((c) => c.embedding_model)).toEqual(original.map(() => MODEL));
    expect(copy.map((c) => c.embedding)).toEqual(original.map((c) => c.embedding));
    expect((await videoRow(second)).status).toBe('ready');
  });

  it("when a timed transcript is ingested, then a video without a duration gets its last cue's end; a given duration is kept, plain text sets none", async () => {
    start();
    const srt = await video({ title: 'SRT, no duration', transcript: SRT });
    const vtt = await video({ title: 'VTT, no duration', transcript: VTT, format: 'vtt' });
    const given = await video({ title: 'SRT, duration given', transcript: SRT, durationSeconds: '900.5' });
    const txt = await video({ title: 'Plain text', transcript: 'A paragraph without times.\n\nAnother one.', format: 'txt' });

    for (const id of [srt, vtt, given, txt]) expect((await settled(await ingest(id))).state).toBe('completed');

    expect(await videoRow(srt)).toMatchObject({ status: 'ready', duration_seconds: '760.000' });
    expect(await videoRow(vtt)).toMatchObject({ status: 'ready', duration_seconds: '3727.125' });
    expect(await videoRow(given)).toMatchObject({ status: 'ready', duration_seconds: '900.500' });
    expect(await videoRow(txt)).toMatchObject({ status: 'ready', duration_seconds: null });
  });

  it('when embedding fails on every attempt, then a retry leaves the video processing and the last failure marks it failed with the reason', async () => {
    let calls = 0;
    const down: EmbeddingProvider = {
      model: 'test-down',
      dimensions: 1536,
      embed: async () => {
        calls += 1;
        throw new Error('the embedding provider is down');
      },
    };
    const managed = start(down);
    const id = await video({ title: 'Never embedded', transcript: SRT });
    // Between the attempts (after the listener had its chance to act), the video is still in progress.
    const seenBetween: string[] = [];
    managed.worker.on('failed', (job) => {
      if (job && job.attemptsMade < (job.opts.attempts ?? 1)) {
        setTimeout(() => void videoRow(id).then((row) => seenBetween.push(row.status)), 200);
      }
    });
    // Two attempts a second apart instead of the catalog's five with exponential backoff.
    const job = await suite.producer.queue('embeddings').add('ingest-transcript', { videoId: id }, { jobId: jobIds.ingestTranscript(id), attempts: 2, backoff: { type: 'fixed', delay: 1000 } });

    const outcome = await settled(job);
    expect(outcome).toMatchObject({ state: 'failed', failedReason: 'the embedding provider is down' });
    const row = await eventually(() => videoRow(id), (r) => r.status !== 'processing', 'the video after the last attempt');
    expect(row).toMatchObject({ status: 'failed', error: 'The transcript could not be ingested (gave up after 2 attempts): the embedding provider is down' });
    expect(seenBetween).toEqual(['processing']);
    expect(calls).toBe(2);
  });

  it("when the transcript cannot be read, then the video keeps the reading error: the final-failure listener does not overwrite it", async () => {
    start();
    const id = await video({ title: 'Broken', transcript: 'no header here\n\n00:01.000 --> 00:02.000\nhello', format: 'vtt' });

    expect((await settled(await ingest(id))).state).toBe('failed');
    // Give the listener time to act, had it meant to.
    await new Promise((r) => setTimeout(r, 300));
    const row = await videoRow(id);
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/^Line 1 of the transcript: a WebVTT file starts with "WEBVTT"/);
    expect(suite.openai.requests).toHaveLength(0);
  });
});
