import { sql } from 'kysely';
import { openDatabase, openReadDatabase } from '@dealdome/db';
import type { Database, DatabaseHandle } from '@dealdome/db';
import { createTestDatabase } from '@dealdome/db/testing';
import type { TestDatabase } from '@dealdome/db/testing';
import { createStore, upsertDailyFinancials } from '@dealdome/domain';
import { useFinanceApi } from './harness';

/**
 * DATABASE_READ_URL: the report routes read from a second database. Here it is a
 * separate database holding different data, so every answer shows where it was read;
 * writing to it directly stands in for the replica replaying the primary's writes.
 */
describe('finance-api with a read replica (DATABASE_READ_URL)', () => {
  let replica: TestDatabase;
  let replicaHandle: DatabaseHandle;
  // Registered before the API's, so the database exists when the API starts; the getter is read then.
  beforeAll(async () => {
    replica = await createTestDatabase();
    replicaHandle = await openDatabase({ url: replica.url, poolMax: 2 });
  });
  afterAll(async () => {
    await replicaHandle?.close();
    await replica?.drop();
  });
  const api = useFinanceApi({
    get DATABASE_READ_URL() {
      return replica.url;
    },
  });
  const onReplica = (): Database => replicaHandle.db;
  const DAY = '2026-03-02';
  let replicaStoreId: string;
  let primaryStoreId: string;
  let token: string;

  beforeAll(async () => {
    replicaStoreId = (await createStore(onReplica(), { name: 'Replica Shop', currency: 'EUR', timezone: 'UTC' })).id;
    await upsertDailyFinancials(onReplica(), replicaStoreId, DAY, {
      revenue: '100.00', discounts: '0', refunds: '0', cogs: '40.00', shippingCosts: '0', transactionFees: '0', orders: 1, units: 1,
    });
    primaryStoreId = (await createStore(api.db, { name: 'Primary Shop', currency: 'EUR', timezone: 'UTC' })).id;
    await upsertDailyFinancials(api.db, primaryStoreId, DAY, {
      revenue: '999.00', discounts: '0', refunds: '0', cogs: '0', shippingCosts: '0', transactionFees: '0', orders: 9, units: 9,
    });
    token = (await api.userWithToken('admin')).accessToken;
  });

  const pnl = async () => {
    const res = await api.request('GET', `/v1/reports/pnl?from=${DAY}&to=${DAY}&currency=EUR`, { token });
    expect(res.status).toBe(200);
    return res.body as { totals: { revenue: string; adSpend: string } };
  };

  it('when a report is asked for, then it is computed from the read database, and writes land on the primary only', async () => {
    expect((await pnl()).totals.revenue).toBe('100.00');
    const byStore = await api.request('GET', `/v1/reports/ad-spend?from=${DAY}&to=${DAY}&groupBy=store&currency=EUR`, { token });
    expect(byStore.body.rows.map((r: { key: string }) => r.key)).toEqual([replicaStoreId]);

    const created = await api.request('POST', '/v1/ad-spend', {
      token,
      body: { storeId: primaryStoreId, date: DAY, platform: 'meta', amount: '25.00', currency: 'EUR' },
    });
    expect(created.status).toBe(201);
    const count = async (db: Database) => Number((await db.selectFrom('ad_spend_entries').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
    expect(await count(api.db)).toBe(1);
    expect(await count(onReplica())).toBe(0);
    // The primary's version moved; the replica has not "replayed" the write: the report stands.
    expect((await pnl()).totals.adSpend).toBe('0.00');
  });

  it('when the replica replays a write, then the next report shows it: the cache is keyed by the version read on the replica', async () => {
    expect((await pnl()).totals.revenue).toBe('100.00');
    await upsertDailyFinancials(onReplica(), replicaStoreId, DAY, {
      revenue: '150.00', discounts: '0', refunds: '0', cogs: '40.00', shippingCosts: '0', transactionFees: '0', orders: 2, units: 2,
    });
    expect((await pnl()).totals.revenue).toBe('150.00');
  });

  it('when the read pool is used to write, then PostgreSQL refuses: its sessions are read-only', async () => {
    const reads = await openReadDatabase({ url: replica.url, poolMax: 1 });
    try {
      await expect(sql`INSERT INTO stores (name, currency, timezone) VALUES ('x', 'EUR', 'UTC')`.execute(reads.db)).rejects.toThrow(/read-only transaction/);
    } finally {
      await reads.close();
    }
  });

  it('when the read database stops answering, then /readyz says so and answers 503', async () => {
    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, { ok: boolean }> }).checks['postgres-read']).toMatchObject({ ok: true });

    await replicaHandle.close();
    await replica.drop();
    const down = await fetch(`${api.url}/readyz`);
    expect(down.status).toBe(503);
    const report = (await down.json()) as { checks: Record<string, { ok: boolean }> };
    expect(report.checks['postgres-read']?.ok).toBe(false);
    expect(report.checks.postgres?.ok).toBe(true);
  });
});
