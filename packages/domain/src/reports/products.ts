import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { MAX_PAGE_SIZE } from '../pagination';
import { dateRange } from '../product-performance';
import { productStatuses } from '../products';
import { currency, Decimal, money2, uuid } from '../values';
import { assertRatesFound, convertFacts, missingRate, reportCurrency } from './conversion';
import { dateOutput, money2Output } from '../schemas/common';

export const productSortKeys = ['profit', 'roas'] as const;
export type ProductSortKey = (typeof productSortKeys)[number];

export const productReportQuery = dateRange.and(
  z.object({
    storeId: uuid.optional(),
    sortBy: z.enum(productSortKeys).default('profit'),
    currency: currency.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  }),
);
export type ProductReportQuery = z.infer<typeof productReportQuery>;

export const productReportRowSchema = z.object({
  productId: z.uuid(),
  storeId: z.uuid(),
  sku: z.string(),
  name: z.string(),
  status: z.enum(productStatuses),
  /** The currency of the row's amounts: the report's, whatever the product's own. */
  currency: z.string().length(3),
  units: z.number().int(),
  revenue: money2Output,
  cogs: money2Output,
  adSpend: money2Output,
  profit: money2Output,
  roas: money2Output.nullable(),
});

export const productReportSchema = z.object({
  currency: z.string().length(3),
  storeId: z.uuid().nullable(),
  from: dateOutput,
  to: dateOutput,
  sortBy: z.enum(productSortKeys),
  rows: z.array(productReportRowSchema),
});
export type ProductReportRow = z.infer<typeof productReportRowSchema>;
export type ProductReport = z.infer<typeof productReportSchema>;

interface ProductSums {
  product_id: string;
  store_id: string;
  sku: string;
  name: string;
  status: ProductReportRow['status'];
  units: string;
  revenue: string;
  cogs: string;
  ad_spend: string;
  missing_rate: string | null;
}

interface Ranked {
  row: ProductSums;
  revenue: Decimal;
  cogs: Decimal;
  adSpend: Decimal;
  profit: Decimal;
  roas: Decimal | null;
}

const byProfit = (a: Ranked, b: Ranked) => b.profit.comparedTo(a.profit);
const byRoas = (a: Ranked, b: Ranked) => {
  if (a.roas === null || b.roas === null) return (a.roas === null ? 1 : 0) - (b.roas === null ? 1 : 0);
  return b.roas.comparedTo(a.roas);
};

/**
 * Products ranked over a range. Per product: units and revenue from
 * product_performance; cogs = units × the unit cost in effect on each sale's date
 * (the latest product_costs row on or before it; a sale before the first record is
 * costed at the first cost; a product without any record at its current cost);
 * ad spend from the ad-spend entries attributed to the product; profit = revenue −
 * cogs − ad spend; roas = revenue ÷ ad spend, null without ad spend. Only products
 * with sales or attributed spend in the range appear. Ranked by profit or by roas
 * (highest first, null last), ties by product id; currency and conversion as in
 * the P&L. Every amount is exact until it is rounded for output.
 */
export async function productReport(db: Database, query: ProductReportQuery): Promise<ProductReport> {
  const conversion = await reportCurrency(db, query.storeId, query.currency);
  const storeId = query.storeId ?? null;

  const { rows } = await sql<ProductSums>`
    WITH sales AS (
      SELECT pp.product_id, pp.date, pp.currency, pp.units, pp.revenue,
             pp.units * coalesce(cost.cost_price, p.cost_price) AS cogs,
             coalesce(cost.currency, p.currency) AS cost_currency
      FROM product_performance pp
      JOIN products p ON p.id = pp.product_id
      LEFT JOIN LATERAL (
        -- Records on or before the sale come first (false sorts before true), the
        -- nearest first: the latest in effect, or else the first ever recorded.
        SELECT pc.cost_price, pc.currency FROM product_costs pc
        WHERE pc.product_id = pp.product_id
        ORDER BY pc.effective_from > pp.date, abs(pc.effective_from - pp.date)
        LIMIT 1
      ) cost ON true
      WHERE pp.date BETWEEN ${query.from} AND ${query.to} AND (${storeId}::uuid IS NULL OR p.store_id = ${storeId}::uuid)
    ),
    spend AS (
      SELECT e.product_id, e.date, e.currency, sum(e.amount) AS amount
      FROM ad_spend_entries e
      JOIN products p ON p.id = e.product_id
      WHERE e.date BETWEEN ${query.from} AND ${query.to} AND (${storeId}::uuid IS NULL OR p.store_id = ${storeId}::uuid)
      GROUP BY e.product_id, e.date, e.currency
    ),
    facts AS (
      SELECT product_id, date, currency, units, revenue, 0::numeric AS cogs, 0::numeric AS ad_spend FROM sales
      UNION ALL
      SELECT product_id, date, cost_currency, 0, 0, cogs, 0 FROM sales
      UNION ALL
      SELECT product_id, date, currency, 0, 0, 0, amount FROM spend
    ),
    converted AS (${convertFacts('facts', conversion)})
    SELECT c.product_id, p.store_id, p.sku, p.name, p.status,
           sum(c.units)::text AS units,
           sum(c.revenue * c.factor)::text AS revenue,
           sum(c.cogs * c.factor)::text AS cogs,
           sum(c.ad_spend * c.factor)::text AS ad_spend,
           ${missingRate('c')} AS missing_rate
    FROM converted c
    JOIN products p ON p.id = c.product_id
    GROUP BY c.product_id, p.store_id, p.sku, p.name, p.status`.execute(db);

  // Every product is checked, not only the top ones: a missing rate anywhere changes the ranking.
  assertRatesFound(rows);

  const ranked: Ranked[] = rows.map((row) => {
    const revenue = new Decimal(row.revenue);
    const cogs = new Decimal(row.cogs);
    const adSpend = new Decimal(row.ad_spend);
    return { row, revenue, cogs, adSpend, profit: revenue.minus(cogs).minus(adSpend), roas: adSpend.isZero() ? null : revenue.div(adSpend) };
  });
  const order = query.sortBy === 'profit' ? byProfit : byRoas;
  // PostgreSQL orders uuids as their lower-case text, so the tie-break matches ORDER BY id.
  ranked.sort((a, b) => order(a, b) || (a.row.product_id < b.row.product_id ? -1 : a.row.product_id > b.row.product_id ? 1 : 0));

  return {
    currency: conversion.target,
    storeId,
    from: query.from,
    to: query.to,
    sortBy: query.sortBy,
    rows: ranked.slice(0, query.limit).map(({ row, revenue, cogs, adSpend, profit, roas }) => ({
      productId: row.product_id,
      storeId: row.store_id,
      sku: row.sku,
      name: row.name,
      status: row.status,
      currency: conversion.target,
      // Units are a count, never money; a bigint sum reads back as text.
      units: Number(row.units),
      revenue: money2(revenue),
      cogs: money2(cogs),
      adSpend: money2(adSpend),
      profit: money2(profit),
      roas: roas === null ? null : money2(roas),
    })),
  };
}
