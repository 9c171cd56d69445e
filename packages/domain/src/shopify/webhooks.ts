import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Database } from '@dealdome/db';
import { sql } from 'kysely';

/**
 * Shopify webhooks as a trigger: a delivery whose signature holds and that is not a
 * duplicate queues a sync of its store (the sync reads the orders; the payload is
 * only a hint that something changed).
 */

/** Topics that change what a store's finance tables hold; others are acknowledged and ignored. */
export const SHOPIFY_SYNC_TOPICS: ReadonlySet<string> = new Set([
  'orders/create',
  'orders/updated',
  'orders/paid',
  'orders/cancelled',
  'orders/edited',
  'refunds/create',
  'order_transactions/create',
]);

/** Whether `signature` (X-Shopify-Hmac-Sha256) is the base64 HMAC-SHA256 of the raw body under the app secret. */
export function verifyShopifyHmac(rawBody: Buffer, signature: string | undefined, secret: string | undefined): boolean {
  if (!signature || !secret) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface ShopifyWebhookDelivery {
  webhookId: string;
  eventId: string | null;
  topic: string;
  shopDomain: string;
  triggeredAt: Date | null;
}

export interface RecordedShopifyWebhook {
  /** 'duplicate': this delivery (webhook id) or event (event id) was received before. */
  outcome: 'new' | 'duplicate';
  /** The store with the delivery's shop domain, if any. */
  storeId: string | null;
}

/** Records a delivery once; a second delivery of the same webhook or event is a duplicate. */
export async function recordShopifyWebhook(db: Database, delivery: ShopifyWebhookDelivery): Promise<RecordedShopifyWebhook> {
  const { rows } = await sql<{ store_id: string | null; inserted: boolean }>`
    WITH store AS (SELECT id FROM stores WHERE shop_domain = ${delivery.shopDomain.toLowerCase()}),
    inserted AS (
      INSERT INTO shopify_webhook_deliveries (webhook_id, event_id, shop_domain, topic, store_id, triggered_at)
      VALUES (${delivery.webhookId}, ${delivery.eventId}, ${delivery.shopDomain.toLowerCase()}, ${delivery.topic}, (SELECT id FROM store), ${delivery.triggeredAt})
      ON CONFLICT DO NOTHING
      RETURNING webhook_id
    )
    SELECT (SELECT id FROM store) AS store_id, EXISTS (SELECT 1 FROM inserted) AS inserted`.execute(db);
  const row = rows[0]!;
  return { outcome: row.inserted ? 'new' : 'duplicate', storeId: row.store_id };
}

/** Forgets deliveries received before `before` (Shopify stops retrying after 4 hours). */
export async function pruneShopifyWebhookDeliveries(db: Database, before: Date): Promise<number> {
  const result = await db.deleteFrom('shopify_webhook_deliveries').where('received_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Webhook-triggered syncs of a store are gathered in windows of this length: every
 * delivery in a window shares one job, which runs when the window closes and so
 * reads every change they announced.
 */
export const SHOPIFY_WEBHOOK_WINDOW_MS = 10_000;

/** The window a delivery falls in, and how long until it closes. */
export function shopifyWebhookSyncWindow(now: number): { window: number; delayMs: number } {
  const window = Math.floor(now / SHOPIFY_WEBHOOK_WINDOW_MS);
  return { window, delayMs: (window + 1) * SHOPIFY_WEBHOOK_WINDOW_MS - now };
}
