import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { catalog, retention } from '@dealdome/queues';
import type { Producer } from '@dealdome/queues';
import { sql } from 'kysely';

/**
 * Housekeeping: rows that have outlived their use are deleted once a day (by default)
 * by a `housekeeping` job on the scheduled-tasks queue, added by a BullMQ job
 * scheduler. It lives on that queue rather than one of its own because the scheduler
 * already runs that queue's worker and the work is a few batched DELETEs.
 */

export const HOUSEKEEPING_SCHEDULER_ID = 'housekeeping';

/** Rows deleted per statement: keeps each transaction and its locks short on a large table. */
const DELETE_BATCH = 5000;

export interface Retention {
  telegramUpdatesDays: number;
  searchMetricsDays: number;
}

export interface HousekeepingResult {
  refreshTokens: number;
  telegramUpdates: number;
  searchMetrics: number;
}

/** Runs `DELETE … WHERE <key> IN (SELECT <key> … LIMIT batch)` until a batch comes back short. */
async function deleteInBatches(db: Database, table: string, key: string, condition: ReturnType<typeof sql>): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await sql`
      DELETE FROM ${sql.table(table)}
      WHERE ${sql.ref(key)} IN (SELECT ${sql.ref(key)} FROM ${sql.table(table)} WHERE ${condition} LIMIT ${DELETE_BATCH})`.execute(db);
    const deleted = Number(result.numAffectedRows ?? 0n);
    total += deleted;
    if (deleted < DELETE_BATCH) return total;
  }
}

/**
 * Deletes refresh tokens that can no longer be used — expired, or revoked (revoking
 * revokes the whole family, so reuse detection has nothing left to protect there) —
 * and telegram_updates and search_metrics older than their retention. An expired
 * rotated token presented again is then refused as unknown rather than revoking its
 * family: by then its holder has had the token's whole lifetime to come back.
 * `now` is the database's clock unless given (tests move it).
 */
export async function runHousekeeping(db: Database, keep: Retention, now?: Date): Promise<HousekeepingResult> {
  const at = sql`coalesce(${now ?? null}::timestamptz, now())`;
  const refreshTokens = await deleteInBatches(db, 'refresh_tokens', 'id', sql`expires_at <= ${at} OR revoked_at IS NOT NULL`);
  const telegramUpdates = await deleteInBatches(
    db,
    'telegram_updates',
    'update_id',
    sql`received_at < ${at} - make_interval(days => ${keep.telegramUpdatesDays})`,
  );
  const searchMetrics = await deleteInBatches(
    db,
    'search_metrics',
    'id',
    sql`created_at < ${at} - make_interval(days => ${keep.searchMetricsDays})`,
  );
  return { refreshTokens, telegramUpdates, searchMetrics };
}

/**
 * Creates or updates the job scheduler that adds the housekeeping job. Every replica
 * does this at start; the scheduler id makes it one scheduler, not one per replica.
 */
export async function scheduleHousekeeping(producer: Producer, pattern: string, logger: Logger): Promise<void> {
  const queue = 'scheduled-tasks';
  const data = catalog[queue].jobs.housekeeping.parse({});
  const { attempts, backoff } = catalog[queue].defaults;
  await producer
    .queue(queue)
    .upsertJobScheduler(HOUSEKEEPING_SCHEDULER_ID, { pattern, tz: 'UTC' }, { name: 'housekeeping', data, opts: { attempts, backoff: { ...backoff }, ...retention } });
  logger.info({ pattern, timeZone: 'UTC' }, 'housekeeping scheduled');
}
