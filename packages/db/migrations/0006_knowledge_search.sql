-- Hybrid knowledge search (vector + full text, fused by reciprocal rank) records
-- where its time goes and how close its best vector match was. A similarity only
-- means something within one model's space, so the model is kept beside it.
ALTER TABLE search_metrics
  ADD COLUMN embedding_model text,
  -- Embedding the query; NULL when the search ran without a query vector.
  ADD COLUMN embedding_ms numeric(10, 3) CHECK (embedding_ms >= 0),
  -- The database part of the search; latency_ms stays the whole search.
  ADD COLUMN database_ms numeric(10, 3) CHECK (database_ms >= 0),
  -- Cosine similarity of the nearest chunk, kept or not: what says whether the
  -- relevance floor sits in the right place for the model.
  ADD COLUMN top_similarity numeric(7, 6) CHECK (top_similarity BETWEEN -1 AND 1);

-- API tokens may be limited to searching the knowledge base.
ALTER TABLE api_tokens
  DROP CONSTRAINT api_tokens_scopes_check,
  ADD CONSTRAINT api_tokens_scopes_check
    CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['finance:read', 'finance:write', 'knowledge:read', 'admin']);
