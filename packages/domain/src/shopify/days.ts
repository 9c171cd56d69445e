import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';

/**
 * daily_financials and product_performance of a store's days, recomputed from its
 * synced orders. Everything an order brings — its sale, discounts, refunds (however
 * late they came), cost of goods and fees — belongs to the store-local day it was
 * processed, so a refund a week later corrects that day.
 *
 * Per day, over the store's orders that are not test orders:
 * - orders, revenue, discounts, refunds, units and cost of goods count the orders
 *   that are not cancelled; transaction fees count every order (Shopify keeps them);
 * - revenue = line items at original prices + shipping charged, without tax (an
 *   order with tax-inclusive prices has its tax taken out);
 * - refunds = money given back, less the tax in it;
 * - units = units sold less units refunded;
 * - cost of goods = units not returned to stock × the product's cost valid on the day
 *   (as costOn: the latest recorded on or before it, else the first recorded);
 *   lines matched to no product cost nothing and are counted in the sync state;
 * - shipping_costs is what the store pays to ship, which Shopify does not know: a
 *   rebuilt day keeps what was entered.
 * Per product and day: units as above, revenue = the lines' price less discounts,
 * tax (when included) and refunds; ad_spend is left as it is.
 *
 * Rows are written only where a figure changed, so a sync that changed nothing
 * leaves them (and their updated_at) as they were.
 */
