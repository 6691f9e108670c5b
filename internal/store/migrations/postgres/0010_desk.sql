-- The agent's desk (issue 13): a conversation belongs to a person (assignee_id NULL: waiting in
-- its team's queue), closes with a reason, and knows the seq of its latest inbound message so a
-- user's unread state is one comparison with what they read (conversation_reads).
ALTER TABLE conversations ADD COLUMN assignee_id uuid REFERENCES users(id) ON DELETE SET NULL;
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
ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_direction_check;
ALTER TABLE messages ADD CONSTRAINT messages_direction_check CHECK (direction IN ('in', 'out', 'internal'));
-- A contact's notes, newest first (GET /contacts/{id}/notes).
CREATE INDEX messages_notes ON messages (account_id, conversation_id, id) WHERE type = 'note';

-- What each user has read of each conversation: its seq when they last read it.
CREATE TABLE conversation_reads (
    account_id      uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    last_read_seq   bigint NOT NULL,
    read_at         timestamptz NOT NULL,
    PRIMARY KEY (account_id, conversation_id, user_id)
);
CREATE INDEX conversation_reads_user ON conversation_reads (account_id, user_id);

-- The reasons an agent picks from when closing (a JSON array of strings).
ALTER TABLE accounts ADD COLUMN close_reasons text NOT NULL DEFAULT '[]';

-- Quick replies ("respostas rápidas"): the account's (owner_id NULL) and each user's own.
CREATE TABLE quick_replies (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    owner_id   uuid REFERENCES users(id) ON DELETE CASCADE,
    shortcut   text NOT NULL,
    text       text NOT NULL,
    search_key text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX quick_replies_account_shortcut ON quick_replies (account_id, shortcut) WHERE owner_id IS NULL;
CREATE UNIQUE INDEX quick_replies_owner_shortcut ON quick_replies (account_id, owner_id, shortcut) WHERE owner_id IS NOT NULL;
