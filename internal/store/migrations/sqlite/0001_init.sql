-- Accounts (tenants) and the people and keys that act for them.
CREATE TABLE accounts (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    default_region text NOT NULL DEFAULT 'BR',
    auto_close_waiting integer NOT NULL DEFAULT 0,
    created_at  timestamp NOT NULL,
    updated_at  timestamp NOT NULL
);

CREATE TABLE users (
    id            text PRIMARY KEY,
    account_id    text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          text NOT NULL,
    email         text NOT NULL,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'agent')),
    created_at    timestamp NOT NULL,
    updated_at    timestamp NOT NULL
);
CREATE UNIQUE INDEX users_account_email ON users (account_id, email);
CREATE INDEX users_email ON users (email);

CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    account_id   text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('admin', 'agent')),
    prefix       text NOT NULL,
    secret_hash  text NOT NULL,
    created_by   text REFERENCES users(id) ON DELETE SET NULL,
    last_used_at timestamp,
    revoked_at   timestamp,
    created_at   timestamp NOT NULL,
    updated_at   timestamp NOT NULL
);
CREATE INDEX api_keys_account ON api_keys (account_id, id);

CREATE TABLE sessions (
    id          text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id     text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret_hash text NOT NULL,
    csrf_token  text NOT NULL,
    expires_at  timestamp NOT NULL,
    created_at  timestamp NOT NULL
);
CREATE INDEX sessions_account_user ON sessions (account_id, user_id);

-- Contacts: one per phone number and account.
CREATE TABLE contacts (
    id         text PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       text NOT NULL DEFAULT '',
    name_key   text NOT NULL DEFAULT '',
    phone      text NOT NULL,
    wa_id      text,
    email      text NOT NULL DEFAULT '',
    attributes text NOT NULL DEFAULT '{}',
    created_at timestamp NOT NULL,
    updated_at timestamp NOT NULL
);
CREATE UNIQUE INDEX contacts_account_phone ON contacts (account_id, phone);
CREATE INDEX contacts_account_wa_id ON contacts (account_id, wa_id);
CREATE INDEX contacts_account_name_key ON contacts (account_id, name_key);
CREATE INDEX contacts_account_phone_prefix ON contacts (account_id, phone);

-- Teams, channels and their links.
CREATE TABLE teams (
    id         text PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       text NOT NULL,
    created_at timestamp NOT NULL,
    updated_at timestamp NOT NULL
);
CREATE UNIQUE INDEX teams_account_name ON teams (account_id, name);

CREATE TABLE channels (
    id              text PRIMARY KEY,
    account_id      text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name            text NOT NULL,
    provider        text NOT NULL CHECK (provider IN ('whatsapp_cloud', 'sandbox')),
    phone_number    text NOT NULL DEFAULT '',
    phone_number_id text NOT NULL DEFAULT '',
    waba_id         text NOT NULL DEFAULT '',
    access_token    text NOT NULL DEFAULT '',
    app_secret      text NOT NULL DEFAULT '',
    verify_token    text NOT NULL DEFAULT '',
    active          integer NOT NULL DEFAULT 1,
    default_team_id text REFERENCES teams(id) ON DELETE SET NULL,
    created_at      timestamp NOT NULL,
    updated_at      timestamp NOT NULL
);
CREATE INDEX channels_account ON channels (account_id, id);

CREATE TABLE team_channels (
    account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    team_id    text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    channel_id text NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, team_id, channel_id)
);
CREATE INDEX team_channels_channel ON team_channels (account_id, channel_id);

CREATE TABLE team_members (
    account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    team_id    text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id    text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (account_id, user_id);

-- Message templates, mirrored from the provider.
CREATE TABLE templates (
    id               text PRIMARY KEY,
    account_id       text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel_id       text NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    external_id      text NOT NULL DEFAULT '',
    name             text NOT NULL,
    language         text NOT NULL,
    category         text NOT NULL,
    status           text NOT NULL,
    parameter_format text NOT NULL,
    components       text NOT NULL,
    variables        text NOT NULL,
    search_key       text NOT NULL DEFAULT '',
    created_at       timestamp NOT NULL,
    updated_at       timestamp NOT NULL
);
CREATE UNIQUE INDEX templates_account_channel_name_lang ON templates (account_id, channel_id, name, language);

-- Conversations and their messages (the outbox).
CREATE TABLE conversations (
    id                text PRIMARY KEY,
    account_id        text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_id        text NOT NULL REFERENCES contacts(id),
    channel_id        text NOT NULL REFERENCES channels(id),
    team_id           text REFERENCES teams(id) ON DELETE SET NULL,
    status            text NOT NULL CHECK (status IN ('scheduled', 'waiting', 'active', 'closed', 'failed', 'cancelled')),
    origin            text NOT NULL CHECK (origin IN ('active', 'receptive')),
    scheduled_at      timestamp,
    waiting_since     timestamp,
    window_expires_at timestamp,
    last_inbound_at   timestamp,
    closed_at         timestamp,
    failure_code      integer,
    failure_title     text,
    next_seq          bigint NOT NULL DEFAULT 0,
    created_by        text REFERENCES users(id) ON DELETE SET NULL,
    created_at        timestamp NOT NULL,
    updated_at        timestamp NOT NULL
);
-- At most one open conversation per contact and channel: the rule lives in the database.
CREATE UNIQUE INDEX conversations_one_open ON conversations (account_id, contact_id, channel_id)
    WHERE status IN ('scheduled', 'waiting', 'active');
CREATE INDEX conversations_account_id ON conversations (account_id, id);
CREATE INDEX conversations_account_status ON conversations (account_id, status, id);

CREATE TABLE messages (
    id                  text PRIMARY KEY,
    account_id          text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id     text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    channel_id          text NOT NULL REFERENCES channels(id),
    seq                 bigint NOT NULL,
    direction           text NOT NULL CHECK (direction IN ('in', 'out')),
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
CREATE UNIQUE INDEX messages_conversation_seq ON messages (account_id, conversation_id, seq);
CREATE UNIQUE INDEX messages_provider_id ON messages (account_id, provider_message_id);
-- The dispatcher's claim: due outbound rows.
CREATE INDEX messages_due ON messages (due_at) WHERE status = 'pending';

-- Idempotent starts.
CREATE TABLE idempotency_keys (
    account_id      text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key             text NOT NULL,
    request_hash    text NOT NULL,
    response_status integer NOT NULL,
    response_body   text NOT NULL,
    created_at      timestamp NOT NULL,
    PRIMARY KEY (account_id, key)
);
