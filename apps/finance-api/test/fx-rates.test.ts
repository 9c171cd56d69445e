import { useFinanceApi } from './harness';

describe('finance-api exchange rates', () => {
  const api = useFinanceApi();
  let admin: { accessToken: string };
  let member: { accessToken: string };
  let viewer: { accessToken: string };

  beforeAll(async () => {
    admin = await api.userWithToken('admin');
    member = await api.userWithToken('member');
    viewer = await api.userWithToken('viewer');
  });

  beforeEach(async () => {
    await api.db.deleteFrom('fx_rates').execute();
    await api.db.deleteFrom('settings').execute();
  });

  const put = (date: string, cur: string, body: unknown, token = admin.accessToken) => api.request('PUT', `/v1/fx-rates/${date}/${cur}`, { token, body });

  it('when an admin sets a rate, then it is stored as currency → reporting currency and answered with 200', async () => {
    const res = await put('2026-03-02', 'USD', { rate: '0.9215' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ date: '2026-03-02', currency: 'USD', baseCurrency: 'EUR', rate: '0.9215', source: 'manual' });
    const rows = await api.db.selectFrom('fx_rates').select(['date', 'base', 'quote', 'rate', 'source']).execute();
    expect(rows).toEqual([{ date: '2026-03-02', base: 'USD', quote: 'EUR', rate: '0.9215000000', source: 'manual' }]);
  });

  it('when the same day and currency are set again, then the one row is updated in place, never duplicated', async () => {
    await api.db.insertInto('fx_rates').values({ date: '2026-03-02', base: 'GBP', quote: 'EUR', rate: '1.1', source: 'demo' }).execute();
    const res = await put('2026-03-02', 'GBP', { rate: '1.1734567891' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ rate: '1.1734567891', source: 'manual' });
    const again = await put('2026-03-02', 'GBP', { rate: '1.17' });
    expect(again.body.rate).toBe('1.17');
    const rows = await api.db.selectFrom('fx_rates').select(['rate', 'source']).where('base', '=', 'GBP').execute();
    expect(rows).toEqual([{ rate: '1.1700000000', source: 'manual' }]);
  });

  it('when the reporting currency is changed, then rates are quoted in it and its own rate is refused', async () => {
    const euro = await put('2026-03-02', 'EUR', { rate: '1' });
    expect(euro.status).toBe(400);
    expect(Object.keys(euro.body.errors)).toEqual(['currency']);
    expect(euro.body.errors.currency[0]).toContain('reporting currency (EUR)');

    await put('2026-03-02', 'USD', { rate: '0.92' });
    const changed = await api.request('PUT', '/v1/settings/reporting_currency', { token: admin.accessToken, body: { value: 'USD' } });
    expect(changed.status).toBe(200);
    expect((await put('2026-03-02', 'USD', { rate: '1' })).status).toBe(400);
    const eur = await put('2026-03-02', 'EUR', { rate: '1.087' });
    expect(eur.body).toEqual({ date: '2026-03-02', currency: 'EUR', baseCurrency: 'USD', rate: '1.087', source: 'manual' });
    // Only the rates into the current reporting currency are listed.
    const list = await api.request('GET', '/v1/fx-rates', { token: viewer.accessToken });
    expect(list.body.data).toEqual([eur.body]);
  });

  it('when rates are listed, then newest day first, filtered by range and currency, page by page', async () => {
    const days = ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04'];
    for (const d of days) {
      await put(d, 'USD', { rate: '0.92' });
      await put(d, 'GBP', { rate: '1.17' });
    }
    const all = await api.request('GET', '/v1/fx-rates', { token: viewer.accessToken });
    expect(all.status).toBe(200);
    expect(all.body.data).toHaveLength(8);
    expect(all.body.data.map((r: { date: string }) => r.date)).toEqual([...days].reverse().flatMap((d) => [d, d]));
    expect(all.body.nextCursor).toBeNull();

    const usd = await api.request('GET', '/v1/fx-rates?currency=USD&from=2026-03-02&to=2026-03-03', { token: viewer.accessToken });
    expect(usd.body.data).toEqual([
      { date: '2026-03-03', currency: 'USD', baseCurrency: 'EUR', rate: '0.92', source: 'manual' },
      { date: '2026-03-02', currency: 'USD', baseCurrency: 'EUR', rate: '0.92', source: 'manual' },
    ]);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/v1/fx-rates?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api.request('GET', path, { token: member.accessToken });
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((r: { date: string; currency: string }) => `${r.date}/${r.currency}`));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(8);
    expect(seen.map((s) => s.slice(0, 10))).toEqual(all.body.data.map((r: { date: string }) => r.date));
  });

  it('when a rate is deleted, then it is gone, and deleting it again or a never-set rate is 404', async () => {
    await put('2026-03-02', 'USD', { rate: '0.92' });
    expect((await api.request('DELETE', '/v1/fx-rates/2026-03-02/USD', { token: admin.accessToken })).status).toBe(204);
    expect(await api.db.selectFrom('fx_rates').selectAll().execute()).toEqual([]);
    const again = await api.request('DELETE', '/v1/fx-rates/2026-03-02/USD', { token: admin.accessToken });
    expect(again.status).toBe(404);
    expect(again.body.detail).toBe('the exchange rate was not found.');
    expect((await api.request('DELETE', '/v1/fx-rates/2026-03-02/JPY', { token: admin.accessToken })).status).toBe(404);
  });

  it('when a member or viewer writes, then 403; without a token, 401; everyone signed in may read', async () => {
    expect((await put('2026-03-02', 'USD', { rate: '0.92' }, member.accessToken)).status).toBe(403);
    expect((await put('2026-03-02', 'USD', { rate: '0.92' }, viewer.accessToken)).status).toBe(403);
    await put('2026-03-02', 'USD', { rate: '0.92' });
    expect((await api.request('DELETE', '/v1/fx-rates/2026-03-02/USD', { token: member.accessToken })).status).toBe(403);
    expect((await api.request('DELETE', '/v1/fx-rates/2026-03-02/USD', { token: viewer.accessToken })).status).toBe(403);
    expect((await api.request('GET', '/v1/fx-rates')).status).toBe(401);
    expect((await api.request('GET', '/v1/fx-rates', { token: viewer.accessToken })).body.data).toHaveLength(1);
  });

  it('when the rate, date or currency is wrong, then 400 names the field and nothing is stored', async () => {
    const cases: [string, string, unknown, string[]][] = [
      ['2026-03-02', 'USD', { rate: '0' }, ['rate']],
      ['2026-03-02', 'USD', { rate: '0.0000000000' }, ['rate']],
      ['2026-03-02', 'USD', { rate: '-0.92' }, ['rate']],
      ['2026-03-02', 'USD', { rate: 0.92 }, ['rate']],
      ['2026-03-02', 'USD', { rate: '0.12345678901' }, ['rate']],
      ['2026-03-02', 'USD', { rate: '12345678901' }, ['rate']],
      ['2026-03-02', 'USD', { rate: '1e3' }, ['rate']],
      ['2026-03-02', 'USD', {}, ['rate']],
      ['2026-02-30', 'USD', { rate: '1' }, ['date']],
      ['26-03-02', 'USD', { rate: '1' }, ['date']],
      ['2026-03-02', 'usd', { rate: '1' }, ['currency']],
      ['2026-03-02', 'XYZ', { rate: '1' }, ['currency']],
      ['2026-13-40', 'XXXX', { rate: 'abc' }, ['currency', 'date']],
    ];
    for (const [date, cur, body, fields] of cases) {
      const res = await put(date, cur, body);
      expect([res.status, Object.keys(res.body.errors ?? {}).sort()]).toEqual([400, fields]);
    }
    for (const query of ['from=2026-03-05&to=2026-03-01', 'currency=EURO', 'from=yesterday', 'limit=-1', 'cursor=abc']) {
      const res = await api.request('GET', `/v1/fx-rates?${query}`, { token: viewer.accessToken });
      expect(res.status).toBe(400);
      expect(res.body.errors).toBeDefined();
    }
    expect(await api.db.selectFrom('fx_rates').selectAll().execute()).toEqual([]);
  });

  it('when the input is hostile or huge, then the answer is a 4xx, never a 5xx', async () => {
    const attempts: [string, unknown][] = [
      ['/v1/fx-rates/2026-03-02/USD', { rate: '1; DROP TABLE fx_rates' }],
      ['/v1/fx-rates/2026-03-02/USD', { rate: '9'.repeat(100_000) }],
      ['/v1/fx-rates/2026-03-02/USD', { rate: { $gt: 0 } }],
      ['/v1/fx-rates/2026-03-02/USD', ['0.92']],
      ['/v1/fx-rates/2026-03-02/USD', null],
      [`/v1/fx-rates/2026-03-02/${encodeURIComponent("USD'; DROP TABLE fx_rates; --")}`, { rate: '1' }],
      [`/v1/fx-rates/${encodeURIComponent('1; DROP TABLE x')}/USD`, { rate: '1' }],
      [`/v1/fx-rates/${'9'.repeat(4000)}/USD`, { rate: '1' }],
    ];
    for (const [path, body] of attempts) {
      const res = await api.request('PUT', path, { token: admin.accessToken, body });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    const raw = await api.request('PUT', '/v1/fx-rates/2026-03-02/USD', { token: admin.accessToken, raw: 'rate=1', contentType: 'application/x-www-form-urlencoded' });
    expect(raw.status).toBe(415);
    const sqlQuery = await api.request('GET', `/v1/fx-rates?currency=${encodeURIComponent("EUR' OR '1'='1")}`, { token: viewer.accessToken });
    expect(sqlQuery.status).toBe(400);
    expect(await api.db.selectFrom('fx_rates').selectAll().execute()).toEqual([]);
  });
});
