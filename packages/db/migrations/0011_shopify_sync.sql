-- Shopify order sync (packages/domain/src/shopify): what a synced order needs beyond
-- 0001's columns, the sync's own bookkeeping, and the record of webhook deliveries
-- that drops Shopify's duplicates.
--
-- How an order counts (see rebuildShopifyDays): revenue = gross_sales + total_shipping,
-- less total_tax when the prices include it; discounts = total_discounts; refunds =
-- total_refunded − refunded_tax. All of an order's figures, its refunds included, belong
-- to the store-local day it was processed.

ALTER TABLE shopify_orders
  -- Line items at their original prices, before any discount: the revenue a day starts from.
  ADD COLUMN gross_sales numeric(18, 4) NOT NULL DEFAULT 0 CHECK (gross_sales >= 0),
  -- Prices (and so discounts and refunds) include tax: revenue is counted without it.
  ADD COLUMN taxes_included boolean NOT NULL DEFAULT false,
  -- Test orders are stored but never counted.
  ADD COLUMN test boolean NOT NULL DEFAULT false,
  -- The tax part of total_refunded (of refunded lines and shipping), so refunds count without tax.
  ADD COLUMN refunded_tax numeric(18, 4) NOT NULL DEFAULT 0 CHECK (refunded_tax >= 0),
  -- Fees charged in another currency than the store's: not converted, not counted in
  -- transaction_fees, kept here so the gap is visible.
  ADD COLUMN uncounted_fees jsonb;
COMMENT ON COLUMN shopify_orders.subtotal IS 'Line items after line and order discounts, before shipping and tax (Shopify''s subtotal)';
COMMENT ON COLUMN shopify_orders.total_refunded IS 'Money given back, tax included (Shopify''s totalRefunded)';

ALTER TABLE shopify_order_lines
  ADD COLUMN shopify_variant_id text,
  -- Tax on the line (inside unit_price when the order's prices include tax).
  ADD COLUMN tax numeric(18, 4) NOT NULL DEFAULT 0 CHECK (tax >= 0),
  -- What the line's refunds gave back, without tax.
  ADD COLUMN refunded_amount numeric(18, 4) NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
  -- Refunded units that went back to stock (returned or cancelled): no cost of goods for
  -- them. A refund without restock (the customer keeps the item) keeps its cost.
  ADD COLUMN restocked_quantity integer NOT NULL DEFAULT 0 CHECK (restocked_quantity >= 0),
  ADD CONSTRAINT shopify_order_lines_refunds_within_quantity
    CHECK (refunded_quantity <= quantity AND restocked_quantity <= refunded_quantity);
-- Lines sold before their product existed in DealDome are matched on a later sync.
CREATE INDEX shopify_order_lines_unmatched_idx ON shopify_order_lines (order_id) WHERE product_id IS NULL;

ALTER TABLE shopify_sync_state
  ADD COLUMN last_failed_at timestamptz,
  -- The last successful run: orders written, store-days rebuilt, points of the bucket
  -- used, THROTTLED answers met, order lines that matched no product (no cost of goods).
  ADD COLUMN last_run_orders integer NOT NULL DEFAULT 0 CHECK (last_run_orders >= 0),
  ADD COLUMN last_run_days integer NOT NULL DEFAULT 0 CHECK (last_run_days >= 0),
  ADD COLUMN last_run_points integer NOT NULL DEFAULT 0 CHECK (last_run_points >= 0),
  ADD COLUMN last_run_throttled integer NOT NULL DEFAULT 0 CHECK (last_run_throttled >= 0),
  ADD COLUMN unmatched_lines integer NOT NULL DEFAULT 0 CHECK (unmatched_lines >= 0),
  -- Orders written over all runs (a re-synced order counts again).
  ADD COLUMN orders_synced bigint NOT NULL DEFAULT 0 CHECK (orders_synced >= 0),
  -- Product costs recorded before this time are reflected in the cost of goods; one
  -- recorded later (a retroactive cost) has the days it touches rebuilt.
  ADD COLUMN costs_seen_at timestamptz;

-- Deliveries of Shopify webhooks. Shopify sends a delivery again when it heard no 2xx
-- in time (same webhook id), and one event to every subscription (same event id): a
-- delivery whose webhook id or event id is known is a duplicate and does nothing.
-- Kept for 7 days (Shopify retries for 4 hours); pruned by the scheduler.
CREATE TABLE shopify_webhook_deliveries (
  webhook_id text PRIMARY KEY,
  event_id text UNIQUE,
  shop_domain text NOT NULL,
  topic text NOT NULL,
  -- NULL: no store has this shop domain (the delivery is acknowledged and ignored).
  store_id uuid REFERENCES stores (id) ON DELETE CASCADE,
  triggered_at timestamptz,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shopify_webhook_deliveries_received_idx ON shopify_webhook_deliveries (received_at);
