import {
  adSpendReport,
  adSpendReportQuery,
  adSpendReportSchema,
  cachedReport,
  createReportSnapshot,
  getReportSnapshot,
  listReportSnapshots,
  pageQuery,
  pnlQuery,
  pnlReportOutput,
  pnlRowOutput,
  productReport,
  productReportQuery,
  productReportRowSchema,
  productReportSchema,
  profitAndLoss,
  reportSnapshotPageSchema,
  reportSnapshotSchema,
  snapshotFilters,
  snapshotInput,
  uuid,
} from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import type { Api } from '../http/api';
import { actorId } from '../http/auth';

const idParam = z.object({ id: uuid });

/**
 * Reports are computed from the finance tables and cached until those change (see
 * cachedReport in the domain); snapshots are stored copies, read as they were made.
 * The three computed reports read from `reads` — the read replica when
 * DATABASE_READ_URL is set — version and figures from one snapshot of it. Snapshots
 * stay on the primary: making one is a write, and a list read right after making one
 * must show it.
 */
export function reportRoutes(api: Api, db: Database, reads: Database): void {
  api.route({
    operationId: 'getPnlReport',
    method: 'get',
    path: '/v1/reports/pnl',
    summary: 'Profit and loss over a date range',
    description:
      'One store in its own currency, or all stores in the reporting currency, unless `currency` asks for another. ' +
      "Each amount is converted at its own day's rate; a missing rate is a 422 naming the currency and date.",
    tag: 'Reports',
    guard: 'read',
    query: pnlQuery,
    status: 200,
    response: pnlReportOutput,
    problems: [404, 422],
    csv: {
      filename: (report) => `pnl-${report.from}-${report.to}`,
      rows: (report) => [...report.rows, { period: 'total', ...report.totals }],
      row: pnlRowOutput,
      rename: { adSpendByPlatform: 'adSpend' },
    },
    handle: ({ query }) => cachedReport(reads, 'pnl', query, (snapshot) => profitAndLoss(snapshot, query)),
  });

  api.route({
    operationId: 'getProductReport',
    method: 'get',
    path: '/v1/reports/products',
    summary: 'Products ranked by profit or ROAS over a date range',
    description:
      'Per product: units, revenue, COGS (units at the cost valid on each sale date), attributed ad spend, ' +
      'profit = revenue − cogs − adSpend and ROAS = revenue ÷ adSpend. Converted like the P&L.',
    tag: 'Reports',
    guard: 'read',
    query: productReportQuery,
    status: 200,
    response: productReportSchema,
    problems: [404, 422],
    csv: { filename: (report) => `products-${report.from}-${report.to}`, rows: (report) => report.rows, row: productReportRowSchema },
    handle: ({ query }) => cachedReport(reads, 'products', query, (snapshot) => productReport(snapshot, query)),
  });

  api.route({
    operationId: 'getAdSpendReport',
    method: 'get',
    path: '/v1/reports/ad-spend',
    summary: 'Ad spend grouped by platform, day or store',
    tag: 'Reports',
    guard: 'read',
    query: adSpendReportQuery,
    status: 200,
    response: adSpendReportSchema,
    problems: [404, 422],
    csv: {
      filename: (report) => `ad-spend-by-${report.groupBy}-${report.from}-${report.to}`,
      rows: (report) => [...report.rows, { key: 'total', amount: report.total, entries: report.rows.reduce((n, r) => n + r.entries, 0) }],
      row: adSpendReportSchema.shape.rows.element,
    },
    handle: ({ query }) => cachedReport(reads, 'ad-spend', query, (snapshot) => adSpendReport(snapshot, query)),
  });

  api.route({
    operationId: 'createReportSnapshot',
    method: 'post',
    path: '/v1/reports/snapshots',
    summary: "Freeze a period's P&L (by day) as a stored snapshot",
    tag: 'Reports',
    guard: 'write',
    body: snapshotInput,
    status: 201,
    response: reportSnapshotSchema,
    problems: [404, 422],
    handle: ({ body }, { res }) => createReportSnapshot(db, body, actorId(res)),
  });
  api.route({
    operationId: 'listReportSnapshots',
    method: 'get',
    path: '/v1/reports/snapshots',
    summary: 'List snapshots, newest first, with their totals',
    tag: 'Reports',
    guard: 'read',
    query: [snapshotFilters, pageQuery],
    status: 200,
    response: reportSnapshotPageSchema,
    csv: { filename: 'report-snapshots' },
    handle: ({ query }) => listReportSnapshots(db, query, query),
  });
  api.route({
    operationId: 'getReportSnapshot',
    method: 'get',
    path: '/v1/reports/snapshots/:id',
    summary: 'Get a snapshot with its full report',
    tag: 'Reports',
    guard: 'read',
    params: idParam,
    status: 200,
    response: reportSnapshotSchema,
    handle: ({ params }) => getReportSnapshot(db, params.id),
  });
}
