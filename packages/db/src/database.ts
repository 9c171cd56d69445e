import { createHash } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
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

/** Statements kept prepared on one connection at most; texts beyond it run unnamed, as before. */
export const PREPARED_STATEMENTS_PER_CONNECTION = 200;
/** PostgreSQL refuses to run a prepared statement whose result columns a migration changed. */
const RESULT_TYPE_CHANGED = 'cached plan must not change result type';

interface PreparedStatements {
  names: Map<string, string>;
  /** Texts that failed as prepared statements on this connection: they run unnamed from then on. */
  unnamed: Set<string>;
}

/**
 * The pool Kysely runs on, preparing every statement that has parameters as a named
 * statement of its connection. An unnamed statement is parsed and planned again on
 * each run; most of the platform's statements are the same few texts with other
 * values (a turn's context, its record, a reply's delivery), and planning was most of
 * what PostgreSQL spent on them. A named one is parsed once per connection and, after
 * a few runs, executed with a generic plan when that costs about the same (PostgreSQL's
 * plan_cache_mode = auto). The name is a hash of the text, so a text is never
 * confused with another; at most PREPARED_STATEMENTS_PER_CONNECTION per connection,
 * so texts that vary (IN lists, multi-row VALUES) cannot grow a session without bound.
 */
function preparingPool(pool: pg.Pool, logger?: Logger): PostgresPool {
  const statements = new WeakMap<pg.PoolClient, PreparedStatements>();
  const nameFor = (state: PreparedStatements, text: string): string | undefined => {
    if (state.unnamed.has(text)) return undefined;
    let name = state.names.get(text);
    if (name === undefined && state.names.size < PREPARED_STATEMENTS_PER_CONNECTION) {
      name = `dd_${createHash('sha1').update(text).digest('hex')}`;
      state.names.set(text, name);
    }
    return name;
  };
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    let state = statements.get(client);
    if (!state) statements.set(client, (state = { names: new Map(), unnamed: new Set() }));
    const prepared = state;
    function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
    function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
    function query<R>(sqlOrCursor: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
      if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor as unknown as pg.Submittable) as unknown as PostgresCursor<R>;
      const values = parameters ? [...parameters] : [];
      const name = values.length > 0 ? nameFor(prepared, sqlOrCursor) : undefined;
      if (name === undefined) return client.query(sqlOrCursor, values) as unknown as Promise<PostgresQueryResult<R>>;
      return (client.query({ name, text: sqlOrCursor, values }) as unknown as Promise<PostgresQueryResult<R>>).catch((err: unknown) => {
        // After a migration changed a table under it: this text runs unnamed on this connection from now on.
        if (err instanceof Error && err.message.includes(RESULT_TYPE_CHANGED)) prepared.unnamed.add(sqlOrCursor);
        throw err;
      });
    }
    // A connection lost while the client is checked out but between statements (inside
    // a transaction, say) is reported as an 'error' event, which pg's pool listens to
    // only on idle clients: unheard, it would end the process. Its next statement fails,
    // and the pool drops the client when it comes back.
    const onLost = (err: Error) => logger?.warn({ err: { message: err.message } }, 'database connection lost while in use');
    client.on('error', onLost);
    return {
      query,
      release: () => {
        client.removeListener('error', onLost);
        client.release();
      },
    };
  };
  return {
    connect: async () => wrap(await pool.connect()),
    end: () => pool.end(),
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

/**
 * Settings every session of a pool starts with (libpq's `options`; a connection
 * string that carries its own `options` replaces them). pgvector's iterative index
 * scans are on, relaxed order, so a filtered vector search keeps walking the index
 * until its LIMIT is filled instead of returning the few rows that passed the filter
 * within `ef_search` (a query that needs exact order sets strict_order locally).
 */
function sessionOptions(options: Pick<OpenDatabaseOptions, 'readOnly'>): string {
  const settings = ['hnsw.iterative_scan=relaxed_order'];
  if (options.readOnly) settings.push('default_transaction_read_only=on');
  return settings.map((setting) => `-c ${setting}`).join(' ');
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
    options: sessionOptions(options),
    types,
  });
  // An idle client losing its server (a restart, a failover) must not crash the process.
  pool.on('error', (err) => options.logger?.warn({ err: { message: err.message } }, 'idle database client failed'));

  const { rows } = await pool.query<{ oid: number | null }>(`SELECT to_regtype('vector')::oid AS oid`);
  types.vectorOid = rows[0]?.oid ?? undefined;

  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(pool, options.logger) }) });
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
