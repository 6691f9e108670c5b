-- Accounts (tenants) and the people and keys that act for them.
CREATE TABLE accounts (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    default_region text NOT NULL DEFAULT 'BR',
    auto_close_waiting boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    account_id    uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          text NOT NULL,
    email         text NOT NULL,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'agent')),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_account_email ON users (account_id, email);
CREATE INDEX users_email ON users (email);

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    account_id   uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('admin', 'agent')),
    prefix       text NOT NULL,
    secret_hash  text NOT NULL,
    created_by   uuid REFERENCES users(id) ON DELETE SET NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX api_keys_account ON api_keys (account_id, id);

CREATE TABLE sessions (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret_hash text NOT NULL,
    csrf_token  text NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX sessions_account_user ON sessions (account_id, user_id);

-- Contacts: one per phone number and account.
CREATE TABLE contacts (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       text NOT NULL DEFAULT '',
    name_key   text NOT NULL DEFAULT '',
    phone      text NOT NULL,
    wa_id      text,
    email      text NOT NULL DEFAULT '',
    attributes jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX contacts_account_phone ON contacts (account_id, phone);
CREATE INDEX contacts_account_wa_id ON contacts (account_id, wa_id);
CREATE INDEX contacts_account_name_key ON contacts (account_id, name_key text_pattern_ops);
CREATE INDEX contacts_account_phone_prefix ON contacts (account_id, phone text_pattern_ops);

-- Teams, channels and their links.
CREATE TABLE teams (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX teams_account_name ON teams (account_id, name);

CREATE TABLE channels (
    id              uuid PRIMARY KEY,
    account_id      uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name            text NOT NULL,
    provider        text NOT NULL CHECK (provider IN ('whatsapp_cloud', 'sandbox')),
    phone_number    text NOT NULL DEFAULT '',
    phone_number_id text NOT NULL DEFAULT '',
    waba_id         text NOT NULL DEFAULT '',
    access_token    text NOT NULL DEFAULT '',
    app_secret      text NOT NULL DEFAULT '',
    verify_token    text NOT NULL DEFAULT '',
    active          boolean NOT NULL DEFAULT true,
    default_team_id uuid REFERENCES teams(id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX channels_account ON channels (account_id, id);

CREATE TABLE team_channels (
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    team_id    uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    channel_id uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, team_id, channel_id)
);
CREATE INDEX team_channels_channel ON team_channels (account_id, channel_id);

CREATE TABLE team_members (
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    team_id    uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (account_id, user_id);

-- Message templates, mirrored from the provider.
CREATE TABLE templates (
    id               uuid PRIMARY KEY,
    account_id       uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel_id       uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    external_id      text NOT NULL DEFAULT '',
    name             text NOT NULL,
    language         text NOT NULL,
    category         text NOT NULL,
    status           text NOT NULL,
    parameter_format text NOT NULL,
    components       jsonb NOT NULL,
    variables        jsonb NOT NULL,
    search_key       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX templates_account_channel_name_lang ON templates (account_id, channel_id, name, language);

-- Conversations and their messages (the outbox).
CREATE TABLE conversations (
    id                uuid PRIMARY KEY,
    account_id        uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_id        uuid NOT NULL REFERENCES contacts(id),
    channel_id        uuid NOT NULL REFERENCES channels(id),
    team_id           uuid REFERENCES teams(id) ON DELETE SET NULL,
    status            text NOT NULL CHECK (status IN ('scheduled', 'waiting', 'active', 'closed', 'failed', 'cancelled')),
    origin            text NOT NULL CHECK (origin IN ('active', 'receptive')),
    scheduled_at      timestamptz,
    waiting_since     timestamptz,
    window_expires_at timestamptz,
    last_inbound_at   timestamptz,
    closed_at         timestamptz,
    failure_code      integer,
    failure_title     text,
    next_seq          bigint NOT NULL DEFAULT 0,
    created_by        uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
-- At most one open conversation per contact and channel: the rule lives in the database.
CREATE UNIQUE INDEX conversations_one_open ON conversations (account_id, contact_id, channel_id)
    WHERE status IN ('scheduled', 'waiting', 'active');
CREATE INDEX conversations_account_id ON conversations (account_id, id);
CREATE INDEX conversations_account_status ON conversations (account_id, status, id);

CREATE TABLE messages (
    id                  uuid PRIMARY KEY,
    account_id          uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    conversation_id     uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    channel_id          uuid NOT NULL REFERENCES channels(id),
    seq                 bigint NOT NULL,
    direction           text NOT NULL CHECK (direction IN ('in', 'out')),
    type                text NOT NULL,
    status              text NOT NULL,
    text                text NOT NULL DEFAULT '',
    rendered_text       text NOT NULL DEFAULT '',
    template_id         uuid REFERENCES templates(id) ON DELETE SET NULL,
    template_name       text NOT NULL DEFAULT '',
    template_language   text NOT NULL DEFAULT '',
    template_category   text NOT NULL DEFAULT '',
    parameters          jsonb,
    components          jsonb,
    provider_message_id text,
    error_code          integer,
    error_title         text,
    error_details       text,
    pricing_billable    boolean,
    pricing_category    text,
    pricing_type        text,
    attempts            integer NOT NULL DEFAULT 0,
    due_at              timestamptz,
    lease_until         timestamptz,
    sent_at             timestamptz,
    delivered_at        timestamptz,
    read_at             timestamptz,
    failed_at           timestamptz,
    received_at         timestamptz,
    created_by          uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE UNIQUE INDEX messages_conversation_seq ON messages (account_id, conversation_id, seq);
CREATE UNIQUE INDEX messages_provider_id ON messages (account_id, provider_message_id);
-- The dispatcher's claim: due outbound rows.
CREATE INDEX messages_due ON messages (due_at) WHERE status = 'pending';

-- Idempotent starts.
CREATE TABLE idempotency_keys (
    account_id      uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key             text NOT NULL,
    request_hash    text NOT NULL,
    response_status integer NOT NULL,
    response_body   text NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (account_id, key)
);
