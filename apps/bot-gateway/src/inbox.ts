import type { Database, Json } from '@dealdome/db';
import { sql } from 'kysely';
import type { IncomingUpdate } from './telegram';

/**
 * telegram_updates is the gateway's inbox. An update is recorded once (the
 * primary key decides, whichever replica or intake path sees it first), then
 * handled, then marked processed. A recorded update left unprocessed — the
 * process died in between — is handled again by the sweep.
 */

export type RecordOutcome = 'new' | 'unfinished' | 'processed';

export function chatIdOf(update: IncomingUpdate): number | null {
  return update.message?.chat.id ?? update.callback_query?.message?.chat.id ?? null;
}

/**
 * Records a batch of updates with one statement; what was there before says, for
 * each, whether it still needs handling (in the order given).
 */
export async function recordUpdates(db: Database, updates: readonly IncomingUpdate[]): Promise<RecordOutcome[]> {
  if (updates.length === 0) return [];
  const inserted = await db
    .insertInto('telegram_updates')
    .values(
      updates.map((update) => {
        const chatId = chatIdOf(update);
        return {
          update_id: String(update.update_id),
          chat_id: chatId === null ? null : String(chatId),
          payload: sql<Json>`${JSON.stringify(update)}::jsonb`,
        };
      }),
    )
    .onConflict((oc) => oc.column('update_id').doNothing())
    .returning('update_id')
    .execute();
  const fresh = new Set(inserted.map((r) => r.update_id));
  const seen = updates.map((u) => String(u.update_id)).filter((id) => !fresh.has(id));
  const earlier = seen.length
    ? new Map(
        (await db.selectFrom('telegram_updates').select(['update_id', 'processed_at']).where('update_id', 'in', seen).execute()).map((r) => [
          r.update_id,
          r.processed_at,
        ]),
      )
    : new Map<string, Date | null>();
  const answered = new Set<string>();
  return updates.map((u) => {
    const id = String(u.update_id);
    // An update named twice in one batch is handled for its first copy only.
    if (answered.has(id)) return 'processed';
    answered.add(id);
    if (fresh.has(id)) return 'new';
    return earlier.get(id) instanceof Date ? 'processed' : 'unfinished';
  });
}

/** Records one update (the webhook's case). */
export async function recordUpdate(db: Database, update: IncomingUpdate): Promise<RecordOutcome> {
  const [outcome] = await recordUpdates(db, [update]);
  return outcome!;
}

export async function markProcessed(db: Database, updateId: number): Promise<void> {
  await db
    .updateTable('telegram_updates')
    .set({ processed_at: new Date() })
    .where('update_id', '=', String(updateId))
    .where('processed_at', 'is', null)
    .execute();
}

/** Recorded, unprocessed updates older than `olderThanMs`, oldest first. */
export async function unfinishedUpdates(db: Database, olderThanMs: number, limit: number): Promise<IncomingUpdate[]> {
  const rows = await db
    .selectFrom('telegram_updates')
    .select('payload')
    .where('processed_at', 'is', null)
    .where('received_at', '<', new Date(Date.now() - olderThanMs))
    .orderBy('update_id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.payload as unknown as IncomingUpdate);
}

/** Of the video and memory an update may have created, those that still wait for their job. */
export async function pendingRowsOfUpdate(
  db: Database,
  ids: { videoId: string; memoryId: string },
): Promise<{ videoId?: string; memoryId?: string }> {
  const [video, memory] = await Promise.all([
    db.selectFrom('videos').select('id').where('id', '=', ids.videoId).where('status', '=', 'pending').executeTakeFirst(),
    db.selectFrom('memories').select('id').where('id', '=', ids.memoryId).where('embedding', 'is', null).executeTakeFirst(),
  ]);
  return { ...(video && { videoId: video.id }), ...(memory && { memoryId: memory.id }) };
}

/**
 * Forgets processed updates received before `olderThanMs` ago. Telegram keeps an
 * undelivered update for at most 24 hours, so an older record can no longer catch
 * a duplicate; kept, it would swallow a new update once Telegram reuses its id.
 */
export async function pruneUpdates(db: Database, olderThanMs: number): Promise<number> {
  const result = await db
    .deleteFrom('telegram_updates')
    .where('processed_at', 'is not', null)
    .where('received_at', '<', new Date(Date.now() - olderThanMs))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
