import type { Logger } from '@dealdome/config';
import type { Database } from '@dealdome/db';
import { sql } from 'kysely';
import { notFound } from '../errors';
import { ShopifyApiError } from './client';
import type { ShopifyClient } from './client';
import { matchProduct, rebuildShopifyDays } from './days';
import { changedOrders } from './orders';
import type { OrderNode } from './orders';
import { ShopifyCurrencyMismatchError, toOrderRecord } from './records';
import type { OrderRecord } from './records';

/**
 * One sync round of a store's Shopify orders into the finance tables.
 *
 * Orders changed at or after the stored cursor (shopify_sync_state.orders_updated_at_cursor,
 * the last updatedAt read) are read page by page, oldest change first. Every batch is
 * one transaction: its orders and lines upserted (an order read again with the same
 * updatedAt is skipped: nothing changed), the store-local days they touch — before and
 * after the change — rebuilt (rebuildShopifyDays), and the cursor moved to the batch's
 * last updatedAt. A round that stops half-way has lost nothing: the next reads on from
 * the cursor. Before reading, lines that matched no product are matched again (a product
 * added since) and days whose product costs were recorded since the last round are
 * rebuilt, so the cost of goods follows the product costs.
 *
 * One round per store at a time (a PostgreSQL advisory lock): a second gets
 * ShopifySyncBusyError and can leave the work to the running one, which reads up to
 * the present.
 *
 * Its bookkeeping is the store's 'orders' row of shopify_sync_state (one row per store
 * and resource synced).
 */

/** What is synced from Shopify, each with its own row of shopify_sync_state per store. */
export const shopifySyncResources = ['orders'] as const;
export type ShopifySyncResource = (typeof shopifySyncResources)[number];
const ORDERS: ShopifySyncResource = 'orders';

export interface SyncShopifyOptions {
  storeId: string;
  client: ShopifyClient;
  /**
   * Read orders changed since then rather than since the cursor (a backfill). The
   * cursor only ever moves forward: it passes what it held once the backfill reads
   * past it.
   */
  since?: Date;
  /** Where a store's first round starts when nothing says otherwise (default 60 days: what Shopify shows without read_all_orders). */
  initialDays?: number;
  /** Write orders already stored with the same updatedAt again (after a change to how orders are counted). */
  rewrite?: boolean;
  /** Orders written per transaction. */
  batchSize?: number;
  /**
   * Whether a failure of this call ends the round (default true). A queue job that is
   * retried passes false on its earlier attempts: the failure is recorded (status
   * failing, last error) but not counted, so consecutive_failures counts failed rounds,
   * not attempts. A failure no retry can mend (isPermanentShopifyError) always counts.
   */
  finalAttempt?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: ShopifySyncProgress) => void;
  logger?: Logger;
}

export interface ShopifySyncProgress {
  /** Orders read so far this round. */
  read: number;
  /** Orders whose changes were written. */
  written: number;
  /** updatedAt of the last order read. */
  cursor: string | null;
  pointsUsed: number;
}

export interface SyncShopifyResult {
  storeId: string;
  read: number;
  written: number;
  /** Store-local days rebuilt, in order. */
  days: string[];
  cursor: string | null;
  unmatchedLines: number;
  requests: number;
  throttled: number;
  pointsUsed: number;
  waitedMs: number;
  followUps: number;
  durationMs: number;
}

/** A failure that trying again cannot mend (a refused token, a wrong API version, a currency mismatch): a person must act. */
export function isPermanentShopifyError(err: unknown): boolean {
  return (err instanceof ShopifyApiError && !err.retryable) || err instanceof ShopifyCurrencyMismatchError;
}

/** Another round of this store is running. */
export class ShopifySyncBusyError extends Error {
  constructor(readonly storeId: string) {
    super(`a Shopify sync of store ${storeId} is already running`);
    this.name = 'ShopifySyncBusyError';
  }
}

const DAY_MS = 86_400_000;

