import { EMBEDDING_DIMENSIONS, toVector } from '@dealdome/db';
import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';

/**
 * Hybrid search, whatever is searched (transcript chunks, products): the nearest
 * rows by cosine distance (HNSW index) and the best full-text matches (GIN-indexed
 * tsvector), fused by reciprocal rank. Each side finds what the other misses — the
 * vector side a text that says the query in other words, the text side a SKU or a
 * rare name whose vector is far from any query — and a row both find ranks first.
 */

/**
 * Reciprocal rank fusion: a row scores Σ 1 / (RRF_K + rank) over the sides that
 * found it (rank 1 = best). 60 is the constant of Cormack, Clarke & Büttcher (2009),
 * kept by most hybrid search engines: large enough that being first on one side
 * weighs little more than being second (1/61 against 1/62), so agreement counts for
 * more than either side's order. With up to 60 candidates a side, a row both sides
 * found always outranks one that a single side found, even first there (2/120 > 1/61).
 */
export const RRF_K = 60;

/** How many rows each side contributes before fusion. */
export const DEFAULT_SEARCH_CANDIDATES = 50;
/** hnsw.ef_search, which must be at least the number of candidates, goes no higher. */
export const MAX_SEARCH_CANDIDATES = 1000;
/** pgvector's default hnsw.ef_search; fewer candidates never search a smaller graph neighbourhood. */
const MIN_EF_SEARCH = 40;

/**
 * The relevance floor: a row that the text side did not match is dropped when its
 * cosine similarity to the query is below its model's floor. The vector side always
 * answers its nearest rows, however far, so without a floor a query about anything
 * would return everything.
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
 *   ranks them (a row both sides found scores higher).
 */
export const RELEVANCE_FLOOR = { default: 0.35, 'local-hashing-v1': 0.8 } as const;

export function relevanceFloor(model: string): number {
  return model === 'local-hashing-v1' ? RELEVANCE_FLOOR['local-hashing-v1'] : RELEVANCE_FLOOR.default;
}

/**
 * The query's words (and hyphenated terms such as SKUs) OR-ed into a tsquery, so a
 * query matches text sharing any of them; ts_rank_cd ranks the text that shares
 * more, and closer together, first. Only letters, digits and inner hyphens reach
 * to_tsquery, so no input is a syntax error; a hyphenated term becomes the phrase
 * of its parts ('nh' <-> '-2291'), exactly as a tsvector holds it.
 */
export function anyTermQuery(text: string): string | null {
  const terms = [...new Set(text.toLowerCase().match(/[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)*/gu) ?? [])].slice(0, 32);
  return terms.length ? terms.join(' | ') : null;
}

export interface Ranked {
  /** Position among the vector side's nearest rows (1 = nearest); null when it did not find the row. */
  vectorRank: number | null;
  /** Position among the full-text matches (1 = best); null when the text side did not match the row. */
  textRank: number | null;
  /** Cosine similarity to the query, as the vector side found it; null when it did not. */
  similarity: number | null;
  score: number;
}

/** Adds each side's 1 / (k + rank) per row; the sides' lists are best first. */
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

/** The two sides of one search, as SQL over the searched table. */
export interface HybridSides {
  /**
   * (id, distance) of the `candidates` rows nearest to `vector` (a vector literal)
   * among those embedded by the query's model and passing the search's filters,
   * nearest first (`ORDER BY embedding <=> vector LIMIT candidates`, so the HNSW
   * index answers it).
   */
  nearest: (vector: string, candidates: number) => RawBuilder<{ id: string; distance: number }>;
  /** (id) of the best `candidates` text matches, best first; null when the query has nothing to match by. */
  matching: (candidates: number) => RawBuilder<{ id: string }> | null;
}

export interface HybridRankOptions {
  /** The query embedded by `model`; null searches the text side only (no embedding available). */
  queryVector: number[] | null;
  /** The model that embedded the query: only rows embedded by the same model are compared. */
  model: string;
  limit: number;
  /** Drop hits whose fused score is below this (at most 2 / (RRF_K + 1), found first by both sides). */
  minScore?: number;
  /** Rows each side contributes (default DEFAULT_SEARCH_CANDIDATES). */
  candidates?: number;
}

export interface HybridRanking {
  /** The query vector as SQL takes it; null when the search ran on its words alone. */
  vector: string | null;
  /** The rows kept, best first, at most `limit`. */
  chosen: { id: string; ranked: Ranked }[];
  /** The nearest row's similarity, kept or not (what says whether the floor sits right); null without one. */
  topSimilarity: number | null;
}

/**
 * Runs both sides and fuses them: rows the text side did not match must reach the
 * model's relevance floor, then `minScore`; best first (score, then the better of
 * the two ranks, then id, so equal scores come back in a stable order).
 */
