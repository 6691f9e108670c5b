-- Contact search (GET /contacts?q=) matches anywhere in the folded name or the phone's digits:
-- trigram indexes serve LIKE '%…%' at a million contacts. The extension lives in the public
-- schema so that dropping an application schema never drops it from under another.
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
CREATE INDEX contacts_name_trgm ON contacts USING gin (name_key public.gin_trgm_ops);
CREATE INDEX contacts_phone_trgm ON contacts USING gin (phone public.gin_trgm_ops);
DROP INDEX IF EXISTS contacts_account_name_key;
DROP INDEX IF EXISTS contacts_account_phone_prefix;
