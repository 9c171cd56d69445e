-- Product search records its searches as knowledge search does: what was searched
-- tells the rows apart. Rows from before this column are knowledge searches.
ALTER TABLE search_metrics
  ADD COLUMN target text NOT NULL DEFAULT 'knowledge' CHECK (target IN ('knowledge', 'products'));
