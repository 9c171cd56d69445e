import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import { MEMORY_RELEVANCE_FLOOR, embeddedMemory, embeddingOf, sameScopePeers, similarityForEvent, walkToPeers } from './memories';
import type { MemoryKind, MemoryScope } from './memories';

/**
 * Contradiction review. Near-duplicates are settled by similarity alone
 * (settleNearDuplicate); a contradiction ("we now ship from Poland" after "we ship
 * from China") is not close enough to merge and not something a number can tell
 * from a related fact, so a model reads the new memory beside its nearest
 * neighbours and names the ones it makes untrue. This module picks the neighbours
 * and applies the verdict; asking the model is the embedding-worker's part.
 */

/** Neighbours shown to the reviewer at most: the nearest current memories of the same scope and person. */
export const REVIEW_CANDIDATES = 5;
/**
 * Neighbours less similar than this are not shown: a memory that shares no words or
 * meaning with the new one is not what it contradicts. Low on purpose (the relevance
 * floor of recall): a contradiction often differs in exactly the words that matter.
 */
export const REVIEW_CANDIDATE_SIMILARITY = MEMORY_RELEVANCE_FLOOR;

export interface ReviewedMemory {
  id: string;
  scope: MemoryScope;
  userId: string | null;
  kind: MemoryKind;
  content: string;
  createdAt: Date;
}

export interface ReviewCandidate extends ReviewedMemory {
  similarity: number;
}

type Row = { id: string; scope: string; user_id: string | null; kind: string; content: string; created_at: Date };
const present = (r: Row): ReviewedMemory => ({
  id: r.id,
  scope: r.scope as MemoryScope,
  userId: r.user_id,
  kind: r.kind as MemoryKind,
  content: r.content,
  createdAt: r.created_at,
});

/**
 * The memory to review and the current memories it might supersede: same scope and
 * person, same embedding model, created before it, at least
 * REVIEW_CANDIDATE_SIMILARITY alike, nearest first (through the HNSW index, see
 * walkToPeers: the scope filter cannot starve the list). Undefined when the
 * memory is gone, superseded already or not embedded yet.
 */
export async function memoryReviewCandidates(
  db: Database,
  memoryId: string,
): Promise<{ memory: ReviewedMemory; model: string; candidates: ReviewCandidate[] } | undefined> {
  return db.transaction().execute(async (trx) => {
    const memory = await embeddedMemory(trx, memoryId);
    if (!memory) return undefined;
    await walkToPeers.execute(trx);
    const { rows } = await sql<Row & { similarity: number }>`
      SELECT o.id, o.scope, o.user_id, o.kind, o.content, o.created_at, 1 - (o.embedding <=> ${embeddingOf(memoryId)}) AS similarity
      FROM memories o
      WHERE ${sameScopePeers('o', memory)}
        -- Older than it, by the stored timestamp (a JavaScript Date would drop its microseconds).
        AND (o.created_at, o.id) < (SELECT created_at, id FROM memories WHERE id = ${memoryId}::uuid)
      ORDER BY o.embedding <=> ${embeddingOf(memoryId)}
      LIMIT ${REVIEW_CANDIDATES}`.execute(trx);
    return {
      memory: present(memory),
      model: memory.embedding_model,
      candidates: rows.filter((r) => r.similarity >= REVIEW_CANDIDATE_SIMILARITY).map((r) => ({ ...present(r), similarity: r.similarity })),
    };
  });
}

export interface MemoryReviewVerdict {
  /** The model that decided (recorded in the reason). */
  reviewer: string;
  /** The candidates it was shown. */
  candidates: readonly ReviewCandidate[];
  /** Those it found contradicted or replaced, with its reason for each. */
  superseded: readonly { id: string; reason: string }[];
}

export interface MemoryReviewOutcome {
  superseded: string[];
  /** Named by the reviewer but no longer current, or not among the candidates: left alone. */
  ignored: string[];
}

/**
 * Applies a review: each named candidate that is still current is superseded by the
 * reviewed memory (kept as history, no longer recalled) with a 'superseded' event
 * carrying the reviewer's reason and the similarity; the reviewed memory gets a
 * 'reviewed' event saying what was looked at and decided, also when nothing was
 * contradicted. Ids the reviewer made up or that were not shown are ignored. If the
 * reviewed memory itself was superseded or deleted meanwhile, nothing changes.
 */
export async function applyMemoryReview(db: Database, memoryId: string, verdict: MemoryReviewVerdict): Promise<MemoryReviewOutcome> {
  const shown = new Map(verdict.candidates.map((c) => [c.id, c]));
  const named = [...new Map(verdict.superseded.map((s) => [s.id, s])).values()];
  return db.transaction().execute(async (trx) => {
    const ids = [memoryId, ...named.filter((s) => shown.has(s.id)).map((s) => s.id)];
    // Locked in one order, so a concurrent review or merge of the same rows waits instead of deadlocking.
    const locked = await trx
      .selectFrom('memories')
      .select(['id', 'superseded_at'])
      .where('id', 'in', ids)
      .orderBy('id')
      .forUpdate()
      .execute();
    const current = new Set(locked.filter((r) => r.superseded_at === null).map((r) => r.id));
    if (!current.has(memoryId)) return { superseded: [], ignored: named.map((s) => s.id) };

    const superseded = named.filter((s) => shown.has(s.id) && current.has(s.id));
    const ignored = named.filter((s) => !superseded.includes(s)).map((s) => s.id);
    if (superseded.length) {
      await trx
        .updateTable('memories')
        .set({ superseded_at: sql<Date>`now()`, superseded_by: memoryId })
        .where(
          'id',
          'in',
          superseded.map((s) => s.id),
        )
        .execute();
    }
    const similarity = (id: string) => similarityForEvent(shown.get(id)!.similarity);
    await trx
      .insertInto('memory_events')
      .values([
        ...superseded.map((s) => ({
          memory_id: s.id,
          action: 'superseded',
          related_memory_id: memoryId,
          similarity: similarity(s.id),
          reason: `contradicted by a newer memory (${verdict.reviewer}): ${s.reason}`.slice(0, 1000),
        })),
        {
          memory_id: memoryId,
          action: 'reviewed',
          reason: reviewSummary(verdict, superseded.length),
        },
      ])
      .execute();
    return { superseded: superseded.map((s) => s.id), ignored };
  });
}

function reviewSummary(verdict: MemoryReviewVerdict, superseded: number): string {
  if (verdict.candidates.length === 0) return 'no current memory of its scope close enough to contradict';
  const looked = `${verdict.candidates.length} nearest memor${verdict.candidates.length === 1 ? 'y' : 'ies'} of its scope checked by ${verdict.reviewer}`;
  return superseded ? `${looked}: supersedes ${superseded}` : `${looked}: no contradiction`;
}
