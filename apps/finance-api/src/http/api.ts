import express, { Router } from 'express';
import type { Request, RequestHandler, Response } from 'express';
import { invalid } from '@dealdome/domain';
import type { z } from 'zod';
import type { Guards } from './auth';
import { csvPlan, sendCsv } from './csv';
import type { CsvOptions, CsvPlan } from './csv';
import { buildDocument } from './openapi';
import type { OpenApiDocument } from './openapi';
import { parseInput } from './problem';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** Who may call: a scope (see Guards) or anyone. */
export type Guard = keyof Guards | 'none';
export type SuccessStatus = 200 | 201 | 202 | 204;
/** Refusals a route declares beyond those its declaration implies (see `impliedProblems`). */
export type DeclaredProblem = 401 | 404 | 409 | 422 | 429;
export type BodyType = 'application/json' | 'text/csv';

/** The document's groups of operations, in the order the docs page shows them. */
export const tags = {
  Authentication: 'Sign in, rotate and revoke tokens; who am I',
  'API tokens': 'Credentials for machines (admin)',
  Stores: 'The shops whose finances are kept',
  Products: 'Products, their cost history and daily performance',
  'Fixed costs': 'Monthly costs such as rent and software',
  'Ad spend': 'Advertising spend per platform and day, typed in or imported as CSV',
  'Daily financials': "A store's revenue, refunds and costs per day",
  'Exchange rates': 'Rates into the reporting currency, per day',
  Settings: 'Platform configuration (admin)',
  Reports: 'Profit and loss',
  Knowledge: "The team's videos: add transcripts, follow their ingestion, search them",
  Memories: 'What the agents remember, for every scope and person (admin)',
  'Scheduled tasks': 'Reminders, agent checks and digests the scheduler runs',
  Documentation: 'This API description',
} as const;
export type Tag = keyof typeof tags;

/** What a handler may return for a response schema: its JSON, where a Date may stand for an ISO string. */
export type Reply<T> = T extends string
  ? T | Date
  : T extends readonly (infer U)[]
    ? readonly Reply<U>[]
    : T extends object
      ? { [K in keyof T]: Reply<T[K]> }
      : T;

/** An answer whose success status the handler picks, among those the route declares. */
export class WithStatus<T> {
  constructor(
    readonly status: SuccessStatus,
    readonly body: T,
  ) {}
}
export const withStatus = <T>(status: SuccessStatus, body: T) => new WithStatus(status, body);

/**
 * Query parameters: one schema, or several read one after the other (filters, then
 * the page) — a refusal names the fields of the first schema that fails.
 */
export type QuerySchema = z.ZodType | readonly [z.ZodType, ...z.ZodType[]];
type QueryOutput<Q> = Q extends readonly [infer First extends z.ZodType, ...infer Rest]
  ? z.output<First> & QueryOutput<Rest>
  : Q extends z.ZodType
    ? z.output<Q>
    : unknown;

type Result<R> = R extends z.ZodType ? Reply<z.output<R>> | WithStatus<Reply<z.output<R>>> : void;

export interface RouteDefinition<P extends z.ZodType, Q extends QuerySchema, B extends z.ZodType, R extends z.ZodType | undefined> {
  /** camelCase and unique: the name a generated client gives the call. */
  operationId: string;
  method: Method;
  /** Express style: `/v1/stores/:id`. */
  path: string;
  summary: string;
  description?: string;
  tag: Tag;
  guard: Guard;
  params?: P;
  query?: Q;
  body?: B;
  /** The body's media type (default JSON). A CSV body arrives as a string, read once the caller passed the guard. */
  bodyType?: BodyType;
  /** How large a non-JSON body may be (JSON bodies: 1mb, for every route). */
  bodyLimit?: string;
  /** The success status, or the ones the handler picks from with `withStatus`. */
  status: SuccessStatus | readonly [SuccessStatus, ...SuccessStatus[]];
  /** The success body (none for 204). Described in the document; not checked at run time. */
  response?: R;
  /** Refusals beyond the implied ones. */
  problems?: readonly DeclaredProblem[];
  /** A richer problem than the standard one, by status. */
  problemSchemas?: Partial<Record<DeclaredProblem, z.ZodType>>;
  /** Answers `?format=csv` too. */
  csv?: CsvOptions<z.output<NonNullable<R>>>;
  /** Express middleware between the guard and the handler, such as rate limits. */
  middleware?: readonly RequestHandler[];
  handle: (input: { params: z.output<P>; query: QueryOutput<Q>; body: z.output<B> }, http: { req: Request; res: Response }) => Promise<Result<R>>;
}

/** A declared route as the document and the start-up checks see it. */
export interface Operation {
  operationId: string;
  method: Method;
  path: string;
  summary: string;
  description: string | undefined;
  tag: Tag;
  guard: Guard;
  params: z.ZodType | undefined;
  query: readonly z.ZodType[];
  body: z.ZodType | undefined;
  bodyType: BodyType;
  statuses: SuccessStatus[];
  response: z.ZodType | undefined;
  problems: number[];
  problemSchemas: Partial<Record<number, z.ZodType>>;
  csv: boolean;
}

/**
 * JSON of each answer object, remembered for as long as the object lives. Cached
 * reports (see cachedReport) are the same object request after request and are
 * never changed, so their JSON is made once; a fresh answer's entry goes with it.
 */
const jsonOf = new WeakMap<object, string>();

