import express from 'express';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { invalid, recordShopifyWebhook, SHOPIFY_SYNC_TOPICS, unauthorized, verifyShopifyHmac, shopifyWebhookSyncWindow } from '@dealdome/domain';
import { jobIds } from '@dealdome/queues';
import type { Producer } from '@dealdome/queues';
import { z } from 'zod';
import type { Api } from '../http/api';

/**
 * Shopify webhooks (orders/create, orders/updated, refunds/create, …). Shopify signs
 * the exact bytes it sends, so this one route reads its body raw: shopifyWebhookBody
 * runs before the JSON parser and keeps them. A delivery is answered at once — the
 * signature checked, the delivery recorded (a repeat of a known webhook or event id
 * does nothing), a sync of its store queued — well within Shopify's 5 seconds; the
 * sync reads the orders afterwards.
 */
export const SHOPIFY_WEBHOOK_PATH = '/v1/webhooks/shopify';
/** Orders with many lines make large bodies; Shopify's own limit is larger than the API's 1 MB. */
const WEBHOOK_BODY_LIMIT = '5mb';

const rawBodies = new WeakMap<Request, Buffer>();
const readRaw = express.raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT });

/** Keeps the raw body of a webhook delivery (and only of one); must run before express.json(). */
export const shopifyWebhookBody: RequestHandler = (req, res, next) => {
  if (req.method !== 'POST' || req.path !== SHOPIFY_WEBHOOK_PATH) {
    next();
    return;
  }
  readRaw(req, res, (err?: unknown) => {
    if (err) {
      next(err);
      return;
    }
    rawBodies.set(req, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    // Parsed only once the signature holds (verifySignature); until then no one reads it.
    req.body = undefined;
    next();
  });
};

const webhookPayload = z
  .looseObject({
    id: z.union([z.number(), z.string()]).optional(),
    admin_graphql_api_id: z.string().optional(),
  })
  .meta({ description: 'The resource as Shopify sends it (an order, a refund); only read as a sign that the store changed' });

const receipt = z.object({
  outcome: z.enum(['queued', 'duplicate', 'ignored']).meta({
    description: 'queued: a sync of the store is queued; duplicate: this webhook or event was received before; ignored: no store has the shop domain, or the topic does not change the figures',
  }),
  reason: z.string().optional(),
});

function header(req: Request, name: string): string | undefined {
  const value = req.get(name)?.trim();
  return value ? value : undefined;
}

export function shopifyWebhookRoutes(api: Api, db: Database, producer: Producer, secret: string | undefined, logger: Logger): void {
  if (!secret) logger.warn('SHOPIFY_WEBHOOK_SECRET is not set: Shopify webhooks are refused (401) until it is');

  const verifySignature: RequestHandler = (req, _res, next) => {
    const raw = rawBodies.get(req) ?? Buffer.alloc(0);
    if (!verifyShopifyHmac(raw, header(req, 'x-shopify-hmac-sha256'), secret)) {
      (req.log ?? logger).warn({ shop: header(req, 'x-shopify-shop-domain'), topic: header(req, 'x-shopify-topic') }, 'Shopify webhook refused: the signature does not match');
      next(unauthorized());
      return;
    }
    try {
      req.body = JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      next(invalid({ '(body)': ['is not valid JSON'] }, 'The body is not valid JSON.'));
      return;
    }
    next();
  };

  api.route({
    operationId: 'receiveShopifyWebhook',
    method: 'post',
    path: SHOPIFY_WEBHOOK_PATH,
    summary: 'Receive a Shopify webhook',
    description:
      "Shopify's webhook endpoint (subscribe orders/create, orders/updated, orders/cancelled, orders/edited, refunds/create). " +
      'Authenticated by `X-Shopify-Hmac-Sha256`, the base64 HMAC-SHA256 of the raw body under the app secret (`SHOPIFY_WEBHOOK_SECRET`): ' +
      'a wrong or missing signature is refused with 401. `X-Shopify-Topic`, `X-Shopify-Shop-Domain` and `X-Shopify-Webhook-Id` are required; ' +
      'a delivery whose `X-Shopify-Webhook-Id` or `X-Shopify-Event-Id` was seen before is a duplicate and does nothing. ' +
      'Otherwise a sync of the store with that shop domain is queued (deliveries within 10 seconds share one) and the answer is immediate.',
    tag: 'Stores',
    guard: 'none',
    body: webhookPayload,
    status: 200,
    response: receipt,
    problems: [401],
    middleware: [verifySignature],
    handle: async (_input, { req }) => {
      const topic = header(req, 'x-shopify-topic');
      const shopDomain = header(req, 'x-shopify-shop-domain');
      const webhookId = header(req, 'x-shopify-webhook-id');
      const missing = Object.entries({ 'X-Shopify-Topic': topic, 'X-Shopify-Shop-Domain': shopDomain, 'X-Shopify-Webhook-Id': webhookId }).filter(([, value]) => !value);
      if (missing.length) throw invalid(Object.fromEntries(missing.map(([name]) => [name, ['is a required header']])), 'A Shopify webhook header is missing.');
      const triggered = header(req, 'x-shopify-triggered-at');
      const triggeredAt = triggered && !Number.isNaN(Date.parse(triggered)) ? new Date(triggered) : null;
      const delivery = { webhookId: webhookId!, eventId: header(req, 'x-shopify-event-id') ?? null, topic: topic!, shopDomain: shopDomain!, triggeredAt };

      const recorded = await recordShopifyWebhook(db, delivery);
      if (recorded.outcome === 'duplicate') return { outcome: 'duplicate' as const };
      if (!recorded.storeId) {
        (req.log ?? logger).warn({ shop: delivery.shopDomain, topic: delivery.topic }, 'Shopify webhook for a shop domain no store has');
        return { outcome: 'ignored' as const, reason: `no store has the shop domain ${delivery.shopDomain}` };
      }
      if (!SHOPIFY_SYNC_TOPICS.has(delivery.topic)) return { outcome: 'ignored' as const, reason: `${delivery.topic} does not change the finance figures` };

      const { window, delayMs } = shopifyWebhookSyncWindow(Date.now());
      try {
        await producer.enqueue('shopify-sync', 'sync-store', { storeId: recorded.storeId, reason: 'webhook' }, { jobId: jobIds.shopifyWebhookSync(recorded.storeId, window), delay: delayMs });
      } catch (err) {
        // Not queued: forget the delivery, so that Shopify's retry of it is not taken for a duplicate.
        await db.deleteFrom('shopify_webhook_deliveries').where('webhook_id', '=', delivery.webhookId).execute();
        throw err;
      }
      return { outcome: 'queued' as const };
    },
  });
}
