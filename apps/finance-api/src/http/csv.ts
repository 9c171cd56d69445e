import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { jsonSchemaOf, objectFields, resolveRef } from './json-schema';
import type { JsonSchema, SchemaComponents } from './json-schema';

/** How an operation answers `?format=csv`. */
export interface CsvOptions<Body> {
  /** The file name offered for download, without ".csv"; computed from the answer when it depends on it. */
  filename: string | ((body: Body) => string);
  /** The records, one per line; by default the list's `data`. */
  rows?: (body: Body) => readonly object[];
  /** The schema of one record, whose fields become the columns; by default that of the list's items. */
  row?: z.ZodType;
  /** Nested fields shown under another name: `{ adSpendByPlatform: 'adSpend' }` makes the columns `adSpend.meta`, … */
  rename?: Readonly<Record<string, string>>;
}

interface Column {
  header: string;
  path: string[];
}

/** What a route needs at request time, worked out once when it is declared. */
export interface CsvPlan {
  columns: Column[];
  filename: (body: unknown) => string;
  rows: (body: unknown) => readonly object[];
}

/**
 * The columns of a record schema: one per field, in the schema's order. A nested
 * object with declared fields spreads over one column per field (`adSpendByPlatform.meta`);
 * anything else (a list, free-form JSON) is one column holding its JSON.
 */
function columnsOf(schema: JsonSchema, components: SchemaComponents, path: string[] = []): Column[] {
  return objectFields(schema, components).properties.flatMap(([name, field]) => {
    const resolved = resolveRef(field, components);
    const nested = resolved.type === 'object' && resolved.properties !== undefined;
    return nested ? columnsOf(resolved, components, [...path, name]) : [{ header: [...path, name].join('.'), path: [...path, name] }];
  });
}

const listData = (body: unknown): readonly object[] => (body as { data: object[] }).data;

export function csvPlan<Body>(response: z.ZodType | undefined, options: CsvOptions<Body>): CsvPlan {
  const components: SchemaComponents = {};
  let record: JsonSchema;
  if (options.row) {
    record = jsonSchemaOf(options.row, 'output', components);
  } else {
    const data = response && objectFields(jsonSchemaOf(response, 'output', components), components).properties.find(([name]) => name === 'data');
    const items = data && (resolveRef(data[1], components).items as JsonSchema | undefined);
    if (!items) throw new Error('CSV needs a list answer ({ data: [...] }) or the schema of one row (`csv.row`)');
    record = items;
  }
  const rename = options.rename ?? {};
  const columns = columnsOf(record, components).map((column) => {
    const [first = '', ...rest] = column.path;
    return rename[first] === undefined ? column : { ...column, header: [rename[first], ...rest].join('.') };
  });
  const { filename } = options;
  return {
    columns,
    filename: typeof filename === 'string' ? () => filename : (body) => filename(body as Body),
    rows: options.rows ? (body) => options.rows!(body as Body) : listData,
  };
}

/** A text a spreadsheet would run as a formula: it starts with =, +, -, @, a tab or a carriage return. */
const FORMULA_START = /^[=+\-@\t\r]/;
/** A signed number as the JSON answer writes amounts ("-12.50"): data, never a formula. */
const SIGNED_NUMBER = /^[+-]?\d+(\.\d+)?$/;

/**
 * A cell as the JSON answer shows the value: dates as ISO strings, null as empty, nested
 * values as JSON. A text that a spreadsheet would run as a formula (a memory, a title or a
 * transcript passage beginning with "=", say) is written with a leading apostrophe, as
 * OWASP advises against CSV injection; amounts such as "-12.50" stay as they are.
 */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return FORMULA_START.test(value) && !SIGNED_NUMBER.test(value) ? `'${value}` : value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

function valueAt(record: object, path: string[]): unknown {
  let value: unknown = record;
  for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** The same request with the cursor of the next page: a relative reference, resolved against the request's URL. */
function nextPageReference(req: Request, cursor: string): string {
  const [path = '', search = ''] = req.originalUrl.split('?', 2);
  const query = new URLSearchParams(search);
  query.set('cursor', cursor);
  return `${path}?${query.toString()}`;
}

/**
 * Streams the answer as CSV (RFC 4180: a header line, CRLF line ends, fields quoted
 * when they hold a comma, a quote or a line break). The cursor of a next page travels
 * in `X-Next-Cursor` and in a `Link: <…>; rel="next"` header.
 */
export async function sendCsv(req: Request, res: Response, plan: CsvPlan, body: unknown): Promise<void> {
  const nextCursor = (body as { nextCursor?: unknown }).nextCursor;
  if (typeof nextCursor === 'string') {
    res.set('X-Next-Cursor', nextCursor);
    res.set('Link', `<${nextPageReference(req, nextCursor)}>; rel="next"`);
  }
  res.status(200).attachment(`${plan.filename(body)}.csv`).type('text/csv; charset=utf-8');
  const records = plan.rows(body);
  function* lines() {
    yield plan.columns.map((column) => column.header);
    for (const record of records) yield plan.columns.map((column) => cell(valueAt(record, column.path)));
  }
  try {
    // A lone \n in a field must be quoted too, not only the \r\n that ends a line.
    await pipeline(Readable.from(lines()), stringify({ record_delimiter: 'windows', quoted_match: /[\r\n]/ }), res);
  } catch (err) {
    // A client that hangs up mid-download is no error of ours.
    if (req.socket.destroyed && (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    throw err;
  }
}
