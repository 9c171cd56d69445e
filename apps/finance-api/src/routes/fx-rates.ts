import { deleteFxRate, fxRateFilters, fxRateInput, fxRateOutput, fxRatePageOutput, fxRateParams, listFxRates, pageQuery, putFxRate } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import type { Api } from '../http/api';

/** Exchange rates drive every converted figure: everyone reads them, admins set them. */
export function fxRateRoutes(api: Api, db: Database): void {
  api.route({
    operationId: 'listFxRates',
    method: 'get',
    path: '/v1/fx-rates',
    summary: 'List exchange rates into the reporting currency, newest day first',
    tag: 'Exchange rates',
    guard: 'read',
    query: [fxRateFilters, pageQuery],
    status: 200,
    response: fxRatePageOutput,
    csv: { filename: 'fx-rates' },
    handle: ({ query }) => listFxRates(db, query, query),
  });
  api.route({
    operationId: 'putFxRate',
    method: 'put',
    path: '/v1/fx-rates/:date/:currency',
    summary: 'Set the rate of a currency into the reporting currency on a day',
    tag: 'Exchange rates',
    guard: 'admin',
    params: fxRateParams,
    body: fxRateInput,
    status: 200,
    response: fxRateOutput,
    handle: ({ params, body }) => putFxRate(db, params.date, params.currency, body),
  });
  api.route({
    operationId: 'deleteFxRate',
    method: 'delete',
    path: '/v1/fx-rates/:date/:currency',
    summary: 'Delete a rate',
    tag: 'Exchange rates',
    guard: 'admin',
    params: fxRateParams,
    status: 204,
    handle: ({ params }) => deleteFxRate(db, params.date, params.currency),
  });
}
