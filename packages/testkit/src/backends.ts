import { execFileSync } from 'node:child_process';

/**
 * Where integration tests find PostgreSQL and Redis. With a Docker engine,
 * testcontainers starts pgvector and Redis containers (set DEALDOME_TESTCONTAINERS=false
 * to opt out); without one, the local services: TEST_DATABASE_URL / TEST_REDIS_URL,
 * else DATABASE_URL / REDIS_URL, else the defaults below. Never skipped.
 */
export const DEFAULT_ADMIN_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function dockerEngineAnswers(): boolean {
  if (process.env.DEALDOME_TESTCONTAINERS === 'false') return false;
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: run tests through jest (its global set-up sets it)');
  return url;
}
