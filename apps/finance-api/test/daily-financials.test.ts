import { useFinanceApi } from './harness';

describe('finance-api daily financials', () => {
  const api = useFinanceApi();
  let eurStore: string;
  let usdStore: string;
  let admin: Awaited<ReturnType<typeof api.userWithToken>>;
  let member: Awaited<ReturnType<typeof api.userWithToken>>;
  let viewer: Awaited<ReturnType<typeof api.userWithToken>>;

  const day = {
    revenue: '1000.5',
    discounts: '50.00',
    refunds: '20.1234',
    cogs: '300.00',
    shippingCosts: '45.00',
    transactionFees: '29.30',
    orders: 12,
    units: 17,
  };
  const ghost = '00000000-0000-4000-8000-000000000000';
  const newStore = async (name: string, currency: string) =>
    (await api.db.insertInto('stores').values({ name, currency, timezone: 'UTC' }).returning('id').executeTakeFirstOrThrow()).id;
  const put = (storeId: string, date: string, body: unknown, token = member.accessToken) =>
    api.request('PUT', `/v1/stores/${storeId}/daily-financials/${date}`, { token, body });
  const tokenWith = async (scopes: string[]) => {
    const res = await api.request('POST', '/v1/api-tokens', { token: admin.accessToken, body: { name: `t-${scopes.join('-')}`, scopes } });
    expect(res.status).toBe(201);
    return res.body.token as string;
  };

  beforeAll(async () => {
    eurStore = await newStore('Nordic Home', 'EUR');
    usdStore = await newStore('Desert Goods', 'USD');
    admin = await api.userWithToken('admin');
    member = await api.userWithToken('member');
    viewer = await api.userWithToken('viewer');
  });

  it('when a member records a new day, then 201 with the day in the store\'s currency; recording it again replaces it with 200', async () => {
    const created = await put(eurStore, '2026-11-20', day);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      storeId: eurStore,
      date: '2026-11-20',
      currency: 'EUR',
      revenue: '1000.50',
      discounts: '50.00',
      refunds: '20.1234',
      cogs: '300.00',
      shippingCosts: '45.00',
      transactionFees: '29.30',
      orders: 12,
      units: 17,
      source: 'manual',
    });

    const replaced = await put(eurStore, '2026-11-20', { ...day, revenue: '1100.00', orders: 13 });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ id: created.body.id, revenue: '1100.00', orders: 13, units: 17 });
    const rows = await api.db.selectFrom('daily_financials').selectAll().where('store_id', '=', eurStore).where('date', '=', '2026-11-20').execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ revenue: '1100.0000', refunds: '20.1234', currency: 'EUR', source: 'manual' });
  });

  it('when a day synced from Shopify is recorded by hand, then the manual figures replace it', async () => {
    await api.db
      .insertInto('daily_financials')
      .values({ store_id: usdStore, date: '2026-11-01', currency: 'USD', revenue: '5', orders: 1, units: 1, source: 'shopify' })
      .execute();
    const res = await put(usdStore, '2026-11-01', day);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ currency: 'USD', source: 'manual', revenue: '1000.50' });
  });

  it('when a range is listed, then its recorded days come oldest first and days outside it do not', async () => {
    for (const date of ['2026-10-03', '2026-10-01', '2026-10-02', '2026-09-30', '2026-10-04']) {
      expect((await put(eurStore, date, { ...day, orders: Number(date.slice(8)) })).status).toBe(201);
    }
    const res = await api.request('GET', `/v1/stores/${eurStore}/daily-financials?from=2026-10-01&to=2026-10-03`, { token: viewer.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.data.map((d: { date: string; orders: number }) => [d.date, d.orders])).toEqual([
      ['2026-10-01', 1],
      ['2026-10-02', 2],
      ['2026-10-03', 3],
    ]);
    const empty = await api.request('GET', `/v1/stores/${usdStore}/daily-financials?from=2026-10-01&to=2026-10-03`, { token: viewer.accessToken });
    expect(empty.body).toEqual({ data: [], nextCursor: null });
    const oneDay = await api.request('GET', `/v1/stores/${eurStore}/daily-financials?from=2026-10-04&to=2026-10-04`, { token: viewer.accessToken });
    expect(oneDay.body.data).toHaveLength(1);
  });

  it('when figures are missing or wrong, then 400 names every bad field and nothing is stored', async () => {
    const missing = await put(eurStore, '2026-12-01', { revenue: '1.00' });
    expect(missing.status).toBe(400);
    expect(Object.keys(missing.body.errors).sort()).toEqual(['cogs', 'discounts', 'orders', 'refunds', 'shippingCosts', 'transactionFees', 'units']);
    const wrong = await put(eurStore, '2026-12-01', { ...day, revenue: '-1.00', cogs: '1,5', refunds: 3, orders: 1.5, units: -1, discounts: '1.23456' });
    expect(wrong.status).toBe(400);
    expect(Object.keys(wrong.body.errors).sort()).toEqual(['cogs', 'discounts', 'orders', 'refunds', 'revenue', 'units']);
    const tooBig = await put(eurStore, '2026-12-01', { ...day, orders: 3_000_000_000, revenue: '123456789012345' });
    expect(tooBig.status).toBe(400);
    expect(Object.keys(tooBig.body.errors).sort()).toEqual(['orders', 'revenue']);
    const stored = await api.db.selectFrom('daily_financials').select('id').where('date', '=', '2026-12-01').execute();
    expect(stored).toEqual([]);
  });

  it('when the path or range is wrong, then 400; for an unknown store, 404', async () => {
    expect((await put(eurStore, '2026-02-30', day)).status).toBe(400);
    expect((await put(eurStore, '20261101', day)).status).toBe(400);
    expect((await put('not-a-uuid', '2026-11-01', day)).status).toBe(400);
    const unknownPut = await put(ghost, '2026-11-01', day);
    expect(unknownPut.status).toBe(404);
    expect(unknownPut.body.detail).toMatch(/store/);
    const unknownGet = await api.request('GET', `/v1/stores/${ghost}/daily-financials?from=2026-11-01&to=2026-11-02`, { token: viewer.accessToken });
    expect(unknownGet.status).toBe(404);

    const list = (query: string) => api.request('GET', `/v1/stores/${eurStore}/daily-financials${query}`, { token: viewer.accessToken });
    const noRange = await list('');
    expect(noRange.status).toBe(400);
    expect(Object.keys(noRange.body.errors).sort()).toEqual(['from', 'to']);
    const reversed = await list('?from=2026-11-02&to=2026-11-01');
    expect(reversed.status).toBe(400);
    expect(reversed.body.errors).toHaveProperty('from');
    const tooLong = await list('?from=2020-01-01&to=2026-01-01');
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors.to[0]).toMatch(/at most/);
    expect((await list('?from=2026-11-01&to=2026-13-01')).status).toBe(400);
  });

  it('when input is hostile or absurd, then the answer is a 4xx, never a 5xx', async () => {
    const bodies: unknown[] = [
      { ...day, revenue: 'x'.repeat(200_000) },
      { ...day, revenue: '1; DROP TABLE daily_financials' },
      { ...day, orders: '1; DROP TABLE x' },
      { ...day, orders: Number.MAX_SAFE_INTEGER },
      { ...day, units: null },
      { ...day, currency: 'XYZ', revenue: '-5' },
      [day],
    ];
    for (const body of bodies) {
      const res = await put(eurStore, '2026-12-02', body);
      expect(res.status).toBe(400);
    }
    const paths = [
      `/v1/stores/${eurStore}/daily-financials/${encodeURIComponent("2026-12-02'; DROP TABLE x; --")}`,
      `/v1/stores/${encodeURIComponent('1; DROP TABLE stores')}/daily-financials/2026-12-02`,
      `/v1/stores/${eurStore}/daily-financials/${'9'.repeat(5000)}`,
    ];
    for (const path of paths) {
      const res = await api.request('PUT', path, { token: member.accessToken, body: day });
      expect(res.status).toBe(400);
    }
    const hostileQuery = await api.request('GET', `/v1/stores/${eurStore}/daily-financials?from=${encodeURIComponent("1; DROP TABLE x")}&to=2026-01-01`, { token: viewer.accessToken });
    expect(hostileQuery.status).toBe(400);
    const repeated = await api.request('GET', `/v1/stores/${eurStore}/daily-financials?from=2026-01-01&from=2026-01-02&to=2026-01-03`, { token: viewer.accessToken });
    expect(repeated.status).toBe(400);
    // A currency in the body is ignored: a day is always in its store's currency.
    const withCurrency = await put(eurStore, '2026-12-03', { ...day, currency: 'USD' });
    expect(withCurrency.status).toBe(201);
    expect(withCurrency.body.currency).toBe('EUR');
  });

  it('when a viewer or a read-only API token records a day, then 403; both may read; without credentials 401', async () => {
    const readOnly = await tokenWith(['finance:read']);
    for (const token of [viewer.accessToken, readOnly]) {
      expect((await put(eurStore, '2026-12-10', day, token)).status).toBe(403);
      const read = await api.request('GET', `/v1/stores/${eurStore}/daily-financials?from=2026-11-01&to=2026-11-30`, { token });
      expect(read.status).toBe(200);
    }
    expect((await api.request('PUT', `/v1/stores/${eurStore}/daily-financials/2026-12-10`, { body: day })).status).toBe(401);
    expect((await api.request('GET', `/v1/stores/${eurStore}/daily-financials?from=2026-11-01&to=2026-11-30`)).status).toBe(401);
    expect(await api.db.selectFrom('daily_financials').select('id').where('date', '=', '2026-12-10').execute()).toEqual([]);

    const writer = await tokenWith(['finance:write']);
    expect((await put(eurStore, '2026-12-10', day, writer)).status).toBe(201);
  });
});
