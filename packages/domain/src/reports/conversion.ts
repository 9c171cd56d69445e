import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import type { RawBuilder } from 'kysely';
import { notFound, unprocessable } from '../errors';
import { getReportingCurrency } from '../settings';

/**
 * Currency conversion shared by every report, so they all convert the same way:
 * each amount at its own day's rate, the latest fx_rates row on that day or up to
 * RATE_LOOKBACK_DAYS before it. fx_rates quotes every currency in the reporting
 * currency (base = currency, quote = reporting, rate = reporting units per 1 unit),
 * so converting A into B goes through it: factor = rate(A) ÷ rate(B). A missing
 * rate is refused with 422, never treated as 1:1.
 */
export const RATE_LOOKBACK_DAYS = 7;

export interface ReportCurrency {
  /** The currency the report is in. */
  target: string;
  /** The currency fx_rates are quoted in (setting `reporting_currency`). */
  reporting: string;
}

/**
 * One store is reported in its own currency, all stores in the reporting currency;
 * `requested` (`?currency=`) overrides either. An unknown store is a 404.
 */
export async function reportCurrency(db: Database, storeId: string | undefined, requested: string | undefined): Promise<ReportCurrency> {
  const reporting = await getReportingCurrency(db);
  if (!storeId) return { target: requested ?? reporting, reporting };
  const store = await db.selectFrom('stores').select('currency').where('id', '=', storeId).executeTakeFirst();
  if (!store) throw notFound('the store');
  return { target: requested ?? store.currency, reporting };
}

/**
 * A SELECT over the relation `facts` (a CTE with `currency` and `date` columns)
 * giving every row with two more columns: `factor`, which converts the row's
 * amounts into the target currency (1 when already in it), and `missing_currency`,
 * the currency whose rate is missing for that row's date (NULL when none is).
 * Aggregate `missing_currency` with `missingRate` and check it with
 * `assertRatesFound`: a missing rate leaves the factor at 1.
 */
export function convertFacts(facts: string, currency: ReportCurrency): RawBuilder<unknown> {
  const { target, reporting } = currency;
  const relation = sql.table(facts);
  return sql`
    SELECT f.*,
           coalesce(r.source_rate / r.target_rate, 1) AS factor,
           CASE WHEN r.currency IS NOT NULL AND r.source_rate IS NULL THEN f.currency
                WHEN r.currency IS NOT NULL AND r.target_rate IS NULL THEN ${target}::text END AS missing_currency
    FROM ${relation} f
    LEFT JOIN (
      SELECT p.currency, p.date,
             CASE WHEN p.currency = ${reporting} THEN 1 ELSE src.rate END AS source_rate,
             CASE WHEN ${target} = ${reporting} THEN 1 ELSE dst.rate END AS target_rate
      FROM (SELECT DISTINCT currency, date FROM ${relation} WHERE currency <> ${target}) p
      LEFT JOIN LATERAL (
        SELECT rate FROM fx_rates
        WHERE base = p.currency AND quote = ${reporting} AND date BETWEEN p.date - ${sql.lit(RATE_LOOKBACK_DAYS)} AND p.date
        ORDER BY date DESC LIMIT 1
      ) src ON true
      LEFT JOIN LATERAL (
        SELECT rate FROM fx_rates
        WHERE base = ${target} AND quote = ${reporting} AND date BETWEEN p.date - ${sql.lit(RATE_LOOKBACK_DAYS)} AND p.date
        ORDER BY date DESC LIMIT 1
      ) dst ON true
    ) r ON r.currency = f.currency AND r.date = f.date`;
}

/**
 * An aggregate over rows of `convertFacts` (under `alias`): the earliest missing
 * rate of the group as "YYYY-MM-DD CUR", or NULL. Date and currency travel as one
 * value so the pair named in the error is one that is really missing.
 */
export function missingRate(alias: string): RawBuilder<string | null> {
  const missing = sql.ref(`${alias}.missing_currency`);
  return sql<string | null>`min(to_char(${sql.ref(`${alias}.date`)}, 'YYYY-MM-DD') || ' ' || ${missing}) FILTER (WHERE ${missing} IS NOT NULL)`;
}

/** Refuses the report with 422 naming the earliest missing rate among `rows`. */
export function assertRatesFound(rows: readonly { missing_rate: string | null }[]): void {
  const earliest = rows
    .map((r) => r.missing_rate)
    .filter((m): m is string => m !== null)
    .sort()[0];
  if (earliest === undefined) return;
  const [date, currency] = earliest.split(' ') as [string, string];
  throw unprocessable(
    `no exchange rate for ${currency} on ${date} (or in the ${RATE_LOOKBACK_DAYS} days before); set it with PUT /v1/fx-rates/${date}/${currency}`,
    { currency: [`missing rate for ${currency} on ${date}`] },
  );
}
