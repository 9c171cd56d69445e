import { useFinanceApi } from './harness';
import * as example from './fixtures/pnl-examples';

describe('finance-api P&L report', () => {
  const api = useFinanceApi();
  const storeIds: Record<string, string> = {};
  let token: string;

  beforeAll(async () => {
    const { db } = api;
    for (const [key, store] of Object.entries(example.stores)) {
      storeIds[key] = (await db.insertInto('stores').values(store).returning('id').executeTakeFirstOrThrow()).id;
    }
    for (const f of example.dailyFinancials) {
      await db
        .insertInto('daily_financials')
        .values({
          store_id: storeIds[f.store]!,
          date: f.date,
          currency: example.stores[f.store].currency,
          revenue: f.revenue,
          discounts: f.discounts,
          refunds: f.refunds,
          cogs: f.cogs,
          shipping_costs: f.shippingCosts,
          transaction_fees: f.transactionFees,
          orders: f.orders,
          units: f.units,
        })
        .execute();
    }
    for (const a of example.adSpend) {
      await db
        .insertInto('ad_spend_entries')
        .values({ store_id: storeIds[a.store]!, date: a.date, platform: a.platform, amount: a.amount, currency: example.stores[a.store].currency })
        .execute();
    }
    for (const c of example.fixedCosts) {
      await db
        .insertInto('fixed_costs')
        .values({ store_id: c.store ? storeIds[c.store]! : null, name: c.name, category: c.category, amount: c.amount, currency: c.currency, start_month: c.startMonth })
        .execute();
    }
    for (const [date, rate] of example.usdRates) {
      await db.insertInto('fx_rates').values({ date, base: 'USD', quote: 'EUR', rate }).execute();
    }
    token = (await api.userWithToken('viewer')).accessToken;
  });

  it('when all stores are reported by month, then every figure matches the worked example in EUR', async () => {
    const res = await api.request('GET', '/v1/reports/pnl?from=2026-02-01&to=2026-03-31&groupBy=month', { token });
    expect(res.status).toBe(200);
    expect(res.body.currency).toBe('EUR');
    expect(res.body.rows).toEqual(example.allStoresMonthly.rows);
    expect(res.body.totals).toEqual(example.allStoresMonthly.totals);
  });

  it('when one store is reported, then it is in its currency with its own fixed costs prorated by day', async () => {
    const res = await api.request('GET', `/v1/reports/pnl?from=2026-02-01&to=2026-03-15&groupBy=month&storeId=${storeIds.nordic}`, { token });
    expect(res.status).toBe(200);
    expect(res.body.currency).toBe('EUR');
    expect(res.body.rows).toMatchObject(example.nordicMonthly.rows);
  });

  it('when a store without ad spend is reported by ISO week, then ratios over ad spend are null', async () => {
    const res = await api.request('GET', `/v1/reports/pnl?from=2026-02-01&to=2026-02-28&groupBy=week&storeId=${storeIds.brooklyn}`, { token });
    expect(res.status).toBe(200);
    expect(res.body.currency).toBe('USD');
    expect(res.body.rows.map((r: { period: string }) => r.period)).toEqual(example.brooklynFebruaryWeekly.periods);
    expect(res.body.rows[2]).toMatchObject(example.brooklynFebruaryWeekly.week7);
    expect(res.body.rows[0]).toMatchObject({ revenue: '0.00', netRevenue: '0.00', marginPct: null, roas: null, breakEvenRoas: null });
  });

  it('when a day has no exchange rate within 7 days, then the all-stores report is a 422 naming currency and date', async () => {
    const res = await api.request('GET', '/v1/reports/pnl?from=2026-04-01&to=2026-04-05&groupBy=day', { token });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.detail).toContain('USD on 2026-04-03');
  });

  it('when the query is wrong, then 400 names the fields', async () => {
    const res = await api.request('GET', '/v1/reports/pnl?from=2026-03-01&to=2026-02-01&groupBy=year&currency=XYZ', { token });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.errors).sort()).toEqual(['currency', 'from', 'groupBy'].sort());
  });
});