export async function rebuildShopifyDays(db: Database, storeId: string, dates: readonly string[]): Promise<void> {
  if (dates.length === 0) return;
  const days = sql`SELECT d::date AS date FROM unnest(${[...dates]}::date[]) AS d`;
  const ordersOfDays = sql`
    SELECT days.date, o.id, o.cancelled_at, o.taxes_included, o.gross_sales, o.total_shipping, o.total_tax,
           o.total_discounts, o.total_refunded, o.refunded_tax, o.transaction_fees
    FROM (${days}) AS days
    CROSS JOIN stores s
    JOIN shopify_orders o
      ON o.store_id = s.id
     AND o.processed_at >= (days.date::timestamp AT TIME ZONE s.timezone)
     AND o.processed_at < ((days.date + 1)::timestamp AT TIME ZONE s.timezone)
     AND NOT o.test
    WHERE s.id = ${storeId}`;
  const lineFigures = sql`
    SELECT od.date, l.product_id,
           sum(l.quantity - l.refunded_quantity)::int AS units,
           sum(greatest(l.unit_price * l.quantity - l.total_discount - CASE WHEN od.taxes_included THEN l.tax ELSE 0 END - l.refunded_amount, 0)) AS revenue,
           sum((l.quantity - l.restocked_quantity) * coalesce(cost.cost_price, 0)) AS cogs
    FROM orders_of_days od
    JOIN shopify_order_lines l ON l.order_id = od.id
    LEFT JOIN LATERAL (
      SELECT pc.cost_price FROM product_costs pc
      WHERE pc.product_id = l.product_id
      ORDER BY pc.effective_from <= od.date DESC,
               CASE WHEN pc.effective_from <= od.date THEN pc.effective_from END DESC,
               pc.effective_from
      LIMIT 1
    ) cost ON true
    WHERE od.cancelled_at IS NULL
    GROUP BY od.date, l.product_id`;

  await sql`
    WITH orders_of_days AS (${ordersOfDays}),
    line_figures AS (${lineFigures}),
    order_figures AS (
      SELECT date,
             count(*) FILTER (WHERE cancelled_at IS NULL)::int AS orders,
             coalesce(sum(greatest(gross_sales + total_shipping - CASE WHEN taxes_included THEN total_tax ELSE 0 END, 0)) FILTER (WHERE cancelled_at IS NULL), 0) AS revenue,
             coalesce(sum(total_discounts) FILTER (WHERE cancelled_at IS NULL), 0) AS discounts,
             coalesce(sum(greatest(total_refunded - refunded_tax, 0)) FILTER (WHERE cancelled_at IS NULL), 0) AS refunds,
             coalesce(sum(transaction_fees), 0) AS fees
      FROM orders_of_days GROUP BY date
    ),
    day_lines AS (
      SELECT date, sum(units)::int AS units, sum(cogs) AS cogs FROM line_figures GROUP BY date
    )
    INSERT INTO daily_financials AS df (store_id, date, currency, revenue, discounts, refunds, cogs, shipping_costs, transaction_fees, orders, units, source)
    SELECT s.id, days.date, s.currency,
           coalesce(f.revenue, 0), coalesce(f.discounts, 0), coalesce(f.refunds, 0), coalesce(dl.cogs, 0), 0,
           coalesce(f.fees, 0), coalesce(f.orders, 0), coalesce(dl.units, 0), 'shopify'
    FROM (${days}) AS days
    CROSS JOIN stores s
    LEFT JOIN order_figures f ON f.date = days.date
    LEFT JOIN day_lines dl ON dl.date = days.date
    WHERE s.id = ${storeId}
    ON CONFLICT (store_id, date) DO UPDATE SET
      currency = EXCLUDED.currency, revenue = EXCLUDED.revenue, discounts = EXCLUDED.discounts, refunds = EXCLUDED.refunds,
      cogs = EXCLUDED.cogs, transaction_fees = EXCLUDED.transaction_fees, orders = EXCLUDED.orders, units = EXCLUDED.units,
      source = 'shopify', updated_at = now()
    WHERE (df.currency, df.revenue, df.discounts, df.refunds, df.cogs, df.transaction_fees, df.orders, df.units, df.source)
      IS DISTINCT FROM (EXCLUDED.currency, EXCLUDED.revenue, EXCLUDED.discounts, EXCLUDED.refunds, EXCLUDED.cogs, EXCLUDED.transaction_fees, EXCLUDED.orders, EXCLUDED.units, EXCLUDED.source)`.execute(db);

  await sql`
    WITH orders_of_days AS (${ordersOfDays}),
    line_figures AS (${lineFigures})
    INSERT INTO product_performance AS pp (store_id, product_id, date, units, revenue, currency, source)
    SELECT ${storeId}, lf.product_id, lf.date, lf.units, lf.revenue, p.currency, 'shopify'
    FROM line_figures lf JOIN products p ON p.id = lf.product_id
    ON CONFLICT (product_id, date) DO UPDATE SET units = EXCLUDED.units, revenue = EXCLUDED.revenue, source = 'shopify', updated_at = now()
    WHERE (pp.units, pp.revenue, pp.source) IS DISTINCT FROM (EXCLUDED.units, EXCLUDED.revenue, EXCLUDED.source)`.execute(db);

  // A product that sold on a day before (an order since edited or cancelled) and no longer does.
  await sql`
    WITH orders_of_days AS (${ordersOfDays}),
    line_figures AS (${lineFigures})
    UPDATE product_performance pp SET units = 0, revenue = 0, updated_at = now()
    WHERE pp.store_id = ${storeId} AND pp.source = 'shopify' AND pp.date = ANY(${[...dates]}::date[])
      AND (pp.units <> 0 OR pp.revenue <> 0)
      AND NOT EXISTS (SELECT 1 FROM line_figures lf WHERE lf.product_id = pp.product_id AND lf.date = pp.date)`.execute(db);
}

/**
 * The store's product for an order line, as one SQL expression: by variant (stored
 * as Shopify's global id or its number), else by exact SKU.
 */
export function matchProduct(storeId: string, variantId: RawBuilder<unknown>, sku: RawBuilder<unknown>): RawBuilder<string | null> {
  return sql<string | null>`coalesce(
    (SELECT p.id FROM products p WHERE p.store_id = ${storeId} AND ${variantId} IS NOT NULL
       AND p.shopify_variant_id IN (${variantId}, substring(${variantId} FROM '([0-9]+)$')) LIMIT 1),
    (SELECT p.id FROM products p WHERE p.store_id = ${storeId} AND p.sku = ${sku}))`;
}
