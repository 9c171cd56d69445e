import { randomUUID } from 'node:crypto';
import { fixedCostsInRange } from '@dealdome/domain';
import { useFinanceApi } from './harness';

describe('finance-api fixed costs', () => {
  const api = useFinanceApi();
  let admin: { accessToken: string };
  let member: { accessToken: string };
  let viewer: { accessToken: string };
  let storeA: string;
  let storeB: string;

  beforeAll(async () => {
    admin = await api.userWithToken('admin');
    member = await api.userWithToken('member');
    viewer = await api.userWithToken('viewer');
    const a = await api.request('POST', '/v1/stores', { token: admin.accessToken, body: { name: 'Fixed A', currency: 'EUR', timezone: 'UTC' } });
    const b = await api.request('POST', '/v1/stores', { token: admin.accessToken, body: { name: 'Fixed B', currency: 'USD', timezone: 'UTC' } });
    storeA = a.body.id;
    storeB = b.body.id;
  });

  beforeEach(async () => {
    await api.db.deleteFrom('fixed_costs').execute();
  });

  const create = (body: Record<string, unknown>, token = member.accessToken) => api.request('POST', '/v1/fixed-costs', { token, body });
  const rent = (extra: Record<string, unknown> = {}) => ({ name: 'Office rent', category: 'rent', amount: '1500.00', currency: 'EUR', startMonth: '2026-01', ...extra });

  it('when a member creates a cost, then it is stored as first-of-month dates and presented with months and 2-decimal money', async () => {
    const res = await create(rent({ storeId: storeA, amount: '1500', endMonth: '2026-12' }));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      storeId: storeA,
      name: 'Office rent',
      category: 'rent',
      amount: '1500.00',
      currency: 'EUR',
      startMonth: '2026-01',
      endMonth: '2026-12',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const row = await api.db.selectFrom('fixed_costs').select(['start_month', 'end_month', 'amount']).where('id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ start_month: '2026-01-01', end_month: '2026-12-01', amount: '1500.0000' });

    const read = await api.request('GET', `/v1/fixed-costs/${res.body.id}`, { token: viewer.accessToken });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
  });

  it('when storeId is left out or null, then the cost is shared and open-ended; 4-decimal amounts keep their precision', async () => {
    const res = await create(rent({ amount: '99.1234' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ storeId: null, endMonth: null, amount: '99.1234' });
    const explicit = await create(rent({ storeId: null, endMonth: null }));
    expect(explicit.body).toMatchObject({ storeId: null, endMonth: null });
  });

  it('when a cost is patched, then only the given fields change, and ending it is a PATCH of endMonth', async () => {
    const created = await create(rent({ storeId: storeA }));
    const id = created.body.id;
    const renamed = await api.request('PATCH', `/v1/fixed-costs/${id}`, { token: member.accessToken, body: { name: 'Warehouse rent', amount: '1650.50' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Warehouse rent', amount: '1650.50', category: 'rent', storeId: storeA, startMonth: '2026-01', endMonth: null });

    const ended = await api.request('PATCH', `/v1/fixed-costs/${id}`, { token: member.accessToken, body: { endMonth: '2026-06' } });
    expect(ended.body).toMatchObject({ startMonth: '2026-01', endMonth: '2026-06' });
    const reopened = await api.request('PATCH', `/v1/fixed-costs/${id}`, { token: admin.accessToken, body: { endMonth: null } });
    expect(reopened.body.endMonth).toBeNull();
    const shared = await api.request('PATCH', `/v1/fixed-costs/${id}`, { token: admin.accessToken, body: { storeId: null } });
    expect(shared.body.storeId).toBeNull();
  });

  it('when the end month is before the start month, then 400 names endMonth, on create and on patch against the stored start', async () => {
    const bad = await create(rent({ startMonth: '2026-05', endMonth: '2026-04' }));
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.errors)).toEqual(['endMonth']);

    const created = await create(rent({ startMonth: '2026-05' }));
    const endEarly = await api.request('PATCH', `/v1/fixed-costs/${created.body.id}`, { token: member.accessToken, body: { endMonth: '2026-03' } });
    expect(endEarly.status).toBe(400);
    expect(endEarly.body.errors.endMonth[0]).toContain('2026-05');

    await api.request('PATCH', `/v1/fixed-costs/${created.body.id}`, { token: member.accessToken, body: { endMonth: '2026-08' } });
    const startLate = await api.request('PATCH', `/v1/fixed-costs/${created.body.id}`, { token: member.accessToken, body: { startMonth: '2026-09' } });
    expect(startLate.status).toBe(400);
    expect(Object.keys(startLate.body.errors)).toEqual(['startMonth']);
    const sameMonth = await api.request('PATCH', `/v1/fixed-costs/${created.body.id}`, { token: member.accessToken, body: { startMonth: '2026-08' } });
    expect(sameMonth.status).toBe(200);
    expect(sameMonth.body).toMatchObject({ startMonth: '2026-08', endMonth: '2026-08' });
  });

  it('when the store does not exist, then 400 says so on create and on patch, never a 500 from the foreign key', async () => {
    const res = await create(rent({ storeId: randomUUID() }));
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual({ storeId: ['no such store'] });

    const created = await create(rent());
    const patched = await api.request('PATCH', `/v1/fixed-costs/${created.body.id}`, { token: member.accessToken, body: { storeId: randomUUID() } });
    expect(patched.status).toBe(400);
    expect(patched.body.errors).toEqual({ storeId: ['no such store'] });
  });

  it('when the input is wrong in many ways, then 400 names every bad field', async () => {
    const res = await create({ name: '', category: 'x'.repeat(101), amount: '-5.00', currency: 'XYZ', storeId: 'not-a-uuid', startMonth: '2026-13', endMonth: '2026-1' });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.errors).sort()).toEqual(['amount', 'category', 'currency', 'endMonth', 'name', 'startMonth', 'storeId']);

    const missing = await create({});
    expect(missing.status).toBe(400);
    expect(Object.keys(missing.body.errors).sort()).toEqual(['amount', 'category', 'currency', 'name', 'startMonth']);

    const numberAmount = await create(rent({ amount: 1500 }));
    expect(numberAmount.status).toBe(400);
    expect(Object.keys(numberAmount.body.errors)).toEqual(['amount']);

    const badPatch = await api.request('PATCH', `/v1/fixed-costs/${randomUUID()}`, { token: member.accessToken, body: { amount: '1e5' } });
    expect(badPatch.status).toBe(400);
    expect(Object.keys(badPatch.body.errors)).toEqual(['amount']);
  });

  it('when the input is hostile or huge, then the answer is a 4xx and nothing is stored', async () => {
    const attempts = [
      rent({ name: '   ' }),
      rent({ name: 'x'.repeat(100_000) }),
      rent({ amount: '9'.repeat(200) }),
      rent({ amount: '123456789012345.00' }),
      rent({ currency: "EUR'; --" }),
      rent({ startMonth: '0000-01' }),
      rent({ startMonth: "2026-01' OR 1=1" }),
      rent({ storeId: "'; DROP TABLE stores; --" }),
      rent({ category: { $gt: '' } }),
    ];
    for (const body of attempts) {
      const res = await create(body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    // The SQL-looking name is plain text, stored as given.
    const stored = await api.db.selectFrom('fixed_costs').select('name').execute();
    expect(stored).toEqual([]);
    const sqlName = await create(rent({ name: "Robert'); DROP TABLE fixed_costs;--" }));
    expect(sqlName.status).toBe(201);
    expect(sqlName.body.name).toBe("Robert'); DROP TABLE fixed_costs;--");

    const raw = await api.request('POST', '/v1/fixed-costs', { token: member.accessToken, raw: '{"name": ' });
    expect(raw.status).toBe(400);
    for (const query of ['storeId=1;%20DROP%20TABLE%20x', 'activeIn=2026-00', 'limit=0', 'limit=100000', 'cursor=garbage', `activeIn=${'x'.repeat(5000)}`]) {
      const res = await api.request('GET', `/v1/fixed-costs?${query}`, { token: viewer.accessToken });
      expect(res.status).toBe(400);
    }
    expect((await api.request('GET', '/v1/fixed-costs/1;DROP', { token: viewer.accessToken })).status).toBe(400);
  });

  it('when listing, then filters by store, shared and active month work and pages follow (start month, id)', async () => {
    const made = [
      await create(rent({ name: 'A1', storeId: storeA, startMonth: '2026-01', endMonth: '2026-03' })),
      await create(rent({ name: 'S1', startMonth: '2026-02' })),
      await create(rent({ name: 'B1', storeId: storeB, currency: 'USD', startMonth: '2026-04' })),
      await create(rent({ name: 'A2', storeId: storeA, startMonth: '2025-11', endMonth: '2026-01' })),
      await create(rent({ name: 'S2', startMonth: '2026-05', endMonth: '2026-05' })),
    ];
    expect(made.every((r) => r.status === 201)).toBe(true);
    const names = async (query: string) => {
      const res = await api.request('GET', `/v1/fixed-costs?${query}`, { token: viewer.accessToken });
      expect(res.status).toBe(200);
      return res.body.data.map((c: { name: string }) => c.name);
    };
    expect(await names('')).toEqual(['A2', 'A1', 'S1', 'B1', 'S2']);
    expect(await names(`storeId=${storeA}`)).toEqual(['A2', 'A1']);
    expect(await names('storeId=shared')).toEqual(['S1', 'S2']);
    expect(await names('activeIn=2026-01')).toEqual(['A2', 'A1']);
    expect(await names('activeIn=2026-03')).toEqual(['A1', 'S1']);
    expect(await names('activeIn=2026-05')).toEqual(['S1', 'B1', 'S2']);
    expect(await names('activeIn=2026-06')).toEqual(['S1', 'B1']);
    expect(await names('activeIn=2026-05&storeId=shared')).toEqual(['S1', 'S2']);
    expect(await names(`storeId=${randomUUID()}`)).toEqual([]);
    const badStore = await api.request('GET', '/v1/fixed-costs?storeId=shared-ish', { token: viewer.accessToken });
    expect(badStore.body.errors).toEqual({ storeId: ['expected a store id or "shared"'] });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/v1/fixed-costs?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api.request('GET', path, { token: viewer.accessToken });
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((c: { name: string }) => c.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['A2', 'A1', 'S1', 'B1', 'S2']);
  });

  it('when a viewer writes or nobody is signed in, then 403 and 401, and nothing changes', async () => {
    const created = await create(rent());
    const id = created.body.id;
    expect((await create(rent(), viewer.accessToken)).status).toBe(403);
    expect((await api.request('PATCH', `/v1/fixed-costs/${id}`, { token: viewer.accessToken, body: { name: 'x' } })).status).toBe(403);
    expect((await api.request('DELETE', `/v1/fixed-costs/${id}`, { token: viewer.accessToken })).status).toBe(403);
    expect((await api.request('GET', '/v1/fixed-costs')).status).toBe(401);
    expect((await api.request('POST', '/v1/fixed-costs', { body: rent() })).status).toBe(401);
    const after = await api.request('GET', `/v1/fixed-costs/${id}`, { token: viewer.accessToken });
    expect(after.body.name).toBe('Office rent');
  });

  it('when a cost is deleted or never existed, then it reads 404', async () => {
    const created = await create(rent());
    const id = created.body.id;
    expect((await api.request('DELETE', `/v1/fixed-costs/${id}`, { token: member.accessToken })).status).toBe(204);
    expect((await api.request('GET', `/v1/fixed-costs/${id}`, { token: viewer.accessToken })).status).toBe(404);
    expect((await api.request('DELETE', `/v1/fixed-costs/${id}`, { token: member.accessToken })).status).toBe(404);
    const patched = await api.request('PATCH', `/v1/fixed-costs/${id}`, { token: member.accessToken, body: { name: 'x' } });
    expect(patched.status).toBe(404);
    expect(patched.body.detail).toBe('the fixed cost was not found.');
  });

  it('when the P&L asks for costs in a date range, then it gets exactly the costs overlapping it, per store or shared', async () => {
    const ids: Record<string, string> = {};
    for (const [name, extra] of [
      ['endedBefore', { storeId: storeA, startMonth: '2025-01', endMonth: '2026-01' }],
      ['endsInFromMonth', { storeId: storeA, startMonth: '2025-06', endMonth: '2026-02' }],
      ['openShared', { startMonth: '2025-01' }],
      ['startsInToMonth', { storeId: storeB, currency: 'USD', startMonth: '2026-03' }],
      ['startsAfter', { storeId: storeA, startMonth: '2026-04' }],
    ] as const) {
      const res = await create(rent({ name, ...extra }));
      ids[name] = res.body.id;
    }
    const range = { from: '2026-02-15', to: '2026-03-10' };
    const all = await fixedCostsInRange(api.db, range);
    expect(all.map((c) => c.id).sort()).toEqual([ids.endsInFromMonth, ids.openShared, ids.startsInToMonth].sort());
    expect(all.find((c) => c.id === ids.endsInFromMonth)).toEqual({
      id: ids.endsInFromMonth,
      storeId: storeA,
      amount: '1500.00',
      currency: 'EUR',
      startMonth: '2025-06-01',
      endMonth: '2026-02-01',
    });
    expect((await fixedCostsInRange(api.db, { ...range, storeId: storeA })).map((c) => c.id)).toEqual([ids.endsInFromMonth]);
    expect((await fixedCostsInRange(api.db, { ...range, storeId: storeB })).map((c) => c.id)).toEqual([ids.startsInToMonth]);
    expect((await fixedCostsInRange(api.db, { ...range, storeId: null })).map((c) => c.id)).toEqual([ids.openShared]);
    expect(await fixedCostsInRange(api.db, { from: '2024-01-01', to: '2024-12-31' })).toEqual([]);
  });
});
