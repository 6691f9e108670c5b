-- The event log (issue 13, point 7): every event published, numbered by the database, so an
-- event stream that reconnects with Last-Event-ID replays what it missed, on any instance.
-- Rows are kept 24 hours (a sweeper deletes older ones). No foreign key to accounts: the log
-- is short-lived, and publishing (after commit) never waits on or fails for an account's rows.
-- AUTOINCREMENT: ids are never reused, even after the newest rows are deleted.
CREATE TABLE event_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id text NOT NULL,
    kind       text NOT NULL,
    subject_id text NOT NULL,
    created_at timestamp NOT NULL
);
-- Replay: an account's events after an id, in order.
CREATE INDEX event_log_account ON event_log (account_id, id);
-- The retention sweep.
CREATE INDEX event_log_created ON event_log (created_at);
