import { z } from 'zod';
import { baseEnvSchema, encryptionKeysEnv, envInt, envPort, shopifyEnv } from '@dealdome/config';
import { AppError, nextRunAt } from '@dealdome/domain';

const cronExpression = (fallback: string) =>
  z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .string()
      .default(fallback)
      .superRefine((expression, ctx) => {
        try {
          nextRunAt(expression, 'UTC', new Date());
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: err instanceof AppError ? err.message : 'is not a cron expression' });
        }
      }),
  );

export const envSchema = baseEnvSchema.extend({
  /** /healthz, /readyz and /metrics. */
  SCHEDULER_PORT: envPort(9404),
  /** How often the clock looks for due tasks, in ms: a task runs at most this long after its time. */
  SCHEDULER_TICK_MS: envInt(1000, 50),
  /** scheduled-tasks jobs (task runs, housekeeping) one replica runs at once. */
  SCHEDULER_CONCURRENCY: envInt(4, 1),
  /** When housekeeping runs: a 5-field cron expression in UTC (default 03:17 every day). */
  HOUSEKEEPING_CRON: cronExpression('17 3 * * *'),
  /** Days telegram_updates (the intake's de-duplication record) are kept. */
  TELEGRAM_UPDATES_RETENTION_DAYS: envInt(30, 1),
  /** Days search_metrics rows are kept. */
  SEARCH_METRICS_RETENTION_DAYS: envInt(90, 1),
  /** Decrypts the stores' Shopify access tokens (the same keys as finance-api's). */
  ...encryptionKeysEnv,
  ...shopifyEnv,
  /** shopify-sync jobs one replica runs at once (each one store). */
  SHOPIFY_SYNC_CONCURRENCY: envInt(2, 1),
  /** Consecutive failed sync rounds of a store after which the team is alerted. */
  SHOPIFY_ALERT_AFTER_FAILURES: envInt(3, 1),
});

export type Env = z.infer<typeof envSchema>;
