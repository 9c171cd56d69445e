-- A write an agent proposed and a person has yet to confirm (Roos's "record this
-- ad spend?"). The agent stores the proposal here and shows Confirm / Cancel
-- buttons; the write happens only when the proposer confirms, in the same
-- transaction that moves the status off 'pending', so a double tap writes once.
CREATE TABLE pending_actions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  -- Who asked, and the only person who may decide; a proposal goes with its person.
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('create_ad_spend')),
  -- The validated input of the write, exactly as it will be performed.
  payload jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'cancelled', 'expired')),
  -- What the confirmed write produced (the new record's id), so a repeated confirm can name it.
  result jsonb CHECK (result IS NULL OR jsonb_typeof(result) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz,
  expires_at timestamptz NOT NULL,
  CHECK ((status = 'pending') = (decided_at IS NULL)),
  CHECK ((status = 'confirmed') = (result IS NOT NULL)),
  CHECK (expires_at > created_at)
);
CREATE INDEX pending_actions_conversation_idx ON pending_actions (conversation_id, created_at);
CREATE INDEX pending_actions_open_idx ON pending_actions (expires_at) WHERE status = 'pending';
