-- +goose Up
-- The in-app feed.
CREATE TABLE notifications (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id    uuid NOT NULL,
    kind        text NOT NULL,
    booking_id  uuid REFERENCES booking_groups (id),
    title       text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL,
    read_at     timestamptz,
    UNIQUE (event_id, user_id)
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

-- Deliveries make a notification's effect happen once: one row per (event, recipient,
-- channel), checked and marked in the worker's transaction.
CREATE TABLE deliveries (
    event_id      uuid NOT NULL,
    recipient_id  uuid NOT NULL,
    channel       text NOT NULL CHECK (channel IN ('email', 'webhook', 'in_app')),
    kind          text NOT NULL,
    status        text NOT NULL CHECK (status IN ('delivered', 'skipped')),
    delivered_at  timestamptz NOT NULL,
    PRIMARY KEY (event_id, recipient_id, channel)
);
CREATE INDEX deliveries_delivered_idx ON deliveries (delivered_at);

-- Webhooks per organisation: JSON bodies signed with HMAC-SHA256 over the timestamp
-- and body; disabled after repeated failures.
CREATE TABLE webhooks (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id       uuid NOT NULL REFERENCES organisations (id),
    url                   text NOT NULL CHECK (url ~ '^https?://'),
    secret                text NOT NULL,
    enabled               boolean NOT NULL DEFAULT true,
    consecutive_failures  integer NOT NULL DEFAULT 0,
    last_error            text,
    disabled_at           timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_org_idx ON webhooks (organisation_id);

-- +goose Down
DROP TABLE webhooks;
DROP TABLE deliveries;
DROP TABLE notifications;
