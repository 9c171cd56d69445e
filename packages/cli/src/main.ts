import { Command } from 'commander';
import { z } from 'zod';
import { createLogger, envUrl, parseEnv } from '@dealdome/config';
import { migrate, migrationStatus } from '@dealdome/db';

/**
 * `pnpm dealdome <command>`: the operator's tool. Each command validates only the
 * variables it needs, so `migrate` works on a machine that has no bot token.
 */
const databaseEnv = z.object({ DATABASE_URL: envUrl(['postgres', 'postgresql']) });

function databaseUrl(): string {
  return parseEnv('dealdome', databaseEnv).DATABASE_URL;
}

export function buildProgram(out: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Command {
  const program = new Command('dealdome').description('Operate a DealDome installation').showHelpAfterError();

  program
    .command('migrate')
    .description('apply pending database migrations (safe to run from several places at once)')
    .action(async () => {
      const logger = createLogger('dealdome-cli', { level: 'warn' });
      const result = await migrate(databaseUrl(), { logger });
      if (result.applied.length === 0) out(`database is up to date (${result.alreadyApplied} migrations applied)`);
      for (const file of result.applied) out(`applied ${file}`);
    });

  program
    .command('migrate:status')
    .description('list applied and pending migrations')
    .action(async () => {
      const status = await migrationStatus(databaseUrl());
      for (const m of status.applied) out(`applied  ${String(m.version).padStart(4, '0')}_${m.name}  ${m.appliedAt.toISOString()}`);
      for (const m of status.pending) out(`pending  ${m.file}`);
    });

  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`dealdome: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
