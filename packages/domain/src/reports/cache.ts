import type { Database } from '@dealdome/db';
import { LRUCache } from 'lru-cache';

/**
 * Finance reports are pure functions of their query and the finance data, and the
 * dashboard asks for the same few over and over. Each result is cached in the
 * process under (report, query, data version); the version is a counter the
 * database moves in the same transaction as any write to the tables reports read
 * (migration 0002), so a cached result is never served after the data it came from
 * changed — on any replica — and nothing has to be invalidated by hand.
 *
 * The version and the report are read in one REPEATABLE READ, read-only transaction:
 * one snapshot, so a result is always labelled with the version of exactly the data
 * it was computed from. That is what makes a read replica (DATABASE_READ_URL) safe:
 * a replica that lags serves the version it has replayed together with the data of
 * that version, never newer-labelled older data; reading the version on the primary
 * and the report on a replica (or on two replicas behind one address) could cache
 * stale figures under the current version until the next write. A lagging replica's
 * answer is as old as its lag, and the cache never makes it older.
 *
 * Checking the version costs one primary-key read per request. Identical requests
 * arriving while a result is being computed share that computation. Failures (a
 * missing exchange rate, say) are not cached. Results are shared between callers:
 * treat them as read-only.
 */

const MAX_BYTES = 64 * 1024 * 1024;

type Entry = object;
interface Context {
  compute: () => Promise<Entry>;
}

const caches = new WeakMap<Database, LRUCache<string, Entry, Context>>();

function cacheFor(db: Database): LRUCache<string, Entry, Context> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new LRUCache<string, Entry, Context>({
      maxSize: MAX_BYTES,
      // Measured once, on a miss; the JSON length is close to what the entry holds.
      sizeCalculation: (value) => Math.max(1, JSON.stringify(value).length),
      fetchMethod: (_key, _stale, { context }) => context.compute(),
    });
    caches.set(db, cache);
  }
  return cache;
}

/** The current finance data version, as text (a bigint). */
export async function financeDataVersion(db: Database): Promise<string> {
  const row = await db.selectFrom('finance_data_version').select('version').executeTakeFirstOrThrow();
  return String(row.version);
}

/** A query object as a stable key: the same fields in any order give the same key. */
function keyOf(query: Record<string, unknown>): string {
  return JSON.stringify(Object.keys(query).sort().map((k) => [k, query[k]]));
}

/** `compute` runs inside the snapshot the version was read in: it must read through the `db` it is given. */
export async function cachedReport<T extends object>(
  db: Database,
  report: string,
  query: Record<string, unknown>,
  compute: (snapshot: Database) => Promise<T>,
): Promise<T> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (snapshot) => {
      const version = await financeDataVersion(snapshot);
      const key = `${report}\u0000${version}\u0000${keyOf(query)}`;
      const result = await cacheFor(db).fetch(key, { context: { compute: () => compute(snapshot) } });
      // fetchMethod always resolves to an entry or rejects; undefined would mean it was aborted.
      if (result === undefined) return compute(snapshot);
      return result as T;
    });
}
