import { sql } from 'kysely';
import { openDatabase, PREPARED_STATEMENTS_PER_CONNECTION } from '../src';
import type { DatabaseHandle } from '../src';
import { createTestDatabase } from '../src/testing';
import type { TestDatabase } from '../src/testing';

/** Statements with parameters run as named statements of their connection (see preparingPool). */
describe('prepared statements', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    database = await createTestDatabase();
    // One connection, so every statement below runs in the same session.
    handle = await openDatabase({ url: database.url, poolMax: 1 });
    await sql`CREATE TABLE prepared_probe (id int PRIMARY KEY, label text)`.execute(handle.db);
    await sql`INSERT INTO prepared_probe SELECT g, 'row ' || g FROM generate_series(1, 10) g`.execute(handle.db);
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  const preparedInSession = async () =>
    (await sql<{ name: string; statement: string }>`SELECT name, statement FROM pg_prepared_statements`.execute(handle.db)).rows;

  it('when a statement with parameters runs again, then its session parses it once and answers alike', async () => {
    const byId = async (id: number) => (await sql<{ label: string }>`SELECT label FROM prepared_probe WHERE id = ${id}`.execute(handle.db)).rows;
    expect(await byId(3)).toEqual([{ label: 'row 3' }]);
    expect(await byId(7)).toEqual([{ label: 'row 7' }]);
    expect(await byId(11)).toEqual([]);
    const named = (await preparedInSession()).filter((s) => s.statement.includes('prepared_probe'));
    expect(named).toHaveLength(1);
    expect(named[0]!.name).toMatch(/^dd_[0-9a-f]{40}$/);
    // Without parameters a statement is not prepared (the simple protocol, as before).
    await sql`SELECT count(*) FROM prepared_probe`.execute(handle.db);
    expect((await preparedInSession()).filter((s) => s.statement.includes('count(*)'))).toHaveLength(0);
  });

  it('when more texts than the limit run, then the rest run unnamed and still answer', async () => {
    const before = (await preparedInSession()).length;
    for (let i = 0; i < PREPARED_STATEMENTS_PER_CONNECTION + 5; i++) {
      const { rows } = await sql<{ n: number }>`SELECT ${i}::int + ${sql.lit(i)} AS n`.execute(handle.db);
      expect(rows[0]!.n).toBe(2 * i);
    }
    const after = await preparedInSession();
    expect(after.length).toBe(PREPARED_STATEMENTS_PER_CONNECTION);
    expect(after.length).toBeGreaterThan(before);
  });

  it('when a migration changes a table under a prepared statement, then one run fails and the next runs unnamed', async () => {
    const handleOne = await openDatabase({ url: database.url, poolMax: 1 });
    try {
      const all = (id: number) => sql<Record<string, unknown>>`SELECT * FROM prepared_probe WHERE id = ${id}`.execute(handleOne.db);
      expect((await all(1)).rows).toEqual([{ id: 1, label: 'row 1' }]);
      await sql`ALTER TABLE prepared_probe ADD COLUMN note text`.execute(handle.db);
      await expect(all(2)).rejects.toThrow('cached plan must not change result type');
      expect((await all(2)).rows).toEqual([{ id: 2, label: 'row 2', note: null }]);
    } finally {
      await handleOne.close();
    }
  });
});
