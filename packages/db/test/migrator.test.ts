import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase } from '../src/testing';
import type { TestDatabase } from '../src/testing';
import { defaultMigrationsDir, loadMigrations, migrate, migrationStatus, openDatabase } from '../src';

const migrationCount = loadMigrations().length;

async function appliedRows(url: string): Promise<{ version: number; checksum: string }[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations ORDER BY version')).rows;
  } finally {
    await client.end();
  }
}

function copyMigrations(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dealdome-migrations-'));
  cpSync(defaultMigrationsDir(), dir, { recursive: true });
  return dir;
}

describe('migrator', () => {
  let database: TestDatabase;
  const dirs: string[] = [];

  beforeEach(async () => {
    database = await createTestDatabase({ empty: true });
  });
  afterEach(async () => {
    await database.drop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('when the database is empty, then every migration is applied in order and recorded with its checksum', async () => {
    const result = await migrate(database.url);
    expect(result.applied).toEqual(readdirSync(defaultMigrationsDir()).filter((f) => f.endsWith('.sql')).sort());
    const rows = await appliedRows(database.url);
    expect(rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
    expect(rows.map((r) => r.checksum)).toEqual(loadMigrations().map((m) => m.checksum));
  });

  it('when run again, then nothing is applied', async () => {
    await migrate(database.url);
    const again = await migrate(database.url);
    expect(again).toEqual({ applied: [], alreadyApplied: migrationCount });
    expect((await migrationStatus(database.url)).pending).toEqual([]);
  });

  it('when three migrators start at once, then each migration is applied exactly once', async () => {
    const results = await Promise.all([migrate(database.url), migrate(database.url), migrate(database.url)]);
    const appliedFiles = results.flatMap((r) => r.applied);
    expect(appliedFiles.sort()).toEqual(loadMigrations().map((m) => m.file).sort());
    expect(await appliedRows(database.url)).toHaveLength(migrationCount);
  });

  it('when an applied migration file was changed, then migrating and starting are refused with a clear message', async () => {
    const dir = copyMigrations();
    dirs.push(dir);
    await migrate(database.url, { dir });
    const first = loadMigrations(dir)[0]!;
    appendFileSync(path.join(dir, first.file), '\n-- edited after release\n');

    await expect(migrate(database.url, { dir })).rejects.toThrow(`migration ${first.file} was changed after it was applied`);
    await expect(migrationStatus(database.url, dir)).rejects.toThrow(/was changed after it was applied/);
  });

  it('when the database has a migration the code does not know, then it refuses to start', async () => {
    const dir = copyMigrations();
    dirs.push(dir);
    writeFileSync(path.join(dir, '9999_from_the_future.sql'), 'CREATE TABLE from_the_future (id int);');
    await migrate(database.url, { dir });

    await expect(migrate(database.url)).rejects.toThrow(/has migration 9999 \(from_the_future\) that this code does not know/);
    await expect(openDatabase({ url: database.url, migrate: false })).rejects.toThrow(/does not know/);
  });

  it('when the schema is behind and the service may not migrate, then it refuses to start', async () => {
    await expect(openDatabase({ url: database.url, migrate: false })).rejects.toThrow(
      new RegExp(`missing ${migrationCount} migration`),
    );
  });

  it('when a migration fails, then its changes are rolled back and it is not recorded', async () => {
    const dir = copyMigrations();
    dirs.push(dir);
    writeFileSync(path.join(dir, '9998_broken.sql'), 'CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;');
    await expect(migrate(database.url, { dir })).rejects.toThrow(/9998_broken.sql failed and was rolled back/);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const table = await client.query(`SELECT to_regclass('half_done') AS t`);
      expect(table.rows[0].t).toBeNull();
    } finally {
      await client.end();
    }
    expect((await appliedRows(database.url)).map((r) => r.version)).not.toContain(9998);
    expect(await appliedRows(database.url)).toHaveLength(migrationCount);
  });

  it('when 0012 runs over the sync state of 0011, then each row becomes its store\'s orders row and the key is the store and the resource', async () => {
    // The database as 0011 left it, with a store whose orders were being synced.
    const dir = copyMigrations();
    dirs.push(dir);
    for (const file of readdirSync(dir)) if (Number(file.slice(0, 4)) >= 12) rmSync(path.join(dir, file));
    await migrate(database.url, { dir });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const store = await client.query<{ id: string }>(`INSERT INTO stores (name, currency, timezone) VALUES ('Nordic Home', 'EUR', 'UTC') RETURNING id`);
      const storeId = store.rows[0]!.id;
      await client.query(`INSERT INTO shopify_sync_state (store_id, orders_updated_at_cursor, consecutive_failures) VALUES ($1, '2026-11-10T12:00:05Z', 2)`, [storeId]);

      await migrate(database.url);

      const rows = await client.query('SELECT store_id, resource, orders_updated_at_cursor, consecutive_failures FROM shopify_sync_state');
      expect(rows.rows).toEqual([{ store_id: storeId, resource: 'orders', orders_updated_at_cursor: new Date('2026-11-10T12:00:05Z'), consecutive_failures: 2 }]);
      const key = await client.query<{ column: string }>(`
        SELECT a.attname AS column
        FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = 'shopify_sync_state'::regclass AND i.indisprimary
        ORDER BY array_position(i.indkey::int2[], a.attnum)`);
      expect(key.rows.map((r) => r.column)).toEqual(['store_id', 'resource']);
      await expect(client.query(`INSERT INTO shopify_sync_state (store_id, resource) VALUES ($1, 'orders')`, [storeId])).rejects.toThrow(/duplicate key/);
      await expect(client.query(`INSERT INTO shopify_sync_state (store_id, resource) VALUES ($1, 'order')`, [storeId])).rejects.toThrow(/check constraint/);
    } finally {
      await client.end();
    }
  });

  it('when a file is misnamed, then loading the migrations says how to name it', () => {
    const dir = copyMigrations();
    dirs.push(dir);
    writeFileSync(path.join(dir, 'add-things.sql'), 'SELECT 1;');
    expect(() => loadMigrations(dir)).toThrow('migration file "add-things.sql" is not named NNNN_snake_case_name.sql');
  });
});
