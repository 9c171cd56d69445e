import { adSpendInRange } from '@dealdome/domain';
import { useFinanceApi } from './harness';

describe('finance-api ad spend', () => {
  const api = useFinanceApi();
  let eurStore: string;
  let usdStore: string;
  let lamp: string;
  let mug: string;
  let cap: string;
  let admin: Awaited<ReturnType<typeof api.userWithToken>>;
  let member: Awaited<ReturnType<typeof api.userWithToken>>;
  let viewer: Awaited<ReturnType<typeof api.userWithToken>>;

  const newStore = async (name: string, currency: string, shopDomain: string | null = null) =>
    (await api.db.insertInto('stores').values({ name, currency, timezone: 'UTC', shop_domain: shopDomain }).returning('id').executeTakeFirstOrThrow()).id;
  const newProduct = async (storeId: string, sku: string, currency: string) =>
    (
      await api.db
        .insertInto('products')
        .values({ store_id: storeId, sku, name: sku, cost_price: '1', currency })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  const countEntries = async (storeId: string) =>
    Number((await api.db.selectFrom('ad_spend_entries').select((eb) => eb.fn.countAll().as('n')).where('store_id', '=', storeId).executeTakeFirstOrThrow()).n);
  const importCsv = (csv: string, query: string, token = member.accessToken) =>
    api.request('POST', `/v1/ad-spend/import${query}`, { token, raw: csv, contentType: 'text/csv' });
  const tokenWith = async (scopes: string[]) => {
    const res = await api.request('POST', '/v1/api-tokens', { token: admin.accessToken, body: { name: `t-${scopes.join('-')}`, scopes } });
    expect(res.status).toBe(201);
    return res.body.token as string;
  };

  beforeAll(async () => {
    eurStore = await newStore('Nordic Home', 'EUR', 'nordic-home.myshopify.com');
    usdStore = await newStore('Desert Goods', 'USD', 'desert-goods.myshopify.com');
    lamp = await newProduct(eurStore, 'LAMP-01', 'EUR');
    mug = await newProduct(eurStore, 'MUG-01', 'EUR');
    cap = await newProduct(usdStore, 'CAP-01', 'USD');
    admin = await api.userWithToken('admin');
    member = await api.userWithToken('member');
    viewer = await api.userWithToken('viewer');
  });

  describe('single entries', () => {
    it('when a member records spend, then it is stored with its author and can be read, patched and deleted', async () => {
      const created = await api.request('POST', '/v1/ad-spend', {
        token: member.accessToken,
        body: { storeId: eurStore, date: '2026-11-20', platform: 'meta', amount: '123.4', currency: 'EUR', campaign: '  BF lamps  ', productId: lamp },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        storeId: eurStore,
        date: '2026-11-20',
        platform: 'meta',
        amount: '123.40',
        currency: 'EUR',
        campaign: 'BF lamps',
        productId: lamp,
        importBatchId: null,
        createdBy: member.user.id,
      });
      const id = created.body.id as string;

      const read = await api.request('GET', `/v1/ad-spend/${id}`, { token: viewer.accessToken });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id, amount: '123.40' });

      const patched = await api.request('PATCH', `/v1/ad-spend/${id}`, {
        token: member.accessToken,
        body: { amount: '99.1234', platform: 'tiktok', campaign: null, productId: null },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ id, amount: '99.1234', platform: 'tiktok', campaign: null, productId: null, date: '2026-11-20' });
      const stored = await api.db.selectFrom('ad_spend_entries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      expect(stored).toMatchObject({ amount: '99.1234', platform: 'tiktok', created_by: member.user.id });

      expect((await api.request('DELETE', `/v1/ad-spend/${id}`, { token: member.accessToken })).status).toBe(204);
      expect((await api.request('GET', `/v1/ad-spend/${id}`, { token: member.accessToken })).status).toBe(404);
      expect((await api.request('DELETE', `/v1/ad-spend/${id}`, { token: member.accessToken })).status).toBe(404);
    });

    it('when the currency is not the store\'s, then 422 names both currencies and nothing is stored', async () => {
      const before = await countEntries(eurStore);
      const res = await api.request('POST', '/v1/ad-spend', {
        token: member.accessToken,
        body: { storeId: eurStore, date: '2026-11-20', platform: 'google', amount: '10.00', currency: 'USD' },
      });
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.body.detail).toContain('USD');
      expect(res.body.detail).toContain('EUR');
      expect(res.body.errors.currency[0]).toContain('EUR');
      expect(await countEntries(eurStore)).toBe(before);
    });

    it('when the product is not the store\'s or does not exist, or the store does not exist, then the entry is refused', async () => {
      const otherStores = await api.request('POST', '/v1/ad-spend', {
        token: member.accessToken,
        body: { storeId: eurStore, date: '2026-11-20', platform: 'meta', amount: '1.00', currency: 'EUR', productId: cap },
      });
      expect(otherStores.status).toBe(422);
      expect(Object.keys(otherStores.body.errors)).toEqual(['productId']);
      const noProduct = await api.request('POST', '/v1/ad-spend', {
        token: member.accessToken,
        body: { storeId: eurStore, date: '2026-11-20', platform: 'meta', amount: '1.00', currency: 'EUR', productId: '00000000-0000-4000-8000-000000000000' },
      });
      expect(noProduct.status).toBe(400);
      expect(noProduct.body.errors.productId).toEqual(['no such product']);
      const noStore = await api.request('POST', '/v1/ad-spend', {
        token: member.accessToken,
        body: { storeId: '00000000-0000-4000-8000-000000000000', date: '2026-11-20', platform: 'meta', amount: '1.00', currency: 'EUR' },
      });
      expect(noStore.status).toBe(400);
      expect(noStore.body.errors.storeId).toEqual(['no such store']);
    });

    it('when a patch moves an entry to a store of another currency, then it is refused unless the currency moves too', async () => {
      const created = await api.request('POST', '/v1/ad-spend', {
        token: member.accessToken,
        body: { storeId: eurStore, date: '2026-11-21', platform: 'meta', amount: '5.00', currency: 'EUR', productId: mug },
      });
      const id = created.body.id as string;
      const wrongCurrency = await api.request('PATCH', `/v1/ad-spend/${id}`, { token: member.accessToken, body: { storeId: usdStore, productId: null } });
      expect(wrongCurrency.status).toBe(422);
      expect(wrongCurrency.body.detail).toMatch(/EUR.*USD/);
      const keepsProduct = await api.request('PATCH', `/v1/ad-spend/${id}`, { token: member.accessToken, body: { storeId: usdStore, currency: 'USD' } });
      expect(keepsProduct.status).toBe(422);
      expect(keepsProduct.body.errors.productId).toEqual(['is not a product of this store']);
      const moved = await api.request('PATCH', `/v1/ad-spend/${id}`, { token: member.accessToken, body: { storeId: usdStore, currency: 'USD', productId: cap } });
      expect(moved.status).toBe(200);
      expect(moved.body).toMatchObject({ storeId: usdStore, currency: 'USD', productId: cap, amount: '5.00' });
      await api.request('DELETE', `/v1/ad-spend/${id}`, { token: member.accessToken });
    });

    it('when input is wrong, then 400 names every bad field', async () => {
      const res = await api.request('POST', '/v1/ad-spend', {
        token: member.accessToken,
        body: { storeId: 'nope', date: '2026-02-30', platform: 'myspace', amount: '-5', currency: 'eur', productId: 'x' },
      });
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.errors).sort()).toEqual(['amount', 'currency', 'date', 'platform', 'productId', 'storeId']);
      const missing = await api.request('POST', '/v1/ad-spend', { token: member.accessToken, body: {} });
      expect(missing.status).toBe(400);
      expect(Object.keys(missing.body.errors).sort()).toEqual(['amount', 'currency', 'date', 'platform', 'storeId']);
      const amountAsNumber = await api.request('POST', '/v1/ad-spend', {
        token: member.accessToken,
        body: { storeId: eurStore, date: '2026-11-20', platform: 'meta', amount: 12.5, currency: 'EUR' },
      });
      expect(amountAsNumber.status).toBe(400);
      expect(Object.keys(amountAsNumber.body.errors)).toEqual(['amount']);
    });

    it('when input is hostile or absurd, then the answer is a 4xx, never a 5xx, and nothing is stored', async () => {
      const before = await countEntries(eurStore);
      const valid = { storeId: eurStore, date: '2026-11-20', platform: 'meta', amount: '1.00', currency: 'EUR' };
      const bodies: unknown[] = [
        { ...valid, campaign: 'x'.repeat(100_000) },
        { ...valid, amount: '-0.01' },
        { ...valid, amount: '1e6' },
        { ...valid, amount: '999999999999999999999' },
        { ...valid, amount: '1.23456' },
        { ...valid, currency: 'XYZ' },
        { ...valid, currency: '1; DROP TABLE ad_spend_entries' },
        { ...valid, storeId: "1; DROP TABLE stores; --" },
        { ...valid, date: "2026-11-20'; DROP TABLE x; --" },
        { ...valid, date: '99999-01-01' },
        { ...valid, platform: { $ne: null } },
        [valid],
        'just a string',
      ];
      for (const body of bodies) {
        const res = await api.request('POST', '/v1/ad-spend', { token: member.accessToken, body });
        expect([400, 413, 422]).toContain(res.status);
      }
      const notJson = await api.request('POST', '/v1/ad-spend', { token: member.accessToken, raw: '{"storeId":', contentType: 'application/json' });
      expect(notJson.status).toBe(400);
      const sqlCampaign = await api.request('POST', '/v1/ad-spend', { token: member.accessToken, body: { ...valid, campaign: '1; DROP TABLE x' } });
      expect(sqlCampaign.status).toBe(201);
      expect(sqlCampaign.body.campaign).toBe('1; DROP TABLE x');
      await api.request('DELETE', `/v1/ad-spend/${sqlCampaign.body.id}`, { token: member.accessToken });
      expect(await countEntries(eurStore)).toBe(before);
    });

    it('when an entry does not exist or the id is not a uuid, then 404 or 400', async () => {
      const ghost = '00000000-0000-4000-8000-000000000000';
      expect((await api.request('GET', `/v1/ad-spend/${ghost}`, { token: viewer.accessToken })).status).toBe(404);
      expect((await api.request('PATCH', `/v1/ad-spend/${ghost}`, { token: member.accessToken, body: { amount: '1.00' } })).status).toBe(404);
      expect((await api.request('DELETE', `/v1/ad-spend/${ghost}`, { token: member.accessToken })).status).toBe(404);
      expect((await api.request('GET', '/v1/ad-spend/not-a-uuid', { token: viewer.accessToken })).status).toBe(400);
      expect((await api.request('DELETE', `/v1/ad-spend/1;DROP TABLE x`, { token: member.accessToken })).status).toBe(400);
    });
  });

  describe('listing', () => {
    let listStore: string;
    let tshirt: string;

    beforeAll(async () => {
      listStore = await newStore('List Store', 'EUR');
      tshirt = await newProduct(listStore, 'TEE-01', 'EUR');
      const rows = [
        ['2026-10-01', 'meta', '1.00', null],
        ['2026-10-02', 'google', '2.00', tshirt],
        ['2026-10-02', 'meta', '3.00', tshirt],
        ['2026-10-03', 'tiktok', '4.00', null],
        ['2026-10-05', 'meta', '5.00', null],
      ] as const;
      for (const [date, platform, amount, productId] of rows) {
        const res = await api.request('POST', '/v1/ad-spend', {
          token: member.accessToken,
          body: { storeId: listStore, date, platform, amount, currency: 'EUR', productId },
        });
        expect(res.status).toBe(201);
      }
    });

    it('when entries are listed page by page, then they come newest day first and no page skips or repeats one', async () => {
      const seen: { date: string; amount: string }[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `/v1/ad-spend?storeId=${listStore}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await api.request('GET', query, { token: viewer.accessToken });
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.data);
        cursor = res.body.nextCursor;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen.map((e) => e.date)).toEqual(['2026-10-05', '2026-10-03', '2026-10-02', '2026-10-02', '2026-10-01']);
      expect(new Set(seen.map((e) => e.amount)).size).toBe(5);
    });

    it('when filters are given, then only matching entries come back', async () => {
      const get = async (query: string) => {
        const res = await api.request('GET', `/v1/ad-spend?storeId=${listStore}&${query}`, { token: viewer.accessToken });
        expect(res.status).toBe(200);
        return res.body.data.map((e: { amount: string }) => e.amount);
      };
      expect(await get('platform=meta')).toEqual(['5.00', '3.00', '1.00']);
      const inRange = await get('from=2026-10-02&to=2026-10-03');
      expect(inRange[0]).toBe('4.00');
      expect(inRange.slice(1).sort()).toEqual(['2.00', '3.00']);
      expect((await get(`productId=${tshirt}`)).sort()).toEqual(['2.00', '3.00']);
      expect(await get('from=2026-10-04')).toEqual(['5.00']);
      expect(await get('to=2026-10-01')).toEqual(['1.00']);
      expect(await get('platform=pinterest')).toEqual([]);
    });

    it('when list parameters are wrong, then 400 names them', async () => {
      const bad = await api.request('GET', '/v1/ad-spend?storeId=x&from=2026-13-01&platform=myspace&limit=0', { token: viewer.accessToken });
      expect(bad.status).toBe(400);
      expect(Object.keys(bad.body.errors).sort()).toEqual(['from', 'platform', 'storeId']);
      expect((await api.request('GET', '/v1/ad-spend?limit=0', { token: viewer.accessToken })).body.errors).toHaveProperty('limit');
      const reversed = await api.request('GET', '/v1/ad-spend?from=2026-10-05&to=2026-10-01', { token: viewer.accessToken });
      expect(reversed.status).toBe(400);
      expect(reversed.body.errors).toHaveProperty('from');
      expect((await api.request('GET', '/v1/ad-spend?cursor=garbage', { token: viewer.accessToken })).status).toBe(400);
      // A well-formed cursor whose key is not a date is refused too, not sent to the database.
      const forged = Buffer.from(JSON.stringify(['not-a-date', '00000000-0000-4000-8000-000000000000'])).toString('base64url');
      expect((await api.request('GET', `/v1/ad-spend?cursor=${forged}`, { token: viewer.accessToken })).status).toBe(400);
      expect((await api.request('GET', `/v1/ad-spend?storeId=${listStore}&storeId=${listStore}`, { token: viewer.accessToken })).status).toBe(400);
    });

    it('when the P&L asks for spend in a range, then adSpendInRange gives each entry of the range with its store and currency', async () => {
      const rows = await adSpendInRange(api.db, { from: '2026-10-02', to: '2026-10-03', storeId: listStore });
      expect(rows).toEqual([
        { storeId: listStore, date: '2026-10-02', platform: expect.any(String), amount: expect.any(String), currency: 'EUR', productId: tshirt },
        { storeId: listStore, date: '2026-10-02', platform: expect.any(String), amount: expect.any(String), currency: 'EUR', productId: tshirt },
        { storeId: listStore, date: '2026-10-03', platform: 'tiktok', amount: '4.00', currency: 'EUR', productId: null },
      ]);
      expect(rows.slice(0, 2).map((r) => `${r.platform}:${r.amount}`).sort()).toEqual(['google:2.00', 'meta:3.00']);
      const everyStore = await adSpendInRange(api.db, { from: '2026-10-01', to: '2026-10-05' });
      expect(everyStore.filter((r) => r.storeId === listStore)).toHaveLength(5);
    });
  });

  describe('permissions', () => {
    it('when a viewer or a read-only API token writes, then 403; reading is allowed; without credentials 401', async () => {
      const body = { storeId: eurStore, date: '2026-11-20', platform: 'meta', amount: '1.00', currency: 'EUR' };
      const entry = await api.request('POST', '/v1/ad-spend', { token: member.accessToken, body });
      const id = entry.body.id as string;
      const readOnly = await tokenWith(['finance:read']);
      for (const token of [viewer.accessToken, readOnly]) {
        expect((await api.request('POST', '/v1/ad-spend', { token, body })).status).toBe(403);
        expect((await api.request('PATCH', `/v1/ad-spend/${id}`, { token, body: { amount: '2.00' } })).status).toBe(403);
        expect((await api.request('DELETE', `/v1/ad-spend/${id}`, { token })).status).toBe(403);
        expect((await importCsv('date,platform,amount,currency\n2026-11-20,meta,1.00,EUR\n', `?storeId=${eurStore}`, token)).status).toBe(403);
        expect((await api.request('GET', `/v1/ad-spend/${id}`, { token })).status).toBe(200);
        expect((await api.request('GET', '/v1/ad-spend', { token })).status).toBe(200);
      }
      expect((await api.request('GET', '/v1/ad-spend')).status).toBe(401);
      expect((await api.request('POST', '/v1/ad-spend', { body })).status).toBe(401);
      expect((await api.request('GET', `/v1/ad-spend/${id}`, { token: viewer.accessToken })).body.amount).toBe('1.00');
      await api.request('DELETE', `/v1/ad-spend/${id}`, { token: member.accessToken });
    });

    it('when an API token with finance:write records spend, then it is stored without a person as author', async () => {
      const writer = await tokenWith(['finance:read', 'finance:write']);
      const res = await api.request('POST', '/v1/ad-spend', {
        token: writer,
        body: { storeId: eurStore, date: '2026-11-22', platform: 'snapchat', amount: '7.00', currency: 'EUR' },
      });
      expect(res.status).toBe(201);
      expect(res.body.createdBy).toBeNull();
      await api.request('DELETE', `/v1/ad-spend/${res.body.id}`, { token: writer });
    });
  });

  describe('CSV import', () => {
    let importStore: string;
    let vase: string;

    beforeAll(async () => {
      importStore = await newStore('Import Store', 'EUR');
      vase = await newProduct(importStore, 'VASE-01', 'EUR');
    });

    it('when a clean file is imported, then every row is stored under one batch id and the totals per platform come back', async () => {
      const csv =
        '\ufeffAmount, Date ,PLATFORM,Currency,Campaign,SKU,Reach\r\n' +
        '123.40,2026-11-01,meta,EUR,"Black Friday, lamps",VASE-01,1000\r\n' +
        '0.6,2026-11-01,Meta,eur,,,20\r\n' +
        '1234.50,2026-11-02,tiktok,EUR,Spring,,5\r\n' +
        '10,2026-11-03,google,EUR,,,0\r\n';
      const res = await importCsv(csv, `?storeId=${importStore}`);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        importBatchId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        imported: 4,
        currency: 'EUR',
        totalsByPlatform: { meta: '124.00', tiktok: '1234.50', google: '10.00' },
        totalsByCurrency: { EUR: { meta: '124.00', tiktok: '1234.50', google: '10.00' } },
      });
      const stored = await api.db
        .selectFrom('ad_spend_entries')
        .selectAll()
        .where('store_id', '=', importStore)
        .orderBy('amount')
        .execute();
      expect(stored).toHaveLength(4);
      expect(new Set(stored.map((r) => r.import_batch_id))).toEqual(new Set([res.body.importBatchId]));
      expect(stored.every((r) => r.created_by === member.user.id)).toBe(true);
      expect(stored.map((r) => [r.date, r.platform, r.amount, r.campaign, r.product_id])).toEqual([
        ['2026-11-01', 'meta', '0.6000', null, null],
        ['2026-11-03', 'google', '10.0000', null, null],
        ['2026-11-01', 'meta', '123.4000', 'Black Friday, lamps', vase],
        ['2026-11-02', 'tiktok', '1234.5000', 'Spring', null],
      ]);
      const listed = await api.request('GET', `/v1/ad-spend?importBatchId=${res.body.importBatchId}`, { token: viewer.accessToken });
      expect(listed.body.data).toHaveLength(4);
    });

    it('when one row is bad, then the whole file is refused, nothing is stored, and the row is named', async () => {
      const before = await countEntries(importStore);
      const csv = 'date,platform,amount,currency\n2026-11-05,meta,10.00,EUR\n2026-11-06,meta,abc,EUR\n2026-11-07,google,5.00,EUR\n';
      const res = await importCsv(csv, `?storeId=${importStore}`);
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 422, code: 'import_rejected', badRows: 1 });
      expect(res.body.rows).toEqual([{ row: 3, errors: { amount: [expect.stringContaining('"abc"')] } }]);
      expect(res.body.detail).toMatch(/header is row 1/);
      expect(await countEntries(importStore)).toBe(before);
    });

    it('when many rows are bad, then each is reported with its spreadsheet row number and the columns at fault', async () => {
      const before = await countEntries(importStore);
      const csv = [
        'date,platform,amount,currency,campaign,sku', // row 1
        '2026-11-05,meta,10.00,EUR,ok,', // row 2: fine
        '2026-13-01,myspace,"1,234.50",USD,,', // row 3: date, platform, amount, currency (other store's)
        '', // row 4: blank, skipped but counted
        '2026-11-06,google,5.00,EUR,"two', // row 5: campaign spans two lines...
        'lines",NOPE-1', // ...still row 5; unknown SKU
        '2026-11-07,tiktok,-3,EURO,,', // row 6: negative amount, bad currency
        '2026-11-08,tiktok,3.00,EUR,,,extra', // row 7: one cell too many
        '2026-11-09,pinterest,1.00,EUR,,CAP-01', // row 8: SKU of another store
      ].join('\n');
      const res = await importCsv(csv, `?storeId=${importStore}`);
      expect(res.status).toBe(422);
      expect(res.body.badRows).toBe(5);
      const byRow = Object.fromEntries(res.body.rows.map((r: { row: number; errors: Record<string, string[]> }) => [r.row, r.errors]));
      expect(Object.keys(byRow).map(Number)).toEqual([3, 5, 6, 7, 8]);
      expect(Object.keys(byRow[3]).sort()).toEqual(['amount', 'currency', 'date', 'platform']);
      expect(byRow[3].amount[0]).toMatch(/no thousands separator/);
      expect(byRow[3].currency[0]).toMatch(/USD.*EUR/);
      expect(byRow[3].platform[0]).toMatch(/meta, tiktok, google/);
      expect(byRow[5]).toEqual({ sku: [expect.stringContaining('"NOPE-1"')] });
      expect(Object.keys(byRow[6]).sort()).toEqual(['amount', 'currency']);
      expect(byRow[6].amount[0]).toMatch(/negative/);
      expect(Object.keys(byRow[7])).toEqual(['(row)']);
      expect(byRow[8]).toEqual({ sku: [expect.stringContaining('"CAP-01"')] });
      expect(await countEntries(importStore)).toBe(before);
    });

    it('when the file has a store column, then each row goes to the store it names by id or shop domain', async () => {
      const beforeEur = await countEntries(eurStore);
      const beforeUsd = await countEntries(usdStore);
      const csv = [
        'store,date,platform,amount,currency,sku',
        `${eurStore},2026-11-10,meta,10.00,EUR,LAMP-01`,
        'DESERT-GOODS.myshopify.com,2026-11-10,meta,7.25,USD,CAP-01',
        `,2026-11-10,meta,1.00,EUR,`,
      ].join('\n');
      const res = await importCsv(csv, `?storeId=${eurStore}`);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ imported: 3, currency: null, totalsByPlatform: null, totalsByCurrency: { EUR: { meta: '11.00' }, USD: { meta: '7.25' } } });
      expect(await countEntries(eurStore)).toBe(beforeEur + 2);
      expect(await countEntries(usdStore)).toBe(beforeUsd + 1);
      const capRow = await api.db.selectFrom('ad_spend_entries').select(['product_id', 'currency']).where('import_batch_id', '=', res.body.importBatchId).where('store_id', '=', usdStore).executeTakeFirstOrThrow();
      expect(capRow).toEqual({ product_id: cap, currency: 'USD' });

      const unknown = await importCsv('store,date,platform,amount,currency\nnowhere.myshopify.com,2026-11-10,meta,1.00,EUR\n,2026-11-10,meta,1.00,EUR\n', '');
      expect(unknown.status).toBe(422);
      expect(unknown.body.rows).toEqual([
        { row: 2, errors: { store: [expect.stringContaining('nowhere.myshopify.com')] } },
        { row: 3, errors: { store: ['is empty and no ?storeId was given'] } },
      ]);
    });

    it('when the file is empty, header-only, missing columns or not CSV, then 422 says what is wrong', async () => {
      const q = `?storeId=${importStore}`;
      const empty = await importCsv('', q);
      expect(empty.status).toBe(422);
      expect(empty.body.detail).toMatch(/empty/);
      const blank = await importCsv('\n\n  \n', q);
      expect(blank.status).toBe(422);
      const headerOnly = await importCsv('date,platform,amount,currency\n', q);
      expect(headerOnly.status).toBe(422);
      expect(headerOnly.body.detail).toMatch(/no data rows/);
      const missing = await importCsv('day,platform,cost\n2026-11-01,meta,1.00\n', q);
      expect(missing.status).toBe(422);
      expect(missing.body.errors.columns).toEqual(['missing required column "date"', 'missing required column "amount"', 'missing required column "currency"']);
      const semicolons = await importCsv('date;platform;amount;currency\n2026-11-01;meta;1,00;EUR\n', q);
      expect(semicolons.status).toBe(422);
      expect(semicolons.body.detail).toMatch(/commas/);
      const twice = await importCsv('date,platform,amount,currency,Amount\n2026-11-01,meta,1.00,EUR,2.00\n', q);
      expect(twice.status).toBe(422);
      expect(twice.body.errors.columns).toEqual(['column "amount" appears more than once']);
      const unclosed = await importCsv('date,platform,amount,currency\n2026-11-01,meta,"1.00,EUR\n', q);
      expect(unclosed.status).toBe(422);
      expect(unclosed.body.detail).toMatch(/not valid CSV/);
    });

    it('when the store or content type is wrong, or the file too big or too long, then 4xx and nothing is stored', async () => {
      const before = await countEntries(importStore);
      const csv = 'date,platform,amount,currency\n2026-11-01,meta,1.00,EUR\n';
      const noStore = await importCsv(csv, '');
      expect(noStore.status).toBe(400);
      expect(noStore.body.errors).toHaveProperty('storeId');
      expect((await importCsv(csv, '?storeId=1;DROP TABLE stores')).status).toBe(400);
      const ghost = await importCsv(csv, '?storeId=00000000-0000-4000-8000-000000000000');
      expect(ghost.status).toBe(400);
      expect(ghost.body.errors.storeId).toEqual(['no such store']);
      const asJson = await api.request('POST', `/v1/ad-spend/import?storeId=${importStore}`, { token: member.accessToken, body: { csv } });
      expect(asJson.status).toBe(415);
      const asPlainText = await api.request('POST', `/v1/ad-spend/import?storeId=${importStore}`, { token: member.accessToken, raw: csv, contentType: 'text/plain' });
      expect(asPlainText.status).toBe(415);

      const huge = 'date,platform,amount,currency,campaign\n' + `2026-11-01,meta,1.00,EUR,${'x'.repeat(200)}\n`.repeat(30_000);
      expect(huge.length).toBeGreaterThan(5 * 1024 * 1024);
      expect((await importCsv(huge, `?storeId=${importStore}`)).status).toBe(413);

      const tooLong = 'date,platform,amount,currency\n' + '2026-11-01,meta,1.00,EUR\n'.repeat(50_001);
      const refused = await importCsv(tooLong, `?storeId=${importStore}`);
      expect(refused.status).toBe(422);
      expect(refused.body.detail).toMatch(/more than 50000 rows/);

      const hugeCell = await importCsv(`date,platform,amount,currency,campaign\n2026-11-01,meta,1.00,EUR,${'y'.repeat(400_000)}\n`, `?storeId=${importStore}`);
      expect(hugeCell.status).toBe(422);
      expect(hugeCell.body.rows[0].errors.campaign[0]).toMatch(/longer than 300/);
      expect(JSON.stringify(hugeCell.body).length).toBeLessThan(2_000);
      expect(await countEntries(importStore)).toBe(before);
    });

    it('when a file holds the maximum number of rows, then all of them are stored in one batch', async () => {
      const bigStore = await newStore('Big Import Store', 'EUR');
      const csv = 'date,platform,amount,currency\n' + Array.from({ length: 50_000 }, (_, i) => `2026-${String((i % 12) + 1).padStart(2, '0')}-01,meta,0.01,EUR`).join('\n');
      const res = await importCsv(csv, `?storeId=${bigStore}`);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ imported: 50_000, totalsByPlatform: { meta: '500.00' } });
      expect(await countEntries(bigStore)).toBe(50_000);
    });
  });
});
