import {
  adSpendFilters,
  adSpendImportOutput,
  adSpendImportProblemOutput,
  adSpendInput,
  adSpendOutput,
  adSpendPageOutput,
  adSpendPatch,
  createAdSpend,
  deleteAdSpend,
  getAdSpend,
  importAdSpendCsv,
  listAdSpend,
  pageQuery,
  updateAdSpend,
  uuid,
} from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import type { Api } from '../http/api';
import { actorId } from '../http/auth';

const idParam = z.object({ id: uuid });
const importQuery = z.object({ storeId: uuid.optional().meta({ description: 'The store of every row, when the file has no store column' }) });
// No body at all is an empty file, which the import refuses with the reason.
const csvFile = z.string().default('');

/** Ad spend is finance data: everyone reads it, members and admins write it. */
export function adSpendRoutes(api: Api, db: Database): void {
  api.route({
    operationId: 'listAdSpend',
    method: 'get',
    path: '/v1/ad-spend',
    summary: 'List ad-spend entries',
    tag: 'Ad spend',
    guard: 'read',
    query: [adSpendFilters, pageQuery],
    status: 200,
    response: adSpendPageOutput,
    csv: { filename: 'ad-spend' },
    handle: ({ query }) => listAdSpend(db, query, query),
  });
  api.route({
    operationId: 'createAdSpend',
    method: 'post',
    path: '/v1/ad-spend',
    summary: 'Record ad spend',
    description: "In the store's currency; a product, when given, must be the store's.",
    tag: 'Ad spend',
    guard: 'write',
    body: adSpendInput,
    status: 201,
    response: adSpendOutput,
    problems: [422],
    handle: ({ body }, { res }) => createAdSpend(db, body, actorId(res)),
  });
  api.route({
    operationId: 'importAdSpend',
    method: 'post',
    path: '/v1/ad-spend/import',
    summary: 'Import ad spend from a CSV file',
    description:
      'Columns date, platform, amount, currency, and optionally campaign, sku and store (an id or shop domain; or give `?storeId`). ' +
      'All rows are stored or none: a file with bad rows is refused with every bad row listed (the header is row 1).',
    tag: 'Ad spend',
    guard: 'write',
    query: importQuery,
    body: csvFile,
    bodyType: 'text/csv',
    bodyLimit: '5mb',
    status: 201,
    response: adSpendImportOutput,
    problems: [422],
    problemSchemas: { 422: adSpendImportProblemOutput },
    handle: ({ query, body }, { res }) => importAdSpendCsv(db, body, { ...(query.storeId !== undefined && { storeId: query.storeId }), createdBy: actorId(res) }),
  });
  api.route({
    operationId: 'getAdSpend',
    method: 'get',
    path: '/v1/ad-spend/:id',
    summary: 'Get an ad-spend entry',
    tag: 'Ad spend',
    guard: 'read',
    params: idParam,
    status: 200,
    response: adSpendOutput,
    handle: ({ params }) => getAdSpend(db, params.id),
  });
  api.route({
    operationId: 'updateAdSpend',
    method: 'patch',
    path: '/v1/ad-spend/:id',
    summary: 'Change an ad-spend entry',
    tag: 'Ad spend',
    guard: 'write',
    params: idParam,
    body: adSpendPatch,
    status: 200,
    response: adSpendOutput,
    problems: [422],
    handle: ({ params, body }) => updateAdSpend(db, params.id, body),
  });
  api.route({
    operationId: 'deleteAdSpend',
    method: 'delete',
    path: '/v1/ad-spend/:id',
    summary: 'Delete an ad-spend entry',
    tag: 'Ad spend',
    guard: 'write',
    params: idParam,
    status: 204,
    handle: ({ params }) => deleteAdSpend(db, params.id),
  });
}
