import { z } from 'zod';
import { apiTokenPageOutput, createApiToken, createdApiTokenOutput, listApiTokens, newApiTokenSchema, revokeApiToken } from '@dealdome/domain';
import type { ApiToken } from '@dealdome/domain';
import type { Database } from '@dealdome/db';
import type { Api } from '../http/api';
import { principalOf } from '../http/auth';

const idParam = z.object({ id: z.uuid() });

const present = (t: ApiToken) => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  scopes: t.scopes,
  expiresAt: t.expiresAt,
  lastUsedAt: t.lastUsedAt,
  revokedAt: t.revokedAt,
  createdAt: t.createdAt,
});

export function apiTokenRoutes(api: Api, db: Database): void {
  api.route({
    operationId: 'createApiToken',
    method: 'post',
    path: '/v1/api-tokens',
    summary: 'Create an API token',
    description: 'The answer carries the secret (`token`) this once; it is stored only as a hash.',
    tag: 'API tokens',
    guard: 'admin',
    body: newApiTokenSchema,
    status: 201,
    response: createdApiTokenOutput,
    handle: async ({ body }, { res }) => {
      const principal = principalOf(res);
      const { token, secret } = await createApiToken(db, body, principal.kind === 'user' ? principal.user.id : null);
      // The secret is in this response and nowhere else, ever.
      return { ...present(token), token: secret };
    },
  });
  api.route({
    operationId: 'listApiTokens',
    method: 'get',
    path: '/v1/api-tokens',
    summary: 'List API tokens, newest first',
    tag: 'API tokens',
    guard: 'admin',
    status: 200,
    response: apiTokenPageOutput,
    csv: { filename: 'api-tokens' },
    handle: async () => ({ data: (await listApiTokens(db)).map(present), nextCursor: null }),
  });
  api.route({
    operationId: 'revokeApiToken',
    method: 'delete',
    path: '/v1/api-tokens/:id',
    summary: 'Revoke an API token',
    tag: 'API tokens',
    guard: 'admin',
    params: idParam,
    status: 204,
    handle: ({ params }) => revokeApiToken(db, params.id),
  });
}
