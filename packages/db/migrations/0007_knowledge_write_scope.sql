-- API tokens may add videos to the knowledge base (POST /v1/videos) without any
-- finance scope.
ALTER TABLE api_tokens
  DROP CONSTRAINT api_tokens_scopes_check,
  ADD CONSTRAINT api_tokens_scopes_check
    CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['finance:read', 'finance:write', 'knowledge:read', 'knowledge:write', 'admin']);
