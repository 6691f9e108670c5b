-- The agent's desk (issue 13): a conversation belongs to a person (assignee_id NULL: waiting in
-- its team's queue), closes with a reason, and knows the seq of its latest inbound message so a
-- user's unread state is one comparison with what they read (conversation_reads).
ALTER TABLE conversations ADD COLUMN assignee_id text REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN closed_reason text;
ALTER TABLE conversations ADD COLUMN last_inbound_seq bigint NOT NULL DEFAULT 0;
UPDATE conversations SET assignee_id = created_by WHERE origin = 'active';
UPDATE conversations SET last_inbound_seq = COALESCE((SELECT max(m.seq) FROM messages m
    WHERE m.account_id = conversations.account_id AND m.conversation_id = conversations.id AND m.direction = 'in'), 0);
-- The list (GET /conversations): newest change first, per account and per assignee.
CREATE INDEX conversations_account_updated ON conversations (account_id, updated_at, id);
CREATE INDEX conversations_account_assignee ON conversations (account_id, assignee_id, updated_at, id);
CREATE INDEX conversations_account_team ON conversations (account_id, team_id, updated_at, id);
-- A contact's conversations (q= by name or phone, contact_id=, a contact's notes): until now only
-- the open ones were indexed by contact (conversations_one_open).
CREATE INDEX conversations_account_contact ON conversations (account_id, contact_id, updated_at);

-- Internal notes are messages of direction 'internal' (never sent: the claim takes 'out' only).
-- SQLite cannot change a CHECK constraint: the table is rebuilt with the same columns. No table
-- references messages, so dropping the old one cascades nowhere.
CREATE TABLE messages_new (
    id                  text PRIMARY KEY,
    account_id          text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id     text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    channel_id          text NOT NULL REFERENCES channels(id),
    seq                 bigint NOT NULL,
    direction           text NOT NULL CHECK (direction IN ('in', 'out', 'internal')),
    type                text NOT NULL,
    status              text NOT NULL,
    text                text NOT NULL DEFAULT '',
    rendered_text       text NOT NULL DEFAULT '',
    template_id         text REFERENCES templates(id) ON DELETE SET NULL,
    template_name       text NOT NULL DEFAULT '',
    template_language   text NOT NULL DEFAULT '',
    template_category   text NOT NULL DEFAULT '',
    parameters          text,
    components          text,
    provider_message_id text,
    error_code          integer,
    error_title         text,
    error_details       text,
    pricing_billable    integer,
    pricing_category    text,
    pricing_type        text,
    attempts            integer NOT NULL DEFAULT 0,
    due_at              timestamp,
    lease_until         timestamp,
    sent_at             timestamp,
    delivered_at        timestamp,
    read_at             timestamp,
    failed_at           timestamp,
    received_at         timestamp,
    created_by          text REFERENCES users(id) ON DELETE SET NULL,
    created_at          timestamp NOT NULL,
    updated_at          timestamp NOT NULL
);
INSERT INTO messages_new (id, account_id, conversation_id, channel_id, seq, direction, type, status, text, rendered_text,
    template_id, template_name, template_language, template_category, parameters, components, provider_message_id,
    error_code, error_title, error_details, pricing_billable, pricing_category, pricing_type, attempts, due_at, lease_until,
    sent_at, delivered_at, read_at, failed_at, received_at, created_by, created_at, updated_at)
SELECT id, account_id, conversation_id, channel_id, seq, direction, type, status, text, rendered_text,
    template_id, template_name, template_language, template_category, parameters, components, provider_message_id,
    error_code, error_title, error_details, pricing_billable, pricing_category, pricing_type, attempts, due_at, lease_until,
    sent_at, delivered_at, read_at, failed_at, received_at, created_by, created_at, updated_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE UNIQUE INDEX messages_conversation_seq ON messages (account_id, conversation_id, seq);
CREATE UNIQUE INDEX messages_provider_id ON messages (account_id, provider_message_id);
CREATE INDEX messages_sendable ON messages (due_at) WHERE status IN ('pending', 'scheduled') AND direction = 'out';
CREATE INDEX messages_outbox_head ON messages (conversation_id, seq) WHERE status IN ('pending', 'scheduled') AND direction = 'out';
-- A contact's notes, newest first (GET /contacts/{id}/notes).
CREATE INDEX messages_notes ON messages (account_id, conversation_id, id) WHERE type = 'note';

-- What each user has read of each conversation: its seq when they last read it.
CREATE TABLE conversation_reads (
    account_id      text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id         text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    last_read_seq   bigint NOT NULL,
    read_at         timestamp NOT NULL,
    PRIMARY KEY (account_id, conversation_id, user_id)
);
CREATE INDEX conversation_reads_user ON conversation_reads (account_id, user_id);

-- The reasons an agent picks from when closing (a JSON array of strings).
ALTER TABLE accounts ADD COLUMN close_reasons text NOT NULL DEFAULT '[]';

-- Quick replies ("respostas rápidas"): the account's (owner_id NULL) and each user's own.
CREATE TABLE quick_replies (
    id         text PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    owner_id   text REFERENCES users(id) ON DELETE CASCADE,
    shortcut   text NOT NULL,
    text       text NOT NULL,
    search_key text NOT NULL,
    created_at timestamp NOT NULL,
    updated_at timestamp NOT NULL
);
CREATE UNIQUE INDEX quick_replies_account_shortcut ON quick_replies (account_id, shortcut) WHERE owner_id IS NULL;
CREATE UNIQUE INDEX quick_replies_owner_shortcut ON quick_replies (account_id, owner_id, shortcut) WHERE owner_id IS NOT NULL;
