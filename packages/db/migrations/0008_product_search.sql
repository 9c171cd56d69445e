-- Product search (GET /v1/products/search): the same hybrid search as the knowledge
-- base, over each product's embedding (of its name and description, written by the
-- embedding-worker) and its words.

-- The nearest products to a query by cosine distance; like chunks and memories, the
-- search filters by model (and store, status) with hnsw.iterative_scan so a filtered
-- LIMIT still fills from this index.
CREATE INDEX products_embedding_hnsw ON products USING hnsw (embedding vector_cosine_ops);

-- The words a product is found by. SKU and name weigh more than the description
-- (ts_rank_cd weights A above B), so a product named for the query ranks above one
-- that mentions it in passing. A stored column rather than an expression index: the
-- search reads it as `tsv`, as it does the chunks'.
ALTER TABLE products
  ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', sku || ' ' || name), 'A') ||
    setweight(to_tsvector('english', coalesce(description, '')), 'B')
  ) STORED;
CREATE INDEX products_tsv_gin ON products USING gin (tsv);

-- SKUs are matched whole or by their beginning ("NH-22" finds NH-2291), case
-- aside; the text parser splits a SKU into pieces that match neither way.
CREATE INDEX products_sku_prefix_idx ON products (lower(sku) text_pattern_ops);

-- Writing a product's embedding is no change to the finances: with the trigger of
-- 0002 firing on every UPDATE, each vector the embedding-worker wrote threw away
-- every cached report. Only statements that set a column a report reads (or that
-- matches orders to products) move the version now; a new such column must be added
-- here. Still a BEFORE statement trigger, so the version row stays the first lock a
-- finance write takes.
DROP TRIGGER products_finance_version ON products;
CREATE TRIGGER products_finance_version
  BEFORE INSERT OR DELETE OR TRUNCATE
    OR UPDATE OF id, store_id, sku, name, cost_price, currency, status, shopify_product_id, shopify_variant_id
  ON products
  FOR EACH STATEMENT EXECUTE FUNCTION bump_finance_data_version();
