import { randomBytes } from 'node:crypto';
import { createLogger } from '@dealdome/config';
import {
  addProductCost,
  connectShopifyStore,
  createProduct,
  createStore,
  findShopifySyncStatus,
  ordersPageCost,
  ordersPageSize,
  profitAndLoss,
  shopifyClientFor,
  shopifyConnection,
  syncShopifyOrders,
} from '@dealdome/domain';
import { FakeShopify, useTestDatabase } from '@dealdome/testkit';

const logger = createLogger('shopify-sync-test', { level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const KEY = Buffer.alloc(32, 9);

/**
 * The fixture: a store in Europe/Amsterdam (UTC+1 in November) selling a lamp (matched
 * by variant; cost 12.00, then 14.00 from 10 November) and a mug (matched by SKU; cost
 * 3.00), plus gift wrap that matches no product. Its figures below are worked out by
 * hand from the orders, not by the code under test.
 */
function seedOrders(fake: FakeShopify) {
  // 22:30 UTC on 8 November is 23:30 in Amsterdam: still the 8th.
  const o1 = fake.upsertOrder({
    name: '#1001',
    processedAt: '2026-11-08T22:30:00Z',
    updatedAt: '2026-11-08T22:30:05Z',
    lines: [
      { id: 11, title: 'Lamp', sku: 'LAMP', variantId: 101, quantity: 2, unitPrice: '40.00', discount: '8.00', tax: '15.12' },
      { id: 12, title: 'Mug', sku: 'MUG', variantId: 202, quantity: 1, unitPrice: '6.50', tax: '1.37' },
    ],
    shipping: [{ price: '4.95', tax: '1.04' }],
    transactions: [{ amount: '100.98', fees: [{ amount: '3.18' }] }],
  });
  // 23:30 UTC on the 8th is 00:30 on the 9th in Amsterdam.
  fake.upsertOrder({
    name: '#1002',
    processedAt: '2026-11-08T23:30:00Z',
    updatedAt: '2026-11-08T23:30:05Z',
    lines: [
      { id: 21, title: 'Lamp', sku: 'LAMP', variantId: 101, quantity: 1, unitPrice: '40.00', tax: '8.40' },
      { id: 22, title: 'Gift wrap', sku: 'GIFT-WRAP', variantId: 909, quantity: 1, unitPrice: '2.00', tax: '0.42' },
    ],
    transactions: [{ amount: '50.82', fees: [{ amount: '1.35' }] }],
  });
  // Prices with VAT included: 4 mugs at 6.05 less 2.42 discount = 21.78 (VAT 3.78), shipping 4.84 (VAT 0.84).
  fake.upsertOrder({
    name: '#1003',
    processedAt: '2026-11-09T10:00:00Z',
    updatedAt: '2026-11-09T10:00:05Z',
    taxesIncluded: true,
    lines: [{ id: 31, title: 'Mug', sku: 'MUG', quantity: 4, unitPrice: '6.05', discount: '2.42', tax: '3.78' }],
    shipping: [{ price: '4.84', tax: '0.84' }],
    transactions: [{ amount: '26.62', fees: [{ amount: '0.90' }] }],
  });
  // A test order: stored, never counted.
  fake.upsertOrder({
    name: '#1004',
    test: true,
    processedAt: '2026-11-09T11:00:00Z',
    updatedAt: '2026-11-09T11:00:05Z',
    lines: [{ id: 41, title: 'Lamp', sku: 'LAMP', variantId: 101, quantity: 5, unitPrice: '40.00' }],
  });
  // Cancelled and refunded in full: only its fee, which Shopify keeps, counts.
  fake.upsertOrder({
    name: '#1005',
    processedAt: '2026-11-08T12:00:00Z',
    updatedAt: '2026-11-08T13:00:00Z',
    cancelledAt: '2026-11-08T13:00:00Z',
    lines: [{ id: 51, title: 'Lamp', sku: 'LAMP', variantId: 101, quantity: 1, unitPrice: '40.00', tax: '8.40' }],
    transactions: [{ amount: '48.40', fees: [{ amount: '1.00' }] }],
    refunds: [{ createdAt: '2026-11-08T13:00:00Z', lines: [{ lineId: 51, quantity: 1, subtotal: '40.00', tax: '8.40', restockType: 'CANCEL' }] }],
  });
  // After the lamp's cost went up.
  fake.upsertOrder({
    name: '#1006',
    processedAt: '2026-11-10T12:00:00Z',
    updatedAt: '2026-11-10T12:00:05Z',
    lines: [{ id: 61, title: 'Lamp', sku: 'LAMP', variantId: 101, quantity: 1, unitPrice: '40.00', tax: '8.40' }],
  });
  return { o1 };
}

const EXPECTED_DAYS = [
  // #1001; #1005 cancelled (its fee 1.00 only).
  { date: '2026-11-08', revenue: '91.4500', discounts: '8.0000', refunds: '0.0000', cogs: '27.0000', transaction_fees: '4.1800', orders: 1, units: 3 },
  // #1002 (42.00) and #1003 (24.20 + 4.84 − 4.62 VAT = 24.42); cost 12.00 lamp + 4 × 3.00 mugs.
  { date: '2026-11-09', revenue: '66.4200', discounts: '2.4200', refunds: '0.0000', cogs: '24.0000', transaction_fees: '2.2500', orders: 2, units: 6 },
  { date: '2026-11-10', revenue: '40.0000', discounts: '0.0000', refunds: '0.0000', cogs: '14.0000', transaction_fees: '0.0000', orders: 1, units: 1 },
];
const EXPECTED_PRODUCTS = [
  { sku: 'LAMP', date: '2026-11-08', units: 2, revenue: '72.0000' },
  { sku: 'MUG', date: '2026-11-08', units: 1, revenue: '6.5000' },
  { sku: 'LAMP', date: '2026-11-09', units: 1, revenue: '40.0000' },
  // 24.20 − 2.42 discount − 3.78 VAT.
  { sku: 'MUG', date: '2026-11-09', units: 4, revenue: '18.0000' },
  { sku: 'LAMP', date: '2026-11-10', units: 1, revenue: '40.0000' },
];

describe('Shopify order sync into the finance tables', () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;
  let fake: FakeShopify;

  afterEach(async () => {
    await fake?.close();
  });

  async function connectedStore(options: Parameters<typeof FakeShopify.start>[0] = {}) {
    const shopDomain = `shop-${randomBytes(4).toString('hex')}.myshopify.com`;
    fake = await FakeShopify.start({ shopDomain, ...options });
    const store = await createStore(db(), { name: 'Nordic Home', shopDomain, currency: 'EUR', timezone: 'Europe/Amsterdam' });
    await connectShopifyStore(db(), store.id, { accessToken: fake.accessToken, apiVersion: '2025-10', apiBaseUrl: fake.url }, KEY);
    const lamp = await createProduct(db(), { storeId: store.id, sku: 'LAMP', name: 'Lamp', costPrice: '12.00', currency: 'EUR', status: 'winning', costEffectiveFrom: '2026-10-01' }, null);
    await addProductCost(db(), lamp.id, { costPrice: '14.00', effectiveFrom: '2026-11-10' }, null);
    await db().updateTable('products').set({ shopify_variant_id: '101' }).where('id', '=', lamp.id).execute();
    await createProduct(db(), { storeId: store.id, sku: 'MUG', name: 'Mug', costPrice: '3.00', currency: 'EUR', status: 'testing', costEffectiveFrom: '2026-09-01' }, null);
    return store;
  }

  async function sync(storeId: string) {
    const client = shopifyClientFor(await shopifyConnection(db(), storeId, KEY), { logger });
    return syncShopifyOrders(db(), { storeId, client, since: new Date('2026-11-01T00:00:00Z'), logger });
  }

  const days = (storeId: string) =>
    db()
      .selectFrom('daily_financials')
      .select(['date', 'revenue', 'discounts', 'refunds', 'cogs', 'transaction_fees', 'orders', 'units'])
      .where('store_id', '=', storeId)
      .orderBy('date')
      .execute();
  const products = (storeId: string) =>
    db()
      .selectFrom('product_performance as pp')
      .innerJoin('products as p', 'p.id', 'pp.product_id')
      .select(['p.sku', 'pp.date', 'pp.units', 'pp.revenue'])
      .where('pp.store_id', '=', storeId)
      .orderBy('pp.date')
      .orderBy('p.sku')
      .execute();
  const snapshot = async (storeId: string) => ({
    days: await db().selectFrom('daily_financials').selectAll().where('store_id', '=', storeId).orderBy('date').execute(),
    products: await db().selectFrom('product_performance').selectAll().where('store_id', '=', storeId).orderBy('date').orderBy('product_id').execute(),
    orders: await db().selectFrom('shopify_orders').selectAll().where('store_id', '=', storeId).orderBy('shopify_order_id').execute(),
    lines: await db()
      .selectFrom('shopify_order_lines as l')
      .innerJoin('shopify_orders as o', 'o.id', 'l.order_id')
      .selectAll('l')
      .where('o.store_id', '=', storeId)
      .orderBy('l.shopify_line_id')
      .execute(),
  });

  it('when a store is synced from Shopify, then daily_financials and product_performance hold the hand-computed figures of its store-local days', async () => {
    const store = await connectedStore();
    seedOrders(fake);

    const result = await sync(store.id);

    expect(await days(store.id)).toEqual(EXPECTED_DAYS);
    expect(await products(store.id)).toEqual(EXPECTED_PRODUCTS);
    expect(result).toMatchObject({ read: 6, written: 6, days: ['2026-11-08', '2026-11-09', '2026-11-10'], unmatchedLines: 1, throttled: 0, cursor: '2026-11-10T12:00:05.000Z' });
    // The store's one row of sync state is that of its orders.
    const [state, ...otherStates] = await db().selectFrom('shopify_sync_state').selectAll().where('store_id', '=', store.id).execute();
    expect(otherStates).toEqual([]);
    expect(state).toMatchObject({ resource: 'orders', status: 'idle', last_error: null, consecutive_failures: 0, last_run_orders: 6, last_run_days: 3, unmatched_lines: 1, orders_synced: '6' });
    expect(state!.orders_updated_at_cursor).toEqual(new Date('2026-11-10T12:00:05Z'));
    expect(state!.last_synced_at).toBeInstanceOf(Date);
    expect(await findShopifySyncStatus(db(), store.id, 'orders')).toEqual({
      storeId: store.id,
      resource: 'orders',
      status: 'idle',
      cursor: new Date('2026-11-10T12:00:05Z'),
      lastSyncedAt: state!.last_synced_at,
      lastFailedAt: null,
      lastError: null,
      consecutiveFailures: 0,
    });
    // The page asked for as many orders as Shopify's 1,000-point cap allows, and was priced as the client expected.
    const page = fake.requests.find((r) => r.operationName === 'DealDomeOrders')!;
    expect(page.variables.first).toBe(ordersPageSize(1000));
    expect(page.requestedCost).toBe(ordersPageCost(ordersPageSize(1000)));
    // The P&L reads what the sync wrote: 8 November nets 91.45 − 8.00 = 83.45.
    const pnl = await profitAndLoss(db(), { storeId: store.id, from: '2026-11-08', to: '2026-11-08', groupBy: 'day' });
    expect(pnl.totals).toMatchObject({ revenue: '91.45', discounts: '8.00', netRevenue: '83.45', cogs: '27.00', transactionFees: '4.18', grossProfit: '52.27', orders: 1 });
  });

  it('when the sync runs again with nothing changed in Shopify, then no row of the finance tables or the orders changes', async () => {
    const store = await connectedStore();
    seedOrders(fake);
    await sync(store.id);
    const before = await snapshot(store.id);
    const version = await db().selectFrom('finance_data_version').select('version').executeTakeFirstOrThrow();

    const again = await sync(store.id);

    expect(again.written).toBe(0);
    expect(again.days).toEqual([]);
    // The second round's client started from the bucket the first one left: nothing was sent blind into THROTTLED.
    expect(fake.throttledCount).toBe(0);
    expect(await snapshot(store.id)).toEqual(before);
    // Nothing was written, so cached finance reports stay valid.
    expect(await db().selectFrom('finance_data_version').select('version').executeTakeFirstOrThrow()).toEqual(version);
  });

  it('when a refund arrives a week later, then the day of its order is corrected and no other day changes', async () => {
    const store = await connectedStore();
    const { o1 } = seedOrders(fake);
    await sync(store.id);
    const untouched = (await snapshot(store.id)).days.filter((d) => d.date !== '2026-11-08');

    // One lamp comes back (36.00 + 7.56 VAT) and the shipping is refunded (4.95 + 1.04 VAT): 49.55 in all.
    fake.addRefund(o1, {
      createdAt: '2026-11-16T09:00:00Z',
      lines: [{ lineId: 11, quantity: 1, subtotal: '36.00', tax: '7.56', restockType: 'RETURN' }],
      shipping: '4.95',
      shippingTax: '1.04',
    });
    const result = await sync(store.id);

    expect(result).toMatchObject({ written: 1, days: ['2026-11-08'] });
    const corrected = (await days(store.id)).find((d) => d.date === '2026-11-08');
    // Refunds without VAT: 49.55 − 7.56 − 1.04; one lamp fewer sold, and back in stock so it costs nothing.
    expect(corrected).toEqual({ ...EXPECTED_DAYS[0], refunds: '40.9500', units: 2, cogs: '15.0000' });
    expect((await products(store.id)).find((p) => p.sku === 'LAMP' && p.date === '2026-11-08')).toEqual({ sku: 'LAMP', date: '2026-11-08', units: 1, revenue: '36.0000' });
    expect((await snapshot(store.id)).days.filter((d) => d.date !== '2026-11-08')).toEqual(untouched);
  });

  it('when a product cost is recorded for past days, then the next sync rebuilds the days it applies to', async () => {
    const store = await connectedStore();
    seedOrders(fake);
    await sync(store.id);
    const mug = await db().selectFrom('products').select('id').where('store_id', '=', store.id).where('sku', '=', 'MUG').executeTakeFirstOrThrow();

    await addProductCost(db(), mug.id, { costPrice: '3.50', effectiveFrom: '2026-11-09' }, null);
    await sync(store.id);

    const cogs = (await days(store.id)).map((d) => [d.date, d.cogs]);
    // 9 November: one lamp at 12.00 and four mugs at 3.50; 8 November keeps the mug's 3.00.
    expect(cogs).toEqual([
      ['2026-11-08', '27.0000'],
      ['2026-11-09', '26.0000'],
      ['2026-11-10', '14.0000'],
    ]);
  });

  it('when 120 orders are read through a bucket another app has drained, then one THROTTLED answer is waited out and the pacing avoids every other', async () => {
    const store = await connectedStore({ maximumAvailable: 1000, restoreRate: 2000 });
    for (let i = 0; i < 120; i++) {
      const at = new Date(Date.UTC(2026, 10, 3, 8, 0, i)).toISOString();
      fake.upsertOrder({ processedAt: at, updatedAt: at, lines: [{ title: 'Mug', sku: 'MUG', quantity: 1, unitPrice: '6.50', tax: '1.37' }], transactions: [{ amount: '7.87', fees: [{ amount: '0.40' }] }] });
    }
    fake.drainBucket(0);

    const result = await sync(store.id);

    expect(result.read).toBe(120);
    expect(fake.throttledCount).toBe(1);
    // Never two THROTTLED answers in a row: after one, the client waited for the bucket.
    const flags = fake.requests.map((r) => r.throttled);
    expect(flags.some((t, i) => t && flags[i + 1])).toBe(false);
    expect(result.throttled).toBe(1);
    expect(await days(store.id)).toEqual([
      { date: '2026-11-03', revenue: '780.0000', discounts: '0.0000', refunds: '0.0000', cogs: '360.0000', transaction_fees: '48.0000', orders: 120, units: 120 },
    ]);

    // The client now knows the bucket: a second round is never throttled.
    fake.upsertOrder({ processedAt: '2026-11-04T08:00:00Z', lines: [{ title: 'Mug', sku: 'MUG', quantity: 1, unitPrice: '6.50' }] });
    fake.drainBucket(0);
    const client = shopifyClientFor(await shopifyConnection(db(), store.id, KEY), { logger });
    await client.query('{ shop { name } }');
    await syncShopifyOrders(db(), { storeId: store.id, client, logger });
    expect(fake.throttledCount).toBe(1);
  });

  it('when an order has more lines than a page asks for, then the rest are read by follow-up queries and every line is stored', async () => {
    const store = await connectedStore();
    fake.upsertOrder({
      processedAt: '2026-11-05T10:00:00Z',
      lines: Array.from({ length: 12 }, (_, i) => ({ id: 700 + i, title: `Mug ${i}`, sku: 'MUG', quantity: 1, unitPrice: '1.00' })),
      // Three refunds (a page reads two), one of them for a line only a follow-up reads.
      refunds: [{ lines: [{ lineId: 700, quantity: 1, subtotal: '1.00' }] }, { lines: [{ lineId: 711, quantity: 1, subtotal: '1.00' }] }, { total: '0.50' }],
    });

    const result = await sync(store.id);

    // One query for the lines past the first five, one for the refunds past the first two.
    expect(result.followUps).toBe(2);
    const lines = await db()
      .selectFrom('shopify_order_lines as l')
      .innerJoin('shopify_orders as o', 'o.id', 'l.order_id')
      .select(['l.shopify_line_id', 'l.refunded_quantity'])
      .where('o.store_id', '=', store.id)
      .orderBy('l.shopify_line_id')
      .execute();
    expect(lines).toHaveLength(12);
    expect(lines.filter((l) => l.refunded_quantity === 1).map((l) => l.shopify_line_id)).toEqual(['gid://shopify/LineItem/700', 'gid://shopify/LineItem/711']);
    expect(await days(store.id)).toEqual([
      { date: '2026-11-05', revenue: '12.0000', discounts: '0.0000', refunds: '2.5000', cogs: '30.0000', transaction_fees: '0.0000', orders: 1, units: 10 },
    ]);
  });

  it('when the store is kept in another currency than the shop, then the round fails, says why and counts the failure', async () => {
    const store = await connectedStore({ currency: 'USD' });
    seedOrders(fake);

    await expect(sync(store.id)).rejects.toThrow(/reports order #\d+ in USD, but the store is kept in EUR/);

    const state = await db().selectFrom('shopify_sync_state').selectAll().where('store_id', '=', store.id).where('resource', '=', 'orders').executeTakeFirstOrThrow();
    expect(state).toMatchObject({ status: 'failing', consecutive_failures: 1, last_run_orders: 0 });
    expect(state.last_error).toMatch(/in USD/);
    expect(await days(store.id)).toEqual([]);
  });
});
