import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '@dealdome/config';

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  appliedAt: Date;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
// One constant for every DealDome migrator: replicas starting together queue on it.
const MIGRATION_LOCK_KEY = 727_274_001;

/**
 * Where the SQL files are: beside the sources in the workspace, or copied next to
 * a bundled service (see each app's tsup config). DEALDOME_MIGRATIONS_DIR wins.
 */
export function defaultMigrationsDir(): string {
  const candidates = [
    process.env.DEALDOME_MIGRATIONS_DIR,
    path.join(__dirname, 'migrations'),
    path.resolve(__dirname, '..', 'migrations'),
  ].filter((dir): dir is string => Boolean(dir));
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) throw new MigrationError(`no migrations directory found (looked in ${candidates.join(', ')})`);
  return found;
}

export function loadMigrations(dir: string = defaultMigrationsDir()): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.sql')) continue;
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new MigrationError(`migration file "${file}" is not named NNNN_snake_case_name.sql`);
    const sql = readFileSync(path.join(dir, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: match[2]!,
      file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  const seen = new Set<number>();
  for (const m of migrations) {
    if (seen.has(m.version)) throw new MigrationError(`two migration files share version ${m.version}`);
    seen.add(m.version);
  }
  return migrations;
}

const CREATE_TABLE = `
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    applied_at timestamptz NOT NULL DEFAULT now(),
    execution_ms integer NOT NULL CHECK (execution_ms >= 0)
  )`;

async function readApplied(client: pg.ClientBase): Promise<AppliedMigration[]> {
  const exists = await client.query<{ present: boolean }>(
    `SELECT to_regclass('schema_migrations') IS NOT NULL AS present`,
  );
  if (!exists.rows[0]?.present) return [];
  const { rows } = await client.query<{ version: number; name: string; checksum: string; applied_at: Date }>(
    'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
  );
  return rows.map((r) => ({ version: r.version, name: r.name, checksum: r.checksum, appliedAt: r.applied_at }));
}

/**
 * Refuses a database this code cannot safely run against: one that has a migration
 * the code does not know (a newer release ran, or files were removed) or whose
 * recorded checksum differs from the file (a migration was edited after it ran).
 */
function assertKnown(applied: AppliedMigration[], known: Migration[]): void {
  const byVersion = new Map(known.map((m) => [m.version, m]));
  for (const a of applied) {
    const m = byVersion.get(a.version);
    if (!m) {
      throw new MigrationError(
        `the database has migration ${a.version} (${a.name}) that this code does not know; ` +
          'it was migrated by a newer release: deploy that release or restore a matching database',
      );
    }
    if (m.checksum !== a.checksum) {
      throw new MigrationError(
        `migration ${m.file} was changed after it was applied (checksum ${a.checksum.slice(0, 12)}… in the ` +
          `database, ${m.checksum.slice(0, 12)}… in the file); applied migrations are frozen: add a new one instead`,
      );
    }
  }
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

/**
 * Applies every pending migration in order, each in its own transaction, under a
 * session advisory lock so concurrent starts apply each migration exactly once:
 * the second migrator waits, then finds nothing left to do.
 */
export async function migrate(
  connectionString: string,
  options: { dir?: string; logger?: Logger } = {},
): Promise<MigrateResult> {
  const migrations = loadMigrations(options.dir);
  const client = new pg.Client({ connectionString, application_name: 'dealdome-migrator' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(CREATE_TABLE);
      const applied = await readApplied(client);
      assertKnown(applied, migrations);
      const done = new Set(applied.map((a) => a.version));
      const result: MigrateResult = { applied: [], alreadyApplied: done.size };
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        const started = performance.now();
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query(
            'INSERT INTO schema_migrations (version, name, checksum, execution_ms) VALUES ($1, $2, $3, $4)',
            [m.version, m.name, m.checksum, Math.round(performance.now() - started)],
          );
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          const reason = err instanceof Error ? err.message : String(err);
          throw new MigrationError(`migration ${m.file} failed and was rolled back: ${reason}`);
        }
        options.logger?.info({ migration: m.file, ms: Math.round(performance.now() - started) }, 'migration applied');
        result.applied.push(m.file);
      }
      return result;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

export interface MigrationStatus {
  applied: AppliedMigration[];
  pending: Migration[];
}

export async function migrationStatus(connectionString: string, dir?: string): Promise<MigrationStatus> {
  const migrations = loadMigrations(dir);
  const client = new pg.Client({ connectionString, application_name: 'dealdome-migrator' });
  await client.connect();
  try {
    const applied = await readApplied(client);
    assertKnown(applied, migrations);
    const done = new Set(applied.map((a) => a.version));
    return { applied, pending: migrations.filter((m) => !done.has(m.version)) };
  } finally {
    await client.end();
  }
}

/** For services started with MIGRATE_ON_START=false: the schema must already match. */
export async function assertMigrated(connectionString: string, dir?: string): Promise<void> {
  const status = await migrationStatus(connectionString, dir);
  if (status.pending.length > 0) {
    throw new MigrationError(
      `the database is missing ${status.pending.length} migration(s) (${status.pending.map((m) => m.file).join(', ')}); ` +
        'run `pnpm dealdome migrate` or start with MIGRATE_ON_START=true',
    );
  }
}
