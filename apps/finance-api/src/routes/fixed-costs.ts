import {
  createFixedCost,
  deleteFixedCost,
  fixedCostFilters,
  fixedCostInput,
  fixedCostOutput,
  fixedCostPageOutput,
  fixedCostPatch,
  getFixedCost,
  listFixedCosts,
  pageQuery,
  updateFixedCost,
  uuid,
} from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import type { Api } from '../http/api';

const idParam = z.object({ id: uuid });

/** Fixed costs are finance data: everyone reads them, members and admins write them. */
export function fixedCostRoutes(api: Api, db: Database): void {
  api.route({
    operationId: 'listFixedCosts',
    method: 'get',
    path: '/v1/fixed-costs',
    summary: 'List fixed costs, oldest start month first',
    description: '`storeId=shared` lists the costs every store shares; `activeIn` the costs running in that month.',
    tag: 'Fixed costs',
    guard: 'read',
    query: [fixedCostFilters, pageQuery],
    status: 200,
    response: fixedCostPageOutput,
    csv: { filename: 'fixed-costs' },
    handle: ({ query }) => listFixedCosts(db, query, query),
  });
  api.route({
    operationId: 'createFixedCost',
    method: 'post',
    path: '/v1/fixed-costs',
    summary: 'Record a monthly fixed cost',
    description: 'Without a store, the cost is shared by every store.',
    tag: 'Fixed costs',
    guard: 'write',
    body: fixedCostInput,
    status: 201,
    response: fixedCostOutput,
    handle: ({ body }) => createFixedCost(db, body),
  });
  api.route({
    operationId: 'getFixedCost',
    method: 'get',
    path: '/v1/fixed-costs/:id',
    summary: 'Get a fixed cost',
    tag: 'Fixed costs',
    guard: 'read',
    params: idParam,
    status: 200,
    response: fixedCostOutput,
    handle: ({ params }) => getFixedCost(db, params.id),
  });
  api.route({
    operationId: 'updateFixedCost',
    method: 'patch',
    path: '/v1/fixed-costs/:id',
    summary: 'Change a fixed cost',
    tag: 'Fixed costs',
    guard: 'write',
    params: idParam,
    body: fixedCostPatch,
    status: 200,
    response: fixedCostOutput,
    handle: ({ params, body }) => updateFixedCost(db, params.id, body),
  });
  api.route({
    operationId: 'deleteFixedCost',
    method: 'delete',
    path: '/v1/fixed-costs/:id',
    summary: 'Delete a fixed cost',
    tag: 'Fixed costs',
    guard: 'write',
    params: idParam,
    status: 204,
    handle: ({ params }) => deleteFixedCost(db, params.id),
  });
}
