import Decimal from 'decimal.js';

/**
 * Figures arrive as exact decimal strings and are shown from those strings: Intl formats a
 * numeric string without converting it to a binary float (ECMA-402 NumberFormat v3), so
 * "1234567.89" is never shown as 1234567.8899999. Only charts turn strings into numbers,
 * and only to draw them.
 */
const LOCALE = 'en-GB';

type Numeric = `${number}`;

export function formatMoney(amount: string, currency: string): string {
  return new Intl.NumberFormat(LOCALE, { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(
    amount as Numeric,
  );
}

/** A ratio such as ROAS: "3.25" → "3.25×"; null (no denominator) → "—". */
export function formatRatio(value: string | null, suffix = '×'): string {
  if (value === null) return '—';
  return `${new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(value as Numeric)}${suffix}`;
}

export function formatCount(value: number): string {
  return new Intl.NumberFormat(LOCALE).format(value);
}

/**
 * The change from `previous` to `current` in percent, exact, rounded half-up to one decimal;
 * null when there is nothing to compare with (either side missing, or a zero base).
 */
export function percentChange(current: string | number | null, previous: string | number | null): string | null {
  if (current === null || previous === null) return null;
  const base = new Decimal(previous);
  if (base.isZero()) return null;
  return new Decimal(current).minus(base).dividedBy(base.abs()).times(100).toDecimalPlaces(1, Decimal.ROUND_HALF_UP).toFixed(1);
}

/** For charts only: a number to position a point, never one to show. */
export function plotValue(amount: string): number {
  return new Decimal(amount).toNumber();
}
