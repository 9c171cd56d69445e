import { useFinanceApi } from './harness';

/**
 * The bad-input sweep: every operation the OpenAPI document lists is called with
 * malformed path parameters, query parameters and bodies (wrong types, negative
 * money, unknown currencies, huge and SQL-looking strings, broken JSON). Whatever
 * the input, the answer is a 4xx problem — never a 5xx — and the API keeps working.
 * The document drives the sweep, so a new route is swept as soon as it is declared.
 */

type Schema = { $ref?: string; type?: string | string[]; properties?: Record<string, Schema>; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[] };
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const SQL = "'; DROP TABLE stores; --";
const HUGE = 'x'.repeat(100_000);
/** Values of every wrong shape a field can receive. */
const garbage: unknown[] = [
  null,
  true,
  -1,
  1.5,
  2 ** 64,
  '',
  'abc',
  '-1.00',
  '1e400',
  'NaN',
  '12.34567',
  'XXX',
  SQL,
  HUGE,
  '\u0000',
  '2026-02-30',
  [],
  ['a', 1],
  {},
  { nested: { deeper: [1, 2, 3] } },
];
const badParams = ['not-an-id', '00000000-0000-0000-0000-000000000000', SQL, 'x'.repeat(5_000), '%E0%A4%A', '..%2F..%2Fetc', '2026-13-45', 'ZZZ', '-1'];
const badQueryValues = ['abc', '-1', '0', '99999999999999999999', SQL, 'x'.repeat(5_000), '2026-02-30', 'XXX', '%00'];
const rawBodies = ['{"a":', '[]', 'null', '42', '"text"', '{"__proto__":{"admin":true}}', '{"a":' + '['.repeat(5_000) + ']'.repeat(5_000) + '}'];

