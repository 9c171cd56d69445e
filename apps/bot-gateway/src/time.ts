import type { Database } from '@dealdome/db';
import { getSetting, timeZone } from '@dealdome/domain';

/**
 * "Today" for the team: calendar days in the time zone of the setting
 * `team.timezone` (an IANA name such as "Europe/Amsterdam"), UTC when it is unset
 * or not a time zone. The agents read the same setting.
 */
export const TEAM_TIMEZONE_SETTING = 'team.timezone';

export async function teamTimeZone(db: Database): Promise<string> {
  const value = await getSetting(db, TEAM_TIMEZONE_SETTING).catch(() => undefined);
  const parsed = timeZone.safeParse(value);
  return parsed.success ? parsed.data : 'UTC';
}

/** The calendar day (YYYY-MM-DD) it is at `now` in `zone`. */
export function localDate(now: Date, zone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

const toTime = (day: string) => Date.parse(`${day}T00:00:00Z`);
const fromTime = (t: number) => new Date(t).toISOString().slice(0, 10);

export function addDays(day: string, days: number): string {
  return fromTime(toTime(day) + days * 86_400_000);
}

export function firstOfMonth(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

export function addMonths(firstDay: string, months: number): string {
  const date = new Date(toTime(firstDay));
  date.setUTCMonth(date.getUTCMonth() + months);
  return fromTime(date.getTime());
}

export const pnlRanges = ['today', 'yesterday', '7d', '30d', 'mtd', 'last-month'] as const;
export type PnlRange = (typeof pnlRanges)[number];

/** Both ends included. 7d and 30d end today; mtd is the month so far; last-month the whole previous month. */
export function resolvePnlRange(range: PnlRange, today: string): { from: string; to: string } {
  switch (range) {
    case 'today':
      return { from: today, to: today };
    case 'yesterday':
      return { from: addDays(today, -1), to: addDays(today, -1) };
    case '7d':
      return { from: addDays(today, -6), to: today };
    case '30d':
      return { from: addDays(today, -29), to: today };
    case 'mtd':
      return { from: firstOfMonth(today), to: today };
    case 'last-month': {
      const first = addMonths(firstOfMonth(today), -1);
      return { from: first, to: addDays(firstOfMonth(today), -1) };
    }
  }
}
