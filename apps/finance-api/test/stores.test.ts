import { useFinanceApi } from './harness';

describe('finance-api stores', () => {
  const api = useFinanceApi();

  it('when an admin creates stores, then everyone can list them page by page and viewers cannot change them', async () => {
    const admin = await api.userWithToken('admin');
    const viewer = await api.userWithToken('viewer');
    for (const [name, cur] of [['Alpha', 'EUR'], ['Bravo', 'USD'], ['Charlie', 'GBP']]) {
      const res = await api.request('POST', '/v1/stores', { token: admin.accessToken, body: { name, currency: cur, timezone: 'Europe/Amsterdam' } });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name, currency: cur, timezone: 'Europe/Amsterdam', shopDomain: null });
    }
    const first = await api.request('GET', '/v1/stores?limit=2', { token: viewer.accessToken });
    expect(first.body.data.map((s: { name: string }) => s.name)).toEqual(['Alpha', 'Bravo']);
    const second = await api.request('GET', `/v1/stores?limit=2&cursor=${first.body.nextCursor}`, { token: viewer.accessToken });
    expect(second.body).toMatchObject({ data: [{ name: 'Charlie' }], nextCursor: null });

    const denied = await api.request('POST', '/v1/stores', { token: viewer.accessToken, body: { name: 'X', currency: 'EUR', timezone: 'UTC' } });
    expect(denied.status).toBe(403);
  });

  it('when a store is patched, read and deleted, then each answers as documented', async () => {
    const admin = await api.userWithToken('admin');
    const created = await api.request('POST', '/v1/stores', { token: admin.accessToken, body: { name: 'Delta', shopDomain: 'Delta-Shop.myshopify.com', currency: 'EUR', timezone: 'UTC' } });
    expect(created.body.shopDomain).toBe('delta-shop.myshopify.com');
    const patched = await api.request('PATCH', `/v1/stores/${created.body.id}`, { token: admin.accessToken, body: { timezone: 'America/New_York' } });
    expect(patched.body).toMatchObject({ name: 'Delta', timezone: 'America/New_York' });
    const clash = await api.request('POST', '/v1/stores', { token: admin.accessToken, body: { name: 'Echo', shopDomain: 'delta-shop.myshopify.com', currency: 'EUR', timezone: 'UTC' } });
    expect(clash.status).toBe(409);
    expect((await api.request('DELETE', `/v1/stores/${created.body.id}`, { token: admin.accessToken })).status).toBe(204);
    expect((await api.request('GET', `/v1/stores/${created.body.id}`, { token: admin.accessToken })).status).toBe(404);
  });

  it('when store input is wrong, then 400 names every bad field', async () => {
    const admin = await api.userWithToken('admin');
    const res = await api.request('POST', '/v1/stores', { token: admin.accessToken, body: { name: '', currency: 'EURO', timezone: 'Mars/Base' } });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.errors).sort()).toEqual(['currency', 'name', 'timezone']);
    const badCursor = await api.request('GET', '/v1/stores?cursor=garbage', { token: admin.accessToken });
    expect(badCursor.status).toBe(400);
    const badId = await api.request('GET', '/v1/stores/not-a-uuid', { token: admin.accessToken });
    expect(badId.status).toBe(400);
  });
});
