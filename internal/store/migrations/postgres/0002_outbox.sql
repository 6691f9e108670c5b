-- Status webhooks that arrive before the send that produced their WhatsApp id is recorded.
CREATE TABLE orphan_statuses (
    account_id          uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    provider_message_id text NOT NULL,
    status              text NOT NULL,
    occurred_at         timestamptz NOT NULL,
    error_code          integer,
    error_title         text,
    error_details       text,
    pricing_billable    boolean,
    pricing_category    text,
    pricing_type        text,
    created_at          timestamptz NOT NULL,
    PRIMARY KEY (account_id, provider_message_id, status)
);

-- Claims look for due rows of open conversations in order.
CREATE INDEX messages_conversation_pending ON messages (conversation_id, seq) WHERE status IN ('pending', 'scheduled');
CREATE INDEX messages_scheduled_due ON messages (due_at) WHERE status = 'scheduled';