function serialize(body: unknown): string {
  if (typeof body !== 'object' || body === null) return JSON.stringify(body) ?? 'null';
  let json = jsonOf.get(body);
  if (json === undefined) {
    json = JSON.stringify(body);
    jsonOf.set(body, json);
  }
  return json;
}

/** 400 for bad input (every route takes `?format`), 401/403 behind a guard, 404 for a path naming a record, 413/415 for a body. */
function impliedProblems(def: { guard: Guard; params?: unknown; body?: unknown }): number[] {
  return [400, ...(def.guard === 'none' ? [] : [401, 403]), ...(def.params ? [404] : []), ...(def.body ? [413, 415] : [])];
}

/** `?format=json` (the default) everywhere, `?format=csv` where the route offers it; anything else is a 400. */
function requestedFormat(req: Request, csv: boolean): 'json' | 'csv' {
  const format = (req.query as Record<string, unknown>).format;
  if (format === undefined || format === 'json') return 'json';
  if (format === 'csv' && csv) return 'csv';
  throw invalid({ format: [csv ? 'expected "json" or "csv"' : 'this operation answers JSON only: expected "json"'] }, 'The requested format is not available.');
}

/**
 * Where routes are declared: each declaration registers the express handler (guard,
 * input parsing, the answer as JSON or CSV) and records the operation the OpenAPI
 * document is built from, so the two cannot drift apart.
 */
export class Api {
  readonly router = Router();
  readonly #operations: Operation[] = [];
  readonly #nonJsonBodies: { path: RegExp; type: BodyType }[] = [];
  #document: OpenApiDocument | undefined;

  constructor(
    private readonly guards: Guards,
    private readonly info: { title: string; version: string; description: string },
  ) {}

  get operations(): readonly Operation[] {
    return this.#operations;
  }

  route<P extends z.ZodType = z.ZodUndefined, Q extends QuerySchema = z.ZodUndefined, B extends z.ZodType = z.ZodUndefined, R extends z.ZodType | undefined = undefined>(
    def: RouteDefinition<P, Q, B, R>,
  ): void {
    if (this.#operations.some((op) => op.operationId === def.operationId)) throw new Error(`two routes are named ${def.operationId}`);
    if (this.#operations.some((op) => op.method === def.method && op.path === def.path)) throw new Error(`${def.method.toUpperCase()} ${def.path} is declared twice`);
    const statuses: SuccessStatus[] = typeof def.status === 'number' ? [def.status] : [...def.status];
    if ((def.response === undefined) !== statuses.every((s) => s === 204)) throw new Error(`${def.operationId}: a response schema goes with 200/201, none with 204`);
    const csv: CsvPlan | undefined = def.csv && csvPlan(def.response, def.csv);
    const bodyType = def.bodyType ?? 'application/json';
    const querySchemas: readonly z.ZodType[] = def.query === undefined ? [] : Array.isArray(def.query) ? def.query : [def.query as z.ZodType];

    const handlers: RequestHandler[] = [];
    if (def.guard !== 'none') handlers.push(this.guards[def.guard]);
    // JSON is read for every route before routing (see app.ts); another type only here, behind the guard.
    if (bodyType !== 'application/json') handlers.push(express.text({ type: bodyType, limit: def.bodyLimit ?? '1mb' }));
    handlers.push(...(def.middleware ?? []));
    handlers.push(async (req, res) => {
      const format = requestedFormat(req, csv !== undefined);
      const input = {
        params: def.params && parseInput(def.params, req.params),
        query: def.query && querySchemas.reduce<object>((parsed, schema) => Object.assign(parsed, parseInput(schema, req.query)), {}),
        body: def.body && parseInput(def.body, req.body),
      } as { params: z.output<P>; query: QueryOutput<Q>; body: z.output<B> };
      const result: unknown = await def.handle(input, { req, res });
      const [status, body] = result instanceof WithStatus ? [result.status, result.body as unknown] : [statuses[0]!, result];
      if (!statuses.includes(status)) throw new Error(`${def.operationId} answered ${status}, which it does not declare`);
      if (status === 204) {
        res.status(204).end();
      } else if (format === 'csv' && csv) {
        await sendCsv(req, res, csv, body);
      } else {
        res.status(status).type('application/json').send(serialize(body));
      }
    });
    this.router[def.method](def.path, ...handlers);
    if (bodyType !== 'application/json') this.#nonJsonBodies.push({ path: pathPattern(def.path), type: bodyType });

    this.#document = undefined;
    this.#operations.push({
      operationId: def.operationId,
      method: def.method,
      path: def.path,
      summary: def.summary,
      description: def.description,
      tag: def.tag,
      guard: def.guard,
      params: def.params,
      query: querySchemas,
      body: def.body,
      bodyType,
      statuses,
      response: def.response,
      problems: [...new Set([...impliedProblems(def), ...(def.problems ?? [])])].sort((a, b) => a - b),
      problemSchemas: def.problemSchemas ?? {},
      csv: csv !== undefined,
    });
  }

  /** The media type a path's body must have: JSON unless a route there takes another. */
  bodyTypeAt(path: string): BodyType {
    return this.#nonJsonBodies.find((body) => body.path.test(path))?.type ?? 'application/json';
  }

  /** The OpenAPI 3.1 document of every declared route, built once. */
  document(): OpenApiDocument {
    this.#document ??= buildDocument(this.#operations, this.info, tags);
    return this.#document;
  }
}

/** `/v1/products/:id/costs` → a RegExp matching `/v1/products/<anything but />/costs`. */
function pathPattern(path: string): RegExp {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+');
  return new RegExp(`^${escaped}/?$`);
}
