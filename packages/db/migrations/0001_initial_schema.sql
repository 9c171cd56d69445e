-- DealDome's whole schema. Conventions:
--   * uuid primary keys from gen_random_uuid(); Telegram ids are bigint.
--   * money is NUMERIC(18,4) next to a char(3) ISO 4217 currency, never a float.
--   * instants are timestamptz; calendar days (a store's business day) are date.
--   * enum-like text columns are guarded by CHECK constraints, not PostgreSQL enums,
--     so adding a value is a plain migration that needs no type rewrite.
-- schema_migrations is created and owned by the migrator itself.

CREATE EXTENSION IF NOT EXISTS vector;

-- ---------------------------------------------------------------- people & access

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
  display_name text NOT NULL,
  password_hash text,
  role text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member', 'viewer')),
  telegram_user_id bigint UNIQUE,
  timezone text NOT NULL DEFAULT 'UTC',
  disabled_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Stored lower-cased (CHECK above); look up with lower(email) = lower($1) to use this.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE api_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  -- The visible start of the secret, shown in listings and used to find the row.
  token_prefix text NOT NULL UNIQUE,
  token_hash text NOT NULL,
  scopes text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['finance:read', 'finance:write', 'admin']),
  -- A token outlives the admin who made it; revoking is explicit.
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE refresh_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- All tokens of one login share a family: reuse of a rotated one revokes the family.
  family_id uuid NOT NULL,
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  rotated_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
-- Disabling a user or changing a password revokes all of that user's sessions.
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

CREATE TABLE telegram_link_codes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash text NOT NULL UNIQUE,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------- stores

CREATE TABLE stores (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  shop_domain text UNIQUE,
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  timezone text NOT NULL DEFAULT 'UTC',
  -- AES-GCM ciphertext; the key lives in the environment, never in the database.
  shopify_access_token_encrypted bytea,
  shopify_api_version text,
  shopify_api_base_url text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------- knowledge

CREATE TABLE videos (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  title text NOT NULL,
  url text,
  duration_seconds numeric(10, 3) CHECK (duration_seconds >= 0),
  source text NOT NULL DEFAULT 'api' CHECK (source IN ('upload', 'telegram', 'api', 'cli')),
  transcript_format text NOT NULL CHECK (transcript_format IN ('txt', 'srt', 'vtt')),
  transcript text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
  error text,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE chunks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- A chunk means nothing without its video.
  video_id uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  chunk_index integer NOT NULL CHECK (chunk_index >= 0),
  content text NOT NULL,
  token_count integer NOT NULL CHECK (token_count >= 0),
  start_seconds numeric(10, 3) CHECK (start_seconds >= 0),
  end_seconds numeric(10, 3) CHECK (end_seconds >= start_seconds),
  -- NULL until the embedding-worker has embedded it; the model says which space it is in.
  embedding vector(1536),
  embedding_model text,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (video_id, chunk_index),
  CHECK ((embedding IS NULL) = (embedding_model IS NULL))
);
CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw (embedding vector_cosine_ops);
CREATE INDEX chunks_tsv_gin ON chunks USING gin (tsv);

-- ---------------------------------------------------------------- conversations

CREATE TABLE conversations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  chat_id bigint NOT NULL,
  user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  agent text NOT NULL DEFAULT 'alfred' CHECK (agent IN ('alfred', 'roos', 'elisa')),
  started_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz
);
CREATE INDEX conversations_chat_idx ON conversations (chat_id, started_at DESC);
-- /new closes the open conversation; a chat never has two open at once.
CREATE UNIQUE INDEX conversations_one_open_per_chat ON conversations (chat_id) WHERE closed_at IS NULL;

CREATE TABLE messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
  -- Anthropic-style content blocks (text, tool_use, tool_result).
  content jsonb NOT NULL CHECK (jsonb_typeof(content) = 'array'),
  agent text CHECK (agent IN ('alfred', 'roos', 'elisa')),
  user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  telegram_message_id bigint,
  -- Ids Telegram gave the parts of a sent reply: a retried delivery sends nothing twice.
  telegram_sent_message_ids bigint[],
  answered_at timestamptz,
  model text,
  input_tokens integer CHECK (input_tokens >= 0),
  output_tokens integer CHECK (output_tokens >= 0),
  cache_read_tokens integer CHECK (cache_read_tokens >= 0),
  cache_write_tokens integer CHECK (cache_write_tokens >= 0),
  -- Always USD (the API bills in it); 6 decimals because one turn costs fractions of a cent.
  cost_usd numeric(18, 6) CHECK (cost_usd >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, created_at);
