import { sql } from 'kysely';
import type { Database } from '@dealdome/db';
import { useTestDatabase } from '@dealdome/db/testing';
import { cachedReport, financeDataVersion } from '../src/reports/cache';

describe('report cache', () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;

  function counter() {
    let calls = 0;
    return {
      get calls() {
        return calls;
      },
      compute: async () => ({ call: ++calls }),
    };
  }

  it.each([
    'settings',
    'stores',
    'products',
    'product_costs',
    'fixed_costs',
    'daily_financials',
    'ad_spend_entries',
    'product_performance',
    'fx_rates',
  ])('when a statement writes %s, then the finance data version moves', async (table) => {
    const before = BigInt(await financeDataVersion(db()));
    await sql`DELETE FROM ${sql.table(table)} WHERE false`.execute(db());
    expect(BigInt(await financeDataVersion(db()))).toBe(before + 1n);
  });

  it('when a table reports do not read is written, then the version stays', async () => {
    const before = await financeDataVersion(db());
    await sql`DELETE FROM users WHERE false`.execute(db());
    expect(await financeDataVersion(db())).toBe(before);
  });

  it('when the same report is asked again with no write between, then it is computed once', async () => {
    const c = counter();
    const first = await cachedReport(db(), 'test-same', { from: '2026-01-01', to: '2026-01-31' }, c.compute);
    // The same fields in another order are the same query.
    const second = await cachedReport(db(), 'test-same', { to: '2026-01-31', from: '2026-01-01' }, c.compute);
    expect(first).toEqual({ call: 1 });
    expect(second).toBe(first);
    expect(c.calls).toBe(1);
    await cachedReport(db(), 'test-same', { from: '2026-01-01', to: '2026-02-28' }, c.compute);
    expect(c.calls).toBe(2);
  });

  it('when finance data changes, then the next ask recomputes; an uncommitted change does not count yet', async () => {
    const c = counter();
    const query = { storeId: null };
    await cachedReport(db(), 'test-write', query, c.compute);

    await db()
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('stores').values({ name: 'Pending', currency: 'EUR', timezone: 'UTC' }).execute();
        // Another connection still sees the old version, so the cached result stands.
        expect(await cachedReport(db(), 'test-write', query, c.compute)).toEqual({ call: 1 });
      });

    expect(await cachedReport(db(), 'test-write', query, c.compute)).toEqual({ call: 2 });
    expect(c.calls).toBe(2);
  });

  it('when a write commits while a report is computed, then the report and its version label come from one snapshot: neither sees it', async () => {
    const query = { q: 'snapshot' };
    const storeCount = async (reader: Database) =>
      Number((await reader.selectFrom('stores').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    const before = await storeCount(db());
    let wrote = false;
    const compute = async (snapshot: Database) => {
      if (!wrote) {
        wrote = true;
        // Another connection commits a finance write (the version moves) after this report's version was read.
        await db().insertInto('stores').values({ name: 'Meanwhile', currency: 'EUR', timezone: 'UTC' }).execute();
      }
      return { stores: await storeCount(snapshot), version: await financeDataVersion(snapshot) };
    };
    const first = await cachedReport(db(), 'test-snapshot', query, compute);
    // Computed from the data of the version it is cached under, not from the newer data.
    expect(first.stores).toBe(before);
    const second = await cachedReport(db(), 'test-snapshot', query, compute);
    expect(second.stores).toBe(before + 1);
    expect(BigInt(second.version)).toBe(BigInt(first.version) + 1n);
  });

  it('when identical asks arrive together, then they share one computation', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const compute = async () => {
      calls += 1;
      await gate;
      return { value: 'shared' };
    };
    const asks = Array.from({ length: 5 }, () => cachedReport(db(), 'test-together', { q: 1 }, compute));
    // Let every ask read the version and reach the cache before the computation ends.
    await new Promise((r) => setTimeout(r, 100));
    release();
    const results = await Promise.all(asks);
    expect(calls).toBe(1);
    expect(new Set(results).size).toBe(1);
  });

  it('when a computation fails, then the failure is not kept and the next ask tries again', async () => {
    let calls = 0;
    const compute = async () => {
      calls += 1;
      if (calls === 1) throw new Error('no exchange rate');
      return { ok: true };
    };
    await expect(cachedReport(db(), 'test-fail', {}, compute)).rejects.toThrow('no exchange rate');
    await expect(cachedReport(db(), 'test-fail', {}, compute)).resolves.toEqual({ ok: true });
    expect(calls).toBe(2);
  });
});
