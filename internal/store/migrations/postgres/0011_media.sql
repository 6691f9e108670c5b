-- Media both ways (issue 12). A media row is one file of an account: uploaded by an agent, or
-- announced by a webhook and fetched from Meta by the fetch queue (status pending → ready |
-- failed; due_at, lease_until and attempts are the queue, like the outbox's). The bytes live in
-- the media store under the account and their sha256 (content-addressed): a blob is written
-- before the row that points at it becomes ready.
CREATE TABLE media (
    id                uuid PRIMARY KEY,
    account_id        uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel_id        uuid REFERENCES channels(id) ON DELETE CASCADE,
    kind              text NOT NULL CHECK (kind IN ('image', 'audio', 'video', 'document', 'sticker')),
    mime_type         text NOT NULL DEFAULT '',
    size              bigint NOT NULL DEFAULT 0,
    sha256            text,
    filename          text NOT NULL DEFAULT '',
    voice             boolean NOT NULL DEFAULT false,
    status            text NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
    provider_media_id text,
    declared_sha256   text,
    failure           text,
    attempts          integer NOT NULL DEFAULT 0,
    due_at            timestamptz,
    lease_until       timestamptz,
    created_by        uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
-- The fetch queue's claim: pending rows by due time.
CREATE INDEX media_fetch_due ON media (due_at) WHERE status = 'pending';
-- Whether another row still uses a blob (deleting orphans).
CREATE INDEX media_blob ON media (account_id, sha256);
-- Meta's id for a blob uploaded to a channel (POST /{phone-number-id}/media), reused for 30 days.
CREATE TABLE media_uploads (
    account_id        uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel_id        uuid NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    sha256            text NOT NULL,
    provider_media_id text NOT NULL,
    uploaded_at       timestamptz NOT NULL,
    PRIMARY KEY (account_id, channel_id, sha256)
);
-- A message's file (its caption is the message's text) and the fields of location, contacts,
-- interactive, button and reaction messages (JSON, as Meta sent them).
ALTER TABLE messages ADD COLUMN media_id uuid REFERENCES media(id) ON DELETE SET NULL;
ALTER TABLE messages ADD COLUMN content text;
CREATE INDEX messages_media ON messages (media_id) WHERE media_id IS NOT NULL;