CREATE INDEX messages_usage_idx ON messages (created_at) WHERE role = 'assistant';

CREATE TABLE telegram_updates (
  -- Telegram may deliver an update twice; the primary key makes intake idempotent.
  update_id bigint PRIMARY KEY,
  chat_id bigint,
  payload jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);
CREATE INDEX telegram_updates_received_idx ON telegram_updates (received_at);

-- ---------------------------------------------------------------- memory

CREATE TABLE memories (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  scope text NOT NULL CHECK (scope IN ('team', 'user')),
  -- A person's memories go with the person (SET NULL would break the scope CHECK).
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('fact', 'decision', 'preference', 'context')),
  content text NOT NULL CHECK (length(content) > 0),
  source_message_id uuid REFERENCES messages (id) ON DELETE SET NULL,
  embedding vector(1536),
  embedding_model text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- History is kept: a contradicted memory is superseded, not overwritten.
  superseded_at timestamptz,
  superseded_by uuid REFERENCES memories (id) ON DELETE SET NULL,
  CHECK (superseded_by IS NULL OR (superseded_at IS NOT NULL AND superseded_by <> id)),
  CHECK ((scope = 'team') = (user_id IS NULL)),
  CHECK ((embedding IS NULL) = (embedding_model IS NULL))
);
-- Recall filters on scope and superseded_at: queries set pgvector 0.8's
-- hnsw.iterative_scan so a filtered LIMIT still fills from this index.
CREATE INDEX memories_embedding_hnsw ON memories USING hnsw (embedding vector_cosine_ops);
CREATE INDEX memories_current_scope_idx ON memories (scope, user_id, updated_at DESC) WHERE superseded_at IS NULL;

CREATE TABLE memory_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- SET NULL, not CASCADE: a 'deleted' event must outlive the memory it records
  -- (the content is gone, the decision and its reason stay).
  memory_id uuid REFERENCES memories (id) ON DELETE SET NULL,
  action text NOT NULL CHECK (action IN ('created', 'refreshed', 'superseded', 'deleted')),
  related_memory_id uuid REFERENCES memories (id) ON DELETE SET NULL,
  -- Cosine similarity that triggered a dedupe/supersede decision.
  similarity numeric(6, 5) CHECK (similarity BETWEEN -1 AND 1),
  reason text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX memory_events_memory_idx ON memory_events (memory_id, created_at);

-- ---------------------------------------------------------------- scheduling

CREATE TABLE scheduled_tasks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind text NOT NULL CHECK (kind IN ('reminder', 'agent_check', 'digest')),
  cron_expression text,
  timezone text NOT NULL DEFAULT 'UTC',
  run_at timestamptz,
  chat_id bigint NOT NULL,
  agent text CHECK (agent IN ('alfred', 'roos', 'elisa')),
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  enabled boolean NOT NULL DEFAULT true,
  next_run_at timestamptz,
  last_run_at timestamptz,
  last_status text CHECK (last_status IN ('ok', 'failed', 'skipped')),
  last_error text,
  consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Recurring (cron) or one-shot (run_at), never both.
  CHECK ((cron_expression IS NULL) <> (run_at IS NULL))
);
CREATE INDEX scheduled_tasks_due_idx ON scheduled_tasks (next_run_at) WHERE enabled;
CREATE INDEX scheduled_tasks_chat_idx ON scheduled_tasks (chat_id);

CREATE TABLE notifications (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind text NOT NULL CHECK (kind IN ('reminder', 'alert', 'digest', 'agent_check', 'system')),
  priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'critical')),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  chat_id bigint NOT NULL,
  text text NOT NULL,
  task_id uuid REFERENCES scheduled_tasks (id) ON DELETE SET NULL,
  store_id uuid REFERENCES stores (id) ON DELETE SET NULL,
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error text,
  telegram_sent_message_ids bigint[],
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
CREATE INDEX notifications_status_idx ON notifications (status, created_at);

-- ---------------------------------------------------------------- finance
-- Deleting a store that has finance history is refused (RESTRICT): the history is
-- the point of the platform; a store is retired, not erased by accident.

