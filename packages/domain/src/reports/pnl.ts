import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { dateRange } from '../product-performance';
import { currency, Decimal, money2, uuid } from '../values';
import { assertRatesFound, convertFacts, missingRate, reportCurrency } from './conversion';

export const groupings = ['day', 'week', 'month'] as const;
export type Grouping = (typeof groupings)[number];

export const pnlQuery = dateRange.and(
  z.object({
    storeId: uuid.optional(),
    groupBy: z.enum(groupings).default('day'),
    currency: currency.optional(),
  }),
);
export type PnlQuery = z.infer<typeof pnlQuery>;

export const platforms = ['meta', 'tiktok', 'google', 'snapchat', 'pinterest', 'other'] as const;

export interface PnlFigures {
  revenue: string;
  discounts: string;
  refunds: string;
  netRevenue: string;
  cogs: string;
  shippingCosts: string;
  transactionFees: string;
  grossProfit: string;
  adSpend: string;
  adSpendByPlatform: Record<string, string>;
  fixedCosts: string;
  netProfit: string;
  marginPct: string | null;
  roas: string | null;
  poas: string | null;
  breakEvenRoas: string | null;
  orders: number;
}

export interface PnlReport {
  currency: string;
  storeId: string | null;
  from: string;
  to: string;
  groupBy: Grouping;
  rows: (PnlFigures & { period: string })[];
  totals: PnlFigures;
}

interface Sums {
  revenue: Decimal;
  discounts: Decimal;
  refunds: Decimal;
  cogs: Decimal;
  shippingCosts: Decimal;
  transactionFees: Decimal;
  fixedCosts: Decimal;
  orders: number;
  adSpend: Map<string, Decimal>;
}

const emptySums = (): Sums => ({
  revenue: new Decimal(0),
  discounts: new Decimal(0),
  refunds: new Decimal(0),
  cogs: new Decimal(0),
  shippingCosts: new Decimal(0),
  transactionFees: new Decimal(0),
  fixedCosts: new Decimal(0),
  orders: 0,
  adSpend: new Map(),
});

const ratio = (numerator: Decimal, denominator: Decimal) => (denominator.isZero() ? null : money2(numerator.div(denominator)));

/** The formulas of the report, on exact decimals; rounded half-up to 2 decimals only here, at output. */
export function figures(s: Sums): PnlFigures {
  const netRevenue = s.revenue.minus(s.discounts).minus(s.refunds);
  const grossProfit = netRevenue.minus(s.cogs).minus(s.shippingCosts).minus(s.transactionFees);
  const adSpend = [...s.adSpend.values()].reduce((a, b) => a.plus(b), new Decimal(0));
  const netProfit = grossProfit.minus(adSpend).minus(s.fixedCosts);
  return {
    revenue: money2(s.revenue),
    discounts: money2(s.discounts),
    refunds: money2(s.refunds),
    netRevenue: money2(netRevenue),
    cogs: money2(s.cogs),
    shippingCosts: money2(s.shippingCosts),
    transactionFees: money2(s.transactionFees),
    grossProfit: money2(grossProfit),
    adSpend: money2(adSpend),
    adSpendByPlatform: Object.fromEntries(platforms.map((p) => [p, money2(s.adSpend.get(p) ?? 0)])),
    fixedCosts: money2(s.fixedCosts),
    netProfit: money2(netProfit),
    marginPct: netRevenue.isZero() ? null : money2(netProfit.div(netRevenue).times(100)),
    roas: ratio(netRevenue, adSpend),
    poas: ratio(grossProfit, adSpend),
    breakEvenRoas: grossProfit.lte(0) ? null : money2(netRevenue.div(grossProfit)),
    orders: s.orders,
  };
}

const periodExpression: Record<Grouping, string> = {
  day: `to_char(f.date, 'YYYY-MM-DD')`,
  week: `to_char(f.date, 'IYYY-"W"IW')`,
  month: `to_char(f.date, 'YYYY-MM')`,
};

interface FactRow {
  period: string;
  kind: 'fin' | 'spend' | 'fixed';
  platform: string | null;
  revenue: string;
  discounts: string;
  refunds: string;
  cogs: string;
  shipping_costs: string;
  transaction_fees: string;
  amount: string;
  orders: number;
  missing_rate: string | null;
}

/**
 * Profit and loss for one store (in its currency unless another is asked for) or
 * for all stores (in the reporting currency unless another is asked for). Every
 * amount is converted at its own day's rate: the latest rate on or up to 7 days
 * before that day. A missing rate is refused with 422, never treated as 1:1.
 * Fixed costs are spread over the days of their month; a store's report carries its
 * own fixed costs, the all-stores report every fixed cost.
 */
