import type { Registry } from 'prom-client';
import { scrapedGauge } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { shopifyLastSyncs } from '@dealdome/domain';

/**
 * shopify_sync_lag_seconds{store, shop}: how long ago each connected store's orders were
 * last synced successfully, read from shopify_sync_state at each scrape — so a store
 * whose rounds stop or keep failing shows a lag that grows. A store not yet synced once
 * has no series.
 */
export function shopifySyncLagGauge(registry: Registry, db: Database): void {
  scrapedGauge(registry, {
    name: 'shopify_sync_lag_seconds',
    help: "Seconds since a store's orders were last synced from Shopify",
    labelNames: ['store', 'shop'],
    read: async () => {
      const now = Date.now();
      return (await shopifyLastSyncs(db)).flatMap(({ storeId, shopDomain, lastSyncedAt }) =>
        lastSyncedAt ? [{ labels: { store: storeId, shop: shopDomain }, value: (now - lastSyncedAt.getTime()) / 1000 }] : [],
      );
    },
  });
}
