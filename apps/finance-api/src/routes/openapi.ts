import { z } from 'zod';
import type { Api } from '../http/api';

const documentOutput = z
  .looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'OpenApiDocument', description: 'An OpenAPI 3.1 document' });

/** The document describes itself too: it is a route like any other, open to everyone. */
export function openApiRoutes(api: Api): void {
  api.route({
    operationId: 'getOpenApiDocument',
    method: 'get',
    path: '/v1/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document',
    description: 'Rendered for people at /docs.',
    tag: 'Documentation',
    guard: 'none',
    status: 200,
    response: documentOutput,
    handle: async () => api.document(),
  });
}
