import { EMBEDDING_DIMENSIONS, toVector } from '@dealdome/db';
import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import { z } from 'zod';
import type { AgentName } from '../conversations';
import { formatVideoTime } from '../turns';
import type { KnowledgeHit } from '../turns';
import { Decimal } from '../values';

/**
 * Hybrid search over the knowledge base's transcript chunks: the nearest chunks by
 * cosine distance (HNSW index) and the best full-text matches (GIN-indexed tsvector),
 * fused by reciprocal rank. Each side finds what the other misses — the vector side
 * a passage that says the question in other words, the text side a SKU or a rare
 * name whose vector is far from any question — and a chunk both find ranks first.
 */

/**
 * Reciprocal rank fusion: a chunk scores Σ 1 / (RRF_K + rank) over the sides that
 * found it (rank 1 = best). 60 is the constant of Cormack, Clarke & Büttcher (2009),
 * kept by most hybrid search engines: large enough that being first on one side
 * weighs little more than being second (1/61 against 1/62), so agreement counts for
 * more than either side's order. With up to 60 candidates a side, a chunk both sides
 * found always outranks one that a single side found, even first there (2/120 > 1/61).
 */
export const RRF_K = 60;

/** How many chunks each side contributes before fusion. */
export const DEFAULT_SEARCH_CANDIDATES = 50;
/** hnsw.ef_search, which must be at least the number of candidates, goes no higher. */
export const MAX_SEARCH_CANDIDATES = 1000;
/** pgvector's default hnsw.ef_search; fewer candidates never search a smaller graph neighbourhood. */
const MIN_EF_SEARCH = 40;

/**
 * The relevance floor: a chunk that the text side did not match is dropped when its
 * cosine similarity to the query is below its model's floor. The vector side always
 * answers its nearest chunks, however far, so without a floor a question about
 * anything would return the whole knowledge base.
 *
 * - OpenAI's text-embedding-3 models (and other semantic models): 0.35. Unrelated
 *   English text sits at about 0.0–0.2 with them; a transcript passage about the
 *   question's subject scores from about 0.4 up, so 0.35 keeps paraphrases (the
 *   point of the vector side) and leaves unrelated passages out.
 * - The local hashing provider (`local-hashing-v1`): 0.8. Its vectors are lexical and
 *   function words are features too: measured against 300 passages of English text
 *   that share no word with the question, plain questions ("how to find a winning
 *   product") reach 0.30 and chatty ones ("can you tell me what the guy in the video
 *   said about the ads") 0.57, a lone "the" 0.71. What it would add beyond the text
 *   side is word pieces shared without a shared word, which is noise far more often
 *   than help. So with it only text matches are kept, and its vector side still
 *   ranks them (a chunk both sides found scores higher).
 */
export const RELEVANCE_FLOOR = { default: 0.35, 'local-hashing-v1': 0.8 } as const;

export function relevanceFloor(model: string): number {
  return model === 'local-hashing-v1' ? RELEVANCE_FLOOR['local-hashing-v1'] : RELEVANCE_FLOOR.default;
}

export const knowledgeSearchQuery = z.object({
  q: z.string().trim().min(1).max(500).meta({ description: 'The question or the words to look for' }),
  limit: z.coerce.number().int().min(1).max(50).default(10),
});

export interface KnowledgeSearchHit extends KnowledgeHit {
  /** Position among the vector side's nearest chunks (1 = nearest); null when it did not find the chunk. */
  vectorRank: number | null;
  /** Position among the full-text matches (1 = best); null when the text side did not match the chunk. */
  textRank: number | null;
  /** Cosine similarity to the query; null for a chunk without a vector of the query's model. */
  similarity: number | null;
  /** The video at the chunk's start (`t=` whole seconds), for citing; null without a video url. */
  link: string | null;
}

export interface KnowledgeSearchTimings {
  /** Embedding the query, as the caller measured it; null without a query vector. */
  embeddingMs: number | null;
  databaseMs: number;
  /** Embedding and everything this function did before recording the search. */
  totalMs: number;
}

export interface HybridKnowledgeSearchOptions {
  query: string;
  /** The query embedded by `model`; null searches the text side only (no embedding available). */
  queryVector: number[] | null;
  /** The model that embedded the query: only chunks embedded by the same model are compared. */
  model: string;
  limit: number;
  /** Drop hits whose fused score is below this (at most 2 / (RRF_K + 1), found first by both sides). */
  minScore?: number;
  /** Chunks each side contributes (default DEFAULT_SEARCH_CANDIDATES). */
  candidates?: number;
  /** How long embedding the query took, recorded with the search. */
  embeddingMs?: number | null;
  agent?: AgentName | null;
  userId?: string | null;
}

