/**
 * Regenerates src/schema.ts from the migrations: migrates a scratch database on the
 * server at DATABASE_URL (default: the local one), introspects it with
 * kysely-codegen, then drops it. `pnpm db:codegen` after adding a migration.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../src/migrator';
import { withDatabase } from '../src/testing';

async function main(): Promise<void> {
  const server = withDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'postgres');
  const name = `dealdome_codegen_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  try {
    await migrate(withDatabase(server, name));
    const packageDir = path.resolve(__dirname, '..');
    execFileSync(
      path.join(packageDir, 'node_modules/.bin/kysely-codegen'),
      ['--config-file', '.kysely-codegenrc.json', '--url', withDatabase(server, name)],
      { cwd: packageDir, stdio: 'inherit' },
    );
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
