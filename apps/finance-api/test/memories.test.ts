import { toVector } from '@dealdome/db';
import { createMemory } from '@dealdome/domain';
import type { NewMemory } from '@dealdome/domain';
import { useFinanceApi } from './harness';

const problemType = 'application/problem+json';

describe('finance-api memories administration', () => {
  const api = useFinanceApi();
  let admin: Awaited<ReturnType<typeof api.userWithToken>>;
  let ann: Awaited<ReturnType<typeof api.userWithToken>>;
  let bob: Awaited<ReturnType<typeof api.userWithToken>>;
  /** The memories stored below, by a short name; `at` is their created_at, one minute apart. */
  const ids: Record<string, string> = {};

  async function remember(name: string, minutesAgo: number, memory: NewMemory) {
    const { memory: stored, created } = await createMemory(api.db, memory);
    expect(created).toBe(true);
    await api.db
      .updateTable('memories')
      .set({ created_at: new Date(Date.parse('2026-05-01T12:00:00Z') - minutesAgo * 60_000) })
      .where('id', '=', stored.id)
      .execute();
    ids[name] = stored.id;
  }

  const get = (path: string, token = admin.accessToken) => api.request('GET', path, { token });
  const listed = async (query = '') => {
    const res = await get(`/v1/memories${query}`);
    expect(res.status).toBe(200);
    return (res.body.data as { id: string }[]).map((m) => Object.entries(ids).find(([, id]) => id === m.id)?.[0] ?? m.id);
  };

  beforeAll(async () => {
    admin = await api.userWithToken('admin');
    ann = await api.userWithToken('member');
    bob = await api.userWithToken('member');
    await remember('supplier', 60, { scope: 'team', userId: null, kind: 'fact', content: 'Our supplier ships on Tuesdays' });
    await remember('annCoffee', 50, { scope: 'user', userId: ann.user.id, kind: 'preference', content: 'Ann takes her coffee black' });
    await remember('bobReport', 40, { scope: 'user', userId: bob.user.id, kind: 'preference', content: 'Bob wants the P&L as CSV' });
    await remember('margin', 30, { scope: 'team', userId: null, kind: 'decision', content: 'We keep a 50% margin on mugs' });
    await remember('supplierAgain', 20, { scope: 'team', userId: null, kind: 'fact', content: 'The supplier SHIPS every Tuesday' });
    // The near-duplicate merge as the embedding worker records it: the newer is superseded by the older.
    await api.db
      .updateTable('memories')
      .set({ superseded_at: new Date('2026-05-01T12:00:00Z'), superseded_by: ids.supplier! })
      .where('id', '=', ids.supplierAgain!)
      .execute();
    await api.db
      .insertInto('memory_events')
      .values({ memory_id: ids.supplierAgain!, action: 'superseded', related_memory_id: ids.supplier!, similarity: '0.97', reason: 'a near-duplicate' })
      .execute();
    await api.db
      .updateTable('memories')
      .set({ embedding: toVector(Array.from({ length: 1536 }, (_, i) => (i === 0 ? 1 : 0))), embedding_model: 'local-hashing-v1' })
      .where('id', '=', ids.supplier!)
      .execute();
  });

  it('when no admin asks, then it is refused: 401 without credentials, 403 for members, viewers and tokens without the admin scope', async () => {
    expect((await api.request('GET', '/v1/memories')).status).toBe(401);
    const viewer = await api.userWithToken('viewer');
    for (const token of [ann.accessToken, viewer.accessToken]) {
      const res = await get('/v1/memories', token);
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain(problemType);
    }
    const tokenWith = async (scopes: string[]) =>
      (await api.request('POST', '/v1/api-tokens', { token: admin.accessToken, body: { name: scopes.join(' '), scopes } })).body.token as string;
    expect((await get('/v1/memories', await tokenWith(['finance:read', 'finance:write', 'knowledge:read', 'knowledge:write']))).status).toBe(403);
    expect((await get('/v1/memories', await tokenWith(['admin']))).status).toBe(200);
  });

  it("when an admin lists, then the team's memories and every person's come back newest first, superseded ones left out", async () => {
    expect(await listed()).toEqual(['margin', 'bobReport', 'annCoffee', 'supplier']);

    const res = await get('/v1/memories');
    const supplier = (res.body.data as Record<string, unknown>[]).find((m) => m.id === ids.supplier);
    expect(supplier).toEqual({
      id: ids.supplier,
      scope: 'team',
      userId: null,
      kind: 'fact',
      content: 'Our supplier ships on Tuesdays',
      sourceMessageId: null,
      embeddingModel: 'local-hashing-v1',
      createdAt: '2026-05-01T11:00:00.000Z',
      updatedAt: expect.any(String),
      supersededAt: null,
      supersededBy: null,
    });
    expect(JSON.stringify(res.body)).not.toContain('embedding"');
    expect((res.body.data as Record<string, unknown>[]).find((m) => m.id === ids.annCoffee)).toMatchObject({ scope: 'user', userId: ann.user.id, embeddingModel: null });
    expect(res.body.nextCursor).toBeNull();
  });

  it('when filters are given, then only the memories matching all of them come back', async () => {
    expect(await listed('?scope=team')).toEqual(['margin', 'supplier']);
    expect(await listed('?scope=user')).toEqual(['bobReport', 'annCoffee']);
    expect(await listed(`?userId=${ann.user.id}`)).toEqual(['annCoffee']);
    expect(await listed(`?scope=user&userId=${bob.user.id}`)).toEqual(['bobReport']);
    expect(await listed('?kind=preference')).toEqual(['bobReport', 'annCoffee']);
    expect(await listed('?kind=decision&scope=team')).toEqual(['margin']);
    expect(await listed('?q=SUPPLIER')).toEqual(['supplier']);
    expect(await listed('?q=supplier&includeSuperseded=true')).toEqual(['supplierAgain', 'supplier']);
    // % and _ are the text itself, not wildcards.
    expect(await listed(`?q=${encodeURIComponent('50%')}`)).toEqual(['margin']);
    expect(await listed(`?q=${encodeURIComponent('p_l')}`)).toEqual([]);
    expect(await listed(`?q=${encodeURIComponent('P&L')}`)).toEqual(['bobReport']);
    expect(await listed('?includeSuperseded=false')).toEqual(['margin', 'bobReport', 'annCoffee', 'supplier']);

    const all = await get('/v1/memories?includeSuperseded=true');
    expect(all.body.data.map((m: { id: string }) => m.id)).toEqual([ids.supplierAgain, ids.margin, ids.bobReport, ids.annCoffee, ids.supplier]);
    expect(all.body.data[0]).toMatchObject({ supersededAt: '2026-05-01T12:00:00.000Z', supersededBy: ids.supplier });
  });

  it('when a filter is not valid, then 400 names it', async () => {
    for (const [query, field] of [
      ['scope=everyone', 'scope'],
      ['kind=rumour', 'kind'],
      ['userId=ann', 'userId'],
      [`scope=team&userId=${ann.user.id}`, 'userId'],
      ['includeSuperseded=yes', 'includeSuperseded'],
      [`q=${'x'.repeat(201)}`, 'q'],
      ['limit=0', 'limit'],
      ['cursor=nonsense', 'cursor'],
    ] as const) {
      const res = await get(`/v1/memories?${query}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain(problemType);
      expect(Object.keys(res.body.errors)).toEqual([field]);
    }
  });

  it('when memories share a creation time, then pages of one still serve each exactly once, in the order of the whole list', async () => {
    const rows = await api.db
      .insertInto('memories')
      .values(Array.from({ length: 5 }, (_, i) => ({ scope: 'team', user_id: null, kind: 'context', content: `Same instant ${i}` })))
      .returning('id')
      .execute();
    const whole = (await get('/v1/memories?kind=context&limit=200')).body.data.map((m: { id: string }) => m.id);
    expect([...whole].sort()).toEqual(rows.map((r) => r.id).sort());
    expect(whole).toEqual([...whole].sort().reverse());

    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/v1/memories?kind=context&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      paged.push(...page.body.data.map((m: { id: string }) => m.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(paged).toEqual(whole);
  });

  it('when an admin deletes a memory, then it is gone, the deletion is recorded with who and why, and what referred to it is kept', async () => {
    const events = () => api.db.selectFrom('memory_events').select(['memory_id', 'related_memory_id', 'action', 'reason']).orderBy('created_at').orderBy('action').execute();
    expect((await api.request('DELETE', `/v1/memories/${ids.supplier}`, { token: ann.accessToken })).status).toBe(403);
    expect(await api.db.selectFrom('memories').select('id').where('id', '=', ids.supplier!).executeTakeFirst()).toBeDefined();

    const res = await api.request('DELETE', `/v1/memories/${ids.supplier}?reason=${encodeURIComponent('outdated supplier')}`, { token: admin.accessToken });
    expect(res.status).toBe(204);
    expect(res.body).toBeUndefined();

    expect(await api.db.selectFrom('memories').select('id').where('id', '=', ids.supplier!).executeTakeFirst()).toBeUndefined();
    // The near-duplicate it had absorbed stays history: still superseded, its replacement no longer named.
    const absorbed = await api.db.selectFrom('memories').select(['superseded_at', 'superseded_by']).where('id', '=', ids.supplierAgain!).executeTakeFirstOrThrow();
    expect(absorbed).toEqual({ superseded_at: new Date('2026-05-01T12:00:00Z'), superseded_by: null });
    expect(await listed('?q=supplier')).toEqual([]);

    const history = await events();
    expect(history).toContainEqual({ memory_id: null, related_memory_id: null, action: 'deleted', reason: `admin api by ${admin.email}: outdated supplier` });
    expect(history).toContainEqual({ memory_id: ids.supplierAgain, related_memory_id: null, action: 'superseded', reason: 'a near-duplicate' });
    expect(history.filter((e) => e.action === 'created')).toHaveLength(Object.keys(ids).length);

    const again = await api.request('DELETE', `/v1/memories/${ids.supplier}`, { token: admin.accessToken });
    expect(again.status).toBe(404);
    expect(again.headers.get('content-type')).toContain(problemType);
    expect(again.body).toMatchObject({ status: 404, code: 'not_found' });
    expect((await events()).filter((e) => e.action === 'deleted')).toHaveLength(1);
    expect((await api.request('DELETE', '/v1/memories/not-a-uuid', { token: admin.accessToken })).status).toBe(400);
  });

  it("when an admin token deletes a person's superseded memory, then the record names the token", async () => {
    const token = (await api.request('POST', '/v1/api-tokens', { token: admin.accessToken, body: { name: 'ops', scopes: ['admin'] } })).body.token as string;
    expect((await api.request('DELETE', `/v1/memories/${ids.supplierAgain}`, { token })).status).toBe(204);
    expect((await api.request('DELETE', `/v1/memories/${ids.annCoffee}`, { token })).status).toBe(204);
    const deleted = await api.db.selectFrom('memory_events').select('reason').where('action', '=', 'deleted').where('reason', 'like', 'admin api by API token%').execute();
    expect(deleted).toEqual([{ reason: 'admin api by API token "ops"' }, { reason: 'admin api by API token "ops"' }]);
    expect(await listed('?includeSuperseded=true&scope=user')).toEqual(['bobReport']);
  });
});
