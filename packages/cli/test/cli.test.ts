import { createTestDatabase } from '@dealdome/db/testing';
import type { TestDatabase } from '@dealdome/db/testing';
import { loadMigrations } from '@dealdome/db';
import { buildProgram } from '../src/main';

describe('dealdome CLI', () => {
  let database: TestDatabase;
  const saved = process.env.DATABASE_URL;
  beforeAll(async () => {
    database = await createTestDatabase({ empty: true });
    process.env.DATABASE_URL = database.url;
  });
  afterAll(async () => {
    process.env.DATABASE_URL = saved;
    await database.drop();
  });

  async function run(...args: string[]): Promise<string[]> {
    const lines: string[] = [];
    await buildProgram((line) => lines.push(line)).parseAsync(['node', 'dealdome', ...args]);
    return lines;
  }

  it('when migrate:status runs on an empty database, then every migration is pending', async () => {
    const lines = await run('migrate:status');
    expect(lines).toEqual(loadMigrations().map((m) => `pending  ${m.file}`));
  });

  it('when migrate runs twice, then the first applies every file and the second reports the database up to date', async () => {
    expect(await run('migrate')).toEqual(loadMigrations().map((m) => `applied ${m.file}`));
    expect(await run('migrate')).toEqual([`database is up to date (${loadMigrations().length} migrations applied)`]);
    const status = await run('migrate:status');
    expect(status.every((line) => line.startsWith('applied  '))).toBe(true);
  });
});
