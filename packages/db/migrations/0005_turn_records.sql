-- What an agent turn (apps/agent-runtime) records on the messages it answers and writes.
ALTER TABLE messages
  -- The reply that answered a user message. A retried turn job finds it and
  -- delivers it again instead of answering a second time.
  ADD COLUMN answered_by uuid REFERENCES messages (id) ON DELETE SET NULL,
  -- Wall time of the whole turn (model calls, retries and tools), on its reply.
  ADD COLUMN latency_ms integer CHECK (latency_ms >= 0),
  ADD CONSTRAINT messages_answered_by_needs_answered_at CHECK (answered_by IS NULL OR answered_at IS NOT NULL);

-- Every turn starts by reading its conversation's unanswered user messages.
CREATE INDEX messages_unanswered_idx ON messages (conversation_id, created_at) WHERE role = 'user' AND answered_at IS NULL;
-- The monthly AI budget sums a person's costs.
CREATE INDEX messages_cost_by_user_idx ON messages (user_id, created_at) WHERE cost_usd IS NOT NULL;
