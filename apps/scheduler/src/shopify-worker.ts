import { UnrecoverableError } from 'bullmq';
import type { Job } from 'bullmq';
import type { Registry } from 'prom-client';
import type { RedisConnection } from '@dealdome/queues';
import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import {
  findShopifySyncStatus,
  isPermanentShopifyError,
  listShopifyStoreIds,
  pruneShopifyWebhookDeliveries,
  shopifyClientFor,
  shopifyConnection,
  ShopifyNotConnectedError,
  ShopifySyncBusyError,
  syncShopifyOrders,
} from '@dealdome/domain';
import type { EncryptionKeys, ShopifyClock, SyncShopifyResult } from '@dealdome/domain';
import { catalog, createWorker, jobIds, payloadSchema, retention } from '@dealdome/queues';
import type { JobPayload, ManagedWorker, Producer } from '@dealdome/queues';

/**
 * The consumer of `shopify-sync`: a `sync-store` job runs one sync round of a store
 * (syncShopifyOrders) with a client paced by the store's bucket. It also keeps one
 * BullMQ job scheduler per connected store (every 15 minutes by default), adding and
 * removing them as stores are connected and disconnected, and forgets webhook
 * deliveries older than a week.
 */

export interface ShopifySyncWorkerDeps {
  db: Database;
  redis: RedisConnection;
  /** QUEUE_PREFIX. */
  prefix: string;
  /** For the job schedulers (the queue they add to). */
  producer: Producer;
  logger: Logger;
  /** SETTINGS_ENCRYPTION_KEY (and any previous keys): the stores' access tokens are sealed under it. */
  encryptionKey: EncryptionKeys;
  /** SHOPIFY_API_BASE_URL: where the Admin API is served when a store does not say (tests and local runs: the fake). */
  apiBaseUrl?: string | undefined;
  /** Stores synced at once (each store one at a time). */
  concurrency?: number;
  /** How often each connected store is synced. */
  everyMs?: number;
  /** How often the connected stores are read again to keep the schedules in step; 0: only when refreshSchedules is called. */
  refreshMs?: number;
  /**
   * Consecutive failed rounds of a store after which onSyncFailing is told (once per
   * streak). A round is one sync-store job: it fails when its last attempt does (or
   * at once, for a failure no retry can mend), not at each attempt BullMQ retries.
   */
  alertAfterFailures?: number;
  /** Raises the "sync failing" alert (a notification for the team). */
  onSyncFailing?: (failure: { storeId: string; consecutiveFailures: number; error: string }) => Promise<void>;
  clock?: ShopifyClock;
  /** The service's /metrics: the worker's job metrics go there. */
  registry?: Registry;
}

export type ShopifySyncJobResult =
  | ({ outcome: 'synced'; reason: JobPayload<'shopify-sync', 'sync-store'>['reason'] } & Omit<SyncShopifyResult, 'days'> & { days: number; firstDay: string | null; lastDay: string | null })
  | { outcome: 'busy'; reason: string };

export interface ShopifySyncWorker extends ManagedWorker {
  /** Adds a job scheduler for each connected store and removes those of stores no longer connected. */
  refreshSchedules(): Promise<{ scheduled: string[]; removed: string[] }>;
}

const SCHEDULE_PREFIX = jobIds.shopifySchedule('');
const WEBHOOK_RETENTION_MS = 7 * 86_400_000;