/**
 * The query's words (and hyphenated terms such as SKUs) OR-ed into a tsquery, so a
 * question matches text sharing any of them; ts_rank_cd ranks the text that shares
 * more, and closer together, first. Only letters, digits and inner hyphens reach
 * to_tsquery, so no input is a syntax error; a hyphenated term becomes the phrase
 * of its parts ('nh' <-> '-2291'), exactly as the chunk's tsvector holds it.
 */
function anyTermQuery(text: string): string | null {
  const terms = [...new Set(text.toLowerCase().match(/[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)*/gu) ?? [])].slice(0, 32);
  return terms.length ? terms.join(' | ') : null;
}

/** The video's url at the chunk's start, for a citation: `t=754` added (or replaced) in its query. */
export function citationLink(url: string | null, startSeconds: string | null): string | null {
  if (url === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  if (startSeconds === null) return url;
  parsed.searchParams.set('t', new Decimal(startSeconds).floor().toFixed(0));
  return parsed.href;
}

interface Ranked {
  vectorRank: number | null;
  textRank: number | null;
  similarity: number | null;
  score: number;
}

/** Adds each side's 1 / (k + rank) per chunk; the sides' lists are best first. */
export function reciprocalRankFusion(
  vectorSide: readonly { id: string; similarity: number }[],
  textSide: readonly string[],
  k = RRF_K,
): Map<string, Ranked> {
  const fused = new Map<string, Ranked>();
  const entry = (id: string) => {
    let ranked = fused.get(id);
    if (!ranked) fused.set(id, (ranked = { vectorRank: null, textRank: null, similarity: null, score: 0 }));
    return ranked;
  };
  vectorSide.forEach(({ id, similarity }, i) => {
    const ranked = entry(id);
    ranked.vectorRank = i + 1;
    ranked.similarity = similarity;
    ranked.score += 1 / (k + i + 1);
  });
  textSide.forEach((id, i) => {
    const ranked = entry(id);
    ranked.textRank = i + 1;
    ranked.score += 1 / (k + i + 1);
  });
  return fused;
}

const bestRank = (r: Ranked) => Math.min(r.vectorRank ?? Infinity, r.textRank ?? Infinity);

/**
 * Hybrid search, best first, with each chunk's video and time span for citations.
 * Every search writes one search_metrics row: mode 'hybrid' ('fulltext' without a
 * query vector), hit count, best fused score, the nearest chunk's similarity, and
 * where the time went.
 */
export async function hybridKnowledgeSearch(
  db: Database,
  options: HybridKnowledgeSearchOptions,
): Promise<{ hits: KnowledgeSearchHit[]; timings: KnowledgeSearchTimings }> {
  const started = performance.now();
  const candidates = options.candidates ?? DEFAULT_SEARCH_CANDIDATES;
  if (!Number.isInteger(candidates) || candidates < 1 || candidates > MAX_SEARCH_CANDIDATES) {
    throw new RangeError(`candidates must be an integer from 1 to ${MAX_SEARCH_CANDIDATES}, got ${candidates}`);
  }
  if (!Number.isInteger(options.limit) || options.limit < 1) throw new RangeError(`limit must be a positive integer, got ${options.limit}`);
  if (options.queryVector && options.queryVector.length !== EMBEDDING_DIMENSIONS) {
    throw new RangeError(`the query vector has ${options.queryVector.length} dimensions, the chunks ${EMBEDDING_DIMENSIONS}`);
  }
  // A zero vector (the local provider's features can cancel out) has no direction to compare.
  const vector = options.queryVector?.some((x) => x !== 0) ? toVector(options.queryVector) : null;
  const tsquery = anyTermQuery(options.query);

  const search = async (trx: Database) => {
    let nearest: { id: string; similarity: number }[] = [];
    if (vector !== null) {
      // Iterative scans let the model filter keep the LIMIT filled from the index (pgvector 0.8);
      // relaxed order is re-sorted below. Both settings end with the transaction.
      await sql`SELECT set_config('hnsw.ef_search', ${String(Math.max(candidates, MIN_EF_SEARCH))}, true),
                       set_config('hnsw.iterative_scan', 'relaxed_order', true)`.execute(trx);
      const { rows } = await sql<{ id: string; distance: number }>`
        WITH nearest AS MATERIALIZED (
          SELECT id, embedding <=> ${vector}::vector AS distance
          FROM chunks
          WHERE embedding_model = ${options.model}
          ORDER BY distance
          LIMIT ${candidates})
        SELECT id, distance FROM nearest ORDER BY distance, id`.execute(trx);
      // A stored zero vector is at NaN distance from everything: never near.
      nearest = rows.filter((r) => Number.isFinite(r.distance)).map((r) => ({ id: r.id, similarity: 1 - r.distance }));
    }
    const matched =
      tsquery === null
        ? []
        : (
            await sql<{ id: string }>`
              SELECT c.id
              FROM chunks c, to_tsquery('english', ${tsquery}) AS q
              WHERE c.tsv @@ q
              ORDER BY ts_rank_cd(c.tsv, q) DESC, c.video_id, c.chunk_index
              LIMIT ${candidates}`.execute(trx)
          ).rows.map((r) => r.id);
    return { nearest, matched };
  };
  const dbStarted = performance.now();
  const { nearest, matched } = vector !== null ? await (db.isTransaction ? search(db) : db.transaction().execute(search)) : await search(db);

  const floor = relevanceFloor(options.model);
  const chosen = [...reciprocalRankFusion(nearest, matched)]
    .filter(([, r]) => r.textRank !== null || (r.similarity !== null && r.similarity >= floor))
    .filter(([, r]) => options.minScore === undefined || r.score >= options.minScore)
    .sort(([idA, a], [idB, b]) => b.score - a.score || bestRank(a) - bestRank(b) || idA.localeCompare(idB))
    .slice(0, options.limit);

  const details = chosen.length
    ? (
        await sql<{
          id: string;
          video_id: string;
          title: string;
          url: string | null;
          start_seconds: string | null;
          end_seconds: string | null;
          content: string;
          similarity: number | null;
        }>`
          SELECT c.id, v.id AS video_id, v.title, v.url, c.start_seconds, c.end_seconds, c.content,
                 CASE WHEN ${vector}::vector IS NOT NULL AND c.embedding_model = ${options.model}
                      THEN 1 - (c.embedding <=> ${vector}::vector) END AS similarity
          FROM chunks c
          JOIN videos v ON v.id = c.video_id
          WHERE c.id = ANY(${chosen.map(([id]) => id)}::uuid[])`.execute(db)
      ).rows
    : [];
  const databaseMs = performance.now() - dbStarted;
  const byId = new Map(details.map((d) => [d.id, d]));

  const hits: KnowledgeSearchHit[] = chosen.flatMap(([id, ranked]) => {
    // A chunk deleted between the two reads is left out.
    const d = byId.get(id);
    if (!d) return [];
    return [
      {
        chunkId: id,
        videoId: d.video_id,
        videoTitle: d.title,
        videoUrl: d.url,
        startSeconds: d.start_seconds,
        endSeconds: d.end_seconds,
        start: formatVideoTime(d.start_seconds),
        end: formatVideoTime(d.end_seconds),
        text: d.content,
        score: ranked.score,
        vectorRank: ranked.vectorRank,
        textRank: ranked.textRank,
        similarity: ranked.similarity ?? (Number.isFinite(d.similarity) ? d.similarity : null),
        link: citationLink(d.url, d.start_seconds),
      },
    ];
  });

  const embeddingMs = vector === null ? null : (options.embeddingMs ?? null);
  const timings: KnowledgeSearchTimings = { embeddingMs, databaseMs, totalMs: (embeddingMs ?? 0) + performance.now() - started };
  const topSimilarity = nearest[0]?.similarity;
  await db
    .insertInto('search_metrics')
    .values({
      query: options.query.slice(0, 1000),
      mode: vector === null ? 'fulltext' : 'hybrid',
      agent: options.agent ?? null,
      user_id: options.userId ?? null,
      result_count: hits.length,
      top_score: hits[0] ? hits[0].score.toFixed(6) : null,
      latency_ms: timings.totalMs.toFixed(3),
      embedding_model: vector === null ? null : options.model,
      embedding_ms: embeddingMs === null ? null : embeddingMs.toFixed(3),
      database_ms: databaseMs.toFixed(3),
      // Float rounding can put an identical vector a hair above 1.
      top_similarity: topSimilarity === undefined ? null : Math.min(1, Math.max(-1, topSimilarity)).toFixed(6),
    })
    .execute();
  return { hits, timings };
}
