import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { createLogger, createMetricsRegistry } from '@dealdome/config';
import { MAX_TRANSCRIPT_CHARACTERS } from '@dealdome/domain';
import { jobIds, Producer } from '@dealdome/queues';
import type { Platform } from '@dealdome/queues';
import { startServiceProcess } from '@dealdome/testkit';
import type { ServiceProcess } from '@dealdome/testkit';
import { createApp } from '../src/app';
import { useFinanceApi } from './harness';

const problemType = 'application/problem+json';

const SRT = [
  '1',
  '00:00:01,000 --> 00:00:04,500',
  'Welcome to the supplier call.',
  '',
  '2',
  '00:00:05,000 --> 00:00:09,250',
  'Order <i>NH-2291</i> ships on Tuesday.',
  '',
].join('\r\n');

const VTT = ['WEBVTT', '', '00:01.000 --> 00:04.000', '<v Ann>Damaged items are refunded</v> within two days &amp; no questions.', ''].join('\n');

const TXT = 'Packaging notes.\n\nWrap glass in two layers and use double boxes.\n';

/** The second cue's timing is garbled on line 6. */
const BROKEN_SRT = ['1', '00:00:01,000 --> 00:00:02,000', 'Hello.', '', '2', '00:00:03,000 --> 00:00:0X,000', 'Bye.', ''].join('\n');

