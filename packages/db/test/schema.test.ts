import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { sql } from 'kysely';
import { toVector, EMBEDDING_DIMENSIONS } from '../src';
import { useTestDatabase } from '../src/testing';

const expectedTables = [
  'users', 'api_tokens', 'settings', 'stores', 'videos', 'chunks', 'memories', 'conversations', 'messages',
  'telegram_updates', 'scheduled_tasks', 'products', 'fixed_costs', 'daily_financials', 'ad_spend_entries',
  'product_performance', 'fx_rates', 'financial_reports', 'shopify_sync_state', 'embedding_cache',
  'search_metrics', 'schema_migrations', 'product_costs', 'refresh_tokens',
];

function unitVector(hot: number): number[] {
  return Array.from({ length: EMBEDDING_DIMENSIONS }, (_, i) => (i === hot ? 1 : 0));
}

describe('schema', () => {
  const database = useTestDatabase();

  it('when migrated, then every table of the architecture exists', async () => {
    const { rows } = await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`.execute(database.handle.db);
    expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(expectedTables));
  });

  it('when the embedding columns are inspected, then they are vector(1536)', async () => {
    const { rows } = await sql<{ table: string; type: string }>`
      SELECT c.relname AS table, format_type(a.atttypid, a.atttypmod) AS type
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE a.attname = 'embedding' AND c.relname IN ('chunks', 'memories') ORDER BY c.relname`.execute(database.handle.db);
    expect(rows).toEqual([
      { table: 'chunks', type: 'vector(1536)' },
      { table: 'memories', type: 'vector(1536)' },
    ]);
  });

  it.each(['chunks', 'memories'])('when %s are ordered by cosine distance with a limit, then the HNSW index is used', async (table) => {
    const plan = await database.handle.db.connection().execute(async (conn) => {
      // An empty table would always be scanned sequentially; the question is whether the index can serve the query.
      await sql`SET enable_seqscan = off`.execute(conn);
      const { rows } = await sql<{ 'QUERY PLAN': string }>`
        EXPLAIN SELECT id FROM ${sql.table(table)} ORDER BY embedding <=> ${toVector(unitVector(3))}::vector LIMIT 10`.execute(conn);
      await sql`RESET enable_seqscan`.execute(conn);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain(`Index Scan using ${table}_embedding_hnsw on ${table}`);
  });

  it('when a vector is written and read back, then it is the same number array', async () => {
    const { db } = database.handle;
    const video = await db
      .insertInto('videos')
      .values({ title: 'Scaling ads', transcript_format: 'txt', transcript: 'hello world' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const embedding = unitVector(7).map((v, i) => v + i / 10000);
    await db
      .insertInto('chunks')
      .values({ video_id: video.id, chunk_index: 0, content: 'hello world', token_count: 2, embedding: toVector(embedding), embedding_model: 'test' })
      .execute();
    const row = await db.selectFrom('chunks').select(['embedding', 'tsv']).executeTakeFirstOrThrow();
    expect(row.embedding).toHaveLength(EMBEDDING_DIMENSIONS);
    expect(row.embedding![7]).toBeCloseTo(1.0007, 6);
    expect(row.tsv).toContain('hello');
  });

  it('when money is stored, then it comes back exact as a string and negative amounts are refused', async () => {
    const { db } = database.handle;
    const store = await db
      .insertInto('stores')
      .values({ name: 'Nordic Home', currency: 'EUR', timezone: 'Europe/Amsterdam' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.insertInto('daily_financials').values({ store_id: store.id, date: '2026-11-22', currency: 'EUR', revenue: '12345678901234.1234' }).execute();
    const row = await db.selectFrom('daily_financials').select(['revenue', 'date']).executeTakeFirstOrThrow();
    expect(row).toEqual({ revenue: '12345678901234.1234', date: '2026-11-22' });

    await expect(
      db.insertInto('ad_spend_entries').values({ store_id: store.id, date: '2026-11-22', platform: 'meta', amount: '-1.00', currency: 'EUR' }).execute(),
    ).rejects.toThrow(/check constraint/);
    await expect(
      db.insertInto('ad_spend_entries').values({ store_id: store.id, date: '2026-11-22', platform: 'myspace', amount: '1.00', currency: 'EUR' }).execute(),
    ).rejects.toThrow(/check constraint/);
    await expect(
      db.insertInto('daily_financials').values({ store_id: store.id, date: '2026-11-22', currency: 'EUR' }).execute(),
    ).rejects.toThrow(/duplicate key/);
  });

  it('when the committed Kysely types are compared with the migrated schema, then they match (else run pnpm db:codegen)', () => {
    const packageDir = path.resolve(__dirname, '..');
    const run = () =>
      execFileSync(
        path.join(packageDir, 'node_modules/.bin/kysely-codegen'),
        ['--config-file', '.kysely-codegenrc.json', '--url', database.url, '--verify', '--log-level', 'error'],
        { cwd: packageDir, stdio: 'pipe', encoding: 'utf8' },
      );
    expect(run).not.toThrow();
  });
});
