import { useTestDatabase } from '@dealdome/db/testing';
import { z } from 'zod';
import {
  adSpendReport,
  adSpendReportQuery,
  adSpendReportSchema,
  addProductCost,
  AppError,
  createAdSpend,
  createProduct,
  createReportSnapshot,
  createStore,
  createUser,
  getReportSnapshot,
  listReportSnapshots,
  pageQuery,
  periodRange,
  pnlReportOutput,
  productReport,
  productReportQuery,
  productReportSchema,
  profitAndLoss,
  reportSnapshotPageSchema,
  reportSnapshotSchema,
  snapshotFilters,
  snapshotInput,
  upsertDailyFinancials,
  upsertProductPerformance,
} from '../src';

/**
 * Worked examples, computed by hand. Reporting currency: EUR (the default).
 *
 * Stores: Nordic Home (EUR) and Brooklyn Goods (USD). 1 USD in EUR: 0.90 on 1 March,
 * 0.80 on 8 March 2026. A rate serves its day and the 7 days after: 1–7 March at
 * 0.90, 8–15 March at 0.80, and from 16 March there is none.
 *
 * Products over 1–14 March:
 * - Lamp (Nordic, EUR): cost 10.00 from 5 March, 12.00 from 10 March.
 *   2 Mar 2 units 60.00 (before the first record: first cost 10 → 20.00)
 *   6 Mar 3 units 90.00 (10 → 30.00); 10 Mar 4 units 120.00 (12 → 48.00);
 *   12 Mar 1 unit 30.00 (12 → 12.00). Units 10, revenue 300.00, cogs 110.00.
 *   Spend: meta 40.00 on 6 Mar, tiktok 35.50 on 10 Mar = 75.50.
 *   Profit 300 − 110 − 75.50 = 114.50; roas 300 ÷ 75.50 = 3.9735… → 3.97.
 * - Rug (Nordic, EUR): cost 20.00. 3 Mar 5 units 250.00, cogs 100.00, no spend:
 *   profit 150.00, roas null.
 * - Candle (Nordic, EUR): cost 5.00. 13 Mar 10 units 200.00, cogs 50.00, no spend:
 *   profit 150.00 (a tie with Rug, broken by product id), roas null.
 * - Vase (Nordic, EUR): no sales, pinterest 20.00 on 11 Mar: profit −20.00, roas 0.00.
 * - Mug (Brooklyn, USD): cost 4.00, 5.00 from 8 March.
 *   4 Mar 10 units 150.00 USD, cogs 40.00, google 50.00 — at 0.90: 135.00, 36.00, 45.00
 *   9 Mar 6 units 90.00 USD, cogs 30.00, meta 25.00 — at 0.80: 72.00, 24.00, 20.00
 *   In USD: revenue 240.00, cogs 70.00, spend 75.00, profit 95.00, roas 3.20.
 *   In EUR: revenue 207.00, cogs 60.00, spend 65.00, profit 82.00, roas 3.1846… → 3.18.
 *
 * Unattributed spend: Nordic meta 100.00 on 7 Mar; Nordic snapchat 0.0025 on 12 and
 * on 13 March (each day alone rounds to 0.00; together 0.005 rounds half-up to 0.01).
 *
 * After the range: Mug sells 2 units for 30.00 USD on 20 March with google 10.00 USD,
 * a day without a USD rate.
 */
const USD_RATES = [
  ['2026-03-01', '0.90'],
  ['2026-03-08', '0.80'],
] as const;

