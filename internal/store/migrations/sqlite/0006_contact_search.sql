-- Postgres adds trigram indexes for contact search here; SQLite keeps scanning the account's
-- contacts (the embedded engine is for single-company installs).
SELECT 1;
