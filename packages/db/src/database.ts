import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Dependency, Logger } from '@dealdome/config';
import type { DB } from './schema';
import { parseVector } from './vector';
import { assertMigrated, migrate } from './migrator';

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
