import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { notFound } from './errors';
import type { Page } from './pagination';
import type { dateRange } from './product-performance';
import { money, presentMoney } from './values';

// What an integer column holds.
const count = z.number({ message: 'expected a whole number' }).int('expected a whole number').min(0).max(2_147_483_647);

/** A store's day, all figures at once: PUT replaces the day, so nothing is optional. */
export const dailyFinancialsInput = z.object({
  revenue: money,
  discounts: money,
  refunds: money,
  cogs: money,
  shippingCosts: money,
  transactionFees: money,
  orders: count,
  units: count,
});

export interface DailyFinancialsRecord {
  id: string;
  storeId: string;
  date: string;
  currency: string;
  revenue: string;
  discounts: string;
  refunds: string;
  cogs: string;
  shippingCosts: string;
  transactionFees: string;
  orders: number;
  units: number;
  source: 'manual' | 'shopify';
  updatedAt: Date;
}

const columns = [
  'id',
  'store_id',
  'date',
  'currency',
  'revenue',
  'discounts',
  'refunds',
  'cogs',
  'shipping_costs',
  'transaction_fees',
  'orders',
  'units',
  'source',
  'updated_at',
] as const;
type Row = {
  id: string;
  store_id: string;
  date: string;
  currency: string;
  revenue: string;
  discounts: string;
  refunds: string;
  cogs: string;
  shipping_costs: string;
  transaction_fees: string;
  orders: number;
  units: number;
  source: string;
  updated_at: Date;
};

const present = (r: Row): DailyFinancialsRecord => ({
  id: r.id,
  storeId: r.store_id,
  date: r.date,
  currency: r.currency,
  revenue: presentMoney(r.revenue),
  discounts: presentMoney(r.discounts),
  refunds: presentMoney(r.refunds),
  cogs: presentMoney(r.cogs),
  shippingCosts: presentMoney(r.shipping_costs),
  transactionFees: presentMoney(r.transaction_fees),
  orders: r.orders,
  units: r.units,
  source: r.source as DailyFinancialsRecord['source'],
  updatedAt: r.updated_at,
});

/**
 * Records a store's day by hand (source 'manual'), in the store's currency, replacing
 * whatever the day held. `created` tells a new day from a replaced one.
 */
export async function upsertDailyFinancials(
  db: Database,
  storeId: string,
  date: string,
  input: z.infer<typeof dailyFinancialsInput>,
): Promise<{ created: boolean; day: DailyFinancialsRecord }> {
  return db.transaction().execute(async (trx) => {
    // Share-locked: the store's currency cannot change under the row being written.
    const store = await trx.selectFrom('stores').select('currency').where('id', '=', storeId).forShare().executeTakeFirst();
    if (!store) throw notFound('the store');
    const figures = {
      currency: store.currency,
      revenue: input.revenue,
      discounts: input.discounts,
      refunds: input.refunds,
      cogs: input.cogs,
      shipping_costs: input.shippingCosts,
      transaction_fees: input.transactionFees,
      orders: input.orders,
      units: input.units,
      source: 'manual',
    };
    const row = await trx
      .insertInto('daily_financials')
      .values({ store_id: storeId, date, ...figures })
      .onConflict((oc) => oc.columns(['store_id', 'date']).doUpdateSet({ ...figures, updated_at: new Date() }))
      // xmax is 0 on a freshly inserted row version, set on one the upsert updated.
      .returning([...columns, sql<boolean>`xmax = 0`.as('created')])
      .executeTakeFirstOrThrow();
    return { created: row.created, day: present(row) };
  });
}

/** The store's recorded days of a range, oldest first; days with nothing recorded are absent. */
export async function listDailyFinancials(db: Database, storeId: string, range: z.infer<typeof dateRange>): Promise<Page<DailyFinancialsRecord>> {
  const store = await db.selectFrom('stores').select('id').where('id', '=', storeId).executeTakeFirst();
  if (!store) throw notFound('the store');
  const rows = await db
    .selectFrom('daily_financials')
    .select(columns)
    .where('store_id', '=', storeId)
    .where('date', '>=', range.from)
    .where('date', '<=', range.to)
    .orderBy('date')
    .execute();
  // The range is capped, so the whole of it is one page.
  return { data: rows.map(present), nextCursor: null };
}
