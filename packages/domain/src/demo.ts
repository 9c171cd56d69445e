import type { Database } from '@dealdome/db';
import { Decimal } from './values';

export interface DemoOptions {
  stores: number;
  days: number;
  /** The last day of data (default: yesterday, UTC). */
  until?: string;
  productsPerStore?: number;
  seed?: number;
}

export interface DemoSummary {
  stores: number;
  products: number;
  dailyFinancials: number;
  adSpendEntries: number;
  fixedCosts: number;
  fxRates: number;
}

/** A small deterministic generator (mulberry32), so the same seed gives the same demo. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const names = ['Nordic Home', 'Brooklyn Goods', 'Alpine Outdoor', 'Coastal Kitchen', 'Urban Pets', 'Studio Light', 'Garden & Co', 'Kids Corner', 'Velo Parts', 'Tea House'];
const currencies = ['EUR', 'USD', 'EUR', 'GBP', 'EUR', 'USD', 'EUR', 'EUR', 'GBP', 'USD'];
const zones = ['Europe/Amsterdam', 'America/New_York', 'Europe/Zurich', 'Europe/London', 'Europe/Berlin', 'America/Los_Angeles', 'Europe/Paris', 'Europe/Madrid', 'Europe/London', 'America/Chicago'];
const toEur: Record<string, number> = { USD: 0.92, GBP: 1.17 };
const platforms = ['meta', 'tiktok', 'google', 'pinterest'] as const;

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

const fixed2 = (value: number) => new Decimal(value).toDecimalPlaces(2).toFixed(2);

/**
 * Plausible finance data for trying the platform and for benchmarks: stores in
 * three currencies, products with costs, daily sales, ad spend on four platforms,
 * fixed costs and a daily exchange rate for every non-EUR currency. Amounts are
 * generated as decimal strings; nothing passes through a float on its way to SQL
 * except the generator's own noise. The products are left without embeddings (this
 * package has no queue): the embedding-worker queues every product without a vector
 * when it starts, which `pnpm start` does after seeding.
 */
export async function seedDemoData(db: Database, options: DemoOptions): Promise<DemoSummary> {
  const rand = random(options.seed ?? 42);
  const until = options.until ?? addDays(new Date().toISOString().slice(0, 10), -1);
  const from = addDays(until, -(options.days - 1));
  const productsPerStore = options.productsPerStore ?? 8;
  const summary: DemoSummary = { stores: 0, products: 0, dailyFinancials: 0, adSpendEntries: 0, fixedCosts: 0, fxRates: 0 };

  await db.transaction().execute(async (trx) => {
    const rates: { date: string; base: string; quote: string; rate: string; source: string }[] = [];
    for (const [cur, base] of Object.entries(toEur)) {
      for (let d = 0; d < options.days; d++) {
        rates.push({ date: addDays(from, d), base: cur, quote: 'EUR', rate: (base * (1 + (rand() - 0.5) * 0.04)).toFixed(6), source: 'demo' });
      }
    }
    for (let i = 0; i < rates.length; i += 5000) {
      await trx.insertInto('fx_rates').values(rates.slice(i, i + 5000)).onConflict((oc) => oc.columns(['date', 'base', 'quote']).doNothing()).execute();
    }
    summary.fxRates = rates.length;

    for (let s = 0; s < options.stores; s++) {
      const suffix = s >= names.length ? ` ${Math.floor(s / names.length) + 1}` : '';
      const currency = currencies[s % currencies.length]!;
      const store = await trx
        .insertInto('stores')
        .values({ name: `${names[s % names.length]!}${suffix}`, currency, timezone: zones[s % zones.length]! })
        .returning('id')
        .executeTakeFirstOrThrow();
      summary.stores++;

      const products = Array.from({ length: productsPerStore }, (_, p) => ({
        store_id: store.id,
        sku: `SKU-${s + 1}-${String(p + 1).padStart(3, '0')}`,
        name: `Demo product ${p + 1}`,
        cost_price: fixed2(4 + rand() * 30),
        currency,
        status: (['testing', 'winning', 'paused', 'killed'] as const)[p % 4]!,
      }));
      const inserted = await trx.insertInto('products').values(products).returning(['id', 'cost_price', 'currency']).execute();
      await trx
        .insertInto('product_costs')
        .values(inserted.map((p) => ({ product_id: p.id, cost_price: p.cost_price, currency: p.currency, effective_from: from })))
        .execute();
      summary.products += inserted.length;

      const financials = [];
      const spend = [];
      const scale = 0.5 + rand() * 2;
      for (let d = 0; d < options.days; d++) {
        const date = addDays(from, d);
        const orders = Math.floor((20 + rand() * 60) * scale);
        const revenue = orders * (25 + rand() * 35);
        financials.push({
          store_id: store.id,
          date,
          currency,
          revenue: fixed2(revenue),
          discounts: fixed2(revenue * rand() * 0.08),
          refunds: fixed2(revenue * rand() * 0.05),
          cogs: fixed2(revenue * (0.25 + rand() * 0.15)),
          shipping_costs: fixed2(orders * (3 + rand() * 3)),
          transaction_fees: fixed2(revenue * 0.029 + orders * 0.25),
          orders,
          units: Math.floor(orders * (1 + rand() * 0.6)),
        });
        for (const platform of platforms) {
          spend.push({
            store_id: store.id,
            date,
            platform,
            amount: fixed2(revenue * (0.03 + rand() * 0.08)),
            currency,
            product_id: inserted[Math.floor(rand() * inserted.length)]!.id,
            campaign: `${platform}-always-on`,
          });
        }
      }
      for (let i = 0; i < financials.length; i += 2000) await trx.insertInto('daily_financials').values(financials.slice(i, i + 2000)).execute();
      for (let i = 0; i < spend.length; i += 2000) await trx.insertInto('ad_spend_entries').values(spend.slice(i, i + 2000)).execute();
      summary.dailyFinancials += financials.length;
      summary.adSpendEntries += spend.length;

      await trx
        .insertInto('fixed_costs')
        .values([
          { store_id: store.id, name: 'Shopify plan', category: 'software', amount: '79.00', currency, start_month: `${from.slice(0, 7)}-01` },
          { store_id: store.id, name: 'Virtual assistant', category: 'staff', amount: fixed2(400 + rand() * 800), currency, start_month: `${from.slice(0, 7)}-01` },
        ])
        .execute();
      summary.fixedCosts += 2;
    }
    await trx
      .insertInto('fixed_costs')
      .values({ store_id: null, name: 'Team tools', category: 'software', amount: '250.00', currency: 'EUR', start_month: `${from.slice(0, 7)}-01` })
      .execute();
    summary.fixedCosts += 1;
  });
  return summary;
}