CREATE TABLE products (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  store_id uuid NOT NULL REFERENCES stores (id) ON DELETE RESTRICT,
  sku text NOT NULL,
  name text NOT NULL,
  description text,
  -- The current cost; product_costs holds every cost with the day it took effect.
  cost_price numeric(18, 4) NOT NULL CHECK (cost_price >= 0),
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  status text NOT NULL DEFAULT 'testing' CHECK (status IN ('testing', 'winning', 'paused', 'killed')),
  shopify_product_id text,
  shopify_variant_id text,
  embedding vector(1536),
  embedding_model text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (store_id, sku)
);
CREATE INDEX products_store_status_idx ON products (store_id, status);
-- Order lines are matched to products by variant: one product per variant per store.
CREATE UNIQUE INDEX products_shopify_variant_key ON products (store_id, shopify_variant_id) WHERE shopify_variant_id IS NOT NULL;

CREATE TABLE product_costs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  product_id uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  cost_price numeric(18, 4) NOT NULL CHECK (cost_price >= 0),
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  effective_from date NOT NULL,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (product_id, effective_from)
);

CREATE TABLE fixed_costs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- NULL: shared by every store.
  store_id uuid REFERENCES stores (id) ON DELETE RESTRICT,
  name text NOT NULL,
  category text NOT NULL,
  amount numeric(18, 4) NOT NULL CHECK (amount >= 0),
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- Months are stored as their first day.
  start_month date NOT NULL CHECK (extract(day FROM start_month) = 1),
  end_month date CHECK (extract(day FROM end_month) = 1 AND end_month >= start_month),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fixed_costs_store_idx ON fixed_costs (store_id, start_month);

CREATE TABLE daily_financials (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  store_id uuid NOT NULL REFERENCES stores (id) ON DELETE RESTRICT,
  date date NOT NULL,
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  revenue numeric(18, 4) NOT NULL DEFAULT 0 CHECK (revenue >= 0),
  discounts numeric(18, 4) NOT NULL DEFAULT 0 CHECK (discounts >= 0),
  refunds numeric(18, 4) NOT NULL DEFAULT 0 CHECK (refunds >= 0),
  cogs numeric(18, 4) NOT NULL DEFAULT 0 CHECK (cogs >= 0),
  shipping_costs numeric(18, 4) NOT NULL DEFAULT 0 CHECK (shipping_costs >= 0),
  transaction_fees numeric(18, 4) NOT NULL DEFAULT 0 CHECK (transaction_fees >= 0),
  orders integer NOT NULL DEFAULT 0 CHECK (orders >= 0),
  units integer NOT NULL DEFAULT 0 CHECK (units >= 0),
  source text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'shopify')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (store_id, date)
);
CREATE INDEX daily_financials_date_idx ON daily_financials (date);

CREATE TABLE ad_spend_entries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  store_id uuid NOT NULL REFERENCES stores (id) ON DELETE RESTRICT,
  date date NOT NULL,
  platform text NOT NULL CHECK (platform IN ('meta', 'tiktok', 'google', 'snapchat', 'pinterest', 'other')),
  amount numeric(18, 4) NOT NULL CHECK (amount >= 0),
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  campaign text,
  -- Spend stays in the books when a product is deleted.
  product_id uuid REFERENCES products (id) ON DELETE SET NULL,
  import_batch_id uuid,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ad_spend_store_date_idx ON ad_spend_entries (store_id, date);
-- The all-stores reports read a date range across every store.
CREATE INDEX ad_spend_date_idx ON ad_spend_entries (date);
CREATE INDEX ad_spend_product_date_idx ON ad_spend_entries (product_id, date) WHERE product_id IS NOT NULL;
CREATE INDEX ad_spend_import_batch_idx ON ad_spend_entries (import_batch_id) WHERE import_batch_id IS NOT NULL;

CREATE TABLE product_performance (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  store_id uuid NOT NULL REFERENCES stores (id) ON DELETE RESTRICT,
  -- Per-product stats mean nothing without the product; the store's totals stay in
  -- daily_financials, so this history may go with it.
  product_id uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
  date date NOT NULL,
  units integer NOT NULL DEFAULT 0 CHECK (units >= 0),
  revenue numeric(18, 4) NOT NULL DEFAULT 0 CHECK (revenue >= 0),
  -- The day's spend attributed to the product, in this row's currency: a rollup of
  -- ad_spend_entries (the ledger), kept so ROAS per product is one row read.
  ad_spend numeric(18, 4) NOT NULL DEFAULT 0 CHECK (ad_spend >= 0),
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  source text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'shopify')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (product_id, date)
);
CREATE INDEX product_performance_store_date_idx ON product_performance (store_id, date);

