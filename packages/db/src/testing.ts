import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from './database';
import type { DatabaseHandle } from './database';

/**
 * Database fixtures for tests, kept beside the schema they clone. The jest global
 * set-up (packages/testkit) migrates a template database and sets the variables
 * read here; every test file then gets its own copy.
 */

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests through jest, whose global set-up sets it`);
  return value;
}

export const adminDatabaseUrl = () => required('TEST_ADMIN_DATABASE_URL');
export const templateDatabaseName = () => required('TEST_TEMPLATE_DATABASE');

/** The same server, another database: swaps the path of a connection string. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A fresh database for one test file, cloned from the migrated template. */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `dealdome_test_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  const template = options.empty ? 'template0' : templateDatabaseName();
  await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
  return {
    name,
    url: withDatabase(adminDatabaseUrl(), name),
    drop: () => admin(async (c) => void (await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`))),
  };
}

/**
 * A new, empty database on the server of `serverUrl` for a benchmark run (named
 * `dealdome_bench_<random>`); `drop()` removes it, connections and all.
 */
export async function createScratchDatabase(serverUrl: string): Promise<TestDatabase> {
  const server = withDatabase(serverUrl, 'postgres');
  const name = `dealdome_bench_${randomBytes(4).toString('hex')}`;
  const onServer = async (sql: string) => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await onServer(`CREATE DATABASE "${name}"`);
  return { name, url: withDatabase(server, name), drop: () => onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/**
 * Registers beforeAll/afterAll for a test file: a cloned database and an open
 * Kysely handle on it, dropped when the file is done.
 */
export function useTestDatabase(): { readonly url: string; readonly handle: DatabaseHandle } {
  let database: TestDatabase | undefined;
  let handle: DatabaseHandle | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    handle = await openDatabase({ url: database.url, poolMax: 4 });
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });
  return {
    get url() {
      if (!database) throw new Error('the test database exists only inside tests');
      return database.url;
    },
    get handle() {
      if (!handle) throw new Error('the test database exists only inside tests');
      return handle;
    },
  };
}
