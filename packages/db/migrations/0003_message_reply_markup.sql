-- A reply can carry an inline keyboard (/forget's choices, Roos's "confirm this
-- write?"). It is stored with the message, so the outbound worker — the only code
-- that sends — delivers text and keyboard together, and a retry sends the same thing.
ALTER TABLE messages ADD COLUMN reply_markup jsonb CHECK (reply_markup IS NULL OR jsonb_typeof(reply_markup) = 'object');