export async function syncShopifyOrders(db: Database, options: SyncShopifyOptions): Promise<SyncShopifyResult> {
  const started = Date.now();
  return db.connection().execute(async (conn) => {
    const lock = sql<{ locked: boolean }>`SELECT pg_try_advisory_lock(hashtextextended(${`shopify-sync:${options.storeId}`}, 0)) AS locked`;
    const { rows } = await lock.execute(conn);
    if (!rows[0]?.locked) throw new ShopifySyncBusyError(options.storeId);
    try {
      return await runLocked(conn, options, started);
    } finally {
      await sql`SELECT pg_advisory_unlock(hashtextextended(${`shopify-sync:${options.storeId}`}, 0))`.execute(conn);
    }
  });
}

async function runLocked(db: Database, options: SyncShopifyOptions, started: number): Promise<SyncShopifyResult> {
  const { storeId, client, logger } = options;
  const store = await db.selectFrom('stores').select(['id', 'currency', 'timezone']).where('id', '=', storeId).executeTakeFirst();
  if (!store) throw notFound('the store');
  await db
    .insertInto('shopify_sync_state')
    .values({ store_id: storeId, resource: ORDERS })
    .onConflict((oc) => oc.columns(['store_id', 'resource']).doNothing())
    .execute();
  const state = await db
    .updateTable('shopify_sync_state')
    .set({ status: 'running', last_started_at: new Date(), updated_at: new Date() })
    .where('store_id', '=', storeId)
    .where('resource', '=', ORDERS)
    .returning(['orders_updated_at_cursor', 'costs_seen_at', sql<Date>`now()`.as('now')])
    .executeTakeFirstOrThrow();

  const days = new Set<string>();
  let read = 0;
  let written = 0;
  let followUps = 0;
  let cursor: Date | null = state.orders_updated_at_cursor;
  const statsBefore = { ...client.stats };
  try {
    for (const day of await staleDays(db, storeId, state.costs_seen_at)) days.add(day);
    if (days.size) await rebuildShopifyDays(db, storeId, [...days].sort());

    const since = options.since ?? state.orders_updated_at_cursor ?? new Date(state.now.getTime() - (options.initialDays ?? 60) * DAY_MS);
    const batchSize = options.batchSize ?? 250;
    let batch: OrderNode[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const outcome = await writeBatch(db, storeId, store.currency, batch, options.rewrite ?? false);
      written += outcome.written;
      for (const day of outcome.days) days.add(day);
      const last = new Date(batch[batch.length - 1]!.updatedAt);
      if (!cursor || last > cursor) cursor = last;
      batch = [];
      options.onProgress?.({ read, written, cursor: cursor.toISOString(), pointsUsed: client.stats.pointsUsed - statsBefore.pointsUsed });
    };
    for await (const page of changedOrders(client, since, options.signal)) {
      batch.push(...page.orders);
      read += page.orders.length;
      followUps += page.followUps;
      if (batch.length >= batchSize) await flush();
      else options.onProgress?.({ read, written, cursor: cursor?.toISOString() ?? null, pointsUsed: client.stats.pointsUsed - statsBefore.pointsUsed });
    }
    await flush();

    const unmatched = await unmatchedLines(db, storeId);
    const result: SyncShopifyResult = {
      storeId,
      read,
      written,
      days: [...days].sort(),
      cursor: cursor ? cursor.toISOString() : null,
      unmatchedLines: unmatched,
      requests: client.stats.requests - statsBefore.requests,
      throttled: client.stats.throttled - statsBefore.throttled,
      pointsUsed: client.stats.pointsUsed - statsBefore.pointsUsed,
      waitedMs: client.stats.waitedMs - statsBefore.waitedMs,
      followUps,
      durationMs: Date.now() - started,
    };
    await db
      .updateTable('shopify_sync_state')
      .set({
        status: 'idle',
        last_synced_at: new Date(),
        last_error: null,
        consecutive_failures: 0,
        last_run_orders: written,
        last_run_days: result.days.length,
        last_run_points: Math.round(result.pointsUsed),
        last_run_throttled: result.throttled,
        unmatched_lines: unmatched,
        costs_seen_at: state.now,
        updated_at: new Date(),
      })
      .where('store_id', '=', storeId)
      .where('resource', '=', ORDERS)
      .execute();
    logger?.info({ storeId, read, written, days: result.days.length, points: result.pointsUsed, throttled: result.throttled }, 'Shopify orders synced');
    return result;
  } catch (err) {
    if (options.signal?.aborted) {
      // Stopped on purpose (a shutdown): not a failure; the next round reads on from the cursor.
      await db
        .updateTable('shopify_sync_state')
        .set({ status: 'idle', updated_at: new Date() })
        .where('store_id', '=', storeId)
        .where('resource', '=', ORDERS)
        .execute();
      throw err;
    }
    const message = err instanceof Error ? err.message : String(err);
    const roundFailed = (options.finalAttempt ?? true) || isPermanentShopifyError(err);
    await db
      .updateTable('shopify_sync_state')
      .set((eb) => ({
        status: 'failing',
        last_error: message.slice(0, 2000),
        last_failed_at: new Date(),
        ...(roundFailed && { consecutive_failures: eb('consecutive_failures', '+', 1) }),
        updated_at: new Date(),
      }))
      .where('store_id', '=', storeId)
      .where('resource', '=', ORDERS)
      .execute();
    throw err;
  }
}

