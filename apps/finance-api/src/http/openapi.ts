import { problemOutput } from '@dealdome/domain';
import type { Operation } from './api';
import { guardScopes } from './auth';
import { jsonSchemaOf, objectFields } from './json-schema';
import type { JsonSchema, SchemaComponents } from './json-schema';

type Parameter = { name: string; in: 'path' | 'query'; required: boolean; description?: string; schema: JsonSchema };
type MediaTypes = Record<string, { schema: JsonSchema }>;
type ResponseObject = { description: string; content?: MediaTypes; headers?: Record<string, { description: string; schema: JsonSchema }> };
type OperationObject = {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required: true; content: MediaTypes };
  responses: Record<string, ResponseObject>;
};

export type OpenApiDocument = {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: { url: string; description: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: SchemaComponents; securitySchemes: Record<string, JsonSchema> };
};

const problemDescriptions: Record<number, string> = {
  400: 'The request is not valid; `errors` names each bad field',
  401: 'Credentials are missing or were refused',
  403: 'The caller lacks the scope this operation needs',
  404: 'The record (or a record the path names) does not exist',
  409: 'The change conflicts with the data as it is',
  413: 'The body is too large',
  415: 'The body is not of the media type this operation takes',
  422: 'The request is understood but cannot be carried out; `detail` says why',
  429: 'Too many attempts; try again later',
};

const successDescriptions: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted; the work goes on after the answer', 204: 'Done; no content' };

/** Express's `/v1/stores/:id` → OpenAPI's `/v1/stores/{id}`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

function parameters(op: Operation, components: SchemaComponents): Parameter[] {
  const of = (schema: Parameter['schema'], place: Parameter['in']): Parameter[] => {
    const { properties, required } = objectFields(schema, components);
    return properties.map(([name, field]) => ({
      name,
      in: place,
      required: place === 'path' || required.has(name),
      ...(typeof field.description === 'string' && { description: field.description }),
      schema: field,
    }));
  };
  const list = [
    ...(op.params ? of(jsonSchemaOf(op.params, 'input', components), 'path') : []),
    ...op.query.flatMap((schema) => of(jsonSchemaOf(schema, 'input', components), 'query')),
  ];
  if (op.csv) {
    list.push({ name: 'format', in: 'query', required: false, description: 'csv: the answer as a CSV file', schema: { type: 'string', enum: ['json', 'csv'], default: 'json' } });
  }
  return list;
}

function responses(op: Operation, components: SchemaComponents): Record<string, ResponseObject> {
  const answers: Record<string, ResponseObject> = {};
  for (const status of op.statuses) {
    if (status === 204 || !op.response) {
      answers[status] = { description: successDescriptions[status]! };
      continue;
    }
    const content: MediaTypes = { 'application/json': { schema: jsonSchemaOf(op.response, 'output', components) } };
    const answer: ResponseObject = { description: successDescriptions[status]!, content };
    if (status === 202) answer.headers = { Location: { description: 'Where to follow the accepted work', schema: { type: 'string' } } };
    if (op.csv) {
      content['text/csv'] = { schema: { type: 'string', description: 'With ?format=csv: a header line, then one line per record; nested fields as `parent.child` columns' } };
      answer.headers = {
        'X-Next-Cursor': { description: 'With ?format=csv: the cursor of the next page, when there is one', schema: { type: 'string' } },
        Link: { description: 'With ?format=csv: `<…>; rel="next"`, the next page, when there is one', schema: { type: 'string' } },
      };
    }
    answers[status] = answer;
  }
  for (const status of op.problems) {
    const schema = op.problemSchemas[status] ?? problemOutput;
    answers[status] = {
      description: problemDescriptions[status] ?? 'Refused',
      content: { 'application/problem+json': { schema: jsonSchemaOf(schema, 'output', components) } },
    };
  }
  return answers;
}

function operationObject(op: Operation, components: SchemaComponents): OperationObject {
  const params = parameters(op, components);
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description !== undefined && { description: op.description }),
    tags: [op.tag],
    // OpenAPI 3.1 lets a bearer requirement name the role it needs: here, the scope.
    security: op.guard === 'none' ? [] : [{ bearer: [guardScopes[op.guard]] }],
    ...(params.length > 0 && { parameters: params }),
    ...(op.body && {
      requestBody: {
        required: true,
        content: { [op.bodyType]: { schema: op.bodyType === 'application/json' ? jsonSchemaOf(op.body, 'input', components) : { type: 'string' } } },
      },
    }),
    responses: responses(op, components),
  };
}

/** The OpenAPI 3.1 document of the declared operations; schemas come from zod, nothing is written by hand. */
export function buildDocument(operations: readonly Operation[], info: OpenApiDocument['info'], tags: Record<string, string>): OpenApiDocument {
  const components: SchemaComponents = {};
  const paths: OpenApiDocument['paths'] = {};
  for (const op of operations) (paths[openApiPath(op.path)] ??= {})[op.method] = operationObject(op, components);
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/', description: 'The server that serves this document' }],
    tags: Object.entries(tags).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An access token from POST /v1/auth/login (a JWT), or an API token (`ddt_…`) from POST /v1/api-tokens',
        },
      },
    },
  };
}

// ---------------------------------------------------------------- what express actually serves

interface RouterLike {
  stack: { route?: { path: string; methods: Record<string, boolean> }; rawPath?: unknown; handle: unknown }[];
}

/** Every method and path the app routes, read from express's own router (mounted routers included). */
export function routesOf(app: { router: unknown }): { method: string; path: string }[] {
  const walk = (router: RouterLike, prefix: string): { method: string; path: string }[] =>
    router.stack.flatMap((layer) => {
      if (layer.route) {
        const { path, methods } = layer.route;
        return Object.keys(methods)
          .filter((method) => method !== '_all')
          .map((method) => ({ method, path: prefix + path }));
      }
      const inner = layer.handle as Partial<RouterLike>;
      if (!Array.isArray(inner.stack)) return [];
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      return walk(inner as RouterLike, prefix + mount);
    });
  return walk(app.router as RouterLike, '');
}

/** Pages for people rather than operations of the API. */
const PAGES = /^\/docs(\/|$)/;

/** Start-up refuses an app that serves a route the document does not describe. */
export function assertEveryRouteDocumented(app: { router: unknown }, operations: readonly Operation[]): void {
  const documented = new Set(operations.map((op) => `${op.method} ${op.path}`));
  const missing = routesOf(app)
    .filter((route) => !PAGES.test(route.path) && !documented.has(`${route.method} ${route.path}`))
    .map((route) => `${route.method.toUpperCase()} ${route.path}`);
  if (missing.length > 0) throw new Error(`routes served without an OpenAPI description (declare them with api.route): ${missing.join(', ')}`);
}
