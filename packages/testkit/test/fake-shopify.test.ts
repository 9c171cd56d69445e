import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeShopify } from '../src';

const VERSION = '2025-10';

describe('fake Shopify Admin GraphQL API', () => {
  let fake: FakeShopify;

  afterEach(async () => {
    await fake.close();
  });

  async function graphql(query: string, variables: Record<string, unknown> = {}, token = fake.accessToken) {
    const res = await fetch(`${fake.url}/admin/api/${VERSION}/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': token },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  it('when orders are filtered by updated_at and paged by cursor, then each page follows the last in updatedAt order and the filter holds', async () => {
    fake = await FakeShopify.start({ restoreRate: 100_000 });
    for (let i = 0; i < 7; i++) {
      const at = new Date(Date.UTC(2026, 10, 1, 12, 0, i)).toISOString();
      fake.upsertOrder({ id: 100 + i, processedAt: at, updatedAt: at, lines: [{ title: 'Mug', quantity: 1, unitPrice: '9.95' }] });
    }
    const query = `query($after: String) { orders(first: 2, after: $after, sortKey: UPDATED_AT, query: "updated_at:>='2026-11-01T12:00:02Z'") {
      pageInfo { hasNextPage endCursor } edges { cursor node { legacyResourceId updatedAt } } } }`;

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const { body } = await graphql(query, { after });
      seen.push(...body.data.orders.edges.map((e: any) => e.node.legacyResourceId));
      if (!body.data.orders.pageInfo.hasNextPage) break;
      after = body.data.orders.pageInfo.endCursor;
    }

    expect(seen).toEqual(['102', '103', '104', '105', '106']);
  });

  it('when a refund is added, then the order moves to the end of the updatedAt order and carries the refund with its lines and money', async () => {
    fake = await FakeShopify.start({ restoreRate: 100_000 });
    const id = fake.upsertOrder({
      processedAt: '2026-11-02T09:00:00Z',
      updatedAt: '2026-11-02T09:00:00Z',
      lines: [{ id: 1, title: 'Lamp', sku: 'LAMP', variantId: 77, quantity: 2, unitPrice: '40.00', discount: '8.00', tax: '15.12' }],
      transactions: [{ amount: '87.12', fees: [{ amount: '2.78' }] }],
    });
    fake.upsertOrder({ processedAt: '2026-11-03T09:00:00Z', updatedAt: '2026-11-03T09:00:00Z', lines: [{ title: 'Mug', quantity: 1, unitPrice: '5.00' }] });
    fake.addRefund(id, { createdAt: '2026-11-09T10:00:00Z', lines: [{ sku: 'LAMP', quantity: 1, subtotal: '36.00', tax: '7.56', restockType: 'NO_RESTOCK' }] });

    const { body } = await graphql(`{ orders(first: 5, sortKey: UPDATED_AT) { nodes { legacyResourceId updatedAt
      totalRefundedSet { shopMoney { amount } }
      refunds(first: 3) { createdAt refundLineItems(first: 5) { nodes { quantity restockType lineItem { id sku } subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } } } } }
      transactions(first: 5) { kind amountSet { shopMoney { amount } } fees { amount { amount currencyCode } } } } } }`);

    const nodes = body.data.orders.nodes;
    expect(nodes.map((n: any) => n.legacyResourceId)).toEqual([expect.any(String), String(id)]);
    const refunded = nodes[1];
    expect(refunded.updatedAt).toBe('2026-11-09T10:00:00Z');
    expect(refunded.totalRefundedSet.shopMoney.amount).toBe('43.56');
    expect(refunded.refunds[0].refundLineItems.nodes[0]).toEqual({
      quantity: 1,
      restockType: 'NO_RESTOCK',
      lineItem: { id: 'gid://shopify/LineItem/1', sku: 'LAMP' },
      subtotalSet: { shopMoney: { amount: '36.0' } },
      totalTaxSet: { shopMoney: { amount: '7.56' } },
    });
    expect(refunded.transactions).toEqual([
      { kind: 'SALE', amountSet: { shopMoney: { amount: '87.12' } }, fees: [{ amount: { amount: '2.78', currencyCode: 'EUR' } }] },
      { kind: 'REFUND', amountSet: { shopMoney: { amount: '43.56' } }, fees: [] },
    ]);
  });

  it('when a connection has been paged through 25,000 objects, then it stops there', async () => {
    fake = await FakeShopify.start({ restoreRate: 1_000_000, maximumAvailable: 1_000_000 });
    for (let i = 0; i < 25_010; i++) fake.upsertOrder({ id: i + 1, processedAt: '2026-11-01T00:00:00Z', updatedAt: '2026-11-01T00:00:00Z', lines: [] });
    let after: string | null = null;
    let count = 0;
    let hasNextPage = true;
    while (hasNextPage) {
      const { body } = await graphql('query($after: String) { orders(first: 250, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } } }', { after });
      count += body.data.orders.nodes.length;
      ({ hasNextPage, endCursor: after } = body.data.orders.pageInfo);
    }
    expect(count).toBe(25_000);
  });

  it('when a query asks for more than 250, lacks the token or names an unknown version, then it is refused as Shopify refuses it', async () => {
    fake = await FakeShopify.start();
    expect((await graphql('{ orders(first: 251) { nodes { id } } }')).body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect((await graphql('{ shop { name } }', {}, 'shpat_other')).status).toBe(401);
    const res = await fetch(`${fake.url}/admin/api/2025-13/graphql.json`, { method: 'POST', headers: { 'x-shopify-access-token': fake.accessToken }, body: '{}' });
    expect(res.status).toBe(404);
  });

  it('when the bucket cannot pay for a query, then it answers THROTTLED with the cost extension and charges nothing', async () => {
    fake = await FakeShopify.start({ maximumAvailable: 100, restoreRate: 1 });
    fake.drainBucket(10);
    const { status, body } = await graphql('{ orders(first: 20) { nodes { id } } }');
    expect(status).toBe(200);
    expect(body.errors[0].extensions.code).toBe('THROTTLED');
    expect(body.extensions.cost).toMatchObject({ requestedQueryCost: 22, actualQueryCost: null, throttleStatus: { maximumAvailable: 100, restoreRate: 1 } });
    expect(body.extensions.cost.throttleStatus.currentlyAvailable).toBeLessThan(22);
    expect(fake.throttledCount).toBe(1);
    expect(fake.pointsCharged).toBe(0);
  });

  it('when a webhook is sent, then it carries the topic, ids and an HMAC of the raw body under the app secret', async () => {
    fake = await FakeShopify.start({ webhookSecret: 'app-secret' });
    const id = fake.upsertOrder({ processedAt: '2026-11-02T09:00:00Z', lines: [{ title: 'Lamp', quantity: 1, unitPrice: '10.00' }] });
    const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const sent = await fake.sendWebhook(url, { topic: 'orders/updated', payload: fake.orderWebhookPayload(id) });

      expect(sent.status).toBe(200);
      const [delivery] = received;
      expect(delivery!.headers['x-shopify-topic']).toBe('orders/updated');
      expect(delivery!.headers['x-shopify-shop-domain']).toBe(fake.shopDomain);
      expect(delivery!.headers['x-shopify-webhook-id']).toBe(sent.webhookId);
      expect(delivery!.headers['x-shopify-event-id']).toBe(sent.eventId);
      expect(delivery!.headers['x-shopify-hmac-sha256']).toBe(createHmac('sha256', 'app-secret').update(delivery!.body).digest('base64'));
      expect(JSON.parse(delivery!.body)).toMatchObject({ id, admin_graphql_api_id: `gid://shopify/Order/${id}` });
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
