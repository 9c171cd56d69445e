/**
 * `pnpm bench:shopify`: a 90-day backfill of BENCH_ORDERS orders (default 50,000) from
 * the fake Shopify Admin API through the real sync (syncShopifyOrders, as the CLI and
 * the worker run it) into a scratch database, against a bucket of BENCH_BUCKET points
 * regaining BENCH_RESTORE_RATE points per second (default 2,000 and 100: the Standard
 * plan). Prints a markdown table: orders per second, points charged, and the share of
 * the bucket's allowance — what it held at the start plus what it regained over the
 * run — that the sync used (target ≥ 90 %).
 *
 * Reading 50,000 orders at 100 points per second takes hours of waiting: an order
 * costs ~30 points. By default the fake and the client therefore share a clock that
 * skips every wait instead of sleeping it (BENCH_CLOCK=skip): the bucket, the pacing
 * and every request run exactly as they would, the time spent working (HTTP, the
 * database) is real and counted, and the waits are added to the clock rather than
 * slept. "Store time" is then what the backfill takes against a real Standard-plan
 * store. BENCH_CLOCK=real sleeps the waits on the wall clock (use it with a few hundred
 * orders) to check that both give the same pacing.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { migrate, openDatabase } from '@dealdome/db';
import { createScratchDatabase } from '@dealdome/db/testing';
import { addProductCost, connectShopifyStore, createProduct, createStore, ordersPageSize, shopifyClientFor, shopifyConnection, syncShopifyOrders, systemShopifyClock } from '@dealdome/domain';
import type { ShopifyClock } from '@dealdome/domain';
import { FakeShopify } from '@dealdome/testkit';
import type { FakeShopifyOrderInput } from '@dealdome/testkit';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 50_000);
const DAYS = 90;
const BUCKET = Number(process.env.BENCH_BUCKET ?? 2000);
const RESTORE_RATE = Number(process.env.BENCH_RESTORE_RATE ?? 100);
const CLOCK = process.env.BENCH_CLOCK === 'real' ? 'real' : 'skip';
const PRODUCTS = 40;
const KEY = randomBytes(32);

/** Real time plus every wait it was asked to sleep, which it adds instead of sleeping. */
class SkipAheadClock implements ShopifyClock {
  private skipped = 0;
  now(): number {
    return Date.now() + this.skipped;
  }
  async sleep(ms: number): Promise<void> {
    if (ms > 0) this.skipped += ms;
  }
}

