-- Outgoing webhooks for CRMs: an admin's subscriptions, one delivery per event and subscription,
-- and every attempt at it (kept so the API can show them).
CREATE TABLE webhook_subscriptions (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    url        text NOT NULL,
    events     text NOT NULL,
    secret     text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX webhook_subscriptions_account ON webhook_subscriptions (account_id, id);

CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    account_id       uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    subscription_id  uuid NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    event_id         uuid NOT NULL,
    event            text NOT NULL,
    resource_id      uuid NOT NULL,
    body             text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    lease_until      timestamptz,
    last_status_code integer,
    last_error       text,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);
-- The delivery worker's claim looks for due pending rows across accounts.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    account_id      uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    delivery_id     uuid NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt         integer NOT NULL,
    status_code     integer,
    error           text,
    duration_ms     integer NOT NULL,
    attempted_at    timestamptz NOT NULL,
    next_attempt_at timestamptz,
    PRIMARY KEY (account_id, delivery_id, attempt)
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
