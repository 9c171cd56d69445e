import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import { z } from 'zod';
import type { AgentName } from '../conversations';
import { anyTermQuery, rankHybrid, recordSearch } from '../search/hybrid';
import type { HybridRankOptions } from '../search/hybrid';
import { formatVideoTime } from '../turns';
import type { KnowledgeHit } from '../turns';
import { Decimal } from '../values';

// What this module always exported; the fusion itself is shared with product search.
export { DEFAULT_SEARCH_CANDIDATES, MAX_SEARCH_CANDIDATES, QUERY_EMBED_TIMEOUT_MS, RELEVANCE_FLOOR, RRF_K, reciprocalRankFusion, relevanceFloor } from '../search/hybrid';

/**
 * Hybrid search over the knowledge base's transcript chunks (see search/hybrid.ts):
 * the chunks nearest to the question in meaning and those sharing its words, fused
 * by reciprocal rank, each with its video and time span for citing.
 */

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

export interface HybridKnowledgeSearchOptions extends HybridRankOptions {
  query: string;
  /** How long embedding the query took, recorded with the search. */
  embeddingMs?: number | null;
  agent?: AgentName | null;
  userId?: string | null;
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
  const tsquery = anyTermQuery(options.query);
  const dbStarted = performance.now();
  const { vector, chosen, topSimilarity } = await rankHybrid(db, options, {
    nearest: (queryVector, candidates) => sql<{ id: string; distance: number }>`
      SELECT id, embedding <=> ${queryVector}::vector AS distance
      FROM chunks
      WHERE embedding_model = ${options.model}
      ORDER BY distance
      LIMIT ${candidates}`,
    matching: (candidates) =>
      tsquery === null
        ? null
        : sql<{ id: string }>`
            SELECT c.id
            FROM chunks c, to_tsquery('english', ${tsquery}) AS q
            WHERE c.tsv @@ q
            ORDER BY ts_rank_cd(c.tsv, q) DESC, c.video_id, c.chunk_index
            LIMIT ${candidates}`,
  });

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
          WHERE c.id = ANY(${chosen.map((c) => c.id)}::uuid[])`.execute(db)
      ).rows
    : [];
  const databaseMs = performance.now() - dbStarted;
  const byId = new Map(details.map((d) => [d.id, d]));

  const hits: KnowledgeSearchHit[] = chosen.flatMap(({ id, ranked }) => {
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
  await recordSearch(db, {
    target: 'knowledge',
    query: options.query,
    model: vector === null ? null : options.model,
    agent: options.agent ?? null,
    userId: options.userId ?? null,
    hits: hits.length,
    topScore: hits[0]?.score ?? null,
    topSimilarity,
    embeddingMs,
    databaseMs,
    totalMs: timings.totalMs,
  });
  return { hits, timings };
}
