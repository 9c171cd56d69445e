import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { adPlatforms } from '../ad-spend';
import { dateRange } from '../product-performance';
import { currency, Decimal, money2, uuid } from '../values';
import { assertRatesFound, convertFacts, missingRate, reportCurrency } from './conversion';
import { listPeriods } from './pnl';
import { dateOutput, money2Output } from '../schemas/common';

export const adSpendGroupings = ['platform', 'day', 'store'] as const;
export type AdSpendGrouping = (typeof adSpendGroupings)[number];

export const adSpendReportQuery = dateRange.and(
  z.object({
    storeId: uuid.optional(),
    groupBy: z.enum(adSpendGroupings).default('platform'),
    currency: currency.optional(),
  }),
);
export type AdSpendReportQuery = z.infer<typeof adSpendReportQuery>;

export const adSpendReportSchema = z.object({
  currency: z.string().length(3),
  storeId: z.uuid().nullable(),
  from: dateOutput,
  to: dateOutput,
  groupBy: z.enum(adSpendGroupings),
  rows: z.array(
    z.object({
      key: z.string().meta({ description: 'The platform ("meta"), the day ("2026-11-05") or the store id' }),
      amount: money2Output,
      entries: z.number().int().meta({ description: 'How many ad-spend entries the amount sums' }),
    }),
  ),
  total: money2Output,
});
export type AdSpendReport = z.infer<typeof adSpendReportSchema>;

const keyExpression: Record<AdSpendGrouping, string> = {
  platform: 'e.platform',
  day: `to_char(e.date, 'YYYY-MM-DD')`,
  store: 'e.store_id::text',
};

/** Every key the report shows, spend or not, in the order it shows them. */
async function listKeys(db: Database, query: AdSpendReportQuery): Promise<string[]> {
  if (query.groupBy === 'platform') return [...adPlatforms];
  if (query.groupBy === 'day') return listPeriods(query.from, query.to, 'day');
  let stores = db.selectFrom('stores').select('id').orderBy('name').orderBy('id');
  if (query.storeId) stores = stores.where('id', '=', query.storeId);
  return (await stores.execute()).map((s) => s.id);
}

/**
 * Ad spend over a range by platform (in the order of `adPlatforms`), by day (every
 * day of the range) or by store (every store by name), each key present with or
 * without spend; `entries` counts the ad-spend entries summed. Currency and
 * conversion as in the P&L; `total` is the exact sum, rounded once.
 */
export async function adSpendReport(db: Database, query: AdSpendReportQuery): Promise<AdSpendReport> {
  const conversion = await reportCurrency(db, query.storeId, query.currency);
  const storeId = query.storeId ?? null;
  const key = sql.raw(keyExpression[query.groupBy]);

  const { rows } = await sql<{ key: string; amount: string; entries: number; missing_rate: string | null }>`
    WITH facts AS (
      SELECT ${key} AS key, e.date, e.currency, sum(e.amount) AS amount, count(*) AS entries
      FROM ad_spend_entries e
      WHERE e.date BETWEEN ${query.from} AND ${query.to} AND (${storeId}::uuid IS NULL OR e.store_id = ${storeId}::uuid)
      GROUP BY 1, e.date, e.currency
    ),
    converted AS (${convertFacts('facts', conversion)})
    SELECT c.key, sum(c.amount * c.factor)::text AS amount, sum(c.entries)::int AS entries, ${missingRate('c')} AS missing_rate
    FROM converted c
    GROUP BY c.key`.execute(db);

  assertRatesFound(rows);

  const sums = new Map(rows.map((r) => [r.key, r]));
  const keys = await listKeys(db, query);
  let total = new Decimal(0);
  for (const r of rows) total = total.plus(r.amount);
  return {
    currency: conversion.target,
    storeId,
    from: query.from,
    to: query.to,
    groupBy: query.groupBy,
    rows: keys.map((k) => ({ key: k, amount: money2(sums.get(k)?.amount ?? 0), entries: sums.get(k)?.entries ?? 0 })),
    total: money2(total),
  };
}
