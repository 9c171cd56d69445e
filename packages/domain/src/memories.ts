import type { Database } from '@dealdome/db';
import { z } from 'zod';
import { invalid } from './errors';

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
 * request remembers once.
 */
export async function createMemory(db: Database, input: NewMemory): Promise<{ memory: Memory; created: boolean }> {
  const parsed = newMemorySchema.safeParse(input);
  if (!parsed.success) {
    throw invalid(Object.fromEntries(parsed.error.issues.map((i) => [i.path.join('.') || 'memory', [i.message]])));
  }
  const m = parsed.data;
  const run = async (trx: Database) => {
    const query = trx
      .insertInto('memories')
      .values({
        ...(m.id !== undefined && { id: m.id }),
        scope: m.scope,
        user_id: m.userId,
        kind: m.kind,
        content: m.content,
        source_message_id: m.sourceMessageId ?? null,
      })
      .returning(columns);
    const row = await (m.id === undefined ? query : query.onConflict((oc) => oc.column('id').doNothing())).executeTakeFirst();
    if (!row) {
      const existing = await trx.selectFrom('memories').select(columns).where('id', '=', m.id!).executeTakeFirstOrThrow();
      return { memory: presentMemory(existing), created: false };
    }
    await trx.insertInto('memory_events').values({ memory_id: row.id, action: 'created' }).execute();
    return { memory: presentMemory(row), created: true };
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/** Current memories a person sees: the team's and their own, newest first. */
export async function listMemories(db: Database, input: { userId: string; limit?: number }): Promise<Memory[]> {
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

/** A current memory the person may see (the team's or their own), or undefined. */
export async function getVisibleMemory(db: Database, input: { id: string; userId: string }): Promise<Memory | undefined> {
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
  const run = async (trx: Database) => {
    const row = await trx
      .selectFrom('memories')
      .select(columns)
      .where('id', '=', input.id)
      .where((eb) => eb.or([eb('scope', '=', 'team'), eb('user_id', '=', input.userId)]))
      .forUpdate()
      .executeTakeFirst();
    if (!row) return undefined;
    await trx.insertInto('memory_events').values({ memory_id: row.id, action: 'deleted', reason: input.reason }).execute();
    await trx.deleteFrom('memories').where('id', '=', row.id).execute();
    return presentMemory(row);
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}
