/**
 * Calendar arithmetic on YYYY-MM-DD days for the commands. "Today" is the team's
 * (todayIn with teamTimeZone, both from the finance domain the agents read too).
 */
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