/**
 * Days to rebuild before reading: those of lines that now match a product (matched
 * here), and those with lines of products whose costs were recorded since the last
 * round.
 */
async function staleDays(db: Database, storeId: string, costsSeenAt: Date | null): Promise<string[]> {
  const { rows: matched } = await sql<{ date: string }>`
    WITH candidates AS (
      SELECT l.id, o.processed_at, ${matchProduct(storeId, sql`l.shopify_variant_id`, sql`l.sku`)} AS product_id
      FROM shopify_order_lines l JOIN shopify_orders o ON o.id = l.order_id
      WHERE o.store_id = ${storeId} AND l.product_id IS NULL
    ), matched AS (
      UPDATE shopify_order_lines l SET product_id = c.product_id FROM candidates c
      WHERE l.id = c.id AND c.product_id IS NOT NULL
      RETURNING c.processed_at
    )
    SELECT DISTINCT (m.processed_at AT TIME ZONE s.timezone)::date::text AS date FROM matched m, stores s WHERE s.id = ${storeId}`.execute(db);
  if (!costsSeenAt) return matched.map((r) => r.date);
  const { rows: costed } = await sql<{ date: string }>`
    SELECT DISTINCT (o.processed_at AT TIME ZONE s.timezone)::date::text AS date
    FROM product_costs pc
    JOIN products p ON p.id = pc.product_id AND p.store_id = ${storeId}
    JOIN shopify_order_lines l ON l.product_id = pc.product_id
    JOIN shopify_orders o ON o.id = l.order_id
    JOIN stores s ON s.id = o.store_id
    WHERE pc.created_at > ${costsSeenAt}`.execute(db);
  return [...new Set([...matched, ...costed].map((r) => r.date))];
}

/** How a store's sync of one resource stands. */
export interface ShopifySyncStatus {
  storeId: string;
  resource: ShopifySyncResource;
  status: 'idle' | 'running' | 'failing' | 'disabled';
  /** updatedAt of the last record read. */
  cursor: Date | null;
  lastSyncedAt: Date | null;
  lastFailedAt: Date | null;
  lastError: string | null;
  /** Failed rounds since the last success. */
  consecutiveFailures: number;
}

/** The sync state of a store's resource; undefined before its first round. */
export async function findShopifySyncStatus(db: Database, storeId: string, resource: ShopifySyncResource = ORDERS): Promise<ShopifySyncStatus | undefined> {
  const row = await db
    .selectFrom('shopify_sync_state')
    .select(['store_id', 'resource', 'status', 'orders_updated_at_cursor', 'last_synced_at', 'last_failed_at', 'last_error', 'consecutive_failures'])
    .where('store_id', '=', storeId)
    .where('resource', '=', resource)
    .executeTakeFirst();
  return (
    row && {
      storeId: row.store_id,
      resource: row.resource as ShopifySyncResource,
      status: row.status as ShopifySyncStatus['status'],
      cursor: row.orders_updated_at_cursor,
      lastSyncedAt: row.last_synced_at,
      lastFailedAt: row.last_failed_at,
      lastError: row.last_error,
      consecutiveFailures: row.consecutive_failures,
    }
  );
}