describe('finance-api bad-input sweep', () => {
  const api = useFinanceApi();
  let token: string;
  let doc: OpenApi;
  const ids: Record<string, string> = {};
  const seen: { status: number; request: string }[] = [];

  beforeAll(async () => {
    token = (await api.userWithToken('admin')).accessToken;
    const res = await api.request('GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body as OpenApi;

    // Real records, so requests get past "not found" to the validation behind it.
    const eur = await api.request('POST', '/v1/stores', { token, body: { name: 'Sweep EUR', currency: 'EUR', timezone: 'Europe/Amsterdam' } });
    ids.stores = eur.body.id;
    const product = await api.request('POST', '/v1/products', {
      token,
      body: { storeId: ids.stores, sku: 'SWEEP-1', name: 'Sweep product', costPrice: '3.50', currency: 'EUR', status: 'testing' },
    });
    ids.products = product.body.id;
    const fixed = await api.request('POST', '/v1/fixed-costs', { token, body: { name: 'Rent', category: 'office', amount: '100.00', currency: 'EUR', startMonth: '2026-01' } });
    ids['fixed-costs'] = fixed.body.id;
    const spend = await api.request('POST', '/v1/ad-spend', { token, body: { storeId: ids.stores, date: '2026-11-01', platform: 'meta', amount: '10.00', currency: 'EUR' } });
    ids['ad-spend'] = spend.body.id;
    const apiToken = await api.request('POST', '/v1/api-tokens', { token, body: { name: 'sweep', scopes: ['finance:read'] } });
    ids['api-tokens'] = apiToken.body.id;
    for (const [key, id] of Object.entries(ids)) if (typeof id !== 'string') throw new Error(`fixture ${key} was not created`);
  });

  /** A path with its parameters filled: real ids where the resource exists, else a given value. */
  function concrete(path: string, override?: string): string {
    const resource = /^\/v1\/([a-z-]+)\//.exec(path)?.[1] ?? '';
    return path.replace(/\{(\w+)\}/g, (_m, name: string) => {
      if (override !== undefined) return encodeURIComponent(override);
      if (name === 'date') return '2026-11-01';
      if (name === 'currency') return 'USD';
      if (name === 'key') return 'reporting_currency';
      return ids[resource] ?? '00000000-0000-4000-8000-000000000000';
    });
  }

  function resolve(schema: Schema | undefined): Schema | undefined {
    if (!schema?.$ref) return schema;
    return doc.components?.schemas?.[schema.$ref.split('/').pop()!];
  }

  /** Field names a JSON body may carry, from the declared schema (unions and intersections included). */
  function bodyFields(op: Operation): string[] {
    const names = new Set<string>();
    const visit = (s: Schema | undefined, depth: number) => {
      const r = resolve(s);
      if (!r || depth > 4) return;
      for (const name of Object.keys(r.properties ?? {})) names.add(name);
      for (const sub of [...(r.anyOf ?? []), ...(r.oneOf ?? []), ...(r.allOf ?? [])]) visit(sub, depth + 1);
    };
    visit(op.requestBody?.content?.['application/json']?.schema, 0);
    return [...names];
  }

  async function send(method: string, path: string, options: { body?: unknown; raw?: string; contentType?: string } = {}) {
    const res = await api.request(method.toUpperCase(), path, { token, ...options });
    seen.push({ status: res.status, request: `${method.toUpperCase()} ${path.slice(0, 120)} ${options.raw?.slice(0, 60) ?? JSON.stringify(options.body)?.slice(0, 120) ?? ''}` });
    if (res.status >= 400) expect(res.headers.get('content-type') ?? '').toContain('application/problem+json');
    return res;
  }

  function operations(filter: (method: string) => boolean): [string, string, Operation][] {
    return Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method) && filter(method))
        .map(([method, op]): [string, string, Operation] => [path, method, op]),
    );
  }

  async function sweep(path: string, method: string, op: Operation): Promise<void> {
    const params = op.parameters ?? [];
    if (params.some((p) => p.in === 'path')) {
      for (const value of badParams) await send(method, concrete(path, value));
    }
    for (const q of params.filter((p) => p.in === 'query')) {
      for (const value of badQueryValues) await send(method, `${concrete(path)}?${q.name}=${encodeURIComponent(value)}`);
      await send(method, `${concrete(path)}?${q.name}=a&${q.name}=b`);
      await send(method, `${concrete(path)}?${q.name}=%00`);
    }
    await send(method, `${concrete(path)}?limit=100000&cursor=${encodeURIComponent(SQL)}&format=xml`);
    if (method === 'get' || method === 'delete') return;
    for (const raw of rawBodies) await send(method, concrete(path), { raw });
    await send(method, concrete(path), { raw: 'a,b\n1,2\n', contentType: 'text/plain' });
    await send(method, concrete(path), { body: { pad: 'x'.repeat(2_000_000) } });
    for (const field of bodyFields(op)) {
      for (const value of garbage) await send(method, concrete(path), { body: { [field]: value } });
    }
  }

  it('when every operation but deletion gets malformed input, then each answers a 4xx problem and none a 5xx', async () => {
    const ops = operations((m) => m !== 'delete');
    expect(ops.length).toBeGreaterThan(20);
    for (const [path, method, op] of ops) await sweep(path, method, op);
    const failures = seen.filter((s) => s.status >= 500);
    expect(failures).toEqual([]);
    expect(seen.length).toBeGreaterThan(1000);
    // About 1,500 requests one after another: seconds on a quiet machine, more on a busy one.
  }, 180_000);

  it('when deletions get malformed ids, then none answers a 5xx', async () => {
    for (const [path, method, op] of operations((m) => m === 'delete')) await sweep(path, method, op);
    expect(seen.filter((s) => s.status >= 500)).toEqual([]);
  });

  it('when the sweep is over, then the API still answers and the fixtures are intact', async () => {
    const store = await api.request('GET', `/v1/stores/${ids.stores}`, { token });
    expect(store.status).toBe(200);
    const tables = await api.db.selectFrom('stores').select(({ fn }) => fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(Number(tables.n)).toBeGreaterThan(0);
    expect((await api.request('GET', '/v1/reports/pnl?from=2026-11-01&to=2026-11-30', { token })).status).toBe(200);
  });
});
