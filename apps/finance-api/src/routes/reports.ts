import { pnlQuery, pnlReportOutput, pnlRowOutput, profitAndLoss } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import type { Api } from '../http/api';

export function reportRoutes(api: Api, db: Database): void {
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
    handle: ({ query }) => profitAndLoss(db, query),
  });
}
