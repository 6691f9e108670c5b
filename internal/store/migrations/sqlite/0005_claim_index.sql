-- Indexes with exactly the claim's predicates. The claim walks messages_sendable in due_at order
-- and stops at its LIMIT; for each candidate it reads its conversation's head (lowest unsent
-- seq) from messages_outbox_head. Both work without statistics, which a burst outdates.
CREATE INDEX messages_sendable ON messages (due_at) WHERE status IN ('pending', 'scheduled') AND direction = 'out';
CREATE INDEX messages_outbox_head ON messages (conversation_id, seq) WHERE status IN ('pending', 'scheduled') AND direction = 'out';
DROP INDEX IF EXISTS messages_due;
DROP INDEX IF EXISTS messages_scheduled_due;
DROP INDEX IF EXISTS messages_conversation_pending;
