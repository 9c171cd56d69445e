import { createLogger, envUrl, parseEnv, EnvError } from '@dealdome/config';
import { z } from 'zod';
import { migrate } from './migrator';

/**
 * The one-shot migration entry point of the images (compose's `migrate` service,
 * the Kubernetes Job): applies pending migrations and exits 0, or exits 1 saying why.
 */
const logger = createLogger('migrate');
try {
  const env = parseEnv('migrate', z.object({ DATABASE_URL: envUrl(['postgres', 'postgresql']) }));
  migrate(env.DATABASE_URL, { logger }).then(
    (result) => {
      logger.info({ applied: result.applied, alreadyApplied: result.alreadyApplied }, 'database is up to date');
      process.exit(0);
    },
    (err: unknown) => {
      logger.fatal({ err }, 'migration failed');
      process.exit(1);
    },
  );
} catch (err) {
  if (!(err instanceof EnvError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