describe('finance-api videos', () => {
  const api = useFinanceApi();
  let producer: Producer;
  let admin: Awaited<ReturnType<typeof api.userWithToken>>;
  let member: Awaited<ReturnType<typeof api.userWithToken>>;
  let viewer: Awaited<ReturnType<typeof api.userWithToken>>;

  const post = (body: unknown, token = member.accessToken) => api.request('POST', '/v1/videos', { token, body });
  const videoCount = async () => Number((await api.db.selectFrom('videos').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const ingestJobs = async () => (await producer.queue('embeddings').getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).filter((j) => j.name === 'ingest-transcript');
  const tokenWith = async (scopes: string[]) => {
    const res = await api.request('POST', '/v1/api-tokens', { token: admin.accessToken, body: { name: scopes.join(' '), scopes } });
    expect(res.status).toBe(201);
    return res.body.token as string;
  };

  beforeAll(async () => {
    producer = new Producer(api.redis.redis, api.redis.prefix);
    admin = await api.userWithToken('admin');
    member = await api.userWithToken('member');
    viewer = await api.userWithToken('viewer');
  });
  afterAll(async () => {
    await producer.close();
  });

  it('when a member posts an SRT transcript, then the video is stored pending, answered 202 with its Location, and its ingest job is queued', async () => {
    const res = await post({ title: '  Supplier call ', url: 'https://www.youtube.com/watch?v=supplier', durationSeconds: 754.5, transcript: SRT });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    expect(res.headers.get('location')).toBe(`/v1/videos/${id}`);
    expect(res.body).toEqual({
      id,
      title: 'Supplier call',
      url: 'https://www.youtube.com/watch?v=supplier',
      durationSeconds: '754.500',
      source: 'api',
      format: 'srt',
      status: 'pending',
      error: null,
      chunkCount: 0,
      embeddedChunkCount: 0,
      createdBy: member.user.id,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });

    const row = await api.db.selectFrom('videos').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ title: 'Supplier call', source: 'api', transcript_format: 'srt', transcript: SRT, status: 'pending', created_by: member.user.id, duration_seconds: '754.500' });

    const job = await producer.queue('embeddings').getJob(jobIds.ingestTranscript(id));
    expect(job).toBeDefined();
    expect(job!.name).toBe('ingest-transcript');
    // An id, never a copy of the transcript (the trace context rides along).
    expect(Object.keys(job!.data).filter((key) => key !== 'trace')).toEqual(['videoId']);
    expect(job!.data.videoId).toBe(id);
    expect(job!.opts).toMatchObject({ attempts: 5 });
  });

  it('when the format is left out, then WebVTT, SRT and plain text are told apart; a given format is kept', async () => {
    const cases = [
      { transcript: VTT, format: 'vtt' },
      { transcript: `\uFEFF${VTT}`, format: 'vtt' },
      { transcript: TXT, format: 'txt' },
      // An SRT without cue numbers is still SRT.
      { transcript: '00:00:01,000 --> 00:00:02,000\nHello there.\n', format: 'srt' },
      // A number first, but no timing under it: a plain-text list.
      { transcript: '1\nBuy tape.\n\n2\nBuy boxes.\n', format: 'txt' },
    ];
    for (const { transcript, format } of cases) {
      const res = await post({ title: `Detect ${format}`, transcript });
      expect(res.status).toBe(202);
      expect(res.body.format).toBe(format);
      const job = await producer.queue('embeddings').getJob(jobIds.ingestTranscript(res.body.id));
      expect(job?.data.videoId).toBe(res.body.id);
    }
    const given = await post({ title: 'Given as text', format: 'txt', transcript: SRT, source: 'cli' });
    expect(given.status).toBe(202);
    expect(given.body).toMatchObject({ format: 'txt', source: 'cli' });
    const row = await api.db.selectFrom('videos').select(['transcript_format', 'source']).where('id', '=', given.body.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ transcript_format: 'txt', source: 'cli' });
  });

  it('when the transcript cannot be read, then 422 names the line, and no video is stored and no job queued', async () => {
    const videosBefore = await videoCount();
    const jobsBefore = (await ingestJobs()).length;

    const broken = await post({ title: 'Broken', transcript: BROKEN_SRT });
    expect(broken.status).toBe(422);
    expect(broken.headers.get('content-type')).toContain(problemType);
    expect(broken.body).toMatchObject({ status: 422, code: 'unprocessable' });
    expect(broken.body.detail).toMatch(/^Line 6 of the transcript: cannot read the cue timing "00:00:03,000 --> 00:00:0X,000"/);
    expect(broken.body.detail).toContain('(read as srt)');
    expect(broken.body.errors.transcript[0]).toMatch(/^Line 6 /);

    const noHeader = await post({ title: 'Not WebVTT', format: 'vtt', transcript: '00:01.000 --> 00:02.000\nHello\n' });
    expect(noHeader.status).toBe(422);
    expect(noHeader.body.detail).toMatch(/^Line 1 of the transcript: a WebVTT file starts with "WEBVTT"/);

    const backwards = await post({ title: 'Backwards', transcript: '1\n00:00:05,000 --> 00:00:01,000\nHello\n' });
    expect(backwards.status).toBe(422);
    expect(backwards.body.detail).toMatch(/^Line 2 /);

    expect(await videoCount()).toBe(videosBefore);
    expect((await ingestJobs()).length).toBe(jobsBefore);
  });

  it('when a field is missing or out of range, then 400 names it and nothing is stored', async () => {
    const before = await videoCount();
    const valid = { title: 'Fine', transcript: TXT };
    for (const [body, field] of [
      [{ transcript: TXT }, 'title'],
      [{ ...valid, title: '   ' }, 'title'],
      [{ ...valid, title: 'x'.repeat(201) }, 'title'],
      [{ title: 'Fine' }, 'transcript'],
      [{ ...valid, transcript: ' \n\t ' }, 'transcript'],
      [{ ...valid, transcript: 'x'.repeat(MAX_TRANSCRIPT_CHARACTERS + 1) }, 'transcript'],
      [{ ...valid, url: 'ftp://files.example.com/call.mp4' }, 'url'],
      [{ ...valid, url: 'not a url' }, 'url'],
      [{ ...valid, durationSeconds: -1 }, 'durationSeconds'],
      [{ ...valid, durationSeconds: '12.3456' }, 'durationSeconds'],
      [{ ...valid, durationSeconds: 1e21 }, 'durationSeconds'],
      [{ ...valid, source: 'youtube' }, 'source'],
      [{ ...valid, format: 'docx' }, 'format'],
    ] as const) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain(problemType);
      expect(Object.keys(res.body.errors)).toEqual([field]);
    }
    expect((await post({ ...valid, transcript: 'x'.repeat(MAX_TRANSCRIPT_CHARACTERS) })).status).toBe(202);
    expect((await post({ ...valid, durationSeconds: '0', url: null })).body).toMatchObject({ durationSeconds: '0.000', url: null });
    expect(await videoCount()).toBe(before + 2);
  });

  it('when the caller may not add to the knowledge base, then 403; a token with knowledge:write may, as a machine', async () => {
    const before = await videoCount();
    const body = { title: 'Scoped', transcript: TXT };
    expect((await api.request('POST', '/v1/videos', { body })).status).toBe(401);
    expect((await post(body, viewer.accessToken)).status).toBe(403);
    for (const scopes of [['knowledge:read'], ['finance:read', 'finance:write']]) {
      const res = await post(body, await tokenWith(scopes));
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain(problemType);
    }
    expect(await videoCount()).toBe(before);

    const machine = await post(body, await tokenWith(['knowledge:write']));
    expect(machine.status).toBe(202);
    expect(machine.body.createdBy).toBeNull();
    const byAdmin = await post(body, admin.accessToken);
    expect(byAdmin.status).toBe(202);
    expect(byAdmin.body.createdBy).toBe(admin.user.id);
  });

  it('when the job cannot be queued, then the answer is a 503 problem (ask again) and the video is not kept', async () => {
    // Redis refuses at once: nothing listens on port 1, and the client does not retry.
    const unreachable = new Redis('redis://127.0.0.1:1', { lazyConnect: true, maxRetriesPerRequest: null, retryStrategy: () => null });
    const platform = {
      database: { db: api.db },
      redis: api.redis.redis,
      producer: new Producer(unreachable, api.redis.prefix),
      logger: createLogger('finance-api', { level: 'silent' }),
      reads: api.db,
      registry: createMetricsRegistry('finance-api'),
    } as unknown as Platform;
    const server = createApp(platform, api.env).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const before = await videoCount();
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/videos`, {
        method: 'POST',
        headers: { authorization: `Bearer ${member.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Lost in the queue', transcript: TXT }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain(problemType);
      expect(((await res.json()) as { code: string }).code).toBe('queue_unavailable');
      expect(await videoCount()).toBe(before);
      expect(await api.db.selectFrom('videos').select('id').where('title', '=', 'Lost in the queue').execute()).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await platform.producer.close().catch(() => undefined);
      unreachable.disconnect();
    }
  });

  it('when videos are read, then each shows its status, error and chunk counts; lists page newest first and filter by status', async () => {
    const [first, second, third] = await Promise.all(['List one', 'List two', 'List three'].map((title) => post({ title, transcript: TXT })));
    // The ingest job's work, as the embedding-worker leaves it.
    await api.db
      .insertInto('chunks')
      .values([
        { video_id: first!.body.id, chunk_index: 0, content: 'Packaging notes.', token_count: 4 },
        { video_id: first!.body.id, chunk_index: 1, content: 'Wrap glass twice.', token_count: 4 },
      ])
      .execute();
    await api.db.updateTable('videos').set({ status: 'processing' }).where('id', '=', first!.body.id).execute();
    await api.db.updateTable('videos').set({ status: 'failed', error: 'the provider refused' }).where('id', '=', second!.body.id).execute();

    const one = await api.request('GET', `/v1/videos/${first!.body.id}`, { token: viewer.accessToken });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: first!.body.id, status: 'processing', chunkCount: 2, embeddedChunkCount: 0, error: null });
    expect(one.body).not.toHaveProperty('transcript');
    expect((await api.request('GET', `/v1/videos/${second!.body.id}`, { token: viewer.accessToken })).body).toMatchObject({ status: 'failed', error: 'the provider refused' });

    const reader = await tokenWith(['knowledge:read']);
    const failed = await api.request('GET', '/v1/videos?status=failed', { token: reader });
    expect(failed.status).toBe(200);
    expect(failed.body.data.map((v: { id: string }) => v.id)).toEqual([second!.body.id]);

    const whole = (await api.request('GET', '/v1/videos?limit=200', { token: viewer.accessToken })).body.data as { id: string; createdAt: string }[];
    expect(whole.length).toBe(await videoCount());
    const times = whole.map((v) => v.createdAt);
    expect(times).toEqual([...times].sort().reverse());
    expect(whole.map((v) => v.id)).toEqual(expect.arrayContaining([first!.body.id, second!.body.id, third!.body.id]));
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await api.request('GET', `/v1/videos?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token: viewer.accessToken });
      paged.push(...page.body.data.map((v: { id: string }) => v.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(paged).toEqual(whole.map((v) => v.id));

    const unknown = await api.request('GET', '/v1/videos/00000000-0000-4000-8000-000000000000', { token: viewer.accessToken });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain(problemType);
    expect((await api.request('GET', '/v1/videos?status=done', { token: viewer.accessToken })).status).toBe(400);
    expect((await api.request('GET', '/v1/videos', { token: await tokenWith(['knowledge:write']) })).status).toBe(403);
  });
});

describe('finance-api videos with the embedding-worker running', () => {
  const api = useFinanceApi();
  let worker: ServiceProcess | undefined;

  beforeAll(async () => {
    worker = await startServiceProcess(
      'embedding-worker',
      {
        DATABASE_URL: api.env.DATABASE_URL,
        REDIS_URL: api.env.REDIS_URL,
        QUEUE_PREFIX: api.env.QUEUE_PREFIX,
        HTTP_HOST: '127.0.0.1',
        EMBEDDING_WORKER_PORT: '0',
        // Readiness is read from the info line that says the worker serves.
        LOG_LEVEL: 'info',
      },
      { readyTimeoutMs: 25_000 },
    );
  }, 30_000);
  afterAll(async () => {
    await worker?.signal('SIGTERM');
  });

  it('when a transcript is posted, then the worker ingests the queued job: the video turns ready with every chunk embedded, and search finds it', async () => {
    const { accessToken: token } = await api.userWithToken('member');
    const posted = await api.request('POST', '/v1/videos', { token, body: { title: 'Supplier call', url: 'https://youtu.be/supplier', transcript: SRT } });
    expect(posted.status).toBe(202);

    const location = posted.headers.get('location')!;
    let video = posted.body;
    const deadline = Date.now() + 20_000;
    while (video.status !== 'ready' && video.status !== 'failed' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      video = (await api.request('GET', location, { token })).body;
    }
    expect(video).toMatchObject({ status: 'ready', error: null, chunkCount: 1, embeddedChunkCount: 1 });

    const search = await api.request('GET', `/v1/knowledge/search?q=${encodeURIComponent('when does order NH-2291 ship')}`, { token });
    expect(search.status).toBe(200);
    expect(search.body.hits[0]).toMatchObject({ videoId: video.id, videoTitle: 'Supplier call', start: '0:01', link: 'https://youtu.be/supplier?t=1' });
    expect(search.body.hits[0].text).toBe('Welcome to the supplier call. Order NH-2291 ships on Tuesday.');
    expect(search.body.hits[0].vectorRank).toBe(1);
  }, 30_000);
});
