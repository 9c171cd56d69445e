import { Registry } from 'prom-client';
import { connectShopifyStore, createStore } from '@dealdome/domain';
import { useTestDatabase } from '@dealdome/testkit';
import { shopifySyncLagGauge } from '../src/metrics';

const KEY = Buffer.alloc(32, 9);

describe('scheduler metrics', () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;

  it('when stores were synced at different times, then shopify_sync_lag_seconds shows each connected store’s age, and none for a store never synced or not connected', async () => {
    const registry = new Registry();
    shopifySyncLagGauge(registry, db());
    const store = async (shopDomain: string, connect: boolean) => {
      const created = await createStore(db(), { name: shopDomain, shopDomain, currency: 'EUR', timezone: 'UTC' });
      if (connect) await connectShopifyStore(db(), created.id, { accessToken: 'shpat_test' }, KEY);
      return created;
    };
    const fresh = await store('fresh.myshopify.com', true);
    const stale = await store('stale.myshopify.com', true);
    const never = await store('never.myshopify.com', true);
    const gone = await store('gone.myshopify.com', false);
    const syncedAgo = (storeId: string, seconds: number) =>
      db()
        .insertInto('shopify_sync_state')
        .values({ store_id: storeId, resource: 'orders', status: 'idle', last_synced_at: new Date(Date.now() - seconds * 1000) })
        .execute();
    await syncedAgo(fresh.id, 60);
    await syncedAgo(stale.id, 7200);
    await syncedAgo(gone.id, 30);

    const text = await registry.metrics();
    const lag = (storeId: string) => Number(new RegExp(`shopify_sync_lag_seconds\\{store="${storeId}",shop="[^"]+"\\} ([\\d.]+)`).exec(text)?.[1]);
    expect(lag(fresh.id)).toBeGreaterThanOrEqual(60);
    expect(lag(fresh.id)).toBeLessThan(120);
    expect(lag(stale.id)).toBeGreaterThanOrEqual(7200);
    expect(text).toContain(`shop="stale.myshopify.com"`);
    expect(text).not.toContain(never.id);
    expect(text).not.toContain(gone.id);
  });
});
