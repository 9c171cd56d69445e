import Decimal from 'decimal.js';
import { z } from 'zod';

/**
 * The value types every finance record shares. Money is a decimal string
 * ("1234.50") from the edge to NUMERIC and back; arithmetic uses decimal.js,
 * never a binary float.
 */
Decimal.set({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
export { Decimal };

// Up to 14 integer and 4 fractional digits: what NUMERIC(18,4) holds.
export const money = z
  .string({ message: 'expected a decimal string such as "1234.50"' })
  .regex(/^\d{1,14}(\.\d{1,4})?$/, 'expected a non-negative decimal string with at most 4 decimals, such as "1234.50"');

const currencies = new Set(Intl.supportedValuesOf('currency'));
export const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as "EUR"')
  .refine((c) => currencies.has(c), 'is not an ISO 4217 currency');

const timeZones = new Set(Intl.supportedValuesOf('timeZone'));
export const timeZone = z
  .string()
  .max(64)
  .refine((tz) => tz === 'UTC' || timeZones.has(tz), 'expected an IANA time zone such as "Europe/Amsterdam"');

function isCalendarDate(value: string): boolean {
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine(isCalendarDate, 'is not a calendar date');

export const isoMonth = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month as YYYY-MM');

export const uuid = z.uuid();

/** "2026-11" → "2026-11-01", the form months are stored in. */
export const monthToDate = (month: string) => `${month}-01`;
/** "2026-11-01" → "2026-11". */
export const dateToMonth = (date: string) => date.slice(0, 7);

/** Money as it leaves the system: exactly 2 decimals, half-up. */
export function money2(value: Decimal.Value): string {
  return new Decimal(value).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
}

/** Stored NUMERIC(18,4) comes back with 4 decimals; the API shows 2 where no precision is lost. */
export function presentMoney(value: string): string {
  const d = new Decimal(value);
  return d.decimalPlaces() <= 2 ? d.toFixed(2) : d.toFixed();
}