/** Each connected store's last successful round of its orders (null before the first): its sync lag, read by the scheduler's /metrics. */
export async function shopifyLastSyncs(db: Database): Promise<{ storeId: string; shopDomain: string; lastSyncedAt: Date | null }[]> {
  const rows = await db
    .selectFrom('stores as s')
    .leftJoin('shopify_sync_state as st', (join) => join.onRef('st.store_id', '=', 's.id').on('st.resource', '=', ORDERS))
    .select(['s.id', 's.shop_domain', 'st.last_synced_at'])
    .where('s.shop_domain', 'is not', null)
    .where('s.shopify_access_token_encrypted', 'is not', null)
    .orderBy('s.id')
    .execute();
  return rows.map((r) => ({ storeId: r.id, shopDomain: r.shop_domain!, lastSyncedAt: r.last_synced_at }));
}

async function unmatchedLines(db: Database, storeId: string): Promise<number> {
  const row = await db
    .selectFrom('shopify_order_lines as l')
    .innerJoin('shopify_orders as o', 'o.id', 'l.order_id')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('o.store_id', '=', storeId)
    .where('l.product_id', 'is', null)
    .where('o.test', '=', false)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Writes one batch in a transaction: orders, lines, the days they touch, the cursor. Returns the orders written and days rebuilt. */
async function writeBatch(db: Database, storeId: string, currency: string, nodes: OrderNode[], rewrite: boolean): Promise<{ written: number; days: string[] }> {
  // The last read of an order wins (a page boundary may repeat one).
  const latest = new Map<string, OrderNode>();
  for (const node of nodes) latest.set(node.id, node);
  const records = [...latest.values()].map((node) => toOrderRecord(node, currency));
  const cursor = new Date(nodes[nodes.length - 1]!.updatedAt);

  return db.transaction().execute(async (trx) => {
    const stored = await trx
      .selectFrom('shopify_orders')
      .select(['shopify_order_id', 'shopify_updated_at', 'processed_at'])
      .where('store_id', '=', storeId)
      .where(
        'shopify_order_id',
        'in',
        records.map((r) => r.shopifyOrderId),
      )
      .execute();
    const before = new Map(stored.map((s) => [s.shopify_order_id, s]));
    const changed = rewrite ? records : records.filter((r) => before.get(r.shopifyOrderId)?.shopify_updated_at.getTime() !== r.updatedAt.getTime());

    let days: string[] = [];
    if (changed.length) {
      const orderIds = await upsertOrders(trx, storeId, changed);
      await replaceLines(trx, storeId, currency, changed, orderIds);
      const times = [...changed.map((r) => r.processedAt), ...changed.flatMap((r) => before.get(r.shopifyOrderId)?.processed_at ?? [])];
      const { rows } = await sql<{ date: string }>`
        SELECT DISTINCT (t AT TIME ZONE s.timezone)::date::text AS date
        FROM unnest(${times}::timestamptz[]) AS t, stores s WHERE s.id = ${storeId} ORDER BY 1`.execute(trx);
      days = rows.map((r) => r.date);
      await rebuildShopifyDays(trx, storeId, days);
    }
    await trx
      .updateTable('shopify_sync_state')
      .set((eb) => ({
        orders_updated_at_cursor: sql<Date>`greatest(${eb.ref('orders_updated_at_cursor')}, ${cursor}::timestamptz)`,
        orders_synced: sql<string>`${eb.ref('orders_synced')} + ${changed.length}`,
        updated_at: new Date(),
      }))
      .where('store_id', '=', storeId)
      .where('resource', '=', ORDERS)
      .execute();
    return { written: changed.length, days };
  });
}

async function upsertOrders(trx: Database, storeId: string, records: OrderRecord[]): Promise<Map<string, string>> {
  const rows = await trx
    .insertInto('shopify_orders')
    .values(
      records.map((r) => ({
        store_id: storeId,
        shopify_order_id: r.shopifyOrderId,
        name: r.name,
        processed_at: r.processedAt,
        shopify_updated_at: r.updatedAt,
        cancelled_at: r.cancelledAt,
        currency: r.currency,
        gross_sales: r.grossSales,
        subtotal: r.subtotal,
        total_discounts: r.totalDiscounts,
        total_shipping: r.totalShipping,
        total_tax: r.totalTax,
        total_refunded: r.totalRefunded,
        refunded_tax: r.refundedTax,
        transaction_fees: r.transactionFees,
        uncounted_fees: r.uncountedFees.length ? sql`${JSON.stringify(r.uncountedFees)}::jsonb` : null,
        taxes_included: r.taxesIncluded,
        test: r.test,
        raw: sql`${JSON.stringify(r.raw)}::jsonb`,
        synced_at: new Date(),
      })),
    )
    .onConflict((oc) =>
      oc.columns(['store_id', 'shopify_order_id']).doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        processed_at: eb.ref('excluded.processed_at'),
        shopify_updated_at: eb.ref('excluded.shopify_updated_at'),
        cancelled_at: eb.ref('excluded.cancelled_at'),
        currency: eb.ref('excluded.currency'),
        gross_sales: eb.ref('excluded.gross_sales'),
        subtotal: eb.ref('excluded.subtotal'),
        total_discounts: eb.ref('excluded.total_discounts'),
        total_shipping: eb.ref('excluded.total_shipping'),
        total_tax: eb.ref('excluded.total_tax'),
        total_refunded: eb.ref('excluded.total_refunded'),
        refunded_tax: eb.ref('excluded.refunded_tax'),
        transaction_fees: eb.ref('excluded.transaction_fees'),
        uncounted_fees: eb.ref('excluded.uncounted_fees'),
        taxes_included: eb.ref('excluded.taxes_included'),
        test: eb.ref('excluded.test'),
        raw: eb.ref('excluded.raw'),
        synced_at: eb.ref('excluded.synced_at'),
      })),
    )
    .returning(['id', 'shopify_order_id'])
    .execute();
  return new Map(rows.map((r) => [r.shopify_order_id, r.id]));
}