/** A small deterministic generator (mulberry32): the same orders every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const cents = (n: number) => (Math.round(n) / 100).toFixed(2);

function orders(count: number, start: number, span: number): FakeShopifyOrderInput[] {
  const rand = random(42);
  const list: FakeShopifyOrderInput[] = [];
  for (let i = 0; i < count; i++) {
    const updated = start + Math.floor(((i + rand()) / count) * span);
    const processed = updated - Math.floor(rand() * 3_600_000);
    const lines = Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, k) => {
      const product = Math.floor(rand() * PRODUCTS);
      const quantity = 1 + Math.floor(rand() * 3);
      const unit = 1500 + product * 75;
      const discount = rand() < 0.2 ? Math.round(unit * quantity * 0.1) : 0;
      return {
        id: i * 10 + k + 1,
        title: `Product ${product}`,
        sku: `SKU-${product}`,
        variantId: 5000 + product,
        quantity,
        unitPrice: cents(unit),
        discount: cents(discount),
        tax: cents((unit * quantity - discount) * 0.21),
      };
    });
    const total = lines.reduce((sum, l) => sum + Number(l.unitPrice) * 100 * l.quantity * 1.21, 495);
    const order: FakeShopifyOrderInput = {
      id: 100_000 + i,
      processedAt: new Date(processed).toISOString(),
      updatedAt: new Date(updated).toISOString(),
      lines,
      shipping: [{ price: '4.95', tax: '1.04' }],
      transactions: [{ amount: cents(total), fees: [{ amount: cents(total * 0.029 + 25) }] }],
    };
    if (rand() < 0.05) {
      const line = lines[0]!;
      order.refunds = [{ createdAt: new Date(updated).toISOString(), lines: [{ lineId: line.id, quantity: 1, subtotal: line.unitPrice, tax: cents(Number(line.unitPrice) * 21), restockType: rand() < 0.5 ? 'RETURN' : 'NO_RESTOCK' }] }];
    }
    if (rand() < 0.01) order.cancelledAt = new Date(updated).toISOString();
    list.push(order);
  }
  return list;
}

async function main(): Promise<void> {
  const clock: ShopifyClock = CLOCK === 'skip' ? new SkipAheadClock() : systemShopifyClock;
  const scratch = await createScratchDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const fake = await FakeShopify.start({ shopDomain: 'bench-shop.myshopify.com', maximumAvailable: BUCKET, restoreRate: RESTORE_RATE, clock });
  await migrate(scratch.url);
  const handle = await openDatabase({ url: scratch.url, poolMax: 4 });
  try {
    const db = handle.db;
    const store = await createStore(db, { name: 'Bench shop', shopDomain: fake.shopDomain, currency: 'EUR', timezone: 'Europe/Amsterdam' });
    await connectShopifyStore(db, store.id, { accessToken: fake.accessToken, apiBaseUrl: fake.url }, KEY);
    for (let p = 0; p < PRODUCTS; p++) {
      const product = await createProduct(db, { storeId: store.id, sku: `SKU-${p}`, name: `Product ${p}`, costPrice: cents(500 + p * 20), currency: 'EUR', status: 'testing', costEffectiveFrom: '2020-01-01' }, null);
      await addProductCost(db, product.id, { costPrice: cents(520 + p * 20), effectiveFrom: new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10) }, null);
      await db.updateTable('products').set({ shopify_variant_id: String(5000 + p) }).where('id', '=', product.id).execute();
    }
    const now = Date.now();
    const since = new Date(now - DAYS * 86_400_000);
    for (const order of orders(ORDERS, since.getTime() + 60_000, now - since.getTime() - 120_000)) fake.upsertOrder(order);
    process.stderr.write(`bench:shopify: ${ORDERS} orders in the fake over ${DAYS} days; bucket ${BUCKET} points, ${RESTORE_RATE}/s; clock: ${CLOCK}\n`);

    const client = shopifyClientFor(await shopifyConnection(db, store.id, KEY), { clock });
    const startAvailable = fake.throttleStatus().currentlyAvailable;
    const storeStart = clock.now();
    const wallStart = Date.now();
    let reported = 0;
    const result = await syncShopifyOrders(db, {
      storeId: store.id,
      client,
      since,
      onProgress: (p) => {
        if (p.read - reported >= 10_000) {
          reported = p.read;
          process.stderr.write(`  ${p.read} orders read, ${Math.round((Date.now() - wallStart) / 1000)} s\n`);
        }
      },
    });
    const storeSeconds = (clock.now() - storeStart) / 1000;
    const wallSeconds = (Date.now() - wallStart) / 1000;
    const allowance = startAvailable + RESTORE_RATE * storeSeconds;
    const charged = fake.pointsCharged;

    const check = await sql<{ orders: string; written: string }>`
      SELECT (SELECT coalesce(sum(orders), 0) FROM daily_financials WHERE store_id = ${store.id})::text AS orders,
             (SELECT count(*) FROM shopify_orders WHERE store_id = ${store.id} AND cancelled_at IS NULL)::text AS written`.execute(db);
    const counted = check.rows[0]!;

    const row = [
      CLOCK,
      String(result.read),
      ordersPageSize(BUCKET).toString(),
      `${storeSeconds.toFixed(0)} s (${(storeSeconds / 3600).toFixed(2)} h)`,
      wallSeconds.toFixed(1),
      (result.read / storeSeconds).toFixed(2),
      (result.read / wallSeconds).toFixed(0),
      (charged / result.read).toFixed(1),
      String(charged),
      allowance.toFixed(0),
      `${((charged / allowance) * 100).toFixed(1)} %`,
      String(fake.throttledCount),
      String(result.requests),
    ];
    const header = [
      'clock',
      'orders',
      'orders/page',
      'store time',
      'wall s',
      'orders/s (store time)',
      'orders/s (wall)',
      'points/order',
      'points charged',
      'allowance',
      'allowance used',
      'THROTTLED',
      'requests',
    ];
    process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n| ${row.join(' | ')} |\n`);
    process.stdout.write(`\nstore-days rebuilt: ${result.days.length}; orders counted in daily_financials: ${counted.orders} (stored, not cancelled: ${counted.written}); waited ${(result.waitedMs / 1000).toFixed(0)} s for the bucket\n`);
    if (charged / allowance < 0.9) process.exitCode = 1;
  } finally {
    await handle.close();
    await fake.close();
    await scratch.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:shopify failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
