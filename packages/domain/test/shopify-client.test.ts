import { FakeShopify } from '@dealdome/testkit';
import { ShopifyApiError, ShopifyClient } from '../src/shopify/client';

const VERSION = '2025-10';
/** 2 for the connection, then 3 per order: the order and a MoneyBag with its MoneyV2. */
const PAGE = `query Page($first: Int!, $after: String) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id totalTaxSet { shopMoney { amount currencyCode } } }
  }
}`;
const pageCost = (first: number) => 2 + 3 * first;

describe('ShopifyClient against the fake Admin API', () => {
  let fake: FakeShopify;

  afterEach(async () => {
    await fake.close();
  });

  async function start(options: Parameters<typeof FakeShopify.start>[0] = {}, orders = 0) {
    fake = await FakeShopify.start(options);
    for (let i = 0; i < orders; i++) {
      fake.upsertOrder({
        processedAt: new Date(Date.UTC(2026, 10, 1, 10, 0, i)).toISOString(),
        updatedAt: new Date(Date.UTC(2026, 10, 1, 10, 0, i)).toISOString(),
        lines: [{ title: 'Lamp', sku: 'L-1', variantId: 11, quantity: 1, unitPrice: '20.00', tax: '4.20' }],
      });
    }
  }

  const client = (overrides: Partial<ConstructorParameters<typeof ShopifyClient>[0]> = {}) =>
    new ShopifyClient({ shopDomain: fake.shopDomain, accessToken: fake.accessToken, apiVersion: VERSION, baseUrl: fake.url, retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...overrides });

  async function allPages(shopify: ShopifyClient, first: number): Promise<string[]> {
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { data }: { data: { orders: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: { id: string }[] } } } = await shopify.query(
        PAGE,
        { first, after },
        { expectedCost: pageCost(first) },
      );
      ids.push(...data.orders.nodes.map((n) => n.id));
      if (!data.orders.pageInfo.hasNextPage) return ids;
      after = data.orders.pageInfo.endCursor;
    }
  }

  it('when a query runs, then it answers the fields asked for with the cost extension, and the bucket pays only the actual cost', async () => {
    await start({}, 3);
    const shopify = client();

    const { data, cost } = await shopify.query<any>(PAGE, { first: 10 });

    expect(data.orders.nodes).toHaveLength(3);
    expect(data.orders.nodes[0]).toEqual({ id: expect.stringMatching(/^gid:\/\/shopify\/Order\/\d+$/), totalTaxSet: { shopMoney: { amount: '4.2', currencyCode: 'EUR' } } });
    expect(cost).toEqual({ requestedQueryCost: pageCost(10), actualQueryCost: pageCost(3), throttleStatus: { maximumAvailable: 1000, currentlyAvailable: expect.any(Number), restoreRate: 100 } });
    expect(cost!.throttleStatus.currentlyAvailable).toBeGreaterThanOrEqual(1000 - pageCost(3));
    expect(fake.pointsCharged).toBe(pageCost(3));
    expect(fake.requests[0]!.headers['x-shopify-access-token']).toBeUndefined();
  });

  it('when pages cost more than a small bucket regains between them, then the client waits for the bucket and is never throttled', async () => {
    // 152 points a page, 200 in the bucket, 500 regained per second: every page after the first must wait.
    await start({ maximumAvailable: 200, restoreRate: 500 }, 500);
    const shopify = client();
    const started = Date.now();

    const ids = await allPages(shopify, 50);

    expect(new Set(ids).size).toBe(500);
    expect(fake.throttledCount).toBe(0);
    // 10 pages of 152 points from a bucket of 200 at 500/s: at least (1520 − 200) / 500 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(((10 * pageCost(50) - 200) / 500) * 1000 - 50);
    expect(shopify.stats.waitedMs).toBeGreaterThan(0);
    expect(shopify.stats.pointsUsed).toBe(fake.pointsCharged);
  });

  it('when another app drained the bucket, then one THROTTLED answer is followed by the wait the bucket needs, not by an immediate retry', async () => {
    await start({ maximumAvailable: 400, restoreRate: 200 }, 60);
    const shopify = client();
    await shopify.query(PAGE, { first: 1 });
    fake.drainBucket(0);

    const { data } = await shopify.query<any>(PAGE, { first: 50 });

    expect(data.orders.nodes).toHaveLength(50);
    expect(fake.throttledCount).toBe(1);
    const throttled = fake.requests.find((r) => r.throttled)!;
    const next = fake.requests[fake.requests.indexOf(throttled) + 1]!;
    // The THROTTLED answer said: 152 requested, ~0 available, 200 per second.
    expect(next.at - throttled.at).toBeGreaterThanOrEqual((pageCost(50) / 200) * 1000 - 20);
    expect(next.throttled).toBe(false);
  });

  it('when THROTTLED comes as HTTP 429, then it is waited out the same way', async () => {
    await start({ maximumAvailable: 400, restoreRate: 400, throttledStatus: 429 }, 10);
    const shopify = client();
    await shopify.query(PAGE, { first: 1 });
    fake.drainBucket(0);

    await shopify.query(PAGE, { first: 10 });

    expect(fake.requests.map((r) => [r.status, r.throttled])).toEqual([
      [200, false],
      [429, true],
      [200, false],
    ]);
  });

  it('when Shopify answers 502 twice, then the query is retried with backoff and succeeds; a bad token is refused at once', async () => {
    await start({}, 2);
    fake.injectError({ status: 502 }, 2);
    const shopify = client();

    const { data } = await shopify.query<any>(PAGE, { first: 5 });

    expect(data.orders.nodes).toHaveLength(2);
    expect(shopify.stats.retries).toBe(2);

    const before = fake.requests.length;
    const refused = await client({ accessToken: 'shpat_wrong' })
      .query(PAGE, { first: 5 })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ShopifyApiError);
    expect((refused as ShopifyApiError).kind).toBe('unauthorized');
    expect(fake.requests.length).toBe(before + 1);
  });

  it('when a query costs more than 1,000 points, then Shopify refuses it and the client says so without retrying', async () => {
    await start();
    const expensive = `{ orders(first: 250) { nodes { id lineItems(first: 10) { nodes { id } } } } }`;

    const refused = await client()
      .query(expensive)
      .catch((err: unknown) => err);

    expect(refused).toMatchObject({ kind: 'max_cost', details: { code: 'MAX_COST_EXCEEDED', cost: 2 + 250 * (1 + 2 + 10), maxCost: 1000 } });
    expect(fake.requests).toHaveLength(1);
  });

  it('when a field does not exist, then the GraphQL error is reported', async () => {
    await start();
    const refused = (await client()
      .query('{ shop { name nonsense } }')
      .catch((err: unknown) => err)) as ShopifyApiError;
    expect(refused).toMatchObject({ kind: 'graphql', details: { code: 'undefinedField' } });
    expect(refused.message).toContain("Field 'nonsense' doesn't exist on type 'Shop'");
  });
});
