import { createServer } from 'node:net';
import { sql } from 'kysely';
import { isDatabaseUnavailable, openDatabase } from '../src';
import type { DatabaseHandle } from '../src';
import { createTestDatabase } from '../src/testing';
import type { TestDatabase } from '../src/testing';

/** What the driver really raises, against the test server, classified. */
describe('isDatabaseUnavailable', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    database = await createTestDatabase();
    handle = await openDatabase({ url: database.url, poolMax: 2 });
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (err: unknown) => err);

  it('when a statement is wrong, then it is not unavailability', async () => {
    const err = await failureOf(sql`SELEC 1`.execute(handle.db));
    expect(err).toMatchObject({ code: '42601' });
    expect(isDatabaseUnavailable(err)).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
  });

  it('when nothing listens where the database should be, then it is', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const url = new URL(database.url);
    url.host = `127.0.0.1:${port}`;

    const err = await failureOf(openDatabase({ url: url.toString() }));

    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it('when the server ends the session (a shutdown or restart), then it is', async () => {
    const other = await openDatabase({ url: database.url, poolMax: 1 });
    try {
      const running = failureOf(handle.pool.query('SELECT pg_sleep(5)'));
      await new Promise((r) => setTimeout(r, 200));
      await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'SELECT pg_sleep%'`.execute(other.db);
      const err = await running;

      expect(err).toMatchObject({ code: '57P01' });
      expect(isDatabaseUnavailable(err)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('when the server ends a session that is checked out between statements, then the process lives on and the pool recovers', async () => {
    const other = await openDatabase({ url: database.url, poolMax: 1 });
    try {
      const failure = failureOf(
        handle.db.transaction().execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
          // Between two statements of the transaction: no query is waiting for the error.
          await sql`SELECT pg_terminate_backend(${rows[0]!.pid}::int)`.execute(other.db);
          await new Promise((r) => setTimeout(r, 300));
          await sql`SELECT 1`.execute(trx);
        }),
      );
      expect(await failure).toBeInstanceOf(Error);
      const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(handle.db);
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await other.close();
    }
  });
});
