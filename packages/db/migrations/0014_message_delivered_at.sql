-- When the telegram-outbound worker recorded the last part of an assistant message:
-- the message is in the chat. A delivery waits behind its chat's earlier replies that
-- are still on their way; those marked here are known not to be, so it need not ask
-- Redis about their jobs. Left NULL for replies sent before this column existed, for
-- replies with nothing to send, and for replies still on their way.
ALTER TABLE messages ADD COLUMN delivered_at timestamptz;
