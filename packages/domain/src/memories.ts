import type { Database } from '@dealdome/db';
import { toVectorBinary } from '@dealdome/db';
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import { z } from 'zod';
import { isPrivateChat } from './conversations';
import { invalid } from './errors';
import { decodeCursor, toPage } from './pagination';
import type { Page, PageQuery } from './pagination';
import { dateTimeOutput, idOutput, pageOutput } from './schemas/common';
import type { Wire } from './schemas/common';
import { uuid } from './values';

/**
 * Long-term memories: what the team asked to be remembered (/remember) and what
 * the agents decide to keep. A memory belongs to the team or to one person.
 * Embedding, recall by similarity and de-duplication belong to the embedding
 * worker and the agents; this module stores, lists and forgets, and writes each
 * decision to memory_events so the history outlives the memory.
 */

export const memoryScopes = ['team', 'user'] as const;
export type MemoryScope = (typeof memoryScopes)[number];
export const memoryKinds = ['fact', 'decision', 'preference', 'context'] as const;
export type MemoryKind = (typeof memoryKinds)[number];
export const MAX_MEMORY_LENGTH = 2000;

export const newMemorySchema = z
  .object({
    id: z.uuid().optional(),
    scope: z.enum(memoryScopes),
    userId: z.uuid().nullable(),
    kind: z.enum(memoryKinds).default('fact'),
    content: z.string().trim().min(1, 'is empty').max(MAX_MEMORY_LENGTH, `is longer than ${MAX_MEMORY_LENGTH} characters`),
    sourceMessageId: z.uuid().nullable().optional(),
  })
  .refine((m) => (m.scope === 'team') === (m.userId === null), {
    message: 'a team memory has no user; a personal memory has one',
    path: ['userId'],
  });
export type NewMemory = z.input<typeof newMemorySchema>;

