import {
  addProductCost,
  costInput,
  createProduct,
  dateRange,
  deleteProduct,
  getProduct,
  isoDate,
  listProductCosts,
  listProductPerformance,
  listProducts,
  pageQuery,
  performanceFilters,
  performanceInput,
  productCostListOutput,
  productFilters,
  productInput,
  productOutput,
  productPageOutput,
  productPatch,
  productPerformancePageOutput,
  updateProduct,
  upsertProductPerformance,
  uuid,
} from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import type { Api } from '../http/api';
import { actorId } from '../http/auth';

const idParam = z.object({ id: uuid });
const dayParam = z.object({ id: uuid, date: isoDate });

export function productRoutes(api: Api, db: Database): void {
  api.route({
    operationId: 'listProducts',
    method: 'get',
    path: '/v1/products',
    summary: 'List products, by name',
    description: '`q` matches name or SKU, case-insensitively.',
    tag: 'Products',
    guard: 'read',
    query: [productFilters, pageQuery],
    status: 200,
    response: productPageOutput,
    csv: { filename: 'products' },
    handle: ({ query }) => listProducts(db, query, query),
  });
  api.route({
    operationId: 'createProduct',
    method: 'post',
    path: '/v1/products',
    summary: 'Create a product',
    description: "The currency must be the store's; SKUs are unique per store. The cost is recorded as the first entry of its history.",
    tag: 'Products',
    guard: 'write',
    body: productInput,
    status: 201,
    response: productOutput,
    problems: [409, 422],
    handle: ({ body }, { res }) => createProduct(db, body, actorId(res)),
  });
  api.route({
    operationId: 'getProduct',
    method: 'get',
    path: '/v1/products/:id',
    summary: 'Get a product',
    tag: 'Products',
    guard: 'read',
    params: idParam,
    status: 200,
    response: productOutput,
    handle: ({ params }) => getProduct(db, params.id),
  });
  api.route({
    operationId: 'updateProduct',
    method: 'patch',
    path: '/v1/products/:id',
    summary: 'Change a product',
    description: 'The cost changes only through its history (POST /v1/products/{id}/costs).',
    tag: 'Products',
    guard: 'write',
    params: idParam,
    body: productPatch,
    status: 200,
    response: productOutput,
    problems: [409],
    handle: ({ params, body }) => updateProduct(db, params.id, body),
  });
  api.route({
    operationId: 'deleteProduct',
    method: 'delete',
    path: '/v1/products/:id',
    summary: 'Delete a product',
    tag: 'Products',
    guard: 'write',
    params: idParam,
    status: 204,
    handle: ({ params }) => deleteProduct(db, params.id),
  });

  api.route({
    operationId: 'listProductCosts',
    method: 'get',
    path: '/v1/products/:id/costs',
    summary: "A product's cost history, oldest first",
    tag: 'Products',
    guard: 'read',
    params: idParam,
    status: 200,
    response: productCostListOutput,
    csv: { filename: 'product-costs' },
    handle: async ({ params }) => ({ data: await listProductCosts(db, params.id) }),
  });
  api.route({
    operationId: 'addProductCost',
    method: 'post',
    path: '/v1/products/:id/costs',
    summary: 'Record a cost from a day on',
    description: "Replaces a cost recorded for the same day. Answers the whole history; the product's `costPrice` becomes the cost in effect today.",
    tag: 'Products',
    guard: 'write',
    params: idParam,
    body: costInput,
    status: 201,
    response: productCostListOutput,
    handle: async ({ params, body }, { res }) => ({ data: await addProductCost(db, params.id, body, actorId(res)) }),
  });

  api.route({
    operationId: 'putProductPerformance',
    method: 'put',
    path: '/v1/products/:id/performance/:date',
    summary: 'Record units sold and revenue of a product on a day',
    tag: 'Products',
    guard: 'write',
    params: dayParam,
    body: performanceInput,
    status: 204,
    handle: ({ params, body }) => upsertProductPerformance(db, params.id, params.date, body),
  });
  api.route({
    operationId: 'listProductPerformance',
    method: 'get',
    path: '/v1/product-performance',
    summary: 'Units, revenue, ad spend and ROAS per product per day',
    description: 'Ad spend is summed from the ad-spend entries attributed to the product.',
    tag: 'Products',
    guard: 'read',
    query: [dateRange, performanceFilters, pageQuery],
    status: 200,
    response: productPerformancePageOutput,
    csv: { filename: 'product-performance' },
    handle: ({ query }) => listProductPerformance(db, query, query, query),
  });
}
