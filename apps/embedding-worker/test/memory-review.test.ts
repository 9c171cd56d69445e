import type { Job } from 'bullmq';
import { createAnthropicClient, LocalHashingEmbeddingProvider } from '@dealdome/ai';
import { toVector } from '@dealdome/db';
import { createUser, recallRelevantMemories } from '@dealdome/domain';
import { jobIds, Producer } from '@dealdome/queues';
import { FakeAnthropic } from '@dealdome/testkit';
import type { AnthropicAnswer, RecordedAnthropicRequest } from '@dealdome/testkit';
import { queueReviewBackfill } from '../src/backfill';
import { useEmbeddingWorkers } from './support';
const REVIEW_MODEL = 'claude-haiku-4-5';

/** The user message of a review request: the new memory and the numbered candidates. */
function reviewPrompt(request: RecordedAnthropicRequest): string {
  const [message] = (request.messages ?? []) as { content: string }[];
  return message?.content ?? '';
}

/** The id the prompt lists for a memory whose content includes `text`. */
function listedId(request: RecordedAnthropicRequest, text: string): string | undefined {
  return [...reviewPrompt(request).matchAll(/<memory id="([^"]+)">([^<]*)<\/memory>/g)].find((m) => m[2]!.includes(text))?.[1];
}

const verdict = (superseded: { id: string; reason: string }[]): AnthropicAnswer => ({
  content: [{ type: 'tool_use', id: `toolu_${Math.random().toString(36).slice(2)}`, name: 'record_superseded_memories', input: { superseded } }],
});

