-- Marketing consent (issue 17). A contact's consent is a recorded fact with its history:
-- contact_consents keeps every fact once; the contact carries the current state, which only a
-- fact at least as recent as the current one changes (replayed and reordered deliveries).
ALTER TABLE contacts ADD COLUMN marketing_opted_out boolean NOT NULL DEFAULT false;
ALTER TABLE contacts ADD COLUMN marketing_consent_at timestamptz;

CREATE TABLE contact_consents (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    opted_out  boolean NOT NULL,
    source     text NOT NULL CHECK (source IN ('keyword', 'meta', 'agent', 'api', 'csv')),
    detail     text NOT NULL DEFAULT '',
    user_id    uuid REFERENCES users(id) ON DELETE SET NULL,
    -- What makes a delivered fact the same fact when Meta delivers it again (NULL: never a replay).
    dedupe_key text,
    at         timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX contact_consents_dedupe ON contact_consents (account_id, dedupe_key);
CREATE INDEX contact_consents_history ON contact_consents (account_id, contact_id, at, id);

-- The account's keywords (JSON arrays of strings) and the reply to a keyword opt-out.
ALTER TABLE accounts ADD COLUMN opt_out_keywords text NOT NULL DEFAULT '["SAIR","PARAR","STOP","CANCELAR","DESCADASTRAR"]';
ALTER TABLE accounts ADD COLUMN opt_in_keywords text NOT NULL DEFAULT '["VOLTAR"]';
ALTER TABLE accounts ADD COLUMN opt_out_confirmation text NOT NULL DEFAULT '';

-- Meta's quality rating of a template (message_template_quality_update).
ALTER TABLE templates ADD COLUMN quality text NOT NULL DEFAULT 'UNKNOWN';
