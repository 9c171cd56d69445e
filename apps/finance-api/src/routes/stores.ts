import { createStore, deleteStore, getStore, listStores, pageQuery, storeInput, storeOutput, storePageOutput, storePatch, updateStore, uuid } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import { z } from 'zod';
import type { Api } from '../http/api';

const idParam = z.object({ id: uuid });

/** Stores are configuration: everyone reads them, admins change them. */
export function storeRoutes(api: Api, db: Database): void {
  api.route({
    operationId: 'listStores',
    method: 'get',
    path: '/v1/stores',
    summary: 'List stores, by name',
    tag: 'Stores',
    guard: 'read',
    query: pageQuery,
    status: 200,
    response: storePageOutput,
    csv: { filename: 'stores' },
    handle: ({ query }) => listStores(db, query),
  });
  api.route({
    operationId: 'createStore',
    method: 'post',
    path: '/v1/stores',
    summary: 'Create a store',
    tag: 'Stores',
    guard: 'admin',
    body: storeInput,
    status: 201,
    response: storeOutput,
    problems: [409],
    handle: ({ body }) => createStore(db, body),
  });
  api.route({
    operationId: 'getStore',
    method: 'get',
    path: '/v1/stores/:id',
    summary: 'Get a store',
    tag: 'Stores',
    guard: 'read',
    params: idParam,
    status: 200,
    response: storeOutput,
    handle: ({ params }) => getStore(db, params.id),
  });
  api.route({
    operationId: 'updateStore',
    method: 'patch',
    path: '/v1/stores/:id',
    summary: 'Change a store',
    tag: 'Stores',
    guard: 'admin',
    params: idParam,
    body: storePatch,
    status: 200,
    response: storeOutput,
    problems: [409],
    handle: ({ params, body }) => updateStore(db, params.id, body),
  });
  api.route({
    operationId: 'deleteStore',
    method: 'delete',
    path: '/v1/stores/:id',
    summary: 'Delete a store without finance records',
    description: 'A store that has finance records cannot be deleted (409).',
    tag: 'Stores',
    guard: 'admin',
    params: idParam,
    status: 204,
    problems: [409],
    handle: ({ params }) => deleteStore(db, params.id),
  });
}
