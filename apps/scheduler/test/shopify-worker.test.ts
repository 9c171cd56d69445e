import { randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import { createLogger } from '@dealdome/config';
import { connectShopifyStore, createStore } from '@dealdome/domain';
import { Producer } from '@dealdome/queues';
import { FakeShopify, useTestDatabase, useTestRedis } from '@dealdome/testkit';
import { createShopifySyncWorker } from '../src/shopify-worker';
import type { ShopifySyncWorker, ShopifySyncWorkerDeps } from '../src/shopify-worker';

const logger = createLogger('shopify-worker-test', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const KEY = Buffer.alloc(32, 5);

describe('shopify-sync worker', () => {
  const database = useTestDatabase();
  const redis = useTestRedis();
  const db = () => database.handle.db;
  let fake: FakeShopify;
  let producer: Producer;
  let worker: ShopifySyncWorker | undefined;
  const alerts: { storeId: string; consecutiveFailures: number; error: string }[] = [];

  beforeAll(async () => {
    producer = new Producer(redis.redis, redis.prefix);
    fake = await FakeShopify.start({ shopDomain: 'worker-shop.myshopify.com' });
  });
  afterEach(async () => {
    await worker?.close(2000);
    worker = undefined;
  });
  afterAll(async () => {
    await producer.close();
    await fake.close();
  });

  function start(overrides: Partial<ShopifySyncWorkerDeps> = {}) {
    worker = createShopifySyncWorker({
      db: db(),
      redis: redis.redis,
      prefix: redis.prefix,
      producer,
      logger,
      encryptionKey: KEY,
      apiBaseUrl: fake.url,
      refreshMs: 0,
      alertAfterFailures: 2,
      onSyncFailing: async (failure) => void alerts.push(failure),
      ...overrides,
    });
    return worker;
  }

  async function finished(job: Job, timeoutMs = 15_000): Promise<{ state: string; value: unknown; attempts: number }> {
    const queue = producer.queue('shopify-sync');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await queue.getJobState(job.id!);
      const current = await queue.getJob(job.id!);
      if (state === 'completed') return { state, value: current!.returnvalue, attempts: current!.attemptsMade };
      if (state === 'failed') return { state, value: current!.failedReason, attempts: current!.attemptsMade };
      if (Date.now() > deadline) throw new Error(`job ${job.id} is still ${state}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function store(shopDomain: string, connect: boolean) {
    const created = await createStore(db(), { name: `Store ${shopDomain}`, shopDomain, currency: 'EUR', timezone: 'UTC' });
    if (connect) await connectShopifyStore(db(), created.id, { accessToken: fake.accessToken }, KEY);
    return created;
  }

  it('when a sync-store job runs for a connected store, then its orders reach the finance tables and the job reports the round', async () => {
    start();
    const shop = await store('worker-shop.myshopify.com', true);
    fake.upsertOrder({ processedAt: '2026-11-20T10:00:00Z', lines: [{ title: 'Mug', sku: 'MUG', quantity: 2, unitPrice: '6.50' }], transactions: [{ amount: '13.00', fees: [{ amount: '0.45' }] }] });

    const outcome = await finished(await producer.enqueue('shopify-sync', 'sync-store', { storeId: shop.id, reason: 'manual' }));

    expect(outcome.state).toBe('completed');
    expect(outcome.value).toMatchObject({ outcome: 'synced', reason: 'manual', written: 1, days: 1, firstDay: '2026-11-20', throttled: 0 });
    const day = await db().selectFrom('daily_financials').select(['revenue', 'transaction_fees', 'units', 'source']).where('store_id', '=', shop.id).executeTakeFirstOrThrow();
    expect(day).toEqual({ revenue: '13.0000', transaction_fees: '0.4500', units: 2, source: 'shopify' });
  });

  it('when the store has no access token, then the job fails at once without retries', async () => {
    start();
    const shop = await store(`bare-${randomBytes(3).toString('hex')}.myshopify.com`, false);

    const outcome = await finished(await producer.enqueue('shopify-sync', 'sync-store', { storeId: shop.id, reason: 'schedule' }));

    expect(outcome).toEqual({ state: 'failed', value: expect.stringContaining('is not connected to Shopify'), attempts: 1 });
  });

  it('when Shopify refuses the token round after round, then the failures are counted and the alert is raised once', async () => {
    start();
    const shop = await store(`revoked-${randomBytes(3).toString('hex')}.myshopify.com`, false);
    await connectShopifyStore(db(), shop.id, { accessToken: 'shpat_revoked', apiBaseUrl: fake.url }, KEY);

    for (let round = 0; round < 3; round++) {
      const outcome = await finished(await producer.enqueue('shopify-sync', 'sync-store', { storeId: shop.id, reason: 'schedule' }));
      expect(outcome).toMatchObject({ state: 'failed', attempts: 1 });
    }

    const state = await db().selectFrom('shopify_sync_state').selectAll().where('store_id', '=', shop.id).where('resource', '=', 'orders').executeTakeFirstOrThrow();
    expect(state).toMatchObject({ status: 'failing', consecutive_failures: 3 });
    expect(state.last_error).toMatch(/refused the access token/);
    expect(alerts.filter((a) => a.storeId === shop.id)).toEqual([{ storeId: shop.id, consecutiveFailures: 2, error: expect.stringMatching(/refused the access token/) }]);
  });

  it('when every attempt of a round fails with an error worth retrying, then the round is counted once, on its last attempt, and the alert waits for failed rounds', async () => {
    // The client's own retries of a 503 take no time here.
    start({ clock: { now: () => Date.now(), sleep: async () => undefined } });
    const shop = await store(`flaky-${randomBytes(3).toString('hex')}.myshopify.com`, true);
    const round = async () => {
      // 3 job attempts, each the client's 4 tries of its first request.
      fake.injectError({ status: 503 }, 3 * 4);
      const job = await producer.queue('shopify-sync').add('sync-store', { storeId: shop.id, reason: 'schedule' }, { attempts: 3, backoff: { type: 'fixed', delay: 10 } });
      return finished(job);
    };
    const state = () => db().selectFrom('shopify_sync_state').selectAll().where('store_id', '=', shop.id).where('resource', '=', 'orders').executeTakeFirstOrThrow();

    expect(await round()).toMatchObject({ state: 'failed', attempts: 3 });
    expect(await state()).toMatchObject({ status: 'failing', consecutive_failures: 1, last_error: expect.stringMatching(/could not be reached .* HTTP 503/) });
    // Counted per attempt, the streak would be 3 by now and the alert (after 2) raised.
    expect(alerts.filter((a) => a.storeId === shop.id)).toEqual([]);

    expect(await round()).toMatchObject({ state: 'failed', attempts: 3 });
    expect(await state()).toMatchObject({ consecutive_failures: 2 });
    expect(alerts.filter((a) => a.storeId === shop.id)).toEqual([{ storeId: shop.id, consecutiveFailures: 2, error: expect.stringMatching(/HTTP 503/) }]);
  });

  it('when schedules are refreshed, then each connected store has a 15-minute scheduler and a store no longer connected loses its own', async () => {
    const shopify = start();
    const connected = await store(`scheduled-${randomBytes(3).toString('hex')}.myshopify.com`, true);

    const first = await shopify.refreshSchedules();
    expect(first.scheduled).toContain(connected.id);
    const schedulers = await producer.queue('shopify-sync').getJobSchedulers();
    expect(schedulers.find((s) => s.key === `shopify-sync-${connected.id}`)).toMatchObject({ name: 'sync-store', every: 15 * 60_000 });

    await db().updateTable('stores').set({ shopify_access_token_encrypted: null }).where('id', '=', connected.id).execute();
    const second = await shopify.refreshSchedules();
    expect(second.removed).toEqual([connected.id]);
    expect((await producer.queue('shopify-sync').getJobSchedulers()).some((s) => s.key === `shopify-sync-${connected.id}`)).toBe(false);
  });
});
