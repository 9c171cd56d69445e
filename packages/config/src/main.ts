import type { z } from 'zod';
import { EnvError, parseEnv } from './env';
import type { BaseEnv } from './env';
import { createLogger } from './logger';
import type { Logger } from './logger';
import { logObservabilityProblems, reportError, stopObservability } from './observability';

/** How long a process that exits waits for its last spans and error reports to leave. */
const FLUSH_TIMEOUT_MS = 2000;

export interface RunningService {
  /** Where the service answers /healthz, /readyz and /metrics. */
  url: string;
  /** Stops taking work, finishes or hands back in-flight work, closes pools. */
  stop(): Promise<void>;
}

export interface MainOptions<S extends z.ZodType<BaseEnv>> {
  service: string;
  schema: S;
  start(env: z.infer<S>, logger: Logger): Promise<RunningService>;
}

/**
 * The process entry point every service shares: validate the environment, start,
 * and turn SIGTERM/SIGINT into a graceful stop that exits 0. A second signal, or a
 * stop that overruns its deadline, exits 1 so an orchestrator is never kept waiting.
 */
export function runMain<S extends z.ZodType<BaseEnv>>(options: MainOptions<S>): void {
  let env: z.infer<S>;
  try {
    env = parseEnv(options.service, options.schema);
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(options.service, { level: env.LOG_LEVEL });
  logObservabilityProblems(logger);
  const exit = (code: number) => void stopObservability(FLUSH_TIMEOUT_MS).finally(() => process.exit(code));

  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection');
    reportError(reason);
    exit(1);
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    reportError(err);
    exit(1);
  });

  // A signal during start-up waits for start to finish, then stops what it built.
  const starting = options.start(env, logger);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal during shutdown; exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Backstop only: stop() itself drains within SHUTDOWN_TIMEOUT_MS.
    setTimeout(() => {
      logger.error('shutdown overran its deadline; exiting');
      process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS + FLUSH_TIMEOUT_MS + 5000).unref();
    starting.then((service) => service.stop()).then(
      () => {
        logger.info('stopped cleanly');
        exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        reportError(err);
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  starting.then(
    (service) => {
      logger.info({ url: service.url }, `${options.service} ready to serve`);
    },
    (err: unknown) => {
      logger.fatal({ err }, `${options.service} failed to start`);
      reportError(err);
      exit(1);
    },
  );
}
