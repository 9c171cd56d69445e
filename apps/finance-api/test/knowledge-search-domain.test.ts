import { EMBEDDING_DIMENSIONS, toVector } from '@dealdome/db';
import { useTestDatabase } from '@dealdome/db/testing';
// Here rather than in the domain's tests: they need a real provider, and @dealdome/ai depends on the domain.
import { LocalHashingEmbeddingProvider } from '@dealdome/ai';
import { RRF_K, citationLink, hybridKnowledgeSearch, reciprocalRankFusion, relevanceFloor } from '@dealdome/domain';

const local = new LocalHashingEmbeddingProvider();
const LOCAL = local.model;

/** A unit vector whose cosine similarity with `axis(0)` is exactly `cos`. */
function atSimilarity(cos: number): number[] {
  const v = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  v[0] = cos;
  v[1] = Math.sqrt(1 - cos * cos);
  return v;
}

describe('hybridKnowledgeSearch', () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;

  async function addVideo(title: string, url: string | null = null): Promise<string> {
    const video = await db()
      .insertInto('videos')
      .values({ title, url, transcript_format: 'txt', transcript: '(see chunks)', status: 'ready' })
      .returning('id')
      .executeTakeFirstOrThrow();
    return video.id;
  }

  let nextIndex = 0;
  /** A chunk embedded by the local provider unless told otherwise (`embedding: null` leaves it unembedded). */
  async function addChunk(
    videoId: string,
    content: string,
    options: { embedding?: number[] | null; model?: string; start?: string } = {},
  ): Promise<string> {
    const embedding = options.embedding === undefined ? (await local.embed([content]))[0]! : options.embedding;
    const chunk = await db()
      .insertInto('chunks')
      .values({
        video_id: videoId,
        chunk_index: nextIndex++,
        content,
        token_count: Math.ceil(content.length / 4),
        start_seconds: options.start ?? null,
        end_seconds: options.start ?? null,
        embedding: embedding === null ? null : toVector(embedding),
        embedding_model: embedding === null ? null : (options.model ?? LOCAL),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return chunk.id;
  }

  async function search(query: string, options: { candidates?: number; limit?: number; model?: string; queryVector?: number[] | null } = {}) {
    const queryVector = options.queryVector === undefined ? (await local.embed([query]))[0]! : options.queryVector;
    return hybridKnowledgeSearch(db(), { query, queryVector, model: options.model ?? LOCAL, limit: options.limit ?? 10, candidates: options.candidates, agent: 'elisa' });
  }

  beforeEach(async () => {
    await db().deleteFrom('videos').execute();
    await db().deleteFrom('search_metrics').execute();
  });

  const supplierTalk = [
    'What did the supplier say about shipping times? The supplier said shipping times are ten days.',
    'The supplier will say shipping times go up in November, so what we did was order early.',
    'Shipping times from the supplier: what they say and what they did last year.',
    'Ask the supplier what shipping times they can do, and say what you did with the last one.',
    'The supplier said what shipping did to our times: we say two weeks now.',
  ];

  it('when a SKU appears in one passage only, then the text side finds it although its vector is not among the nearest', async () => {
    // Chatty passages sharing the question's function words but none of its terms: what the lexical vectors find nearest.
    const chat = await addVideo('Team call', 'https://www.youtube.com/watch?v=call');
    const chatty = [
      'What did he do about the other one? What did he tell them about it, and what did he do then?',
      'He did what he did about the thing. What did he tell you about the thing?',
      'And what about the rest? What did he tell the others about the other one?',
      'What did he want? He did tell me about the thing, but what did he do about it?',
    ];
    for (const text of chatty) await addChunk(chat, text);
    const codes = await addVideo('Warehouse codes', 'https://youtu.be/codes');
    const sku = await addChunk(codes, 'Packing list for the desk fan, warehouse code NH-2291: box of 40 by 30 centimetres, four to a carton.', { start: '754.5' });
    const question = 'what did he say about the NH-2291';

    const { hits } = await search(question);
    // Every chunk is a vector candidate here, and the SKU passage is the farthest of them.
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ chunkId: sku, textRank: 1, vectorRank: chatty.length + 1, videoTitle: 'Warehouse codes', start: '12:34', link: 'https://youtu.be/codes?t=754' });
    expect(hits[0]!.similarity).toBeLessThan(relevanceFloor(LOCAL));

    // With fewer candidates the vector side alone does not find it at all; the text side still does.
    const narrow = await search(question, { candidates: 3 });
    expect(narrow.hits.map((h) => [h.chunkId, h.textRank, h.vectorRank])).toEqual([[sku, 1, null]]);
  });

  it('when a passage shares no word with the question, then the relevance floor keeps it out although the vector side ranked it', async () => {
    const calls = await addVideo('Supplier calls');
    for (const text of supplierTalk) await addChunk(calls, text);
    const office = await addVideo('Office');
    const plants = await addChunk(office, 'Water the office plants every Monday morning; the cactus needs it once a month.');
    const query = 'what did the supplier say about shipping times';

    const { hits } = await search(query);
    expect(hits.map((h) => h.chunkId)).not.toContain(plants);
    expect(hits).toHaveLength(supplierTalk.length);
    // It was a candidate: the vector side answers every chunk of the model (fewer than the candidates).
    const [q, p] = await local.embed([query, 'Water the office plants every Monday morning; the cactus needs it once a month.']);
    const similarity = q!.reduce((sum, x, i) => sum + x * p![i]!, 0);
    expect(similarity).toBeGreaterThan(0);
    expect(similarity).toBeLessThan(relevanceFloor(LOCAL));
  });

  it('when only the vector side finds a passage, then it is kept at or above the floor and dropped below it', async () => {
    const model = 'semantic-test-model';
    const video = await addVideo('Returns');
    const close = await addChunk(video, 'Customers get their money back within two days.', { embedding: atSimilarity(0.5), model });
    const far = await addChunk(video, 'Our office moved to Utrecht.', { embedding: atSimilarity(0.2), model });
    expect(relevanceFloor(model)).toBe(0.35);

    const { hits } = await search('refund', { model, queryVector: atSimilarity(1) });
    expect(hits.map((h) => h.chunkId)).toEqual([close]);
    expect(hits[0]).toMatchObject({ vectorRank: 1, textRank: null });
    expect(hits[0]!.similarity).toBeCloseTo(0.5, 5);
    expect(hits.map((h) => h.chunkId)).not.toContain(far);
  });

  it('when chunks were embedded by another model, then the vector side never returns them', async () => {
    const video = await addVideo('Mixed models');
    const question = 'how long do refunds take';
    const [queryVector] = await local.embed([question]);
    // The very same vector, stored as another model's: in that space it means something else.
    const otherSpace = await addChunk(video, 'Intro music.', { embedding: queryVector!, model: 'text-embedding-3-small' });
    const otherModelText = await addChunk(video, 'Refunds take two days to arrive.', { embedding: queryVector!, model: 'text-embedding-3-small' });
    const ours = await addChunk(video, 'How long refunds take depends on the bank.');

    const { hits } = await search(question);
    expect(hits.map((h) => h.chunkId)).not.toContain(otherSpace);
    expect(hits.find((h) => h.chunkId === otherModelText)).toMatchObject({ vectorRank: null, similarity: null });
    expect(hits.find((h) => h.chunkId === ours)).toMatchObject({ vectorRank: 1 });
    expect(hits.filter((h) => h.vectorRank !== null).map((h) => h.chunkId)).toEqual([ours]);
  });

  it('when a search runs, then one search_metrics row records it', async () => {
    const video = await addVideo('Ads');
    await addChunk(video, 'A good ROAS for facebook ads depends on your margin.');
    await addChunk(video, 'Scaling tiktok campaigns slowly keeps the ROAS up.');
    const question = 'good ROAS for facebook ads';
    const [queryVector] = await local.embed([question]);

    const { hits, timings } = await hybridKnowledgeSearch(db(), { query: question, queryVector: queryVector!, model: LOCAL, limit: 5, embeddingMs: 12.5, agent: 'elisa' });
    expect(hits).toHaveLength(2);
    expect(timings.embeddingMs).toBe(12.5);
    expect(timings.totalMs).toBeGreaterThanOrEqual(12.5 + timings.databaseMs);

    const rows = await db().selectFrom('search_metrics').selectAll().execute();
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ query: question, mode: 'hybrid', agent: 'elisa', result_count: 2, embedding_model: LOCAL, embedding_ms: '12.500' });
    expect(Number(row.database_ms)).toBeCloseTo(timings.databaseMs, 2);
    expect(Number(row.latency_ms)).toBeCloseTo(timings.totalMs, 2);
    expect(Number(row.top_score)).toBeCloseTo(hits[0]!.score, 6);
    expect(Number(row.top_similarity)).toBeCloseTo(Math.max(...hits.map((h) => h.similarity!)), 5);

    // Without a query vector the words alone are searched, and the row says so.
    const wordsOnly = await hybridKnowledgeSearch(db(), { query: 'tiktok', queryVector: null, model: LOCAL, limit: 5 });
    expect(wordsOnly.hits.map((h) => h.textRank)).toEqual([1]);
    const second = await db().selectFrom('search_metrics').selectAll().where('query', '=', 'tiktok').executeTakeFirstOrThrow();
    expect(second).toMatchObject({ mode: 'fulltext', result_count: 1, embedding_model: null, embedding_ms: null, top_similarity: null });
    // A zero vector has no direction: searched as words only too.
    const zero = await hybridKnowledgeSearch(db(), { query: 'margin', queryVector: new Array<number>(EMBEDDING_DIMENSIONS).fill(0), model: LOCAL, limit: 5 });
    expect(zero.hits.map((h) => [h.textRank, h.vectorRank])).toEqual([[1, null]]);
    expect(zero.timings.embeddingMs).toBeNull();
  });

  it('when one passage is found by both sides and another only by the text side, even first there, then the one found by both ranks higher', async () => {
    const video = await addVideo('Returns');
    // Not embedded yet: the text side can still find it, and puts it first.
    const textOnly = await addChunk(video, 'Refund policy for damaged items: refund damaged items at once, refund policy damaged items.', { embedding: null });
    const both = await addChunk(video, 'Our refund policy covers items that arrive damaged.');

    const { hits } = await search('refund policy for damaged items');
    expect(hits.map((h) => h.chunkId)).toEqual([both, textOnly]);
    const [first, second] = hits as [(typeof hits)[number], (typeof hits)[number]];
    expect(second).toMatchObject({ textRank: 1, vectorRank: null, similarity: null });
    expect(second.score).toBeCloseTo(1 / (RRF_K + 1), 12);
    expect(first).toMatchObject({ textRank: 2, vectorRank: 1 });
    expect(first.score).toBeCloseTo(1 / (RRF_K + 1) + 1 / (RRF_K + 2), 12);
  });

  it('when minScore is given, then hits below it are dropped', async () => {
    const video = await addVideo('Returns');
    await addChunk(video, 'Refund policy for damaged items: refund damaged items at once.', { embedding: null });
    const both = await addChunk(video, 'Our refund policy covers items that arrive damaged.');
    const question = 'refund policy for damaged items';
    const [queryVector] = await local.embed([question]);
    const { hits } = await hybridKnowledgeSearch(db(), { query: question, queryVector: queryVector!, model: LOCAL, limit: 10, minScore: 1.5 / (RRF_K + 1) });
    expect(hits.map((h) => h.chunkId)).toEqual([both]);
  });
});