describe('memory contradiction review (embedding-worker with Claude configured)', () => {
  const suite = useEmbeddingWorkers();
  const { db } = suite;
  const provider = new LocalHashingEmbeddingProvider();
  let anthropic: FakeAnthropic;
  let producer: Producer;

  beforeAll(() => {
    producer = suite.producer;
  });
  beforeEach(async () => {
    anthropic = await FakeAnthropic.start();
    await db().deleteFrom('memory_events').execute();
    await db().deleteFrom('memories').execute();
  });
  afterEach(async () => {
    await anthropic.close();
  });

  /** The worker with Claude reviewing (its review jobs queued through `reviewProducer`, the suite's by default), or without. */
  function start(options: { review?: boolean; reviewProducer?: Producer } = {}) {
    return suite.start({
      provider,
      batchWaitMs: 5,
      ...(options.review !== false && {
        review: {
          client: createAnthropicClient({ apiKey: 'sk-ant-review', baseURL: anthropic.url }),
          model: REVIEW_MODEL,
          producer: options.reviewProducer ?? producer,
        },
      }),
    });
  }

  const settled = (jobId: string, timeoutMs?: number) => suite.finished(jobId, timeoutMs);

  /** Stores a memory and runs it through the worker: embedded, de-duplicated, reviewed. */
  async function remember(content: string, userId: string | null = null): Promise<{ id: string; embed: unknown; review: unknown }> {
    const { id } = await db()
      .insertInto('memories')
      .values({ scope: userId ? 'user' : 'team', user_id: userId, kind: 'fact', content })
      .returning('id')
      .executeTakeFirstOrThrow();
    const job: Job = await producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: [id] });
    const embed = await settled(job.id!);
    const review = (embed as { reviews?: number }).reviews ? await settled(jobIds.reviewMemory(id)) : undefined;
    return { id, embed, review };
  }

  const events = (memoryId: string) =>
    db().selectFrom('memory_events').select(['action', 'related_memory_id', 'similarity', 'reason']).where('memory_id', '=', memoryId).orderBy('created_at').execute();

  it('when a new memory contradicts an older one, then the older is superseded by it, kept as history, no longer recalled, and both decisions are recorded', async () => {
    start();
    const china = await remember('We ship from China to every store');
    // Nothing to compare the first memory with: no model call, the review is still recorded.
    expect(china.review).toMatchObject({ outcome: 'reviewed', candidates: 0, superseded: [] });
    expect(anthropic.requests).toHaveLength(0);

    anthropic.respondWith((request) => {
      const old = listedId(request, 'We ship from China');
      return verdict(old ? [{ id: old, reason: 'Shipping moved from China to Poland.' }] : []);
    });
    const poland = await remember('We now ship from Poland to every store');

    expect(poland.review).toMatchObject({ outcome: 'reviewed', candidates: 1, superseded: [china.id], ignored: [], model: REVIEW_MODEL });
    const [request] = anthropic.requests;
    expect(request!.model).toBe(REVIEW_MODEL);
    expect(request!.body.tool_choice).toEqual({ type: 'tool', name: 'record_superseded_memories' });
    expect(reviewPrompt(request!)).toContain('<new_memory>[fact, saved');
    expect(reviewPrompt(request!)).toContain('We now ship from Poland');

    const old = await db().selectFrom('memories').selectAll().where('id', '=', china.id).executeTakeFirstOrThrow();
    expect(old.superseded_by).toBe(poland.id);
    expect(old.superseded_at).toBeInstanceOf(Date);
    expect(old.content).toBe('We ship from China to every store');
    const superseded = (await events(china.id)).find((e) => e.action === 'superseded')!;
    expect(superseded.related_memory_id).toBe(poland.id);
    expect(superseded.reason).toBe(`contradicted by a newer memory (${REVIEW_MODEL}): Shipping moved from China to Poland.`);
    expect(Number(superseded.similarity)).toBeGreaterThan(0.25);
    expect((await events(poland.id)).map((e) => [e.action, e.reason])).toEqual([
      ['kept', 'its nearest current memory is not a near-duplicate'],
      ['reviewed', `1 nearest memory of its scope checked by ${REVIEW_MODEL}: supersedes 1`],
    ]);

    const [vector] = await provider.embed(['where do we ship from']);
    const recalled = await recallRelevantMemories(db(), { userId: null, queryVector: vector!, model: provider.model, k: 5 });
    expect(recalled.map((m) => m.content)).toEqual(['We now ship from Poland to every store']);
  });

  it('when the reviewer finds no contradiction or names a memory it was not shown, then nothing is superseded and the review says so', async () => {
    const ana = (await createUser(db(), { email: 'ana@dealdome.test', displayName: 'Ana' })).user;
    start();
    const team = await remember('The Black Friday ad budget is 5000 EUR');
    // Ana's own memory is of another scope: never shown to a review of the team's, never superseded by it.
    const private_ = await remember('The Black Friday ad budget I plan for is 3000 EUR', ana.id);
    expect(private_.review).toMatchObject({ candidates: 0 });

    anthropic.respondWith(() =>
      verdict([
        { id: private_.id, reason: 'made up: not listed' },
        { id: 'not-a-memory', reason: 'made up' },
      ]),
    );
    const related = await remember('The Black Friday ad budget covers Meta and TikTok');
    expect(related.review).toMatchObject({ outcome: 'reviewed', candidates: 1, superseded: [], ignored: [] });
    expect(listedId(anthropic.requests[0]!, '5000 EUR')).toBe(team.id);
    expect(reviewPrompt(anthropic.requests[0]!)).not.toContain('3000 EUR');

    anthropic.respondWith(() => verdict([]));
    const again = await remember('The Black Friday ad budget is approved by Ana');
    expect(again.review).toMatchObject({ outcome: 'reviewed', candidates: 2, superseded: [] });

    const current = await db().selectFrom('memories').select('content').where('superseded_at', 'is', null).orderBy('created_at').execute();
    expect(current).toHaveLength(4);
    expect((await events(again.id)).at(-1)!.reason).toBe(`2 nearest memories of its scope checked by ${REVIEW_MODEL}: no contradiction`);
  });

  it('when Claude is overloaded, then the review job is retried and the embedding is not redone', async () => {
    start();
    const first = await remember('Our return window is 14 days');
    anthropic.injectError({ error: 'overloaded' }, 1);
    anthropic.respondWith((request) => verdict([{ id: listedId(request, 'return window is 14')!, reason: 'The window is now 30 days.' }]));

    const { id } = await db()
      .insertInto('memories')
      .values({ scope: 'team', kind: 'fact', content: 'Our return window is 30 days now' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await settled((await producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: [id] })).id!);
    // The first attempt fails on the 529; the queue's backoff (2 s) brings the second.
    expect(await settled(jobIds.reviewMemory(id), 30_000)).toMatchObject({ superseded: [first.id] });
    const job = await producer.queue('embeddings').getJob(jobIds.reviewMemory(id));
    expect(job!.attemptsMade).toBe(2);
    expect(anthropic.requests.map((r) => r.status)).toEqual([529, 200]);
  }, 40_000);

  it('when a review job runs again after its review was recorded, then Claude is not asked twice', async () => {
    start();
    anthropic.respondWith(() => verdict([]));
    await remember('We ship from China to every store');
    const { id, review } = await remember('Our warehouse ships from China to every store on Fridays');
    expect(review).toMatchObject({ outcome: 'reviewed' });
    const asked = anthropic.requests.length;

    const again = await producer.enqueue('embeddings', 'review-memory', { memoryId: id }, { jobId: `review-memory-${id}-again` });
    expect(await settled(again.id!)).toEqual({ outcome: 'skipped', reason: 'the memory was reviewed already' });
    expect(anthropic.requests).toHaveLength(asked);
    expect((await events(id)).filter((e) => e.action === 'reviewed')).toHaveLength(1);
  });

  it('when a review ran out of attempts while Claude was down, then the review sweep retries it and the contradiction is applied', async () => {
    start();
    const china = await remember('We ship from China to every store');
    // Poland as its embed job leaves it (embedded, kept), and its review job given a single attempt, during an outage.
    const content = 'We now ship from Poland to every store';
    const [vector] = await provider.embed([content]);
    const { id } = await db()
      .insertInto('memories')
      .values({ scope: 'team', kind: 'fact', content, embedding: toVector(vector!), embedding_model: provider.model })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db().insertInto('memory_events').values({ memory_id: id, action: 'kept' }).execute();
    anthropic.injectError({ error: 'overloaded' }, 1);
    await producer.queue('embeddings').add('review-memory', { memoryId: id }, { jobId: jobIds.reviewMemory(id), attempts: 1 });
    expect((await suite.settled(jobIds.reviewMemory(id))).state).toBe('failed');

    anthropic.respondWith((request) => verdict([{ id: listedId(request, 'China')!, reason: 'Shipping moved to Poland.' }]));
    expect(await queueReviewBackfill(db(), producer, provider.model)).toEqual({ memories: 1, retried: 1 });
    expect(await settled(jobIds.reviewMemory(id))).toMatchObject({ superseded: [china.id] });
    expect(await queueReviewBackfill(db(), producer, provider.model)).toEqual({ memories: 0, retried: 0 });
  });

  it('when no Anthropic key is configured, then memories are only de-duplicated and no review is queued', async () => {
    start({ review: false });
    await remember('We ship from China to every store');
    const { embed, id } = await remember('We now ship from Poland to every store');
    expect(embed).toEqual({ embedded: 1, skipped: 0, model: provider.model, merged: 0 });
    expect(await producer.queue('embeddings').getJob(jobIds.reviewMemory(id))).toBeUndefined();
    expect(await db().selectFrom('memories').select('id').where('superseded_at', 'is not', null).execute()).toHaveLength(0);
  });

  it('when queueing the review fails after the memory was embedded and checked, then the retried job queues it without embedding or checking again', async () => {
    // The review's producer refuses the first review job, as when Redis blinks.
    const flaky = new Producer(suite.redis.redis, suite.redis.prefix);
    jest.spyOn(flaky, 'enqueue').mockRejectedValueOnce(new Error('Redis is unreachable'));
    start({ reviewProducer: flaky });
    anthropic.respondWith(() => verdict([]));
    const { id } = await db()
      .insertInto('memories')
      .values({ scope: 'team', user_id: null, kind: 'fact', content: 'Our supplier ships on Tuesdays' })
      .returning('id')
      .executeTakeFirstOrThrow();

    const job: Job = await producer.enqueue('embeddings', 'embed', { kind: 'memory', ids: [id] });
    // The second attempt embeds nothing (the vector is there) and checks nothing (the decision is recorded).
    expect(await settled(job.id!, 30_000)).toEqual({ embedded: 0, skipped: 0, model: provider.model, merged: 0, reviews: 1 });
    expect((await producer.queue('embeddings').getJob(job.id!))!.attemptsMade).toBe(2);
    await settled(jobIds.reviewMemory(id));
    expect((await events(id)).map((e) => e.action)).toEqual(['kept', 'reviewed']);
    await flaky.close();
  });
});
