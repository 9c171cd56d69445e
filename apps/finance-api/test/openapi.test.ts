import { compileErrors, validate } from '@readme/openapi-parser';
import Ajv2020 from 'ajv/dist/2020';
import type { ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse as parseCsv } from 'csv-parse/sync';
import express from 'express';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { createLogger, createMetricsRegistry } from '@dealdome/config';
import { createUser, storeOutput } from '@dealdome/domain';
import { Producer } from '@dealdome/queues';
import type { Platform } from '@dealdome/queues';
import { createApp } from '../src/app';
import { Api } from '../src/http/api';
import { assertEveryRouteDocumented, openApiPath, routesOf } from '../src/http/openapi';
import { useFinanceApi } from './harness';
import type { ApiResponse } from './harness';

type Schema = Record<string, unknown>;
interface OperationDoc {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}
interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, OperationDoc>>;
  components: { schemas: Record<string, Schema> };
}

describe('finance-api OpenAPI document, docs page and CSV answers', () => {
  const api = useFinanceApi();
  let doc: OpenApi;
  let admin: Awaited<ReturnType<typeof api.userWithToken>>;
  /** "operationId status" of every answer checked against the document. */
  const checked = new Set<string>();

  const ajv = new Ajv2020({ allErrors: true });
  addFormats(ajv);
  ajv.addVocabulary(['example']);
  const validators = new Map<Schema, ValidateFunction>();

  /** The schema with every `#/components/schemas/…` reference replaced by the component. */
  function inline(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(inline);
    if (typeof value !== 'object' || value === null) return value;
    const { $ref, ...rest } = value as Schema;
    const entries = Object.fromEntries(Object.entries(rest).map(([key, inner]) => [key, inline(inner)]));
    if (typeof $ref !== 'string') return entries;
    const component = doc.components.schemas[$ref.replace('#/components/schemas/', '')];
    if (!component) throw new Error(`dangling reference ${$ref}`);
    return { ...(inline(component) as Schema), ...entries };
  }

  /** The documented operation a concrete request path falls under; literal segments win over parameters. */
  function operationOf(method: string, url: string): OperationDoc {
    const path = url.split('?')[0]!;
    const candidates = Object.entries(doc.paths)
      .filter(([template]) => new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`).test(path))
      .sort(([a], [b]) => (a.match(/\{/g) ?? []).length - (b.match(/\{/g) ?? []).length);
    const operation = candidates.map(([, ops]) => ops[method.toLowerCase()]).find(Boolean);
    if (!operation) throw new Error(`no documented operation for ${method} ${path}`);
    return operation;
  }

  /**
   * A request over HTTP whose answer must be one the document declares: the status is
   * listed for the operation, the media type is the declared one, and the body
   * validates against the declared schema.
   */
  async function call(method: string, url: string, options: Parameters<typeof api.request>[2] = {}): Promise<ApiResponse> {
    const res = await api.request(method, url, options);
    const operation = operationOf(method, url);
    const declared = operation.responses[String(res.status)];
    if (!declared) throw new Error(`${method} ${url} answered ${res.status}, which ${operation.operationId} does not declare: ${JSON.stringify(res.body)}`);
    checked.add(`${operation.operationId} ${res.status}`);
    if (!declared.content) {
      expect(res.body).toBeUndefined();
      return res;
    }
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!;
    const media = declared.content[mediaType];
    if (!media) throw new Error(`${method} ${url} answered ${res.status} as ${mediaType}; declared: ${Object.keys(declared.content).join(', ')}`);
    let check = validators.get(media.schema);
    if (!check) {
      check = ajv.compile(inline(media.schema) as Schema);
      validators.set(media.schema, check);
    }
    if (!check(res.body)) {
      throw new Error(`${method} ${url} → ${res.status} does not match ${operation.operationId}'s schema: ${ajv.errorsText(check.errors)}\n${JSON.stringify(res.body)}`);
    }
    return res;
  }

  beforeAll(async () => {
    const res = await api.request('GET', '/v1/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body as OpenApi;
    admin = await api.userWithToken('admin');
  });

  describe('the document', () => {
    it('when it is fetched without credentials, then it is a valid OpenAPI 3.1 document', async () => {
      expect(doc.openapi).toBe('3.1.0');
      // The validator dereferences in place: give it a copy.
      const result = await validate(structuredClone(doc) as never);
      if (!result.valid) throw new Error(compileErrors(result));
      expect(result.warnings).toEqual([]);
    });

    it('when express is asked what it serves, then every route is in the document and nothing else is', async () => {
      // Only what building the routes needs (the queue board takes its queues from the producer): this app serves nothing, its router is read.
      const producer = new Producer(api.redis.redis, api.redis.prefix);
      const platform = {
        database: { db: api.db },
        reads: api.db,
        redis: api.redis.redis,
        producer,
        logger: createLogger('finance-api', { level: 'silent' }),
        registry: createMetricsRegistry('finance-api'),
      } as unknown as Platform;
      const app = createApp(platform, api.env);
      await producer.close();
      const served = routesOf(app)
        .filter((route) => !route.path.startsWith('/docs'))
        .map((route) => `${route.method.toUpperCase()} ${openApiPath(route.path)}`)
        .sort();
      const documented = Object.entries(doc.paths)
        .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
        .sort();
      expect(served.length).toBeGreaterThan(40);
      expect(documented).toEqual(served);
    });

    it('when a route is served that was not declared, then the app refuses to start', () => {
      const pass: RequestHandler = (_req, _res, next) => next();
      const declared = new Api({ read: pass, write: pass, knowledge: pass, knowledgeWrite: pass, admin: pass }, { title: 'test', version: '0', description: '' });
      declared.route({
        operationId: 'getThing',
        method: 'get',
        path: '/v1/things/:id',
        summary: 'A thing',
        tag: 'Stores',
        guard: 'read',
        params: z.object({ id: z.uuid() }),
        status: 200,
        response: storeOutput,
        handle: () => Promise.reject(new Error('not called')),
      });
      const app = express();
      app.use(declared.router);
      expect(() => assertEveryRouteDocumented(app, declared.operations)).not.toThrow();
      app.post('/v1/things', (_req, res) => {
        res.end();
      });
      expect(() => assertEveryRouteDocumented(app, declared.operations)).toThrow('POST /v1/things');
    });

    it('when real requests are made, then every answer matches what the document declares for its operation and status', async () => {
      const token = admin.accessToken;
      const viewer = await api.userWithToken('viewer');

      // Authentication
      const member = await createUser(api.db, { email: 'contract-member@dealdome.test', role: 'member' });
      const pair = (await call('POST', '/v1/auth/login', { body: { email: 'contract-member@dealdome.test', password: member.password } })).body;
      await call('POST', '/v1/auth/login', { body: { email: 'contract-member@dealdome.test', password: 'wrong' } });
      await call('POST', '/v1/auth/login', { body: { email: 'not-an-email' } });
      const rotated = (await call('POST', '/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } })).body;
      await call('POST', '/v1/auth/refresh', { body: { refreshToken: 'never-issued' } });
      await call('GET', '/v1/me', { token: rotated.accessToken });
      await call('GET', '/v1/me');
      await call('POST', '/v1/auth/logout', { body: { refreshToken: rotated.refreshToken } });

      // API tokens
      const machine = (await call('POST', '/v1/api-tokens', { token, body: { name: 'Dashboard, "prod"', scopes: ['finance:read'] } })).body;
      await call('GET', '/v1/me', { token: machine.token });
      await call('POST', '/v1/api-tokens', { token: machine.token, body: { name: 'x', scopes: ['admin'] } });
      await call('GET', '/v1/api-tokens', { token });
      await call('DELETE', `/v1/api-tokens/${machine.id}`, { token });
      await call('DELETE', '/v1/api-tokens/00000000-0000-4000-8000-000000000000', { token });

      // Stores
      const store = (await call('POST', '/v1/stores', { token, body: { name: 'Contract EUR', shopDomain: 'contract-eur.myshopify.com', currency: 'EUR', timezone: 'Europe/Amsterdam' } })).body;
      await call('POST', '/v1/stores', { token, body: { name: 'Clash', shopDomain: 'contract-eur.myshopify.com', currency: 'EUR', timezone: 'UTC' } });
      await call('POST', '/v1/stores', { token, body: { name: '', currency: 'EURO', timezone: 'Mars/Base' } });
      await call('POST', '/v1/stores', { token: viewer.accessToken, body: { name: 'X', currency: 'EUR', timezone: 'UTC' } });
      await call('POST', '/v1/stores', { token, raw: 'name=x', contentType: 'application/x-www-form-urlencoded' });
      await call('GET', '/v1/stores?limit=1', { token });
      await call('GET', `/v1/stores/${store.id}`, { token });
      await call('GET', '/v1/stores/00000000-0000-4000-8000-000000000000', { token });
      await call('PATCH', `/v1/stores/${store.id}`, { token, body: { timezone: 'UTC' } });
      const spare = (await call('POST', '/v1/stores', { token, body: { name: 'Contract spare', currency: 'USD', timezone: 'UTC' } })).body;
      await call('DELETE', `/v1/stores/${spare.id}`, { token });

      // Products
      const product = (await call('POST', '/v1/products', { token, body: { storeId: store.id, sku: 'MUG-1', name: 'Mug', costPrice: '3.5', currency: 'EUR' } })).body;
      await call('POST', '/v1/products', { token, body: { storeId: store.id, sku: 'MUG-2', name: 'Mug', costPrice: '3.50', currency: 'USD' } });
      await call('GET', `/v1/products?storeId=${store.id}`, { token });
      await call('GET', `/v1/products/${product.id}`, { token });
      await call('GET', `/v1/products/search?q=MUG-1&storeId=${store.id}`, { token });
      await call('PATCH', `/v1/products/${product.id}`, { token, body: { status: 'winning' } });
      await call('POST', `/v1/products/${product.id}/costs`, { token, body: { costPrice: '3.7512', effectiveFrom: '2026-11-02' } });
      await call('GET', `/v1/products/${product.id}/costs`, { token });
      await call('PUT', `/v1/products/${product.id}/performance/2026-11-02`, { token, body: { units: 4, revenue: '60.00' } });
      const extra = (await call('POST', '/v1/products', { token, body: { storeId: store.id, sku: 'TMP-1', name: 'Temporary', costPrice: '1.00', currency: 'EUR' } })).body;
      await call('DELETE', `/v1/products/${extra.id}`, { token });

      // Fixed costs
      const rent = (await call('POST', '/v1/fixed-costs', { token, body: { storeId: store.id, name: 'Rent', category: 'office', amount: '300.00', currency: 'EUR', startMonth: '2026-11' } })).body;
      await call('GET', `/v1/fixed-costs?storeId=${store.id}`, { token });
      await call('GET', `/v1/fixed-costs/${rent.id}`, { token });
      await call('PATCH', `/v1/fixed-costs/${rent.id}`, { token, body: { endMonth: '2026-12' } });
      const oneOff = (await call('POST', '/v1/fixed-costs', { token, body: { name: 'Shared tool', category: 'software', amount: '10', currency: 'EUR', startMonth: '2026-01' } })).body;
      await call('DELETE', `/v1/fixed-costs/${oneOff.id}`, { token });

      // Ad spend
      const spend = (await call('POST', '/v1/ad-spend', { token, body: { storeId: store.id, date: '2026-11-02', platform: 'meta', amount: '12.5', currency: 'EUR', productId: product.id } })).body;
      await call('POST', '/v1/ad-spend', { token, body: { storeId: store.id, date: '2026-11-02', platform: 'meta', amount: '12.50', currency: 'USD' } });
      await call('GET', `/v1/ad-spend?storeId=${store.id}`, { token });
      await call('GET', `/v1/ad-spend/${spend.id}`, { token });
      await call('PATCH', `/v1/ad-spend/${spend.id}`, { token, body: { campaign: 'Black Friday' } });
      const csv = 'date,platform,amount,currency\n2026-11-03,google,7.25,EUR\n2026-11-03,tiktok,2.00,EUR\n';
      await call('POST', `/v1/ad-spend/import?storeId=${store.id}`, { token, raw: csv, contentType: 'text/csv' });
      await call('POST', `/v1/ad-spend/import?storeId=${store.id}`, { token, raw: 'date,platform,amount,currency\n2026-13-01,myspace,-1,EUR\n', contentType: 'text/csv' });
      await call('POST', `/v1/ad-spend/import?storeId=${store.id}`, { token, raw: csv, contentType: 'text/plain' });
      const stray = (await call('POST', '/v1/ad-spend', { token, body: { storeId: store.id, date: '2026-11-04', platform: 'other', amount: '1', currency: 'EUR' } })).body;
      await call('DELETE', `/v1/ad-spend/${stray.id}`, { token });

      // Daily financials, product performance
      const day = { revenue: '100.00', discounts: '5.00', refunds: '0', cogs: '30.00', shippingCosts: '4.00', transactionFees: '2.10', orders: 3, units: 4 };
      expect((await call('PUT', `/v1/stores/${store.id}/daily-financials/2026-11-02`, { token, body: day })).status).toBe(201);
      expect((await call('PUT', `/v1/stores/${store.id}/daily-financials/2026-11-02`, { token, body: { ...day, orders: 4 } })).status).toBe(200);
      await call('GET', `/v1/stores/${store.id}/daily-financials?from=2026-11-01&to=2026-11-30`, { token });
      await call('GET', `/v1/product-performance?from=2026-11-01&to=2026-11-30&storeId=${store.id}`, { token });

      // Exchange rates, settings
      await call('PUT', '/v1/fx-rates/2026-11-02/USD', { token, body: { rate: '0.9215' } });
      await call('PUT', '/v1/fx-rates/2026-11-03/USD', { token, body: { rate: '0.92' } });
      await call('GET', '/v1/fx-rates?currency=USD', { token });
      await call('DELETE', '/v1/fx-rates/2026-11-03/USD', { token });
      await call('PUT', '/v1/settings/dashboard.theme', { token, body: { value: { dark: true, accent: '#ff0' } } });
      await call('PUT', '/v1/settings/shopify.api_key', { token, body: { value: 'shpat_secret', secret: true } });
      await call('GET', '/v1/settings', { token });
      await call('GET', '/v1/settings/dashboard.theme', { token });
      await call('DELETE', '/v1/settings/dashboard.theme', { token });

      // The P&L
      const pnl = await call('GET', `/v1/reports/pnl?from=2026-11-01&to=2026-11-07&storeId=${store.id}&groupBy=day`, { token });
      expect(pnl.body.rows).toHaveLength(7);
      await call('GET', '/v1/reports/pnl?from=2026-11-01&to=2026-11-07&groupBy=week', { token });
      await call('GET', '/v1/reports/pnl?from=2026-11-01&to=2026-11-07&currency=GBP', { token });
      await call('GET', '/v1/reports/pnl?from=2026-11-01&to=2026-11-07&storeId=00000000-0000-4000-8000-000000000000', { token });

      // The other reports and snapshots
      const ranking = await call('GET', `/v1/reports/products?from=2026-11-01&to=2026-11-07&storeId=${store.id}&sortBy=roas`, { token });
      expect(ranking.body.rows[0].productId).toBe(product.id);
      await call('GET', '/v1/reports/products?from=2026-11-01&to=2026-11-07&currency=GBP', { token });
      for (const groupBy of ['platform', 'day', 'store']) await call('GET', `/v1/reports/ad-spend?from=2026-11-01&to=2026-11-07&groupBy=${groupBy}`, { token });
      await call('GET', '/v1/reports/ad-spend?from=2026-11-07&to=2026-11-01', { token });
      const snapshot = (await call('POST', '/v1/reports/snapshots', { token, body: { period: '2026-11', storeId: store.id } })).body;
      await call('POST', '/v1/reports/snapshots', { token, body: { period: '2026-13' } });
      await call('POST', '/v1/reports/snapshots', { token: viewer.accessToken, body: { period: '2026-11' } });
      await call('GET', `/v1/reports/snapshots?storeId=${store.id}`, { token });
      await call('GET', `/v1/reports/snapshots/${snapshot.id}`, { token });
      await call('GET', '/v1/reports/snapshots/00000000-0000-4000-8000-000000000000', { token });
      // Knowledge search (a passage not embedded yet: the text side finds it)
      const video = await api.db
        .insertInto('videos')
        .values({ title: 'Refunds', url: 'https://youtu.be/refunds', transcript_format: 'srt', transcript: '(chunks)', status: 'ready' })
        .returning('id')
        .executeTakeFirstOrThrow();
      await api.db.insertInto('chunks').values({ video_id: video.id, chunk_index: 0, content: 'Refund damaged items within two days.', token_count: 9, start_seconds: '61.5', end_seconds: '70' }).execute();
      const search = await call('GET', '/v1/knowledge/search?q=refund&limit=5', { token: viewer.accessToken });
      expect(search.body.hits[0]).toMatchObject({ link: 'https://youtu.be/refunds?t=61', start: '1:01', vectorRank: null, textRank: 1 });
      await call('GET', '/v1/knowledge/search?q=', { token });
      await call('GET', '/v1/knowledge/search?q=refund');

      // Videos: a transcript posted for ingestion, an unreadable one, and following it
      const posted = await call('POST', '/v1/videos', { token, body: { title: 'Contract video', url: 'https://youtu.be/contract', transcript: '1\n00:00:01,000 --> 00:00:02,500\nHello\n' } });
      expect(posted.status).toBe(202);
      await call('POST', '/v1/videos', { token, body: { title: 'Broken', format: 'srt', transcript: '1\n00:00:01,000 --> soon\nHello\n' } });
      await call('GET', '/v1/videos?limit=1', { token: viewer.accessToken });
      await call('GET', `/v1/videos/${posted.body.id}`, { token: viewer.accessToken });

      // Memories (admin)
      const memory = await api.db.insertInto('memories').values({ scope: 'team', user_id: null, kind: 'fact', content: 'Contract memory' }).returning('id').executeTakeFirstOrThrow();
      await call('GET', '/v1/memories?includeSuperseded=true&q=contract', { token });
      await call('GET', '/v1/memories', { token: viewer.accessToken });
      await call('DELETE', `/v1/memories/${memory.id}`, { token });
      await call('DELETE', `/v1/memories/${memory.id}`, { token });

      // Scheduled tasks
      const task = (await call('POST', '/v1/scheduled-tasks', { token, body: { kind: 'reminder', chatId: '-100200300', cronExpression: '30 8 * * 1', timezone: 'Europe/Amsterdam', payload: { text: 'Stand-up' } } })).body;
      await call('POST', '/v1/scheduled-tasks', { token, body: { kind: 'agent_check', chatId: '-100200300', agent: 'roos', cronExpression: '0 9 * * *', timezone: 'Mars/Base', payload: { prompt: 'ROAS?' } } });
      await call('GET', '/v1/scheduled-tasks?kind=reminder&enabled=true', { token: viewer.accessToken });
      await call('GET', `/v1/scheduled-tasks/${task.id}`, { token });
      await call('PATCH', `/v1/scheduled-tasks/${task.id}`, { token, body: { enabled: false, cronExpression: '0 9 * * 1-5' } });
      await call('DELETE', `/v1/scheduled-tasks/${task.id}`, { token });
      await call('GET', '/v1/notifications?status=failed', { token: viewer.accessToken });
      await call('POST', '/v1/notifications/00000000-0000-4000-8000-000000000000/retry', { token });

      // Shopify webhooks: unsigned (this test app has no SHOPIFY_WEBHOOK_SECRET), so refused.
      await call('POST', '/v1/webhooks/shopify', { body: { id: 1 } });

      await call('GET', '/v1/openapi.json');

      const answered = new Set([...checked].map((entry) => entry.split(' ')[0]));
      const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
      expect(operations.filter((id) => !answered.has(id))).toEqual([]);
      for (const status of ['400', '401', '403', '404', '409', '415', '422']) expect([...checked].some((entry) => entry.endsWith(` ${status}`))).toBe(true);
    });
  });

  describe('the docs page', () => {
    it('when /docs is opened, then it is HTML whose scripts, styles and document all come from this server', async () => {
      const page = await api.request('GET', '/docs');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = page.body as string;
      expect(html).not.toMatch(/https?:|\/\/[^/]/i);

      const policy = page.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).not.toMatch(/https?:|\*|unsafe-inline|unsafe-eval/);

      const references = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(references.length).toBeGreaterThanOrEqual(3);
      for (const reference of references) {
        expect(reference).toMatch(/^\/[^/]/);
        const res = await fetch(`${api.url}${reference}`);
        expect(res.status).toBe(200);
        const text = await res.text();
        if (reference.endsWith('start.js')) {
          expect(text).toContain("url: '/v1/openapi.json'");
          expect(text).toContain('validatorUrl: null');
          expect(text).not.toMatch(/https?:/);
        }
      }
      expect((await api.request('GET', '/docs/assets/swagger-ui-bundle.js')).headers.get('content-type')).toMatch(/javascript/);
      // The package's demo page, which loads a remote example, is not served.
      expect((await api.request('GET', '/docs/assets/index.html')).status).toBe(404);
    });
  });

  describe('?format=csv', () => {
    let store: string;
    beforeAll(async () => {
      const token = admin.accessToken;
      store = (await api.request('POST', '/v1/stores', { token, body: { name: 'CSV store', currency: 'EUR', timezone: 'Europe/Amsterdam' } })).body.id;
      for (const [sku, name] of [
        ['MUG-L', 'Mug, "large"'],
        ['PLATE', 'Plate\nwith a line break'],
        ['VASE', 'Vase'],
      ]) {
        const res = await api.request('POST', '/v1/products', { token, body: { storeId: store, sku, name, description: null, costPrice: '2.5', currency: 'EUR' } });
        expect(res.status).toBe(201);
      }
      const day = { discounts: '0', refunds: '1.00', cogs: '10.00', shippingCosts: '2.00', transactionFees: '0.50', orders: 2, units: 2 };
      await api.request('PUT', `/v1/stores/${store}/daily-financials/2026-10-01`, { token, body: { ...day, revenue: '50.00' } });
      await api.request('PUT', `/v1/stores/${store}/daily-financials/2026-10-02`, { token, body: { ...day, revenue: '80.00' } });
      await api.request('POST', '/v1/ad-spend', { token, body: { storeId: store, date: '2026-10-01', platform: 'meta', amount: '10.00', currency: 'EUR' } });
      await api.request('POST', '/v1/ad-spend', { token, body: { storeId: store, date: '2026-10-02', platform: 'google', amount: '7.50', currency: 'EUR' } });
      await api.request('POST', '/v1/fixed-costs', { token, body: { storeId: store, name: 'Rent', category: 'office', amount: '310.00', currency: 'EUR', startMonth: '2026-10' } });
    });

    /** A JSON value as its CSV cell should read: strings as they are, null empty, numbers as JSON writes them. */
    const cell = (value: unknown) => (value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value));
    const cells = (item: Record<string, unknown>, header: string[]) => header.map((h) => cell(item[h]));

    it('when a list is asked for as CSV, then it has a header line, the JSON values, quoted names and the next cursor', async () => {
      const token = admin.accessToken;
      const query = `/v1/products?storeId=${store}&limit=2`;
      const json = await call('GET', query, { token });
      const res = await api.request('GET', `${query}&format=csv`, { token });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="?products\.csv"?$/);

      const text = res.body as string;
      expect(text).toContain('"Mug, ""large"""');
      expect(text).toContain('"Plate\nwith a line break"');
      const [header, ...rows] = parseCsv(text);
      expect(header).toEqual(['id', 'storeId', 'sku', 'name', 'description', 'costPrice', 'currency', 'status', 'createdAt', 'updatedAt']);
      expect(rows).toEqual(json.body.data.map((item: Record<string, unknown>) => cells(item, header!)));
      expect(rows.map((row) => row[3])).toEqual(['Mug, "large"', 'Plate\nwith a line break']);

      expect(res.headers.get('x-next-cursor')).toBe(json.body.nextCursor);
      const next = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '')?.[1];
      expect(next).toBeDefined();
      const second = await api.request('GET', next!, { token });
      expect(second.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(second.headers.get('x-next-cursor')).toBeNull();
      expect(parseCsv(second.body as string).slice(1).map((row) => row[3])).toEqual(['Vase']);
    });

    it('when a text would run as a spreadsheet formula, then its cell starts with an apostrophe; amounts keep their sign', async () => {
      const token = admin.accessToken;
      const other = (await api.request('POST', '/v1/stores', { token, body: { name: 'Formula store', currency: 'EUR', timezone: 'Europe/Amsterdam' } })).body.id as string;
      const body = { storeId: other, sku: 'ZZ-1', name: '=HYPERLINK("http://example.invalid","click")', description: null, costPrice: '2.5', currency: 'EUR' };
      expect((await api.request('POST', '/v1/products', { token, body })).status).toBe(201);
      const res = await api.request('GET', `/v1/products?storeId=${other}&format=csv`, { token });
      const [header, ...rows] = parseCsv(res.body as string);
      const name = header!.indexOf('name');
      expect(rows.map((row) => row[name])).toContain(`'=HYPERLINK("http://example.invalid","click")`);
      const pnl = await api.request('GET', `/v1/reports/pnl?from=2026-10-01&to=2026-10-03&storeId=${store}&format=csv`, { token });
      const [pnlHeader, ...periods] = parseCsv(pnl.body as string);
      const netProfit = pnlHeader!.indexOf('netProfit');
      expect(periods.some((row) => /^-\d+\.\d+$/.test(row[netProfit]!))).toBe(true);
    });

    it('when the P&L is asked for as CSV, then each period is a line, totals close it and ad spend spreads over one column per platform', async () => {
      const token = admin.accessToken;
      const query = `/v1/reports/pnl?from=2026-10-01&to=2026-10-03&storeId=${store}`;
      const json = (await call('GET', query, { token })).body;
      const res = await api.request('GET', `${query}&format=csv`, { token });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="?pnl-2026-10-01-2026-10-03\.csv"?$/);

      const [header, ...rows] = parseCsv(res.body as string);
      const platforms = ['meta', 'tiktok', 'google', 'snapchat', 'pinterest', 'other'];
      expect(header).toEqual([
        'period',
        'revenue',
        'discounts',
        'refunds',
        'netRevenue',
        'cogs',
        'shippingCosts',
        'transactionFees',
        'grossProfit',
        'adSpend',
        ...platforms.map((p) => `adSpend.${p}`),
        'fixedCosts',
        'netProfit',
        'marginPct',
        'roas',
        'poas',
        'breakEvenRoas',
        'orders',
      ]);
      const line = (figures: Record<string, unknown>) =>
        header!.map((h) => {
          return cell(h.startsWith('adSpend.') ? (figures.adSpendByPlatform as Record<string, string>)[h.slice('adSpend.'.length)] : figures[h]);
        });
      expect(rows).toEqual([...json.rows.map(line), line({ period: 'total', ...json.totals })]);
      expect(rows.map((row) => row[0])).toEqual(['2026-10-01', '2026-10-02', '2026-10-03', 'total']);
      expect(rows.at(-1)![header!.indexOf('adSpend.meta')]).toBe('10.00');
      expect(rows.at(-1)![header!.indexOf('adSpend.google')]).toBe('7.50');
    });

    it('when a format is unknown, or CSV is asked of an operation that is no list or report, then the answer is 400', async () => {
      const token = admin.accessToken;
      const unknown = await call('GET', `/v1/products?storeId=${store}&format=xml`, { token });
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors).toHaveProperty('format');
      const single = await call('GET', `/v1/stores/${store}?format=csv`, { token });
      expect(single.status).toBe(400);
      expect(single.body.errors).toHaveProperty('format');
      expect((await call('POST', '/v1/stores?format=csv', { token, body: { name: 'No CSV', currency: 'EUR', timezone: 'UTC' } })).status).toBe(400);
      expect((await call('GET', `/v1/stores/${store}?format=json`, { token })).status).toBe(200);
    });
  });
});
