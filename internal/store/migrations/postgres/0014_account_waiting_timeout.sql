-- The account's own waiting timeout (issue 14, Conta): how long a conversation waits for the
-- contact's first reply before it expires, in seconds. NULL follows the server's WAITING_TIMEOUT;
-- 0 means a wait never expires; otherwise whole hours from 1 h to 30 days.
ALTER TABLE accounts ADD COLUMN waiting_timeout_seconds bigint;