export interface Memory {
  id: string;
  scope: MemoryScope;
  userId: string | null;
  kind: MemoryKind;
  content: string;
  sourceMessageId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const columns = ['id', 'scope', 'user_id', 'kind', 'content', 'source_message_id', 'created_at', 'updated_at'] as const;
/** A memories row as the queries here select it (`columns`). */
export type MemoryRow = {
  id: string;
  scope: string;
  user_id: string | null;
  kind: string;
  content: string;
  source_message_id: string | null;
  created_at: Date;
  updated_at: Date;
};

export const presentMemory = (r: MemoryRow): Memory => ({
  id: r.id,
  scope: r.scope as MemoryScope,
  userId: r.user_id,
  kind: r.kind as MemoryKind,
  content: r.content,
  sourceMessageId: r.source_message_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/**
 * Stores a memory (without an embedding: the embedding worker adds it). With an
 * `id` already stored nothing changes and `created` is false, so a retried
 * request remembers once. The same text remembered again in the same scope (case,
 * spacing and end punctuation aside) refreshes the current memory instead of adding
 * one: `created` false, `refreshed` true, a 'refreshed' event recorded. Texts that
 * are close but not the same are settled by the embedding worker
 * (settleNearDuplicate).
 */
export async function createMemory(db: Database, input: NewMemory): Promise<{ memory: Memory; created: boolean; refreshed: boolean }> {
  const parsed = newMemorySchema.safeParse(input);
  if (!parsed.success) {
    throw invalid(Object.fromEntries(parsed.error.issues.map((i) => [i.path.join('.') || 'memory', [i.message]])));
  }
  const m = parsed.data;
  const run = async (trx: Database) => {
    if (m.id !== undefined) {
      const retried = await trx.selectFrom('memories').select(columns).where('id', '=', m.id).executeTakeFirst();
      if (retried) return { memory: presentMemory(retried), created: false, refreshed: false };
    }
    const same = await trx
      .updateTable('memories')
      .set({ updated_at: sql<Date>`now()` })
      .where('superseded_at', 'is', null)
      .where('scope', '=', m.scope)
      .where(sql<boolean>`user_id IS NOT DISTINCT FROM ${m.userId}::uuid`)
      .where(sql<boolean>`${sameText(sql.ref('content'))} = ${sameText(sql`${m.content}::text`)}`)
      .returning(columns)
      .executeTakeFirst();
    if (same) {
      await trx
        .insertInto('memory_events')
        .values({ memory_id: same.id, action: 'refreshed', similarity: '1', reason: 'the same text was remembered again' })
        .execute();
      return { memory: presentMemory(same), created: false, refreshed: true };
    }
    const row = await trx
      .insertInto('memories')
      .values({
        ...(m.id !== undefined && { id: m.id }),
        scope: m.scope,
        user_id: m.userId,
        kind: m.kind,
        content: m.content,
        source_message_id: m.sourceMessageId ?? null,
      })
      .returning(columns)
      .executeTakeFirstOrThrow();
    await trx.insertInto('memory_events').values({ memory_id: row.id, action: 'created' }).execute();
    return { memory: presentMemory(row), created: true, refreshed: false };
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/** A text as "the same memory" compares it: lower case, spacing collapsed, end punctuation dropped. */
function sameText(text: RawBuilder<unknown>) {
  return sql<string>`regexp_replace(lower(regexp_replace(trim(${text}), '[[:space:]]+', ' ', 'g')), '[.!?…]+$', '')`;
}

/**
 * Cosine similarity at or above which two memories of one scope are the same memory
 * said twice ("Our supplier ships on Tuesdays" / "our supplier ships on tuesdays!").
 * Conservative on purpose: both the local hashing provider and OpenAI's
 * text-embedding-3 models put related-but-different statements ("we ship from
 * China" / "we now ship from Poland") well below it, and merging those would lose
 * a fact; telling a contradiction from an update is the agents' job.
 */
export const NEAR_DUPLICATE_SIMILARITY = 0.93;

/** The numbers a text states, in any order ("5 EUR in 2 days" → "2 5"): two memories stating other numbers are not one. */
const numbersIn = (text: string) => (text.match(/\d+/g) ?? []).sort().join(' ');

/** A similarity as memory_events stores it (NUMERIC(6,5)): float rounding can put an identical vector a hair above 1. */
export const similarityForEvent = (similarity: number) => Math.min(1, Math.max(-1, similarity)).toFixed(5);

export type NearDuplicateDecision =
  | { outcome: 'kept'; similarity: number | null }
  | { outcome: 'merged'; into: string; similarity: number }
  /** The memory is gone, superseded (merged into another meanwhile) or not embedded: nothing to decide. */
  | { outcome: 'skipped' };

/** A current, embedded memory as the walks to its peers need it. */
export interface EmbeddedMemory {
  id: string;
  scope: string;
  user_id: string | null;
  kind: string;
  content: string;
  created_at: Date;
  embedding_model: string;
}

/**
 * The WHERE clause for the current memories of `memory`'s scope (and person) embedded
 * by its model, other than itself, on the table aliased `alias`. The memory's values go
 * in as parameters, not as a lateral reference to its row, so PostgreSQL's estimate of
 * the rows in scope is close (a reference to the row's own columns was estimated at a
 * row or a few whatever the table held).
 */
export function sameScopePeers(alias: string, memory: Pick<EmbeddedMemory, 'id' | 'scope' | 'user_id' | 'embedding_model'>): RawBuilder<unknown> {
  const t = sql.ref(alias);
  // A person's memories are exactly those carrying their id (a check ties scope 'user'
  // to a user_id); saying scope = 'user' as well would have the estimate multiply two
  // selectivities of one fact and fall to a row.
  const scope = memory.scope === 'team' ? sql`${t}.scope = 'team'` : sql`${t}.user_id = ${memory.user_id}::uuid`;
  return sql`${t}.superseded_at IS NULL AND ${t}.id <> ${memory.id}::uuid AND ${t}.embedding_model = ${memory.embedding_model} AND ${scope}`;
}

/**
 * The memory `id` if it is current and embedded; undefined otherwise. For a ranking by
 * its vector, `embeddingOf(id)` hands PostgreSQL the vector as a value computed once
 * (so the HNSW index can order by it) without it leaving the database.
 */
export async function embeddedMemory(db: Database, id: string): Promise<EmbeddedMemory | undefined> {
  const row = await db
    .selectFrom('memories')
    .select(['id', 'scope', 'user_id', 'kind', 'content', 'created_at', 'embedding_model'])
    .where('id', '=', id)
    .where('superseded_at', 'is', null)
    .where('embedding', 'is not', null)
    .executeTakeFirst();
  return row?.embedding_model ? { ...row, embedding_model: row.embedding_model } : undefined;
}

export const embeddingOf = (id: string): RawBuilder<unknown> => sql`(SELECT embedding FROM memories WHERE id = ${id}::uuid)`;

/**
 * Settings for the rest of a transaction that walks to a memory's nearest peers: an
 * iterative scan in strict order, so the scope filter cannot starve the walk, and no
 * sorting, so PostgreSQL takes the HNSW index whatever its statistics say. Left to
 * its estimates it read and sorted every memory in scope instead whenever those
 * were off — as they are on a table whose rows were counted before they had vectors
 * — at 8 ms a memory at 2,000 and 150 ms at 20,000, against under a millisecond for
 * the walk.
 */
export const walkToPeers = sql`SELECT set_config('hnsw.iterative_scan', 'strict_order', true), set_config('enable_sort', 'off', true)`;

/** The statement settleNearDuplicate asks (after walkToPeers): the memory's nearest current peer, its text and their similarity. */
export const nearestPeer = (memory: EmbeddedMemory) => sql<{ id: string; content: string; similarity: number }>`
  SELECT o.id, o.content, 1 - (o.embedding <=> ${embeddingOf(memory.id)}) AS similarity
  FROM memories o
  WHERE ${sameScopePeers('o', memory)}
  ORDER BY o.embedding <=> ${embeddingOf(memory.id)}
  LIMIT 1`;

/**
 * Run once a memory has its embedding: compares it with the nearest other current
 * memory of the same scope (and person) embedded by the same model. At or above
 * NEAR_DUPLICATE_SIMILARITY — and stating the same numbers, since "costs 5 EUR" and
 * "costs 7 EUR" are as close as that — the two are one memory: the older is refreshed and the
 * newer superseded by it — kept as history, no longer recalled — and both decisions
 * are recorded with the similarity. Below it the memory is recorded as 'kept', with
 * its nearest peer and their similarity. Whichever of the two is settled first decides,
 * under row locks, so two jobs embedding both at once merge them once. The nearest
 * comes from the HNSW index (walkToPeers), as recall finds memories.
 */
export async function settleNearDuplicate(db: Database, memoryId: string): Promise<NearDuplicateDecision> {
  return db.transaction().execute(async (trx) => {
    const memory = await embeddedMemory(trx, memoryId);
    if (!memory) return { outcome: 'skipped' };
    await walkToPeers.execute(trx);
    const { rows } = await nearestPeer(memory).execute(trx);
    // A zero vector (the local provider's features can cancel out) is at NaN distance from everything: no peer is near it.
    const nearest = rows[0] && Number.isFinite(rows[0].similarity) ? rows[0] : undefined;
    const near = nearest !== undefined && nearest.similarity >= NEAR_DUPLICATE_SIMILARITY;
    // "Shipping costs 5 EUR" and "… 7 EUR" are close in any embedding and are not one fact.
    const otherNumbers = near && numbersIn(memory.content) !== numbersIn(nearest.content);
    if (!near || otherNumbers) {
      await trx
        .insertInto('memory_events')
        .values({
          memory_id: memoryId,
          action: 'kept',
          related_memory_id: nearest?.id ?? null,
          similarity: nearest ? similarityForEvent(nearest.similarity) : null,
          reason: otherNumbers
            ? 'as close as a near-duplicate to its nearest current memory, but it states other numbers'
            : nearest
              ? 'its nearest current memory is not a near-duplicate'
              : rows[0]
                ? 'its vector has no direction to compare'
                : 'no other current memory of its scope to compare with',
        })
        .execute();
      return { outcome: 'kept', similarity: nearest?.similarity ?? null };
    }

    // Both rows locked in one order (no deadlock with the other memory's job), then checked again.
    const pair = await trx
      .selectFrom('memories')
      .select(['id', 'created_at', 'superseded_at'])
      .where('id', 'in', [memoryId, nearest.id])
      .orderBy('id')
      .forUpdate()
      .execute();
    if (pair.length !== 2 || pair.some((r) => r.superseded_at !== null)) return { outcome: 'kept', similarity: nearest.similarity };
    const [older, newer] = [...pair].sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || a.id.localeCompare(b.id)) as [
      (typeof pair)[number],
      (typeof pair)[number],
    ];
    const similarity = similarityForEvent(nearest.similarity);
    await trx.updateTable('memories').set({ updated_at: sql<Date>`now()` }).where('id', '=', older.id).execute();
    await trx.updateTable('memories').set({ superseded_at: sql<Date>`now()`, superseded_by: older.id }).where('id', '=', newer.id).execute();
    await trx
      .insertInto('memory_events')
      .values([
        { memory_id: older.id, action: 'refreshed', related_memory_id: newer.id, similarity, reason: 'said again in other words' },
        { memory_id: newer.id, action: 'superseded', related_memory_id: older.id, similarity, reason: 'a near-duplicate of an existing memory' },
      ])
      .execute();
    return { outcome: 'merged', into: older.id, similarity: nearest.similarity };
  });
}

/** Where the decisions after an embedding stand for one current memory embedded by the model. */
export interface MemorySettlement {
  id: string;
  /** The near-duplicate check kept it (a 'kept' event): settleNearDuplicate need not run again. */
  settled: boolean;
  /** The contradiction review has run on it (a 'reviewed' event). */
  reviewed: boolean;
}

/**
 * For the current memories among `ids` embedded by `model`: whether the near-duplicate
 * check and the review have run. Read from the recorded decisions, so an embed job
 * that runs again after its vectors were written (a failure between the write and
 * the check, or before the review was queued) finishes what is left.
 */
export async function memorySettlement(db: Database, ids: readonly string[], model: string): Promise<MemorySettlement[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<MemorySettlement>`
    SELECT m.id,
           EXISTS (SELECT 1 FROM memory_events e WHERE e.memory_id = m.id AND e.action = 'kept') AS settled,
           EXISTS (SELECT 1 FROM memory_events e WHERE e.memory_id = m.id AND e.action = 'reviewed') AS reviewed
    FROM memories m
    WHERE m.id = ANY(${[...ids]}::uuid[]) AND m.superseded_at IS NULL AND m.embedding_model = ${model}
    ORDER BY m.id`.execute(db);
  return rows;
}

/**
 * Current memories embedded by `model` that the near-duplicate check kept and no review
 * has looked at: what a review sweep queues when Claude is configured (a review job
 * that ran out of attempts during an outage, or memories kept while no key was set).
 */
export async function memoriesAwaitingReview(db: Database, model: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    SELECT m.id FROM memories m
    WHERE m.superseded_at IS NULL AND m.embedding_model = ${model}
      AND EXISTS (SELECT 1 FROM memory_events e WHERE e.memory_id = m.id AND e.action = 'kept')
      AND NOT EXISTS (SELECT 1 FROM memory_events e WHERE e.memory_id = m.id AND e.action = 'reviewed')
    ORDER BY m.created_at, m.id`.execute(db);
  return rows.map((r) => r.id);
}

/** Memories below this cosine similarity to the message are not offered to a turn, however few are left. */
export const MEMORY_RELEVANCE_FLOOR = 0.25;
/** What recency adds to a memory's similarity at most (a memory touched today), halving every 30 days. */
export const MEMORY_RECENCY_BOOST = 0.05;
const RECENCY_HALF_LIFE_DAYS = 30;

/**
 * The memories most relevant to a message for one person: the team's and their own
 * (never another person's), current, embedded by `model`. Nearest by cosine
 * similarity through the HNSW index with pgvector's iterative scan on (every pool's
 * sessions have it, see openDatabase), so the scope filter does not starve the
 * result; if the approximate search still comes back short, the memories in scope
 * are ranked exactly, so `k` come back whenever `k` exist. Then ranked by similarity
 * plus a small recency boost, those under MEMORY_RELEVANCE_FLOOR dropped.
 *
 * One statement, one round trip: it runs on every turn before the model is asked.
 * The exact ranking sits behind a one-time filter on the approximate result's
 * count, so PostgreSQL runs it only when that came back short; the query vector
 * goes once, in pgvector's binary form.
 */
export async function recallRelevantMemories(
  db: Database,
  options: { userId: string | null; queryVector: readonly number[]; model: string; k: number },
): Promise<(Memory & { similarity: number; score: number })[]> {
  const candidates = Math.max(options.k * 4, 20);
  const inScope = sql`superseded_at IS NULL AND embedding_model = ${options.model}
        AND (scope = 'team' OR (scope = 'user' AND user_id = ${options.userId}::uuid))`;
  const columns = sql`id, scope, user_id, kind, content, source_message_id, created_at, updated_at`;
  // `+ 0` keeps the planner off the HNSW index, so every memory in scope is ranked.
  const { rows } = await sql<MemoryRow & { similarity: number }>`
    WITH query AS MATERIALIZED (SELECT ${toVectorBinary(options.queryVector)}::vector AS v),
    approximate AS MATERIALIZED (
      SELECT ${columns}, embedding <=> (SELECT v FROM query) AS distance
      FROM memories
      WHERE ${inScope}
      ORDER BY embedding <=> (SELECT v FROM query)
      LIMIT ${candidates})
    SELECT ${columns}, 1 - distance AS similarity FROM approximate
    WHERE (SELECT count(*) FROM approximate) >= ${candidates}
    UNION ALL
    (SELECT ${columns}, 1 - (embedding <=> (SELECT v FROM query)) AS similarity
     FROM memories
     WHERE ${inScope} AND (SELECT count(*) FROM approximate) < ${candidates}
     ORDER BY (embedding <=> (SELECT v FROM query)) + 0
     LIMIT ${candidates})`.execute(db);
  const now = Date.now();
  return rows
    .filter((r) => r.similarity >= MEMORY_RELEVANCE_FLOOR)
    .map((r) => {
      const ageDays = Math.max(0, (now - r.updated_at.getTime()) / 86_400_000);
      return { ...presentMemory(r), similarity: r.similarity, score: r.similarity + MEMORY_RECENCY_BOOST * 0.5 ** (ageDays / RECENCY_HALF_LIFE_DAYS) };
    })
    .sort((a, b) => b.score - a.score)
    .slice(0, options.k);
}

/**
 * Whose personal memories a chat may show besides the team's: the person's own in a
 * private chat with them, nobody's in a group, where everyone reads every reply. The
 * userId that recall, listing and forgetting take for a chat.
 */
export const personalMemoriesShownIn = (chatId: string | number | bigint, personId: string | null | undefined): string | null =>
  isPrivateChat(chatId) ? (personId ?? null) : null;

/** Current memories a person sees: the team's and their own (the team's alone for a null userId), newest first. */
export async function listMemories(db: Database, input: { userId: string | null; limit?: number }): Promise<Memory[]> {
  const rows = await db
    .selectFrom('memories')
    .select(columns)
    .where('superseded_at', 'is', null)
    .where((eb) => eb.or([eb('scope', '=', 'team'), eb('user_id', '=', input.userId)]))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit ?? 20)
    .execute();
  return rows.map(presentMemory);
}

/** A current memory the person may see (the team's or their own; the team's alone for a null userId), or undefined. */
export async function getVisibleMemory(db: Database, input: { id: string; userId: string | null }): Promise<Memory | undefined> {
  const row = await db
    .selectFrom('memories')
    .select(columns)
    .where('id', '=', input.id)
    .where('superseded_at', 'is', null)
    .where((eb) => eb.or([eb('scope', '=', 'team'), eb('user_id', '=', input.userId)]))
    .executeTakeFirst();
  return row && presentMemory(row);
}

/**
 * Deletes a memory the person may see. The 'deleted' event is written first and
 * keeps the reason after the memory (and its content) is gone. Returns the
 * memory as it was, or undefined when there was none to delete.
 */
export async function forgetMemory(db: Database, input: { id: string; userId: string; reason: string }): Promise<Memory | undefined> {
  const row = await deleteRecorded(db, input);
  return row && presentMemory(row);
}

// ---------------------------------------------------------------- administration

/** Memories as an administrator sees them: every scope and person, history included. */
export const memoryAdminFilters = z
  .object({
    scope: z.enum(memoryScopes).optional(),
    userId: uuid.optional().meta({ description: "Only this person's memories" }),
    kind: z.enum(memoryKinds).optional(),
    includeSuperseded: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true')
      .meta({ description: 'Also the memories merged into or replaced by another (kept as history, never recalled)' }),
    q: z.string().trim().max(200).optional().meta({ description: 'Part of the text, any case' }),
  })
  .refine((f) => !(f.scope === 'team' && f.userId !== undefined), {
    message: 'a team memory has no user: drop userId or ask for scope=user',
    path: ['userId'],
  });
export type MemoryAdminFilters = z.output<typeof memoryAdminFilters>;

export interface MemoryRecord extends Memory {
  /** The model of its vector; null until the embedding worker has embedded it. */
  embeddingModel: string | null;
  supersededAt: Date | null;
  /** The memory that replaced it; null when current, or when that one was deleted since. */
  supersededBy: string | null;
}

export const memoryRecordOutput = z
  .object({
    id: idOutput,
    scope: z.enum(memoryScopes),
    userId: idOutput.nullable().meta({ description: "The person a personal memory belongs to; null for the team's" }),
    kind: z.enum(memoryKinds),
    content: z.string(),
    sourceMessageId: idOutput.nullable(),
    embeddingModel: z.string().nullable().meta({ description: 'The model of its vector; null until it is embedded', example: 'text-embedding-3-small' }),
    createdAt: dateTimeOutput,
    updatedAt: dateTimeOutput,
    supersededAt: dateTimeOutput.nullable().meta({ description: 'When it stopped being recalled; null while current' }),
    supersededBy: idOutput.nullable().meta({ description: 'The memory that replaced it; null when current or when that one was deleted' }),
  })
  .meta({ id: 'Memory', description: 'A long-term memory of the team or of one person' }) satisfies z.ZodType<Wire<MemoryRecord>>;
export const memoryRecordPageOutput = pageOutput(memoryRecordOutput, 'MemoryPage');

const recordColumns = [...columns, 'embedding_model', 'superseded_at', 'superseded_by'] as const;
type MemoryRecordRow = MemoryRow & { embedding_model: string | null; superseded_at: Date | null; superseded_by: string | null };

const presentRecord = (r: MemoryRecordRow): MemoryRecord => ({
  ...presentMemory(r),
  embeddingModel: r.embedding_model,
  supersededAt: r.superseded_at,
  supersededBy: r.superseded_by,
});

/** created_at to the microsecond, the key of the list's cursor (a Date would drop the microseconds and skip rows). */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * Every memory, of the team and of each person, newest first (created_at, then id,
 * both descending), for administrators. Current ones only unless `includeSuperseded`.
 * The vector itself is never read, only the model it belongs to.
 */
export async function listAllMemories(db: Database, filters: MemoryAdminFilters, page: PageQuery): Promise<Page<MemoryRecord>> {
  const after = decodeCursor(page.cursor);
  if (after && !CURSOR_TIME.test(after.key)) throw invalid({ cursor: ['is not a cursor this API issued'] });
  let query = db
    .selectFrom('memories')
    .select([...recordColumns, sql<string>`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('position')])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1);
  if (!filters.includeSuperseded) query = query.where('superseded_at', 'is', null);
  if (filters.scope) query = query.where('scope', '=', filters.scope);
  if (filters.userId) query = query.where('user_id', '=', filters.userId);
  if (filters.kind) query = query.where('kind', '=', filters.kind);
  if (filters.q) query = query.where('content', 'ilike', `%${filters.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  if (after) query = query.where(sql<boolean>`(created_at, id) < (${after.key}::timestamptz, ${after.id}::uuid)`);
  return toPage(await query.execute(), page.limit, presentRecord, (r) => [r.position, r.id]);
}

/**
 * Deletes any memory, whoever it belongs to and current or not, as /forget does: the
 * 'deleted' event with `reason` (who, and why) is written first and outlives the
 * memory. What pointed at it is kept: a memory it had replaced stays superseded,
 * with no replacement named, and earlier events stay, no longer linked. Returns the
 * memory as it was, or undefined when there was none.
 */
export async function deleteAnyMemory(db: Database, input: { id: string; reason: string }): Promise<MemoryRecord | undefined> {
  const row = await deleteRecorded(db, input);
  return row && presentRecord(row);
}

/**
 * Deletes a memory after recording why. With `userId`, only a memory that person
 * may see (the team's or their own); without, any. The row is locked first, so of
 * two deletes at once one records and deletes, and the other finds nothing.
 */
async function deleteRecorded(db: Database, input: { id: string; userId?: string; reason: string }): Promise<MemoryRecordRow | undefined> {
  const run = async (trx: Database) => {
    let query = trx.selectFrom('memories').select(recordColumns).where('id', '=', input.id);
    const { userId } = input;
    if (userId !== undefined) query = query.where((eb) => eb.or([eb('scope', '=', 'team'), eb('user_id', '=', userId)]));
    const row = await query.forUpdate().executeTakeFirst();
    if (!row) return undefined;
    await trx.insertInto('memory_events').values({ memory_id: row.id, action: 'deleted', reason: input.reason }).execute();
    await trx.deleteFrom('memories').where('id', '=', row.id).execute();
    return row;
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}
