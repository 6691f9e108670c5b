-- A waiting conversation whose contact has not replied within WAITING_TIMEOUT expires once: the
-- sweeper records when, so it reports each wait once (a re-engagement starts a new wait, with a
-- later waiting_since).
ALTER TABLE conversations ADD COLUMN waiting_expired_at timestamp;
-- The sweeper looks for the oldest waits.
CREATE INDEX conversations_waiting_since ON conversations (waiting_since) WHERE status = 'waiting';