describe('finance reports', () => {
  const database = useTestDatabase();
  const db = () => database.handle.db;
  const ids = { nordic: '', brooklyn: '', lamp: '', rug: '', candle: '', vase: '', mug: '', user: '' };
  const march = { from: '2026-03-01', to: '2026-03-14' };

  beforeAll(async () => {
    ids.nordic = (await createStore(db(), { name: 'Nordic Home', currency: 'EUR', timezone: 'Europe/Amsterdam' })).id;
    ids.brooklyn = (await createStore(db(), { name: 'Brooklyn Goods', currency: 'USD', timezone: 'America/New_York' })).id;
    ids.user = (await createUser(db(), { email: 'analyst@example.com', role: 'member' })).user.id;

    const product = async (storeId: string, sku: string, cur: string, costPrice: string, costEffectiveFrom: string) =>
      (await createProduct(db(), { storeId, sku, name: sku, costPrice, currency: cur, status: 'testing', costEffectiveFrom }, null)).id;
    ids.lamp = await product(ids.nordic, 'LAMP', 'EUR', '10.00', '2026-03-05');
    await addProductCost(db(), ids.lamp, { costPrice: '12.00', effectiveFrom: '2026-03-10' }, null);
    ids.rug = await product(ids.nordic, 'RUG', 'EUR', '20.00', '2026-01-01');
    ids.candle = await product(ids.nordic, 'CANDLE', 'EUR', '5.00', '2026-01-01');
    ids.vase = await product(ids.nordic, 'VASE', 'EUR', '7.00', '2026-01-01');
    ids.mug = await product(ids.brooklyn, 'MUG', 'USD', '4.00', '2026-01-01');
    await addProductCost(db(), ids.mug, { costPrice: '5.00', effectiveFrom: '2026-03-08' }, null);

    const sales: [string, string, number, string][] = [
      [ids.lamp, '2026-03-02', 2, '60.00'],
      [ids.lamp, '2026-03-06', 3, '90.00'],
      [ids.lamp, '2026-03-10', 4, '120.00'],
      [ids.lamp, '2026-03-12', 1, '30.00'],
      [ids.rug, '2026-03-03', 5, '250.00'],
      [ids.candle, '2026-03-13', 10, '200.00'],
      [ids.mug, '2026-03-04', 10, '150.00'],
      [ids.mug, '2026-03-09', 6, '90.00'],
      [ids.mug, '2026-03-20', 2, '30.00'],
    ];
    for (const [productId, date, units, revenue] of sales) await upsertProductPerformance(db(), productId, date, { units, revenue });

    const spend: [string, string, 'meta' | 'tiktok' | 'google' | 'snapchat' | 'pinterest', string, string, string | null][] = [
      [ids.nordic, '2026-03-06', 'meta', '40.00', 'EUR', ids.lamp],
      [ids.nordic, '2026-03-10', 'tiktok', '35.50', 'EUR', ids.lamp],
      [ids.nordic, '2026-03-11', 'pinterest', '20.00', 'EUR', ids.vase],
      [ids.nordic, '2026-03-07', 'meta', '100.00', 'EUR', null],
      [ids.nordic, '2026-03-12', 'snapchat', '0.0025', 'EUR', null],
      [ids.nordic, '2026-03-13', 'snapchat', '0.0025', 'EUR', null],
      [ids.brooklyn, '2026-03-04', 'google', '50.00', 'USD', ids.mug],
      [ids.brooklyn, '2026-03-09', 'meta', '25.00', 'USD', ids.mug],
      [ids.brooklyn, '2026-03-20', 'google', '10.00', 'USD', ids.mug],
    ];
    for (const [storeId, date, platform, amount, cur, productId] of spend) {
      await createAdSpend(db(), { storeId, date, platform, amount, currency: cur, productId }, null);
    }

    await upsertDailyFinancials(db(), ids.nordic, '2026-03-02', {
      revenue: '1000.00',
      discounts: '0.00',
      refunds: '0.00',
      cogs: '300.00',
      shippingCosts: '50.00',
      transactionFees: '20.00',
      orders: 10,
      units: 12,
    });

    for (const [date, rate] of USD_RATES) await db().insertInto('fx_rates').values({ date, base: 'USD', quote: 'EUR', rate }).execute();
  });

  async function refusal(promise: Promise<unknown>): Promise<AppError> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }

  /** What a client receives: the report through JSON, checked against its response schema. */
  function asSent<S extends z.ZodType>(schema: S, value: unknown) {
    const json: unknown = JSON.parse(JSON.stringify(value));
    // Parsing strips fields a schema does not know: equality shows it knows them all.
    expect(schema.parse(json)).toEqual(json);
    return json;
  }

  describe('product ranking', () => {
    const lamp = { sku: 'LAMP', name: 'LAMP', status: 'testing', units: 10, revenue: '300.00', cogs: '110.00', adSpend: '75.50', profit: '114.50', roas: '3.97' };
    const rug = { sku: 'RUG', units: 5, revenue: '250.00', cogs: '100.00', adSpend: '0.00', profit: '150.00', roas: null };
    const candle = { sku: 'CANDLE', units: 10, revenue: '200.00', cogs: '50.00', adSpend: '0.00', profit: '150.00', roas: null };
    const vase = { sku: 'VASE', units: 0, revenue: '0.00', cogs: '0.00', adSpend: '20.00', profit: '-20.00', roas: '0.00' };
    const mugInEur = { sku: 'MUG', units: 16, revenue: '207.00', cogs: '60.00', adSpend: '65.00', profit: '82.00', roas: '3.18' };
    const byId = (a: string, b: string) => (a < b ? -1 : 1);

    it('when all stores are ranked by profit, then USD sales are converted at each day’s rate and ties go by product id', async () => {
      const report = await productReport(db(), productReportQuery.parse({ ...march }));
      expect(report).toMatchObject({ currency: 'EUR', storeId: null, from: '2026-03-01', to: '2026-03-14', sortBy: 'profit' });
      const [first, second] = [ids.rug, ids.candle].sort(byId);
      expect(report.rows.map((r) => r.productId)).toEqual([first, second, ids.lamp, ids.mug, ids.vase]);
      expect(report.rows).toEqual([
        expect.objectContaining(first === ids.rug ? rug : candle),
        expect.objectContaining(first === ids.rug ? candle : rug),
        expect.objectContaining({ ...lamp, productId: ids.lamp, storeId: ids.nordic, currency: 'EUR' }),
        expect.objectContaining({ ...mugInEur, storeId: ids.brooklyn, currency: 'EUR' }),
        expect.objectContaining(vase),
      ]);
      asSent(productReportSchema, report);
    });

    it('when the cost changes mid-range, then units are costed at the price valid on each sale date, the first cost before any record', async () => {
      const report = await productReport(db(), productReportQuery.parse({ from: '2026-03-01', to: '2026-03-09', storeId: ids.nordic }));
      // Lamp: 2 units on 2 Mar and 3 on 6 Mar, all at 10.00; the 12.00 from 10 March is outside.
      expect(report.rows.find((r) => r.productId === ids.lamp)).toMatchObject({ units: 5, revenue: '150.00', cogs: '50.00', adSpend: '40.00', profit: '60.00', roas: '3.75' });
      const later = await productReport(db(), productReportQuery.parse({ from: '2026-03-10', to: '2026-03-14', storeId: ids.nordic }));
      expect(later.rows.find((r) => r.productId === ids.lamp)).toMatchObject({ units: 5, revenue: '150.00', cogs: '60.00', adSpend: '35.50', profit: '54.50', roas: '4.23' });
    });

    it('when ranked by roas, then the highest comes first and products without ad spend come last', async () => {
      const report = await productReport(db(), productReportQuery.parse({ ...march, sortBy: 'roas' }));
      expect(report.rows.map((r) => r.roas)).toEqual(['3.97', '3.18', '0.00', null, null]);
      expect(report.rows.slice(3).map((r) => r.productId)).toEqual([ids.rug, ids.candle].sort(byId));
    });

    it('when one store is asked for, then it is in the store’s own currency unless another is asked for', async () => {
      const own = await productReport(db(), productReportQuery.parse({ ...march, storeId: ids.brooklyn }));
      expect(own.currency).toBe('USD');
      expect(own.rows).toEqual([
        { productId: ids.mug, storeId: ids.brooklyn, sku: 'MUG', name: 'MUG', status: 'testing', currency: 'USD', units: 16, revenue: '240.00', cogs: '70.00', adSpend: '75.00', profit: '95.00', roas: '3.20' },
      ]);
      const inEur = await productReport(db(), productReportQuery.parse({ ...march, storeId: ids.brooklyn, currency: 'EUR' }));
      expect(inEur.rows).toEqual([expect.objectContaining({ ...mugInEur, currency: 'EUR' })]);
    });

    it('when a limit is given, then only that many of the top products are listed', async () => {
      const report = await productReport(db(), productReportQuery.parse({ ...march, limit: '3' }));
      expect(report.rows.map((r) => r.profit)).toEqual(['150.00', '150.00', '114.50']);
    });

    it('when a USD amount falls on a day without a rate, then the report is a 422 naming currency and date', async () => {
      const err = await refusal(productReport(db(), productReportQuery.parse({ from: '2026-03-01', to: '2026-03-31' })));
      expect(err.status).toBe(422);
      expect(err.code).toBe('unprocessable');
      expect(err.message).toContain('USD on 2026-03-20');
      // The store on its own needs no rate.
      const own = await productReport(db(), productReportQuery.parse({ from: '2026-03-01', to: '2026-03-31', storeId: ids.brooklyn }));
      expect(own.rows[0]).toMatchObject({ units: 18, revenue: '270.00', cogs: '80.00', adSpend: '85.00', profit: '105.00' });
    });

    it('when the store is unknown, then it is a 404', async () => {
      const err = await refusal(productReport(db(), productReportQuery.parse({ ...march, storeId: '00000000-0000-4000-8000-000000000000' })));
      expect(err.status).toBe(404);
    });

    it('when the query is wrong, then the schema names every bad field', () => {
      const result = productReportQuery.safeParse({ from: '2026-03-10', to: '2026-03-01', sortBy: 'margin', currency: 'XYZ', limit: '0', storeId: 'nope' });
      expect(result.success).toBe(false);
      expect(new Set(result.error?.issues.map((i) => i.path.join('.')))).toEqual(new Set(['from', 'sortBy', 'currency', 'limit', 'storeId']));
    });
  });

  describe('ad-spend report', () => {
    it('when all stores are grouped by platform, then every platform is listed in EUR and rounding happens only at output', async () => {
      const report = await adSpendReport(db(), adSpendReportQuery.parse({ ...march }));
      expect(report).toEqual({
        currency: 'EUR',
        storeId: null,
        from: '2026-03-01',
        to: '2026-03-14',
        groupBy: 'platform',
        rows: [
          // 40.00 + 100.00 EUR and 25.00 USD × 0.80
          { key: 'meta', amount: '160.00', entries: 3 },
          { key: 'tiktok', amount: '35.50', entries: 1 },
          // 50.00 USD × 0.90
          { key: 'google', amount: '45.00', entries: 1 },
          // 0.0025 + 0.0025 = 0.005, half-up
          { key: 'snapchat', amount: '0.01', entries: 2 },
          { key: 'pinterest', amount: '20.00', entries: 1 },
          { key: 'other', amount: '0.00', entries: 0 },
        ],
        // 160 + 35.50 + 45 + 0.005 + 20 = 260.505
        total: '260.51',
      });
      asSent(adSpendReportSchema, report);
    });

    it('when grouped by store, then every store is listed by name with its spend converted', async () => {
      const report = await adSpendReport(db(), adSpendReportQuery.parse({ ...march, groupBy: 'store' }));
      expect(report.rows).toEqual([
        { key: ids.brooklyn, amount: '65.00', entries: 2 },
        // 40 + 35.50 + 20 + 100 + 0.005 = 195.505
        { key: ids.nordic, amount: '195.51', entries: 6 },
      ]);
      expect(report.total).toBe('260.51');
    });

    it('when one store is grouped by day, then every day of the range appears in the store’s currency', async () => {
      const report = await adSpendReport(db(), adSpendReportQuery.parse({ ...march, storeId: ids.brooklyn, groupBy: 'day' }));
      expect(report.currency).toBe('USD');
      expect(report.rows).toHaveLength(14);
      expect(report.rows.filter((r) => r.entries > 0)).toEqual([
        { key: '2026-03-04', amount: '50.00', entries: 1 },
        { key: '2026-03-09', amount: '25.00', entries: 1 },
      ]);
      expect(report.rows[0]).toEqual({ key: '2026-03-01', amount: '0.00', entries: 0 });
      expect(report.total).toBe('75.00');
    });

    it('when a day has spend below a cent, then the day shows 0.00 while the total keeps the exact sum', async () => {
      const report = await adSpendReport(db(), adSpendReportQuery.parse({ from: '2026-03-12', to: '2026-03-13', storeId: ids.nordic, groupBy: 'day' }));
      expect(report.rows).toEqual([
        { key: '2026-03-12', amount: '0.00', entries: 1 },
        { key: '2026-03-13', amount: '0.00', entries: 1 },
      ]);
      expect(report.total).toBe('0.01');
    });

    it('when another currency is asked for, then one store is converted into it', async () => {
      const report = await adSpendReport(db(), adSpendReportQuery.parse({ ...march, storeId: ids.brooklyn, currency: 'EUR' }));
      expect(report.currency).toBe('EUR');
      expect(report.rows.filter((r) => r.entries > 0)).toEqual([
        { key: 'meta', amount: '20.00', entries: 1 },
        { key: 'google', amount: '45.00', entries: 1 },
      ]);
      expect(report.total).toBe('65.00');
    });

    it('when spend falls on a day without a rate, then the report is a 422 naming currency and date', async () => {
      const err = await refusal(adSpendReport(db(), adSpendReportQuery.parse({ from: '2026-03-15', to: '2026-03-31' })));
      expect(err.status).toBe(422);
      expect(err.message).toContain('USD on 2026-03-20');
      expect(err.fieldErrors).toEqual({ currency: ['missing rate for USD on 2026-03-20'] });
    });

    it('when the store is unknown or the query wrong, then it is a 404 or the schema names the fields', async () => {
      expect((await refusal(adSpendReport(db(), adSpendReportQuery.parse({ ...march, storeId: '00000000-0000-4000-8000-000000000000' })))).status).toBe(404);
      const result = adSpendReportQuery.safeParse({ from: '2026-03-01', to: 'soon', groupBy: 'campaign' });
      expect(new Set(result.error?.issues.map((i) => i.path.join('.')))).toEqual(new Set(['to', 'groupBy']));
    });
  });

  describe('report snapshots', () => {
    it('when a period is a month, an ISO week or a range of days, then it covers exactly those days', () => {
      expect(periodRange('2026-02')).toEqual({ from: '2026-02-01', to: '2026-02-28' });
      expect(periodRange('2028-02')).toEqual({ from: '2028-02-01', to: '2028-02-29' });
      expect(periodRange('2026-W10')).toEqual({ from: '2026-03-02', to: '2026-03-08' });
      // 2026 has 53 ISO weeks (1 January is a Thursday); the last runs into 2027.
      expect(periodRange('2026-W53')).toEqual({ from: '2026-12-28', to: '2027-01-03' });
      expect(periodRange('2026-W01')).toEqual({ from: '2025-12-29', to: '2026-01-04' });
      expect(periodRange('2026-03-01..2026-03-03')).toEqual({ from: '2026-03-01', to: '2026-03-03' });
    });

    it('when a period is not one of the accepted forms, then the schema refuses it', () => {
      for (const period of ['2026-13', '2025-W53', '2026-W00', '2026-03-10..2026-03-01', '2026-02-30..2026-03-01', 'March', '2020-01-01..2026-01-01']) {
        const result = snapshotInput.safeParse({ period });
        expect(result.success).toBe(false);
        expect(result.error?.issues[0]?.path).toEqual(['period']);
      }
      expect(snapshotInput.safeParse({ period: '2026-03', storeId: 'nope' }).error?.issues.map((i) => i.path)).toEqual([['storeId']]);
    });

    it('when a month is snapshotted, then the stored P&L by day reads back exactly as it was computed', async () => {
      const created = await createReportSnapshot(db(), snapshotInput.parse({ period: '2026-03', storeId: ids.nordic }), ids.user);
      expect(created).toMatchObject({ storeId: ids.nordic, periodStart: '2026-03-01', periodEnd: '2026-03-31', currency: 'EUR', generatedBy: ids.user });
      expect(created.report.groupBy).toBe('day');
      expect(created.report.rows).toHaveLength(31);
      // Ad spend 40 + 35.50 + 20 + 100 + 0.005 = 195.505; net profit 1000 − 300 − 50 − 20 − 195.505 = 434.495.
      expect(created.report.totals).toMatchObject({ revenue: '1000.00', grossProfit: '630.00', adSpend: '195.51', netProfit: '434.50', roas: '5.11' });
      expect(created.report).toEqual(await profitAndLoss(db(), { from: '2026-03-01', to: '2026-03-31', storeId: ids.nordic, groupBy: 'day' }));

      const read = await getReportSnapshot(db(), created.id);
      expect(read).toEqual(created);
      expect(asSent(reportSnapshotSchema, read)).toMatchObject({ id: created.id, generatedAt: created.generatedAt.toISOString() });
      asSent(pnlReportOutput, read.report);
    });

    it('when all stores are snapshotted for a week, then the report is in EUR with USD converted', async () => {
      const created = await createReportSnapshot(db(), snapshotInput.parse({ period: '2026-W10' }), null);
      expect(created).toMatchObject({ storeId: null, periodStart: '2026-03-02', periodEnd: '2026-03-08', currency: 'EUR', generatedBy: null });
      // Nordic 40 + 100 EUR; Brooklyn 50 USD × 0.90.
      expect(created.report.totals.adSpend).toBe('185.00');
    });

    it('when the period has a USD amount without a rate, then nothing is stored and it is a 422', async () => {
      const before = await db().selectFrom('financial_reports').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      const err = await refusal(createReportSnapshot(db(), snapshotInput.parse({ period: '2026-03' }), null));
      expect(err.status).toBe(422);
      expect(err.message).toContain('USD on 2026-03-20');
      const after = await db().selectFrom('financial_reports').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      expect(after.n).toBe(before.n);
    });

    it('when the store or the snapshot is unknown, then it is a 404', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';
      expect((await refusal(createReportSnapshot(db(), { period: '2026-03', storeId: unknown }, null))).status).toBe(404);
      expect((await refusal(getReportSnapshot(db(), unknown))).status).toBe(404);
      expect((await refusal(listReportSnapshots(db(), { storeId: unknown }, pageQuery.parse({})))).status).toBe(404);
    });

    it('when snapshots are listed a page at a time, then pages run newest first without skipping or repeating', async () => {
      // Three more from the domain, and two written in the same microsecond: the id breaks that tie.
      for (const period of ['2026-03-01..2026-03-03', '2026-02', '2026-W09']) {
        await createReportSnapshot(db(), snapshotInput.parse({ period, storeId: ids.nordic }), ids.user);
      }
      const report = await profitAndLoss(db(), { from: '2026-01-01', to: '2026-01-31', storeId: ids.nordic, groupBy: 'day' });
      const sameInstant = '2026-01-01T00:00:00.123456Z';
      await db()
        .insertInto('financial_reports')
        .values([1, 2].map(() => ({ store_id: ids.nordic, period_start: '2026-01-01', period_end: '2026-01-31', currency: 'EUR', report: JSON.stringify(report), generated_at: sameInstant })))
        .execute();

      const all = await db().selectFrom('financial_reports').select(['id']).orderBy('generated_at', 'desc').orderBy('id', 'desc').execute();
      expect(all).toHaveLength(7);

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listReportSnapshots(db(), {}, pageQuery.parse({ limit: 2, cursor }));
        asSent(reportSnapshotPageSchema, page);
        expect(page.data.length).toBeLessThanOrEqual(2);
        seen.push(...page.data.map((s) => s.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(all.map((r) => r.id));

      const first = await listReportSnapshots(db(), {}, pageQuery.parse({ limit: 1 }));
      expect(first.data[0]).toMatchObject({ storeId: ids.nordic, periodStart: '2026-02-23', periodEnd: '2026-03-01', generatedBy: ids.user });
      expect(first.data[0]).not.toHaveProperty('report');
      expect(first.data[0]?.totals).toEqual((await getReportSnapshot(db(), first.data[0]!.id)).report.totals);
    });

    it('when snapshots are filtered, then only those of the store and whose period lies within the dates are listed', async () => {
      const march = await listReportSnapshots(db(), snapshotFilters.parse({ storeId: ids.nordic, from: '2026-03-01', to: '2026-03-31' }), pageQuery.parse({}));
      expect(march.data.map((s) => `${s.periodStart}..${s.periodEnd}`).sort()).toEqual(['2026-03-01..2026-03-03', '2026-03-01..2026-03-31']);
      const everyStore = await listReportSnapshots(db(), snapshotFilters.parse({ from: '2026-03-02', to: '2026-03-08' }), pageQuery.parse({}));
      expect(everyStore.data.map((s) => s.storeId)).toEqual([null]);
      expect(snapshotFilters.safeParse({ from: '2026-03-08', to: '2026-03-01' }).error?.issues[0]?.path).toEqual(['from']);
    });

    it('when a cursor was not issued by the list, then it is refused as invalid', async () => {
      const forged = Buffer.from(JSON.stringify(['yesterday', '00000000-0000-4000-8000-000000000000'])).toString('base64url');
      expect((await refusal(listReportSnapshots(db(), {}, pageQuery.parse({ cursor: forged })))).status).toBe(400);
    });
  });

  it('when the response schemas are turned into JSON Schema for the OpenAPI document, then each is representable', () => {
    for (const schema of [productReportSchema, adSpendReportSchema, pnlReportOutput, reportSnapshotSchema, reportSnapshotPageSchema]) {
      expect(() => z.toJSONSchema(schema)).not.toThrow();
    }
  });
});