describe('reciprocalRankFusion', () => {
  it('when ranks are fused, then each side adds 1 / (60 + rank)', () => {
    const fused = reciprocalRankFusion(
      [
        { id: 'a', similarity: 0.9 },
        { id: 'b', similarity: 0.5 },
      ],
      ['b', 'c'],
    );
    expect(fused.get('a')).toEqual({ vectorRank: 1, textRank: null, similarity: 0.9, score: 1 / 61 });
    expect(fused.get('b')).toEqual({ vectorRank: 2, textRank: 1, similarity: 0.5, score: 1 / 62 + 1 / 61 });
    expect(fused.get('c')).toEqual({ vectorRank: null, textRank: 2, similarity: null, score: 1 / 62 });
  });
});

describe('citationLink', () => {
  it('when a video has a url and the passage a start, then the link adds t= whole seconds to its query', () => {
    expect(citationLink('https://www.youtube.com/watch?v=abc', '754.5')).toBe('https://www.youtube.com/watch?v=abc&t=754');
    expect(citationLink('https://youtu.be/abc', '3723.999')).toBe('https://youtu.be/abc?t=3723');
    expect(citationLink('https://youtu.be/abc?t=5', '60')).toBe('https://youtu.be/abc?t=60');
    expect(citationLink('https://vimeo.com/1#chapter', '0')).toBe('https://vimeo.com/1?t=0#chapter');
  });

  it('when there is no url, or no usable one, then there is no link; without a start, the url itself', () => {
    expect(citationLink(null, '12')).toBeNull();
    expect(citationLink('not a url', '12')).toBeNull();
    expect(citationLink('javascript:alert(1)', '12')).toBeNull();
    expect(citationLink('https://youtu.be/abc', null)).toBe('https://youtu.be/abc');
  });
});
