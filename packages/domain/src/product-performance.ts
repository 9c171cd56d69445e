import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { invalid, notFound } from './errors';
import { decodeCursor, toPage } from './pagination';
import type { Page, PageQuery } from './pagination';
import { Decimal, isoDate, money, money2, presentMoney, uuid } from './values';

export const MAX_RANGE_DAYS = 3 * 366;

export const performanceInput = z.object({
  units: z.number().int().min(0).max(10_000_000),
  revenue: money,
});

export const dateRange = z
  .object({ from: isoDate, to: isoDate })
  .refine((r) => r.from <= r.to, { message: 'must not be after `to`', path: ['from'] })
  .refine((r) => (Date.parse(r.to) - Date.parse(r.from)) / 86_400_000 < MAX_RANGE_DAYS, {
    message: `the range may span at most ${MAX_RANGE_DAYS} days`,
    path: ['to'],
  });

export const performanceFilters = z.object({ storeId: uuid.optional(), productId: uuid.optional() });

export interface ProductPerformanceRow {
  productId: string;
  storeId: string;
  sku: string;
  name: string;
  date: string;
  currency: string;
  units: number;
  revenue: string;
  adSpend: string;
  /** revenue ÷ ad spend; null without ad spend. */
  roas: string | null;
}

/** Units sold and revenue of one product on one day (the store's local date). */
export async function upsertProductPerformance(
  db: Database,
  productId: string,
  date: string,
  input: z.infer<typeof performanceInput>,
): Promise<void> {
  const product = await db.selectFrom('products').select(['store_id', 'currency']).where('id', '=', productId).executeTakeFirst();
  if (!product) throw notFound('the product');
  await db
    .insertInto('product_performance')
    .values({ product_id: productId, store_id: product.store_id, date, units: input.units, revenue: input.revenue, currency: product.currency })
    .onConflict((oc) => oc.columns(['product_id', 'date']).doUpdateSet({ units: input.units, revenue: input.revenue, updated_at: new Date() }))
    .execute();
}

/**
 * Per product per day: sales from product_performance, ad spend summed from the
 * ad-spend entries attributed to the product. A day with spend and no sales (or the
 * reverse) still appears.
 */
export async function listProductPerformance(
  db: Database,
  range: z.infer<typeof dateRange>,
  filters: z.infer<typeof performanceFilters>,
  page: PageQuery,
): Promise<Page<ProductPerformanceRow>> {
  const after = decodeCursor(page.cursor);
  if (after && !isoDate.safeParse(after.key).success) throw invalid({ cursor: ['is not a cursor this API issued'] });
  const { rows } = await sql<{
    product_id: string;
    date: string;
    units: number;
    revenue: string;
    ad_spend: string;
    store_id: string;
    sku: string;
    name: string;
    currency: string;
  }>`
    WITH perf AS (
      SELECT product_id, date, units, revenue FROM product_performance
      WHERE date BETWEEN ${range.from} AND ${range.to}
    ), spend AS (
      SELECT product_id, date, sum(amount) AS ad_spend FROM ad_spend_entries
      WHERE product_id IS NOT NULL AND date BETWEEN ${range.from} AND ${range.to}
      GROUP BY product_id, date
    )
    SELECT product_id, date, coalesce(perf.units, 0)::int AS units, coalesce(perf.revenue, 0)::text AS revenue,
           coalesce(spend.ad_spend, 0)::text AS ad_spend, p.store_id, p.sku, p.name, p.currency
    FROM perf FULL JOIN spend USING (product_id, date)
    JOIN products p ON p.id = product_id
    WHERE (${filters.storeId ?? null}::uuid IS NULL OR p.store_id = ${filters.storeId ?? null}::uuid)
      AND (${filters.productId ?? null}::uuid IS NULL OR p.id = ${filters.productId ?? null}::uuid)
      AND (${after?.key ?? null}::date IS NULL OR (date, product_id) > (${after?.key ?? null}::date, ${after?.id ?? null}::uuid))
    ORDER BY date, product_id
    LIMIT ${page.limit + 1}`.execute(db);
  return toPage(
    rows,
    page.limit,
    (r) => {
      const spend = new Decimal(r.ad_spend);
      return {
        productId: r.product_id,
        storeId: r.store_id,
        sku: r.sku,
        name: r.name,
        date: r.date,
        currency: r.currency,
        units: r.units,
        revenue: presentMoney(r.revenue),
        adSpend: presentMoney(r.ad_spend),
        roas: spend.isZero() ? null : money2(new Decimal(r.revenue).div(spend)),
      };
    },
    (r) => [r.date, r.product_id],
  );
}