export async function profitAndLoss(db: Database, query: PnlQuery): Promise<PnlReport> {
  const conversion = await reportCurrency(db, query.storeId, query.currency);
  const target = conversion.target;
  const storeId = query.storeId ?? null;
  const period = sql.raw(periodExpression[query.groupBy]);

  const { rows } = await sql<FactRow>`
    WITH days AS (
      SELECT d::date AS date FROM generate_series(${query.from}::date, ${query.to}::date, interval '1 day') AS d
    ),
    fin AS (
      SELECT date, currency, sum(revenue) AS revenue, sum(discounts) AS discounts, sum(refunds) AS refunds,
             sum(cogs) AS cogs, sum(shipping_costs) AS shipping_costs, sum(transaction_fees) AS transaction_fees,
             sum(orders)::int AS orders
      FROM daily_financials
      WHERE date BETWEEN ${query.from} AND ${query.to} AND (${storeId}::uuid IS NULL OR store_id = ${storeId}::uuid)
      GROUP BY date, currency
    ),
    spend AS (
      SELECT date, currency, platform, sum(amount) AS amount
      FROM ad_spend_entries
      WHERE date BETWEEN ${query.from} AND ${query.to} AND (${storeId}::uuid IS NULL OR store_id = ${storeId}::uuid)
      GROUP BY date, currency, platform
    ),
    fixed AS (
      SELECT days.date, fc.currency,
             sum(fc.amount / extract(day FROM date_trunc('month', days.date) + interval '1 month' - interval '1 day')) AS amount
      FROM days
      JOIN fixed_costs fc
        ON fc.start_month <= days.date
       AND (fc.end_month IS NULL OR days.date < fc.end_month + interval '1 month')
       AND (${storeId}::uuid IS NULL OR fc.store_id = ${storeId}::uuid)
      GROUP BY days.date, fc.currency
    ),
    facts AS (
      SELECT 'fin' AS kind, date, currency, NULL::text AS platform, revenue, discounts, refunds, cogs, shipping_costs,
             transaction_fees, orders, 0::numeric AS amount FROM fin
      UNION ALL
      SELECT 'spend', date, currency, platform, 0, 0, 0, 0, 0, 0, 0, amount FROM spend
      UNION ALL
      SELECT 'fixed', date, currency, NULL, 0, 0, 0, 0, 0, 0, 0, amount FROM fixed
    ),
    converted AS (${convertFacts('facts', conversion)})
    SELECT ${period} AS period, kind, platform,
           sum(revenue * factor)::text AS revenue, sum(discounts * factor)::text AS discounts,
           sum(refunds * factor)::text AS refunds, sum(cogs * factor)::text AS cogs,
           sum(shipping_costs * factor)::text AS shipping_costs, sum(transaction_fees * factor)::text AS transaction_fees,
           sum(amount * factor)::text AS amount, sum(orders)::int AS orders,
           ${missingRate('f')} AS missing_rate
    FROM converted f
    GROUP BY period, kind, platform`.execute(db);

  assertRatesFound(rows);

  const byPeriod = new Map<string, Sums>(listPeriods(query.from, query.to, query.groupBy).map((p) => [p, emptySums()]));
  for (const r of rows) {
    const s = byPeriod.get(r.period);
    if (!s) continue;
    if (r.kind === 'fin') {
      s.revenue = s.revenue.plus(r.revenue);
      s.discounts = s.discounts.plus(r.discounts);
      s.refunds = s.refunds.plus(r.refunds);
      s.cogs = s.cogs.plus(r.cogs);
      s.shippingCosts = s.shippingCosts.plus(r.shipping_costs);
      s.transactionFees = s.transactionFees.plus(r.transaction_fees);
      s.orders += r.orders;
    } else if (r.kind === 'spend') {
      const platform = r.platform ?? 'other';
      s.adSpend.set(platform, (s.adSpend.get(platform) ?? new Decimal(0)).plus(r.amount));
    } else {
      s.fixedCosts = s.fixedCosts.plus(r.amount);
    }
  }

  const total = emptySums();
  for (const s of byPeriod.values()) {
    total.revenue = total.revenue.plus(s.revenue);
    total.discounts = total.discounts.plus(s.discounts);
    total.refunds = total.refunds.plus(s.refunds);
    total.cogs = total.cogs.plus(s.cogs);
    total.shippingCosts = total.shippingCosts.plus(s.shippingCosts);
    total.transactionFees = total.transactionFees.plus(s.transactionFees);
    total.fixedCosts = total.fixedCosts.plus(s.fixedCosts);
    total.orders += s.orders;
    for (const [p, v] of s.adSpend) total.adSpend.set(p, (total.adSpend.get(p) ?? new Decimal(0)).plus(v));
  }

  return {
    currency: target,
    storeId,
    from: query.from,
    to: query.to,
    groupBy: query.groupBy,
    rows: [...byPeriod.entries()].map(([p, s]) => ({ period: p, ...figures(s) })),
    totals: figures(total),
  };
}

/** Every period the range touches, in order: days, ISO weeks ("2026-W45") or months ("2026-11"). */
export function listPeriods(from: string, to: string, groupBy: Grouping): string[] {
  const periods: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end; t += 86_400_000) {
    const day = new Date(t);
    const key = groupBy === 'day' ? day.toISOString().slice(0, 10) : groupBy === 'month' ? day.toISOString().slice(0, 7) : isoWeek(day);
    if (periods[periods.length - 1] !== key) periods.push(key);
  }
  return periods;
}

function isoWeek(day: Date): string {
  // The ISO week belongs to the year of its Thursday.
  const thursday = new Date(day);
  thursday.setUTCDate(day.getUTCDate() + 3 - ((day.getUTCDay() + 6) % 7));
  const firstThursday = new Date(Date.UTC(thursday.getUTCFullYear(), 0, 4));
  firstThursday.setUTCDate(firstThursday.getUTCDate() + 3 - ((firstThursday.getUTCDay() + 6) % 7));
  const week = 1 + Math.round((thursday.getTime() - firstThursday.getTime()) / (7 * 86_400_000));
  return `${thursday.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}
