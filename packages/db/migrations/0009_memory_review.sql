-- Contradiction review: when Claude is configured, the embedding-worker asks it
-- whether a new memory makes older ones of its scope untrue ("we now ship from
-- Poland" after "we ship from China"). Superseding keeps using 'superseded'; the
-- review itself is recorded as 'reviewed' on the new memory, with what was looked
-- at in its reason, also when nothing was contradicted.
ALTER TABLE memory_events
  DROP CONSTRAINT memory_events_action_check,
  ADD CONSTRAINT memory_events_action_check
    CHECK (action IN ('created', 'refreshed', 'superseded', 'deleted', 'reviewed'));

-- Deleting a memory sets these references to NULL; without indexes each delete
-- scans both tables.
CREATE INDEX memories_superseded_by_idx ON memories (superseded_by) WHERE superseded_by IS NOT NULL;
CREATE INDEX memory_events_related_idx ON memory_events (related_memory_id) WHERE related_memory_id IS NOT NULL;
