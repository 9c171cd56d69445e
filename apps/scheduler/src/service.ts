import { encryptionKeys } from '@dealdome/config';
import type { Logger, StartedService } from '@dealdome/config';
import { startPlatformService } from '@dealdome/queues';
import type { Env } from './env';
import { startClock } from './clock';
import { scheduleHousekeeping } from './housekeeping';
import { syncFailingAlert } from './alerts';
import { createShopifySyncWorker } from './shopify-worker';
import { createScheduledTasksWorker } from './worker';
import { shopifySyncLagGauge } from './metrics';

/**
 * The scheduler: the clock that queues due scheduled tasks, and the worker of the
 * scheduled-tasks queue that runs them and the housekeeping job. Any number of
 * replicas may run; the clock's claims and the job ids keep each slot to one run.
 */
export async function startScheduler(env: Env, logger: Logger): Promise<StartedService> {
  let housekeeping: Promise<void> = Promise.resolve();
  const service = await startPlatformService({
    service: 'scheduler',
    env,
    logger,
    port: env.SCHEDULER_PORT,
    setup: ({ database, redis, producer, registry }) => {
      const worker = createScheduledTasksWorker({
        db: database.db,
        producer,
        connection: redis,
        prefix: env.QUEUE_PREFIX,
        logger,
        concurrency: env.SCHEDULER_CONCURRENCY,
        retention: { telegramUpdatesDays: env.TELEGRAM_UPDATES_RETENTION_DAYS, searchMetricsDays: env.SEARCH_METRICS_RETENTION_DAYS },
        registry,
      });
      const clock = startClock({ db: database.db, producer, logger, tickMs: env.SCHEDULER_TICK_MS });
      housekeeping = scheduleHousekeeping(producer, env.HOUSEKEEPING_CRON, logger);
      const shopify = createShopifySyncWorker({
        db: database.db,
        redis,
        prefix: env.QUEUE_PREFIX,
        producer,
        logger,
        encryptionKey: encryptionKeys(env),
        apiBaseUrl: env.SHOPIFY_API_BASE_URL,
        concurrency: env.SHOPIFY_SYNC_CONCURRENCY,
        alertAfterFailures: env.SHOPIFY_ALERT_AFTER_FAILURES,
        onSyncFailing: syncFailingAlert(database.db, producer, logger),
        registry,
      });
      shopifySyncLagGauge(registry, database.db);
      return {
        consumers: [
          {
            name: 'scheduled-tasks',
            // The clock stops first, so no run is queued while the worker drains.
            close: async (deadlineMs: number) => {
              await clock.close(deadlineMs);
              await worker.close(deadlineMs);
            },
          },
          { name: 'shopify-sync', close: (deadlineMs: number) => shopify.close(deadlineMs) },
        ],
      };
    },
  });
  try {
    await housekeeping;
  } catch (err) {
    await service.stop();
    throw err;
  }
  return service;
}
