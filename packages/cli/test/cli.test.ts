import { createTestDatabase } from '@dealdome/db/testing';
import type { TestDatabase } from '@dealdome/db/testing';
import { loadMigrations } from '@dealdome/db';
import { login } from '@dealdome/domain';
import { openDatabase } from '@dealdome/db';
import { buildProgram, describeError } from '../src/main';

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

  it('when users:create runs, then the printed password logs the new admin in, once stored only as a hash', async () => {
    const lines = await run('users:create', '--email', 'Owner@DealDome.test', '--role', 'admin', '--telegram-id', '123456789');
    expect(lines[0]).toMatch(/^created admin owner@dealdome.test \([0-9a-f-]{36}\)$/);
    const password = lines[1]!.replace('password: ', '');
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);

    const handle = await openDatabase({ url: database.url });
    try {
      const row = await handle.db.selectFrom('users').selectAll().where('email', '=', 'owner@dealdome.test').executeTakeFirstOrThrow();
      expect(row).toMatchObject({ role: 'admin', telegram_user_id: '123456789' });
      expect(row.password_hash).toMatch(/^scrypt\$15\$8\$1\$/);
      expect(row.password_hash).not.toContain(password);
      const config = { jwtSecret: 'x'.repeat(32), issuer: 'i', audience: 'a', accessTokenTtlSeconds: 60, refreshTokenTtlSeconds: 600 };
      await expect(login(handle.db, config, 'owner@dealdome.test', password)).resolves.toMatchObject({ tokenType: 'Bearer' });
    } finally {
      await handle.close();
    }
  });

  it('when users:create is given a taken email or a bad one, then it says so', async () => {
    await expect(run('users:create', '--email', 'owner@dealdome.test')).rejects.toThrow('a user with email owner@dealdome.test already exists');
    const err = await run('users:create', '--email', 'not-an-email').catch((e: unknown) => e);
    expect(describeError(err)).toMatch(/^The request is not valid\. email: /);
  });

  it('when users:link-code runs, then it prints a one-time code; users:link links an id and refuses one already taken', async () => {
    await run('users:create', '--email', 'crew@dealdome.test');
    const lines = await run('users:link-code', '--email', 'crew@dealdome.test', '--ttl-hours', '2');
    expect(lines[0]).toMatch(/^link code for crew@dealdome.test: [2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$/);
    expect(lines[1]).toMatch(/^send it to the bot as: \/link /);

    expect(await run('users:link', '--email', 'crew@dealdome.test', '--telegram-id', '555000111')).toEqual([
      'linked crew@dealdome.test to Telegram user 555000111',
    ]);
    await expect(run('users:link', '--email', 'crew@dealdome.test', '--telegram-id', '123456789')).rejects.toThrow(
      'Telegram user 123456789 is already linked to another user',
    );
    await expect(run('users:create', '--email', 'second@dealdome.test', '--telegram-id', '555000111')).rejects.toThrow(
      'Telegram user 555000111 is already linked to another user',
    );
  });

  it('when demo:link-telegram runs, then it links the admin once, keeps links made before, and reports a missing admin without failing', async () => {
    const missing = await run('demo:link-telegram', '--email', 'demo@dealdome.test', '--telegram-id', '1001');
    await run('users:create', '--email', 'demo@dealdome.test', '--role', 'admin');
    const first = await run('demo:link-telegram', '--email', 'Demo@DealDome.test', '--telegram-id', '1001');
    const again = await run('demo:link-telegram', '--email', 'demo@dealdome.test', '--telegram-id', '1001');
    const linkedBefore = await run('demo:link-telegram', '--email', 'owner@dealdome.test', '--telegram-id', '1002');

    expect(missing).toEqual(['chat user: none (no active user demo@dealdome.test to link to Telegram user 1001)']);
    expect(first).toEqual(['chat user: demo@dealdome.test is Telegram user 1001 (linked now)']);
    expect(again).toEqual(['chat user: demo@dealdome.test is Telegram user 1001 (linked already)']);
    expect(linkedBefore).toEqual(['chat user: owner@dealdome.test is Telegram user 123456789 (linked already)']);
  });
});