export async function rankHybrid(db: Database, options: HybridRankOptions, sides: HybridSides): Promise<HybridRanking> {
  const candidates = options.candidates ?? DEFAULT_SEARCH_CANDIDATES;
  if (!Number.isInteger(candidates) || candidates < 1 || candidates > MAX_SEARCH_CANDIDATES) {
    throw new RangeError(`candidates must be an integer from 1 to ${MAX_SEARCH_CANDIDATES}, got ${candidates}`);
  }
  if (!Number.isInteger(options.limit) || options.limit < 1) throw new RangeError(`limit must be a positive integer, got ${options.limit}`);
  if (options.queryVector && options.queryVector.length !== EMBEDDING_DIMENSIONS) {
    throw new RangeError(`the query vector has ${options.queryVector.length} dimensions, the stored vectors ${EMBEDDING_DIMENSIONS}`);
  }
  // A zero vector (the local provider's features can cancel out) has no direction to compare.
  const vector = options.queryVector?.some((x) => x !== 0) ? toVector(options.queryVector) : null;

  const search = async (trx: Database) => {
    let nearest: { id: string; similarity: number }[] = [];
    if (vector !== null) {
      // Iterative scans let the filters keep the LIMIT filled from the index (pgvector 0.8);
      // relaxed order is re-sorted below. Both settings end with the transaction.
      await sql`SELECT set_config('hnsw.ef_search', ${String(Math.max(candidates, MIN_EF_SEARCH))}, true),
                       set_config('hnsw.iterative_scan', 'relaxed_order', true)`.execute(trx);
      const { rows } = await sql<{ id: string; distance: number }>`
        WITH nearest AS MATERIALIZED (${sides.nearest(vector, candidates)})
        SELECT id, distance FROM nearest ORDER BY distance, id`.execute(trx);
      // A stored zero vector is at NaN distance from everything: never near.
      nearest = rows.filter((r) => Number.isFinite(r.distance)).map((r) => ({ id: r.id, similarity: 1 - r.distance }));
    }
    const textQuery = sides.matching(candidates);
    const matched = textQuery === null ? [] : (await textQuery.execute(trx)).rows.map((r) => r.id);
    return { nearest, matched };
  };
  const { nearest, matched } = vector !== null ? await (db.isTransaction ? search(db) : db.transaction().execute(search)) : await search(db);

  const floor = relevanceFloor(options.model);
  const chosen = [...reciprocalRankFusion(nearest, matched)]
    .filter(([, r]) => r.textRank !== null || (r.similarity !== null && r.similarity >= floor))
    .filter(([, r]) => options.minScore === undefined || r.score >= options.minScore)
    .sort(([idA, a], [idB, b]) => b.score - a.score || bestRank(a) - bestRank(b) || idA.localeCompare(idB))
    .slice(0, options.limit)
    .map(([id, ranked]) => ({ id, ranked }));
  return { vector, chosen, topSimilarity: nearest[0]?.similarity ?? null };
}

/** A similarity as NUMERIC(7,6) stores it: float rounding can put an identical vector a hair above 1. */
export const similarityForStorage = (similarity: number) => Math.min(1, Math.max(-1, similarity)).toFixed(6);

/** One search as search_metrics records it (see recordSearch). */
export interface SearchRecord {
  target: 'knowledge' | 'products';
  query: string;
  /** The model that embedded the query; null when the search ran on its words alone. */
  model: string | null;
  agent?: string | null;
  userId?: string | null;
  hits: number;
  topScore: number | null;
  topSimilarity: number | null;
  embeddingMs: number | null;
  databaseMs: number;
  totalMs: number;
}

/**
 * Writes a search's search_metrics row: mode 'hybrid' ('fulltext' without a query
 * vector), hit count, best fused score, the nearest row's similarity, and where the
 * time went. Knowledge and product search both record every search.
 */
export async function recordSearch(db: Database, search: SearchRecord): Promise<void> {
  await db
    .insertInto('search_metrics')
    .values({
      target: search.target,
      query: search.query.slice(0, 1000),
      mode: search.model === null ? 'fulltext' : 'hybrid',
      agent: search.agent ?? null,
      user_id: search.userId ?? null,
      result_count: search.hits,
      top_score: search.topScore === null ? null : search.topScore.toFixed(6),
      latency_ms: search.totalMs.toFixed(3),
      embedding_model: search.model,
      embedding_ms: search.embeddingMs === null ? null : search.embeddingMs.toFixed(3),
      database_ms: search.databaseMs.toFixed(3),
      top_similarity: search.topSimilarity === null ? null : similarityForStorage(search.topSimilarity),
    })
    .execute();
}

/**
 * How long embedding a query (a search's words, a turn's messages for memory recall)
 * may take, retries included, before the search goes on with its words alone or the
 * turn without memories: a slow embeddings API must not hold up an answer.
 */
export const QUERY_EMBED_TIMEOUT_MS = 5000;

/** What embeds a query: any EmbeddingProvider of @dealdome/ai (which depends on this package) fits. */
export interface QueryEmbedder {
  readonly model: string;
  embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<number[][]>;
}
