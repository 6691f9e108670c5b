-- Settings for admins (issue 14): a user may be deactivated (cannot log in; their sessions end
-- and the API keys they created stop working until reactivated), and the account has a time zone.
ALTER TABLE users ADD COLUMN active integer NOT NULL DEFAULT 1;
ALTER TABLE accounts ADD COLUMN time_zone text NOT NULL DEFAULT 'America/Sao_Paulo';
