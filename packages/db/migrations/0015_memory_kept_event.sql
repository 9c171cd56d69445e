-- The near-duplicate check's other outcome: a memory found to be no near-duplicate
-- of any current memory of its scope is recorded as 'kept', with its nearest peer
-- and their similarity (none when the scope held no other memory). Every checked
-- memory thus has a decision on record ('kept', or 'superseded' when it was merged
-- into an older one), and an embed job that runs again after writing a memory's
-- vector can tell whether the check still has to run.
ALTER TABLE memory_events
  DROP CONSTRAINT memory_events_action_check,
  ADD CONSTRAINT memory_events_action_check
    CHECK (action IN ('created', 'refreshed', 'superseded', 'deleted', 'reviewed', 'kept'));
