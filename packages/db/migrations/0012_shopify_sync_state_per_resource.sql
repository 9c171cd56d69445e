-- shopify_sync_state holds one row per store and resource: each resource synced from
-- Shopify keeps its own cursor, last success and failure, failure streak and counts.
-- The order sync is the resource 'orders', which every existing row was for. The
-- counters added by 0011 (last_run_orders, orders_synced, unmatched_lines …) are
-- those of the orders resource, and keep their names.
ALTER TABLE shopify_sync_state
  -- A resource synced by a later release adds itself to this list.
  ADD COLUMN resource text NOT NULL DEFAULT 'orders' CHECK (resource IN ('orders')),
  DROP CONSTRAINT shopify_sync_state_pkey,
  ADD PRIMARY KEY (store_id, resource);