CREATE TABLE fx_rates (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  date date NOT NULL,
  base char(3) NOT NULL CHECK (base ~ '^[A-Z]{3}$'),
  quote char(3) NOT NULL CHECK (quote ~ '^[A-Z]{3}$' AND quote <> base),
  -- 1 base = rate quote
  rate numeric(20, 10) NOT NULL CHECK (rate > 0),
  source text NOT NULL DEFAULT 'manual',
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (date, base, quote)
);
-- Conversions ask for "the latest rate of a pair on or before a day".
CREATE INDEX fx_rates_pair_date_idx ON fx_rates (base, quote, date DESC);

CREATE TABLE financial_reports (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- NULL: every store, converted to the reporting currency.
  store_id uuid REFERENCES stores (id) ON DELETE RESTRICT,
  period_start date NOT NULL,
  period_end date NOT NULL CHECK (period_end >= period_start),
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  report jsonb NOT NULL,
  generated_by uuid REFERENCES users (id) ON DELETE SET NULL,
  generated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX financial_reports_lookup_idx ON financial_reports (store_id, period_start, period_end);

-- ---------------------------------------------------------------- Shopify

CREATE TABLE shopify_sync_state (
  -- Sync state belongs to the store's configuration, so it goes with the store.
  store_id uuid PRIMARY KEY REFERENCES stores (id) ON DELETE CASCADE,
  orders_updated_at_cursor timestamptz,
  status text NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'running', 'failing', 'disabled')),
  last_started_at timestamptz,
  last_synced_at timestamptz,
  last_error text,
  consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE shopify_orders (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  store_id uuid NOT NULL REFERENCES stores (id) ON DELETE RESTRICT,
  shopify_order_id text NOT NULL,
  name text NOT NULL,
  processed_at timestamptz NOT NULL,
  shopify_updated_at timestamptz NOT NULL,
  cancelled_at timestamptz,
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  subtotal numeric(18, 4) NOT NULL DEFAULT 0 CHECK (subtotal >= 0),
  total_discounts numeric(18, 4) NOT NULL DEFAULT 0 CHECK (total_discounts >= 0),
  total_shipping numeric(18, 4) NOT NULL DEFAULT 0 CHECK (total_shipping >= 0),
  total_tax numeric(18, 4) NOT NULL DEFAULT 0 CHECK (total_tax >= 0),
  total_refunded numeric(18, 4) NOT NULL DEFAULT 0 CHECK (total_refunded >= 0),
  transaction_fees numeric(18, 4) NOT NULL DEFAULT 0 CHECK (transaction_fees >= 0),
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  -- Re-syncing an order updates it in place: sync is idempotent.
  UNIQUE (store_id, shopify_order_id)
);
CREATE INDEX shopify_orders_processed_idx ON shopify_orders (store_id, processed_at);

CREATE TABLE shopify_order_lines (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  order_id uuid NOT NULL REFERENCES shopify_orders (id) ON DELETE CASCADE,
  shopify_line_id text NOT NULL,
  product_id uuid REFERENCES products (id) ON DELETE SET NULL,
  sku text,
  title text NOT NULL,
  quantity integer NOT NULL CHECK (quantity >= 0),
  refunded_quantity integer NOT NULL DEFAULT 0 CHECK (refunded_quantity >= 0),
  unit_price numeric(18, 4) NOT NULL CHECK (unit_price >= 0),
  total_discount numeric(18, 4) NOT NULL DEFAULT 0 CHECK (total_discount >= 0),
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  UNIQUE (order_id, shopify_line_id)
);
CREATE INDEX shopify_order_lines_product_idx ON shopify_order_lines (product_id) WHERE product_id IS NOT NULL;

-- ---------------------------------------------------------------- embeddings & search

CREATE TABLE embedding_cache (
  model text NOT NULL,
  -- sha256 of the exact text embedded: identical text is never embedded twice.
  text_sha256 bytea NOT NULL CHECK (length(text_sha256) = 32),
  embedding vector(1536) NOT NULL,
  -- Derived, so it can never disagree with the vector it describes.
  dims integer GENERATED ALWAYS AS (vector_dims(embedding)) STORED,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, text_sha256)
);

CREATE TABLE search_metrics (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  query text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('vector', 'fulltext', 'hybrid')),
  agent text CHECK (agent IN ('alfred', 'roos', 'elisa')),
  user_id uuid REFERENCES users (id) ON DELETE SET NULL,
  result_count integer NOT NULL CHECK (result_count >= 0),
  top_score numeric(8, 6),
  latency_ms numeric(10, 3) NOT NULL CHECK (latency_ms >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_metrics_created_idx ON search_metrics (created_at);
