import { createHash } from 'node:crypto';
import pg from 'pg';
import { loadMigrations, migrate } from '@dealdome/db';
import { withDatabase } from '@dealdome/db/testing';
import { DEFAULT_ADMIN_DATABASE_URL, DEFAULT_REDIS_URL, dockerEngineAnswers } from './backends';

const TEMPLATE_LOCK_KEY = 727_274_002;
const STALE_TEST_DATABASE_SECONDS = 3 * 3600;

declare global {
  var __dealdomeContainers: { stop(): Promise<unknown> }[] | undefined;
}

async function startContainers(): Promise<{ adminUrl: string; redisUrl: string }> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const { RedisContainer } = await import('@testcontainers/redis');
  const [postgres, redis] = await Promise.all([
    new PostgreSqlContainer('pgvector/pgvector:pg16').withDatabase('postgres').withUsername('postgres').withPassword('postgres').start(),
    new RedisContainer('redis:7-alpine').start(),
  ]);
  globalThis.__dealdomeContainers = [postgres, redis];
  return { adminUrl: postgres.getConnectionUri(), redisUrl: redis.getConnectionUrl() };
}

/**
 * Runs once per jest run: finds the servers, then makes sure a template database
 * migrated to the current SQL files exists. Each test file clones it (CREATE
 * DATABASE … TEMPLATE), which takes a fraction of a second instead of a migration.
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl: string;
  let redisUrl: string;
  if (dockerEngineAnswers()) {
    ({ adminUrl, redisUrl } = await startContainers());
  } else {
    adminUrl = process.env.TEST_DATABASE_URL ?? (process.env.DATABASE_URL ? withDatabase(process.env.DATABASE_URL, 'postgres') : DEFAULT_ADMIN_DATABASE_URL);
    redisUrl = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  }

  const fingerprint = createHash('sha256')
    .update(loadMigrations().map((m) => `${m.file}:${m.checksum}`).join('\n'))
    .digest('hex')
    .slice(0, 12);
  const template = `dealdome_tpl_${fingerprint}`;

  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `integration tests need PostgreSQL with pgvector at ${new URL(adminUrl).host}: ${(err as Error).message}. ` +
        'Run `pnpm test` (it starts the local services) or set TEST_DATABASE_URL.',
    );
  }
  try {
    // Several jest runs (turbo runs one per package) may start together.
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    const existing = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'dealdome\\_tpl\\_%' OR datname LIKE 'dealdome\\_test\\_%'`,
    );
    const now = Math.floor(Date.now() / 1000);
    for (const { datname } of existing.rows) {
      const created = Number(/^dealdome_test_(\d+)_/.exec(datname)?.[1]);
      const staleTest = Number.isFinite(created) && now - created > STALE_TEST_DATABASE_SECONDS;
      const staleTemplate = datname.startsWith('dealdome_tpl_') && datname !== template;
      if (staleTest || staleTemplate) await admin.query(`DROP DATABASE IF EXISTS "${datname}"`).catch(() => undefined);
    }
    if (!existing.rows.some((r) => r.datname === template)) {
      await admin.query(`CREATE DATABASE "${template}"`);
      try {
        await migrate(withDatabase(adminUrl, template));
      } catch (err) {
        await admin.query(`DROP DATABASE IF EXISTS "${template}"`);
        throw err;
      }
    }
    await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
  } finally {
    await admin.end();
  }

  process.env.TEST_ADMIN_DATABASE_URL = adminUrl;
  process.env.TEST_REDIS_URL = redisUrl;
  process.env.TEST_TEMPLATE_DATABASE = template;
}
