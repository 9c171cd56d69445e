import type { Database } from '@dealdome/db';
import { z } from 'zod';
import { invalid, notFound } from './errors';
import { decodeCursor, toPage } from './pagination';
import type { Page, PageQuery } from './pagination';
import { getReportingCurrency } from './settings';
import { currency, Decimal, isoDate } from './values';

/**
 * Exchange rates into the reporting currency, one per currency per day: 1 unit of
 * `currency` = `rate` units of the reporting currency. Stored in fx_rates as
 * base = currency, quote = reporting currency. Rates quoted in another currency
 * (kept from before the reporting currency changed) are not listed or touched.
 */
export const fxRateParams = z.object({ date: isoDate, currency });

// NUMERIC(20,10): up to 10 integer and 10 fractional digits.
export const fxRateInput = z.object({
  rate: z
    .string({ message: 'expected a decimal string such as "0.9215"' })
    .regex(/^\d{1,10}(\.\d{1,10})?$/, 'expected a positive decimal string with at most 10 decimals, such as "0.9215"')
    // Not via Decimal: refinements run even when the regex failed, on any string.
    .refine((r) => /[1-9]/.test(r), 'must be greater than zero'),
});

export const fxRateFilters = z
  .object({ from: isoDate.optional(), to: isoDate.optional(), currency: currency.optional() })
  .refine((f) => !f.from || !f.to || f.from <= f.to, { message: 'must not be after `to`', path: ['from'] });

export interface FxRate {
  date: string;
  /** The currency converted from. */
  currency: string;
  /** The reporting currency converted into. */
  baseCurrency: string;
  /** Units of baseCurrency per 1 unit of currency. */
  rate: string;
  /** "manual" for rates set through the API. */
  source: string;
}

const columns = ['id', 'date', 'base', 'quote', 'rate', 'source'] as const;
type Row = { id: string; date: string; base: string; quote: string; rate: string; source: string };

const present = (r: Row): FxRate => ({
  date: r.date,
  currency: r.base,
  baseCurrency: r.quote,
  // NUMERIC(20,10) reads back with 10 decimals; show them without the trailing zeros.
  rate: new Decimal(r.rate).toFixed(),
  source: r.source,
});

async function reportingCurrencyOtherThan(db: Database, given: string): Promise<string> {
  const reporting = await getReportingCurrency(db);
  if (given === reporting) {
    throw invalid({ currency: [`is the reporting currency (${reporting}); its rate is always 1`] }, 'A rate of the reporting currency cannot be set.');
  }
  return reporting;
}

/** Sets the day's rate of a currency, replacing any rate it had. */
export async function putFxRate(db: Database, date: string, cur: string, input: z.infer<typeof fxRateInput>): Promise<FxRate> {
  const reporting = await reportingCurrencyOtherThan(db, cur);
  const row = await db
    .insertInto('fx_rates')
    .values({ date, base: cur, quote: reporting, rate: input.rate, source: 'manual' })
    .onConflict((oc) => oc.columns(['date', 'base', 'quote']).doUpdateSet({ rate: input.rate, source: 'manual' }))
    .returning(columns)
    .executeTakeFirstOrThrow();
  return present(row);
}

/** Newest day first; within a day, by id descending (stable, so pages never skip or repeat). */
export async function listFxRates(db: Database, filters: z.infer<typeof fxRateFilters>, page: PageQuery): Promise<Page<FxRate>> {
  const after = decodeCursor(page.cursor);
  if (after && !isoDate.safeParse(after.key).success) throw invalid({ cursor: ['is not a cursor this API issued'] });
  const reporting = await getReportingCurrency(db);
  let query = db
    .selectFrom('fx_rates')
    .select(columns)
    .where('quote', '=', reporting)
    .orderBy('date', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1);
  if (filters.currency) query = query.where('base', '=', filters.currency);
  if (filters.from) query = query.where('date', '>=', filters.from);
  if (filters.to) query = query.where('date', '<=', filters.to);
  if (after) query = query.where((eb) => eb(eb.refTuple('date', 'id'), '<', eb.tuple(after.key, after.id)));
  return toPage(await query.execute(), page.limit, present, (r) => [r.date, r.id]);
}

export async function deleteFxRate(db: Database, date: string, cur: string): Promise<void> {
  const reporting = await reportingCurrencyOtherThan(db, cur);
  const result = await db.deleteFrom('fx_rates').where('date', '=', date).where('base', '=', cur).where('quote', '=', reporting).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('the exchange rate');
}
