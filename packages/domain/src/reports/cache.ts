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

export async function cachedReport<T extends object>(
  db: Database,
  report: string,
  query: Record<string, unknown>,
  compute: () => Promise<T>,
): Promise<T> {
  const version = await financeDataVersion(db);
  const result = await cacheFor(db).fetch(`${report}\u0000${version}\u0000${keyOf(query)}`, { context: { compute } });
  // fetchMethod always resolves to an entry or rejects; undefined would mean it was aborted.
  if (result === undefined) return compute();
  return result as T;
}
