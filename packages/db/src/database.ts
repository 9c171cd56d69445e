import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Dependency, Logger } from '@dealdome/config';
import type { DB } from './schema';
import { parseVector } from './vector';
import { assertMigrated, migrate, migrationStatus } from './migrator';

export type Database = Kysely<DB>;

const DATE_OID = 1082;

/**
 * Type parsers for one pool. NUMERIC and INT8 stay strings (pg's default) so money
 * and Telegram ids are exact; DATE stays the 'YYYY-MM-DD' string because a calendar
 * day has no time zone; `vector` (whose OID is known only once the extension exists)
 * becomes a number array.
 */
class PoolTypes {
  vectorOid: number | undefined;

  getTypeParser = (oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) => {
    if (oid === DATE_OID) return (value: string) => value;
    if (oid === this.vectorOid) return parseVector;
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  };
}

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  /** Readiness probe and shutdown for the service lifecycle. */
  dependency: Dependency;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  url: string;
  poolMax?: number;
  /** Applies pending migrations first (MIGRATE_ON_START); otherwise refuses an unmigrated database. */
  migrate?: boolean;
  logger?: Logger;
  applicationName?: string;
  /** Every session of the pool is read-only (default_transaction_read_only): a write through it fails instead of landing there. */
  readOnly?: boolean;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.migrate) await migrate(options.url, { logger: options.logger });
  else await assertMigrated(options.url);

  const types = new PoolTypes();
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 10,
    application_name: options.applicationName ?? 'dealdome',
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
    ...(options.readOnly && { options: '-c default_transaction_read_only=on' }),
    types,
  });
  // An idle client losing its server (a restart, a failover) must not crash the process.
  pool.on('error', (err) => options.logger?.warn({ err: { message: err.message } }, 'idle database client failed'));

  const { rows } = await pool.query<{ oid: number | null }>(`SELECT to_regtype('vector')::oid AS oid`);
  types.vectorOid = rows[0]?.oid ?? undefined;

  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await db.destroy();
  };
  return {
    db,
    pool,
    close,
    dependency: {
      name: 'postgres',
      check: async () => {
        await sql`SELECT 1`.execute(db);
      },
      close,
    },
  };
}

/**
 * A second pool, on a read replica (DATABASE_READ_URL), for reads that may lag the
 * primary a little: finance-api's reports. It is never migrated from here — it
 * follows the primary — but a replica a moment behind a migration the primary just
 * applied is waited for, up to `schemaWaitMs`, rather than refused at once. Its sessions
 * are read-only, so a write sent there by mistake fails instead of going astray. Its
 * readiness check is named postgres-read.
 */
export async function openReadDatabase(
  options: Omit<OpenDatabaseOptions, 'migrate' | 'readOnly'> & { schemaWaitMs?: number },
): Promise<DatabaseHandle> {
  const deadline = Date.now() + (options.schemaWaitMs ?? 30_000);
  for (;;) {
    const { pending } = await migrationStatus(options.url);
    if (pending.length === 0 || Date.now() >= deadline) break;
    options.logger?.info({ pending: pending.length }, 'the read database has not replayed the latest migrations yet; waiting for it');
    await new Promise((r) => setTimeout(r, 1000));
  }
  const handle = await openDatabase({ ...options, migrate: false, readOnly: true });
  return { ...handle, dependency: { ...handle.dependency, name: 'postgres-read' } };
}

/** The usual way a service opens its database, from the shared environment variables. */
export function openDatabaseFromEnv(
  env: { DATABASE_URL: string; DATABASE_POOL_MAX: number; MIGRATE_ON_START: boolean },
  logger: Logger,
  service: string,
): Promise<DatabaseHandle> {
  return openDatabase({
    url: env.DATABASE_URL,
    poolMax: env.DATABASE_POOL_MAX,
    migrate: env.MIGRATE_ON_START,
    logger,
    applicationName: service,
  });
}
