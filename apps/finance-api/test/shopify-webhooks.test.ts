import { createHmac, randomUUID } from 'node:crypto';
import { createStore } from '@dealdome/domain';
import { Producer } from '@dealdome/queues';
import { FakeShopify } from '@dealdome/testkit';
import { useFinanceApi } from './harness';

const SECRET = 'shopify-app-secret-for-tests';

describe('POST /v1/webhooks/shopify', () => {
  const api = useFinanceApi({ SHOPIFY_WEBHOOK_SECRET: SECRET });
  let fake: FakeShopify;
  let producer: Producer;
  let storeId: string;

  beforeAll(async () => {
    fake = await FakeShopify.start({ shopDomain: 'webhook-shop.myshopify.com', webhookSecret: SECRET });
    producer = new Producer(api.redis.redis, api.redis.prefix);
    storeId = (await createStore(api.db, { name: 'Webhook shop', shopDomain: fake.shopDomain, currency: 'EUR', timezone: 'UTC' })).id;
  });
  afterAll(async () => {
    await producer.close();
    await fake.close();
  });

  const url = () => `${api.url}/v1/webhooks/shopify`;
  const queue = () => producer.queue('shopify-sync');
  const deliveries = () => api.db.selectFrom('shopify_webhook_deliveries').selectAll().orderBy('received_at').execute();
  const syncJobs = async () => (await queue().getJobs(['delayed', 'waiting', 'active', 'completed'])).filter((j) => j.name === 'sync-store');
  const order = () => fake.upsertOrder({ processedAt: '2026-11-20T10:00:00Z', lines: [{ title: 'Lamp', quantity: 1, unitPrice: '40.00' }] });

  beforeEach(async () => {
    await api.db.deleteFrom('shopify_webhook_deliveries').execute();
    await queue().obliterate({ force: true });
  });

  it('when the signature is wrong, then the delivery is refused with 401 and nothing is recorded or queued', async () => {
    const sent = await fake.sendWebhook(url(), { topic: 'orders/create', payload: fake.orderWebhookPayload(order()), secret: 'another-app-secret' });

    expect(sent.status).toBe(401);
    expect(JSON.parse(sent.body)).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await deliveries()).toEqual([]);
    expect(await syncJobs()).toEqual([]);
  });

  it('when a signed order webhook arrives, then it is answered at once with a sync of its store queued for the end of the window', async () => {
    const started = Date.now();
    const sent = await fake.sendWebhook(url(), { topic: 'orders/updated', payload: fake.orderWebhookPayload(order()) });

    expect(sent.status).toBe(200);
    expect(JSON.parse(sent.body)).toEqual({ outcome: 'queued' });
    expect(Date.now() - started).toBeLessThan(1000);
    const [job, ...others] = await syncJobs();
    expect(others).toEqual([]);
    expect(job!.data).toMatchObject({ storeId, reason: 'webhook' });
    expect(job!.id).toMatch(new RegExp(`^sync-store-webhook-${storeId}-\\d+$`));
    expect(await queue().getJobState(job!.id!)).toBe('delayed');
    expect(await deliveries()).toEqual([expect.objectContaining({ webhook_id: sent.webhookId, event_id: sent.eventId, topic: 'orders/updated', store_id: storeId })]);
  });

  it('when the same event arrives twice (a retry, or a second subscription), then it is processed once', async () => {
    const payload = fake.orderWebhookPayload(order());
    const first = await fake.sendWebhook(url(), { topic: 'orders/create', payload });
    const retry = await fake.sendWebhook(url(), { topic: 'orders/create', payload, webhookId: first.webhookId, eventId: first.eventId });
    const otherSubscription = await fake.sendWebhook(url(), { topic: 'orders/create', payload, eventId: first.eventId });

    expect([first, retry, otherSubscription].map((s) => [s.status, JSON.parse(s.body).outcome])).toEqual([
      [200, 'queued'],
      [200, 'duplicate'],
      [200, 'duplicate'],
    ]);
    expect(await deliveries()).toHaveLength(1);
    expect(await syncJobs()).toHaveLength(1);
  });

  it('when the body is signed as sent, then it is verified over its exact bytes, not over JSON parsed and written again', async () => {
    const body = '{ "id" : 42,\n  "admin_graphql_api_id": "gid://shopify/Order/42", "note": "caf\u00e9" }';
    const res = await fetch(url(), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'refunds/create',
        'x-shopify-shop-domain': fake.shopDomain,
        'x-shopify-webhook-id': randomUUID(),
        'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body, 'utf8').digest('base64'),
      },
      body,
    });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ outcome: 'queued' });
  });

  it('when the shop is unknown or the topic does not touch the figures, then the delivery is acknowledged and nothing is queued', async () => {
    const payload = fake.orderWebhookPayload(order());
    const unknown = await FakeShopify.start({ shopDomain: 'stranger.myshopify.com', webhookSecret: SECRET });
    try {
      const stranger = await unknown.sendWebhook(url(), { topic: 'orders/create', payload });
      const customers = await fake.sendWebhook(url(), { topic: 'customers/update', payload: { id: 7 } });

      expect(JSON.parse(stranger.body)).toEqual({ outcome: 'ignored', reason: 'no store has the shop domain stranger.myshopify.com' });
      expect(JSON.parse(customers.body)).toEqual({ outcome: 'ignored', reason: 'customers/update does not change the finance figures' });
      expect(await syncJobs()).toEqual([]);
    } finally {
      await unknown.close();
    }
  });

  it('when a required Shopify header is missing, then the delivery is refused with 400 naming it', async () => {
    const body = JSON.stringify({ id: 1 });
    const res = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-topic': 'orders/create', 'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('base64') },
      body,
    });

    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as { errors: unknown }).errors).toEqual({ 'X-Shopify-Shop-Domain': ['is a required header'], 'X-Shopify-Webhook-Id': ['is a required header'] });
  });
});
