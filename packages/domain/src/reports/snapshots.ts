import type { Database, Json } from '@dealdome/db';
import { sql } from 'kysely';
import { z } from 'zod';
import { invalid, notFound } from '../errors';
import { decodeCursor, toPage } from '../pagination';
import type { Page, PageQuery } from '../pagination';
import { MAX_RANGE_DAYS } from '../product-performance';
import { isoDate, uuid } from '../values';
import { listPeriods, profitAndLoss } from './pnl';
import type { PnlFigures, PnlReport } from './pnl';
import { dateOutput } from '../schemas/common';
import { pnlFiguresOutput, pnlReportOutput } from '../schemas/reports';

/**
 * Snapshots freeze a P&L (by day) for a period in financial_reports, so a month
 * closed today reads the same next year whatever is corrected later.
 *
 * A period is one of:
 * - a month, "2026-11": its first to its last day;
 * - an ISO week, "2026-W45": Monday to Sunday (the week belongs to the year of its Thursday);
 * - a range of days, "2026-11-01..2026-11-15": both days included, within the
 *   limits of every report range (from ≤ to, at most MAX_RANGE_DAYS).
 */
const PERIOD_FORMATS = 'expected a month "2026-11", an ISO week "2026-W45" or days "2026-11-01..2026-11-15"';

type PeriodRange = { from: string; to: string };

const isCalendarDate = (value: string) => isoDate.safeParse(value).success;

/** The first and last day of a period, or the problems with it. */
export function periodRange(period: string): PeriodRange | { problems: string[] } {
  const month = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (month) {
    const [, y, m] = month as unknown as [string, string, string];
    const lastDay = new Date(Date.UTC(Number(y), Number(m), 0)).getUTCDate();
    return { from: `${y}-${m}-01`, to: `${y}-${m}-${String(lastDay).padStart(2, '0')}` };
  }
  const week = /^(\d{4})-W(\d{2})$/.exec(period);
  if (week) {
    const [, y, w] = week as unknown as [string, string, string];
    // 4 January is always in week 1; its week's Monday starts the ISO year.
    const jan4 = Date.UTC(Number(y), 0, 4);
    const weekOneMonday = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * 86_400_000;
    const monday = new Date(weekOneMonday + (Number(w) - 1) * 7 * 86_400_000).toISOString().slice(0, 10);
    // A week number the year does not have (W00, W53 of a 52-week year) lands in another year.
    if (listPeriods(monday, monday, 'week')[0] !== period) return { problems: [`${period} is not a week of ${y}`] };
    return { from: monday, to: new Date(Date.parse(`${monday}T00:00:00Z`) + 6 * 86_400_000).toISOString().slice(0, 10) };
  }
  const days = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(period);
  if (days) {
    const [, from, to] = days as unknown as [string, string, string];
    const problems = [from, to].filter((d) => !isCalendarDate(d)).map((d) => `${d} is not a calendar date`);
    if (problems.length > 0) return { problems };
    if (from > to) return { problems: [`${from} is after ${to}`] };
    if ((Date.parse(to) - Date.parse(from)) / 86_400_000 >= MAX_RANGE_DAYS) return { problems: [`the range may span at most ${MAX_RANGE_DAYS} days`] };
    return { from, to };
  }
  return { problems: [PERIOD_FORMATS] };
}

export const reportPeriod = z
  .string()
  .max(30)
  .superRefine((value, ctx) => {
    const range = periodRange(value);
    if ('problems' in range) for (const message of range.problems) ctx.addIssue({ code: 'custom', message });
  })
  .meta({ description: PERIOD_FORMATS, examples: ['2026-11', '2026-W45', '2026-11-01..2026-11-15'] });

export const snapshotInput = z.object({ period: reportPeriod, storeId: uuid.optional() });
export type SnapshotInput = z.infer<typeof snapshotInput>;

/** Snapshots whose whole period lies within [from, to]; storeId: that store's only. */
export const snapshotFilters = z
  .object({ storeId: uuid.optional(), from: isoDate.optional(), to: isoDate.optional() })
  .refine((f) => !f.from || !f.to || f.from <= f.to, { message: 'must not be after `to`', path: ['from'] });
export type SnapshotFilters = z.infer<typeof snapshotFilters>;