/** Upserts the orders' lines (matched to products) and deletes the lines an edit removed. */
async function replaceLines(trx: Database, storeId: string, currency: string, records: OrderRecord[], orderIds: Map<string, string>): Promise<void> {
  const lines = records.flatMap((r) => r.lines.map((line) => ({ orderId: orderIds.get(r.shopifyOrderId)!, ...line })));
  const column = <K extends keyof (typeof lines)[number]>(key: K) => lines.map((l) => l[key]);
  await sql`
    DELETE FROM shopify_order_lines l
    WHERE l.order_id = ANY(${[...orderIds.values()]}::uuid[])
      AND NOT EXISTS (
        SELECT 1 FROM unnest(${column('orderId')}::uuid[], ${column('shopifyLineId')}::text[]) AS kept(order_id, line_id)
        WHERE kept.order_id = l.order_id AND kept.line_id = l.shopify_line_id)`.execute(trx);
  if (lines.length === 0) return;
  await sql`
    INSERT INTO shopify_order_lines AS l (order_id, shopify_line_id, shopify_variant_id, product_id, sku, title, quantity, refunded_quantity,
                                          restocked_quantity, unit_price, total_discount, tax, refunded_amount, currency)
    SELECT v.order_id, v.line_id, v.variant_id, ${matchProduct(storeId, sql`v.variant_id`, sql`v.sku`)}, v.sku, v.title, v.quantity, v.refunded_quantity,
           v.restocked_quantity, v.unit_price, v.total_discount, v.tax, v.refunded_amount, ${currency}
    FROM unnest(
      ${column('orderId')}::uuid[], ${column('shopifyLineId')}::text[], ${column('shopifyVariantId')}::text[], ${column('sku')}::text[],
      ${column('title')}::text[], ${column('quantity')}::int[], ${column('refundedQuantity')}::int[], ${column('restockedQuantity')}::int[],
      ${column('unitPrice')}::numeric[], ${column('totalDiscount')}::numeric[], ${column('tax')}::numeric[], ${column('refundedAmount')}::numeric[]
    ) AS v(order_id, line_id, variant_id, sku, title, quantity, refunded_quantity, restocked_quantity, unit_price, total_discount, tax, refunded_amount)
    ON CONFLICT (order_id, shopify_line_id) DO UPDATE SET
      shopify_variant_id = EXCLUDED.shopify_variant_id, product_id = EXCLUDED.product_id, sku = EXCLUDED.sku, title = EXCLUDED.title,
      quantity = EXCLUDED.quantity, refunded_quantity = EXCLUDED.refunded_quantity, restocked_quantity = EXCLUDED.restocked_quantity,
      unit_price = EXCLUDED.unit_price, total_discount = EXCLUDED.total_discount, tax = EXCLUDED.tax,
      refunded_amount = EXCLUDED.refunded_amount, currency = EXCLUDED.currency`.execute(trx);
}
