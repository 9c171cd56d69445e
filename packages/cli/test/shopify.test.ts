import { createStore } from '@dealdome/domain';
import { FakeShopify, useTestDatabase } from '@dealdome/testkit';
import { buildProgram } from '../src/main';

const KEY = Buffer.alloc(32, 3).toString('base64');

describe('pnpm dealdome shopify:connect and shopify:backfill', () => {
  const database = useTestDatabase();
  let fake: FakeShopify;
  const saved = { ...process.env };

  beforeAll(async () => {
    fake = await FakeShopify.start({ shopDomain: 'cli-shop.myshopify.com', restoreRate: 10_000 });
    Object.assign(process.env, { DATABASE_URL: database.url, SETTINGS_ENCRYPTION_KEY: KEY, SHOPIFY_API_BASE_URL: fake.url });
  });
  afterAll(async () => {
    process.env = saved;
    await fake.close();
  });

  async function run(...args: string[]): Promise<string[]> {
    const lines: string[] = [];
    await buildProgram((line) => lines.push(line)).exitOverride().parseAsync(['node', 'dealdome', ...args]);
    return lines;
  }

  it('when a store is connected by its shop domain and backfilled, then its order history is in the finance tables', async () => {
    const store = await createStore(database.handle.db, { name: 'CLI shop', shopDomain: fake.shopDomain, currency: 'EUR', timezone: 'UTC' });
    const day = new Date(Date.now() - 5 * 86_400_000).toISOString();
    for (let i = 0; i < 30; i++) fake.upsertOrder({ processedAt: day, updatedAt: day, lines: [{ title: 'Mug', sku: 'MUG', quantity: 1, unitPrice: '10.00' }] });
    // Older than the window: not read.
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    fake.upsertOrder({ processedAt: old, updatedAt: old, lines: [{ title: 'Mug', quantity: 1, unitPrice: '10.00' }] });

    expect(await run('shopify:connect', '--store', fake.shopDomain, '--token', fake.accessToken)).toEqual([
      `connected ${fake.shopDomain} (cli-shop) to store CLI shop, API 2025-10`,
    ]);
    const output = await run('shopify:backfill', '--store', store.id, '--days', '30');

    expect(output[0]).toMatch(/^read 30 orders, wrote 30, rebuilt 1 store-days/);
    expect(output[1]).toMatch(/^Shopify: \d+ requests, \d+ points, 0 throttled/);
    const rows = await database.handle.db.selectFrom('daily_financials').select(['revenue', 'orders']).where('store_id', '=', store.id).execute();
    expect(rows).toEqual([{ revenue: '300.0000', orders: 30 }]);
  });

  it('when the store has no shop domain, then connecting it says what is missing', async () => {
    const store = await createStore(database.handle.db, { name: 'No domain', currency: 'EUR', timezone: 'UTC' });
    await expect(run('shopify:connect', '--store', store.id, '--token', 'shpat_x')).rejects.toThrow(/has no shop domain/);
  });
});
