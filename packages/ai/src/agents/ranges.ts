import { AppError } from '@dealdome/domain';

/**
 * Date ranges as people say them in chat, resolved against "today" in the team's
 * time zone. The words and what they mean are listed in RANGE_WORDS, which the
 * tools' descriptions quote, so the model and the code agree.
 */

export interface DateRange {
  from: string;
  to: string;
}

export const RANGE_WORDS =
  'today; yesterday; Nd = the last N days ending today (7d, 30d; today included, as /pnl reads them); ' +
  'wtd / this-week = Monday to today; last-week = the previous Monday–Sunday; ' +
  'mtd / this-month = the 1st to today; last-month; ytd / this-year = 1 January to today; ' +
  'a day YYYY-MM-DD; a month YYYY-MM; or FROM..TO with two days (both included)';

const DAY_MS = 86_400_000;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

const toDate = (day: string) => new Date(`${day}T00:00:00Z`);
const toDay = (date: Date) => date.toISOString().slice(0, 10);

export function addDays(day: string, days: number): string {
  return toDay(new Date(toDate(day).getTime() + days * DAY_MS));
}

function isCalendarDay(value: string): boolean {
  return DAY.test(value) && toDay(toDate(value)) === value;
}

function monthRange(year: number, month: number): DateRange {
  const first = new Date(Date.UTC(year, month - 1, 1));
  const last = new Date(Date.UTC(year, month, 0));
  return { from: toDay(first), to: toDay(last) };
}

const unknownRange = (range: string) =>
  new AppError(400, 'invalid_range', `"${range}" is not a range I understand. Use one of: ${RANGE_WORDS}.`);

/** A range word or explicit range, relative to `today`. Throws an AppError the model can read and correct. */
export function resolveRange(range: string, today: string): DateRange {
  const word = range.trim().toLowerCase();
  const [year, month] = today.split('-').map(Number) as [number, number];
  const weekday = (toDate(today).getUTCDay() + 6) % 7; // Monday = 0
  switch (word) {
    case 'today':
      return { from: today, to: today };
    case 'yesterday': {
      const day = addDays(today, -1);
      return { from: day, to: day };
    }
    case 'wtd':
    case 'this-week':
      return { from: addDays(today, -weekday), to: today };
    case 'last-week': {
      const monday = addDays(today, -weekday - 7);
      return { from: monday, to: addDays(monday, 6) };
    }
    case 'mtd':
    case 'this-month':
      return { from: `${today.slice(0, 7)}-01`, to: today };
    case 'last-month':
      return month === 1 ? monthRange(year - 1, 12) : monthRange(year, month - 1);
    case 'ytd':
    case 'this-year':
      return { from: `${year}-01-01`, to: today };
  }
  const days = /^(\d{1,3})d$/.exec(word);
  if (days) {
    const n = Number(days[1]);
    if (n < 1 || n > 366) throw new AppError(400, 'invalid_range', 'Nd ranges go from 1d to 366d.');
    return { from: addDays(today, 1 - n), to: today };
  }
  if (isCalendarDay(word)) return { from: word, to: word };
  const monthMatch = MONTH.exec(word);
  if (monthMatch) return monthRange(Number(monthMatch[1]), Number(monthMatch[2]));
  const [from, to, ...rest] = word.split('..');
  if (from !== undefined && to !== undefined && rest.length === 0 && isCalendarDay(from) && isCalendarDay(to)) {
    if (from > to) throw new AppError(400, 'invalid_range', `The range starts (${from}) after it ends (${to}).`);
    return { from, to };
  }
  throw unknownRange(range);
}