export interface ReportSnapshot {
  id: string;
  /** null: every store, in the reporting currency at the time. */
  storeId: string | null;
  periodStart: string;
  periodEnd: string;
  currency: string;
  report: PnlReport;
  /** The user who asked for it; null for an API token or a deleted user. */
  generatedBy: string | null;
  generatedAt: Date;
}

/** A snapshot in a list: its totals without the rows. */
export type ReportSnapshotSummary = Omit<ReportSnapshot, 'report'> & { totals: PnlFigures };

const snapshotFields = {
  id: z.uuid(),
  storeId: z.uuid().nullable(),
  periodStart: dateOutput,
  periodEnd: dateOutput,
  currency: z.string().length(3),
  generatedBy: z.uuid().nullable(),
  generatedAt: z.iso.datetime(),
};
/** A snapshot as JSON (generatedAt an ISO 8601 timestamp). */
export const reportSnapshotSchema = z.object({ ...snapshotFields, report: pnlReportOutput });
export const reportSnapshotSummarySchema = z.object({ ...snapshotFields, totals: pnlFiguresOutput });
export const reportSnapshotPageSchema = z.object({ data: z.array(reportSnapshotSummarySchema), nextCursor: z.string().nullable() });

type Row = {
  id: string;
  store_id: string | null;
  period_start: string;
  period_end: string;
  currency: string;
  generated_by: string | null;
  generated_at: Date;
};

const summaryOf = (r: Row) => ({
  id: r.id,
  storeId: r.store_id,
  periodStart: r.period_start,
  periodEnd: r.period_end,
  currency: r.currency,
  generatedBy: r.generated_by,
  generatedAt: r.generated_at,
});

const columns = ['id', 'store_id', 'period_start', 'period_end', 'currency', 'generated_by', 'generated_at'] as const;

/** Runs the P&L of the period by day and stores it. An unknown store is a 404, a missing rate a 422. */
export async function createReportSnapshot(db: Database, input: SnapshotInput, generatedBy: string | null): Promise<ReportSnapshot> {
  const range = periodRange(input.period);
  if ('problems' in range) throw invalid({ period: range.problems });
  const report = await profitAndLoss(db, { ...range, storeId: input.storeId, groupBy: 'day' });
  const row = await db
    .insertInto('financial_reports')
    .values({
      store_id: report.storeId,
      period_start: range.from,
      period_end: range.to,
      currency: report.currency,
      // Serialized here, as settings are: what is stored is exactly the JSON the API sent.
      report: sql<Json>`${JSON.stringify(report)}::jsonb`,
      generated_by: generatedBy,
    })
    .returning(columns)
    .executeTakeFirstOrThrow();
  return { ...summaryOf(row), report };
}

export async function getReportSnapshot(db: Database, id: string): Promise<ReportSnapshot> {
  const row = await db.selectFrom('financial_reports').select([...columns, 'report']).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('the report snapshot');
  // Stored by createReportSnapshot from a PnlReport; a snapshot is kept as it was written.
  return { ...summaryOf(row), report: row.report as unknown as PnlReport };
}

// The cursor carries generated_at to the microsecond, as text: a JS Date keeps only milliseconds.
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Newest first (by generated_at, then id, both descending). */
export async function listReportSnapshots(db: Database, filters: SnapshotFilters, page: PageQuery): Promise<Page<ReportSnapshotSummary>> {
  const after = decodeCursor(page.cursor);
  if (after && !CURSOR_TIME.test(after.key)) throw invalid({ cursor: ['is not a cursor this API issued'] });
  if (filters.storeId) {
    const store = await db.selectFrom('stores').select('id').where('id', '=', filters.storeId).executeTakeFirst();
    if (!store) throw notFound('the store');
  }
  let query = db
    .selectFrom('financial_reports')
    .select([
      ...columns,
      sql<PnlFigures>`report -> 'totals'`.as('totals'),
      sql<string>`to_char(generated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('position'),
    ])
    .orderBy('generated_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1);
  if (filters.storeId) query = query.where('store_id', '=', filters.storeId);
  if (filters.from) query = query.where('period_start', '>=', filters.from);
  if (filters.to) query = query.where('period_end', '<=', filters.to);
  if (after) query = query.where(sql<boolean>`(generated_at, id) < (${after.key}::timestamptz, ${after.id}::uuid)`);
  return toPage(
    await query.execute(),
    page.limit,
    (r) => ({ ...summaryOf(r), totals: r.totals }),
    (r) => [r.position, r.id],
  );
}