export function createShopifySyncWorker(deps: ShopifySyncWorkerDeps): ShopifySyncWorker {
  const logger = deps.logger.child({ component: 'shopify-sync' });
  const everyMs = deps.everyMs ?? 15 * 60_000;
  const alertAfter = deps.alertAfterFailures ?? 3;

  /** A round that failed (its last attempt): counted by the sync; alerts once the streak reaches alertAfter. */
  async function roundFailed(storeId: string, err: unknown): Promise<void> {
    const failures = (await findShopifySyncStatus(deps.db, storeId, 'orders'))?.consecutiveFailures ?? 0;
    const message = err instanceof Error ? err.message : String(err);
    logger.warn({ storeId, consecutiveFailures: failures, err: { message } }, 'Shopify sync failed');
    if (deps.onSyncFailing && failures === alertAfter) {
      await deps.onSyncFailing({ storeId, consecutiveFailures: failures, error: message }).catch((alertError: unknown) =>
        logger.error({ storeId, err: { message: (alertError as Error).message } }, 'the sync-failing alert could not be raised'),
      );
    }
  }

  const managed = createWorker(
    'shopify-sync',
    {
      'sync-store': async ({ storeId, reason }, job: Job, signal): Promise<ShopifySyncJobResult> => {
        const log = logger.child({ storeId, jobId: job.id, reason });
        let connection;
        try {
          connection = await shopifyConnection(deps.db, storeId, deps.encryptionKey);
        } catch (err) {
          // No token, an unreadable one, or no such store: a person must act; retrying changes nothing.
          if (err instanceof ShopifyNotConnectedError || (err as { status?: number }).status === 404) throw new UnrecoverableError((err as Error).message);
          throw err;
        }
        const client = shopifyClientFor(connection, { apiBaseUrl: deps.apiBaseUrl, logger: log, ...(deps.clock && { clock: deps.clock }) });
        const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        try {
          const result = await syncShopifyOrders(deps.db, { storeId, client, logger: log, finalAttempt, ...(signal && { signal }) });
          const { days, ...rest } = result;
          return { outcome: 'synced', reason, ...rest, days: days.length, firstDay: days[0] ?? null, lastDay: days[days.length - 1] ?? null };
        } catch (err) {
          // The running round reads everything up to the present, this change included.
          if (err instanceof ShopifySyncBusyError) return { outcome: 'busy', reason: 'another round of this store is running' };
          if (signal?.aborted) throw err;
          const permanent = isPermanentShopifyError(err);
          if (permanent || finalAttempt) {
            await roundFailed(storeId, err);
          } else {
            log.warn({ attempt: job.attemptsMade + 1, attempts: job.opts.attempts, err: { message: (err as Error).message } }, 'Shopify sync attempt failed; BullMQ retries it');
          }
          if (permanent) throw new UnrecoverableError((err as Error).message);
          throw err;
        }
      },
    },
    { connection: deps.redis, prefix: deps.prefix, logger: deps.logger, concurrency: deps.concurrency ?? 2, registry: deps.registry },
  );

  async function refreshSchedules(): Promise<{ scheduled: string[]; removed: string[] }> {
    const queue = deps.producer.queue('shopify-sync');
    const storeIds = await listShopifyStoreIds(deps.db);
    const schema = payloadSchema('shopify-sync', 'sync-store');
    const defaults = catalog['shopify-sync'].defaults;
    for (const storeId of storeIds) {
      await queue.upsertJobScheduler(
        jobIds.shopifySchedule(storeId),
        { every: everyMs },
        { name: 'sync-store', data: schema.parse({ storeId, reason: 'schedule' }), opts: { attempts: defaults.attempts, backoff: { ...defaults.backoff }, ...retention } },
      );
    }
    const wanted = new Set(storeIds.map((id) => jobIds.shopifySchedule(id)));
    const removed: string[] = [];
    for (const scheduler of await queue.getJobSchedulers()) {
      const key = scheduler.key;
      if (key.startsWith(SCHEDULE_PREFIX) && !wanted.has(key)) {
        await queue.removeJobScheduler(key);
        removed.push(key.slice(SCHEDULE_PREFIX.length));
      }
    }
    const pruned = await pruneShopifyWebhookDeliveries(deps.db, new Date(Date.now() - WEBHOOK_RETENTION_MS));
    if (removed.length || pruned) logger.info({ removed, prunedWebhookDeliveries: pruned }, 'Shopify sync schedules refreshed');
    return { scheduled: storeIds, removed };
  }

  const refresh = () =>
    refreshSchedules().catch((err: unknown) => logger.error({ err: { message: (err as Error).message } }, 'Shopify sync schedules could not be refreshed'));
  const refreshMs = deps.refreshMs ?? 5 * 60_000;
  let timer: NodeJS.Timeout | undefined;
  if (refreshMs > 0) {
    void refresh();
    timer = setInterval(() => void refresh(), refreshMs);
    timer.unref();
  }

  return {
    ...managed,
    refreshSchedules,
    close: async (deadlineMs) => {
      if (timer) clearInterval(timer);
      await managed.close(deadlineMs);
    },
  };
}
