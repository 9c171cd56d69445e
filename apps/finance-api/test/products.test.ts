import { useFinanceApi } from './harness';

describe('finance-api products', () => {
  const api = useFinanceApi();
  let storeId: string;

  beforeAll(async () => {
    storeId = (await api.db.insertInto('stores').values({ name: 'Nordic Home', currency: 'EUR', timezone: 'Europe/Amsterdam' }).returning('id').executeTakeFirstOrThrow()).id;
  });

  it('when a member creates a product and records cost changes, then history is kept and the current cost follows today', async () => {
    const member = await api.userWithToken('member');
    const created = await api.request('POST', '/v1/products', {
      token: member.accessToken,
      body: { storeId, sku: 'LAMP-01', name: 'Desk lamp', costPrice: '12.5', currency: 'EUR', costEffectiveFrom: '2026-01-01' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ sku: 'LAMP-01', costPrice: '12.50', status: 'testing' });
    const id = created.body.id as string;

    const added = await api.request('POST', `/v1/products/${id}/costs`, { token: member.accessToken, body: { costPrice: '11.2500', effectiveFrom: '2026-03-01' } });
    expect(added.status).toBe(201);
    const future = await api.request('POST', `/v1/products/${id}/costs`, { token: member.accessToken, body: { costPrice: '99.00', effectiveFrom: '2999-01-01' } });
    expect(future.body.data.map((c: { effectiveFrom: string; costPrice: string }) => [c.effectiveFrom, c.costPrice])).toEqual([
      ['2026-01-01', '12.50'],
      ['2026-03-01', '11.25'],
      ['2999-01-01', '99.00'],
    ]);
    // Today the March cost is in effect; the far-future one is not yet.
    expect((await api.request('GET', `/v1/products/${id}`, { token: member.accessToken })).body.costPrice).toBe('11.25');
  });

  it('when a sale date is asked for, then the cost valid on that date applies, and before the first record the first cost', async () => {
    const { costOn } = await import('@dealdome/domain');
    const product = await api.db.selectFrom('products').select('id').where('sku', '=', 'LAMP-01').executeTakeFirstOrThrow();
    expect(await costOn(api.db, product.id, '2026-02-28')).toBe('12.5000');
    expect(await costOn(api.db, product.id, '2026-03-01')).toBe('11.2500');
    expect(await costOn(api.db, product.id, '2025-06-01')).toBe('12.5000');
  });

  it('when products are listed with filters, then only matching ones come back, page by page', async () => {
    const member = await api.userWithToken('member');
    for (const sku of ['MUG-01', 'MUG-02', 'MUG-03']) {
      await api.request('POST', '/v1/products', { token: member.accessToken, body: { storeId, sku, name: `Mug ${sku}`, costPrice: '3.00', currency: 'EUR', status: 'winning' } });
    }
    const page1 = await api.request('GET', `/v1/products?storeId=${storeId}&status=winning&limit=2`, { token: member.accessToken });
    expect(page1.body.data).toHaveLength(2);
    const page2 = await api.request('GET', `/v1/products?storeId=${storeId}&status=winning&limit=2&cursor=${page1.body.nextCursor}`, { token: member.accessToken });
    expect(page2.body).toMatchObject({ data: [{ sku: 'MUG-03' }], nextCursor: null });
    const search = await api.request('GET', `/v1/products?q=${encodeURIComponent('lamp')}`, { token: member.accessToken });
    expect(search.body.data.map((p: { sku: string }) => p.sku)).toEqual(['LAMP-01']);
    const wildcard = await api.request('GET', `/v1/products?q=${encodeURIComponent('%')}`, { token: member.accessToken });
    expect(wildcard.body.data).toEqual([]);
  });

  it('when product input is wrong, then 400/409/422 say why and a viewer cannot write', async () => {
    const member = await api.userWithToken('member');
    const viewer = await api.userWithToken('viewer');
    const bad = await api.request('POST', '/v1/products', { token: member.accessToken, body: { storeId, sku: '', name: 'x', costPrice: '-1', currency: 'eur' } });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors).sort()).toEqual(['costPrice', 'currency', 'sku']);
    const dup = await api.request('POST', '/v1/products', { token: member.accessToken, body: { storeId, sku: 'LAMP-01', name: 'Again', costPrice: '1', currency: 'EUR' } });
    expect(dup.status).toBe(409);
    const wrongCurrency = await api.request('POST', '/v1/products', { token: member.accessToken, body: { storeId, sku: 'X-1', name: 'x', costPrice: '1', currency: 'USD' } });
    expect(wrongCurrency.status).toBe(422);
    const denied = await api.request('POST', '/v1/products', { token: viewer.accessToken, body: { storeId, sku: 'V-1', name: 'x', costPrice: '1', currency: 'EUR' } });
    expect(denied.status).toBe(403);
  });

  it('when sales and product ad spend are recorded, then product performance shows both per day with ROAS', async () => {
    const member = await api.userWithToken('member');
    const product = await api.db.selectFrom('products').select('id').where('sku', '=', 'MUG-01').executeTakeFirstOrThrow();
    expect((await api.request('PUT', `/v1/products/${product.id}/performance/2026-11-20`, { token: member.accessToken, body: { units: 4, revenue: '60.00' } })).status).toBe(204);
    await api.db.insertInto('ad_spend_entries').values([
      { store_id: storeId, date: '2026-11-20', platform: 'meta', amount: '15.00', currency: 'EUR', product_id: product.id },
      { store_id: storeId, date: '2026-11-21', platform: 'tiktok', amount: '7.50', currency: 'EUR', product_id: product.id },
    ]).execute();
    const res = await api.request('GET', `/v1/product-performance?from=2026-11-19&to=2026-11-22&productId=${product.id}`, { token: member.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      expect.objectContaining({ date: '2026-11-20', units: 4, revenue: '60.00', adSpend: '15.00', roas: '4.00', sku: 'MUG-01' }),
      expect.objectContaining({ date: '2026-11-21', units: 0, revenue: '0.00', adSpend: '7.50', roas: '0.00' }),
    ]);
  });
});
