import { dailyFinancialsInput, dailyFinancialsOutput, dailyFinancialsPageOutput, dateRange, isoDate, listDailyFinancials, upsertDailyFinancials, uuid } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import { withStatus } from '../http/api';
import type { Api } from '../http/api';

const idParam = z.object({ id: uuid });
const dayParam = z.object({ id: uuid, date: isoDate });

/** A store's daily figures: everyone reads them, members and admins record them. */
export function dailyFinancialsRoutes(api: Api, db: Database): void {
  api.route({
    operationId: 'listDailyFinancials',
    method: 'get',
    path: '/v1/stores/:id/daily-financials',
    summary: "A store's recorded days in a date range",
    description: 'The range is capped, so the whole of it is one page (`nextCursor` is always null).',
    tag: 'Daily financials',
    guard: 'read',
    params: idParam,
    query: dateRange,
    status: 200,
    response: dailyFinancialsPageOutput,
    csv: { filename: 'daily-financials' },
    handle: ({ params, query }) => listDailyFinancials(db, params.id, query),
  });
  api.route({
    operationId: 'putDailyFinancials',
    method: 'put',
    path: '/v1/stores/:id/daily-financials/:date',
    summary: "Record a store's figures of a day",
    description: "In the store's currency, replacing whatever the day held: 201 for a new day, 200 for a replaced one.",
    tag: 'Daily financials',
    guard: 'write',
    params: dayParam,
    body: dailyFinancialsInput,
    status: [201, 200],
    response: dailyFinancialsOutput,
    handle: async ({ params, body }) => {
      const { created, day } = await upsertDailyFinancials(db, params.id, params.date, body);
      return withStatus(created ? 201 : 200, day);
    },
  });
}
