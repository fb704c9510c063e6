-- +goose Up
-- Site policies: how bookings behave at a site. Durations are in seconds.
CREATE TABLE site_policies (
    site_id                     uuid PRIMARY KEY REFERENCES sites (id),
    confirm_needs_approval      boolean NOT NULL DEFAULT false,
    hold_lifetime_seconds       integer NOT NULL DEFAULT 604800 CHECK (hold_lifetime_seconds BETWEEN 3600 AND 7776000),
    challenge_window_seconds    integer NOT NULL DEFAULT 172800 CHECK (challenge_window_seconds BETWEEN 3600 AND 2592000),
    min_notice_seconds          integer NOT NULL DEFAULT 0 CHECK (min_notice_seconds BETWEEN 0 AND 2592000),
    reminder_offsets_seconds    integer[] NOT NULL DEFAULT '{259200,86400}',
    updated_at                  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO site_policies (site_id) SELECT id FROM sites;

-- Every new site starts with the default policy.
-- +goose StatementBegin
CREATE FUNCTION site_default_policy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO site_policies (site_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER sites_default_policy AFTER INSERT ON sites
    FOR EACH ROW EXECUTE FUNCTION site_default_policy();

-- A booking group is what people book: one production, one interval, one status, and
-- one or more resources held together (a grade needs a suite and a colourist at once).
CREATE TABLE booking_groups (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    production_id          uuid NOT NULL REFERENCES productions (id),
    site_id                uuid NOT NULL REFERENCES sites (id),
    status                 text NOT NULL CHECK (status IN ('hold', 'confirmed', 'completed', 'released', 'declined', 'cancelled', 'expired')),
    start_at               timestamptz NOT NULL,
    end_at                 timestamptz NOT NULL,
    hold_seq               bigint,
    hold_expires_at        timestamptz,
    approval_requested_at  timestamptz,
    status_reason          text,
    note                   text,
    version                integer NOT NULL DEFAULT 1,
    created_by             uuid REFERENCES users (id),
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    CHECK (end_at > start_at),
    CHECK ((status = 'hold') = (hold_seq IS NOT NULL))
);
CREATE INDEX booking_groups_production_idx ON booking_groups (production_id, start_at);
CREATE INDEX booking_groups_active_holds_idx ON booking_groups (hold_expires_at) WHERE status = 'hold';
CREATE INDEX booking_groups_confirmed_end_idx ON booking_groups (end_at) WHERE status = 'confirmed';

CREATE SEQUENCE hold_seq;

-- One row per resource of a group. Status and interval are the group's, copied here so
-- PostgreSQL itself can refuse two overlapping confirmed bookings on a resource.
CREATE TABLE bookings (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    group_id       uuid NOT NULL REFERENCES booking_groups (id),
    resource_id    uuid NOT NULL REFERENCES resources (id),
    production_id  uuid NOT NULL REFERENCES productions (id),
    status         text NOT NULL,
    during         tstzrange NOT NULL CHECK (NOT isempty(during) AND lower_inc(during) AND NOT upper_inc(during)),
    hold_seq       bigint,
    rank           integer,
    UNIQUE (group_id, resource_id),
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (resource_id WITH =, during WITH &&)
        WHERE (status IN ('confirmed', 'completed'))
);
CREATE INDEX bookings_resource_during_idx ON bookings USING gist (resource_id, during);
CREATE INDEX bookings_group_idx ON bookings (group_id);

-- Challenges: a hold whose holder wants to confirm while holds are ahead of it. The
-- holders ahead (targets) must confirm or release by the deadline.
CREATE TABLE challenges (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    challenger_id      uuid NOT NULL REFERENCES booking_groups (id),
    status             text NOT NULL CHECK (status IN ('open', 'won', 'lost', 'withdrawn')),
    deadline           timestamptz NOT NULL,
    -- A producer's challenge at a site that wants approval ends in an approval request,
    -- not a confirmation.
    needs_approval     boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL,
    resolved_at        timestamptz
);
CREATE UNIQUE INDEX challenges_one_open_idx ON challenges (challenger_id) WHERE status = 'open';
CREATE INDEX challenges_deadline_idx ON challenges (deadline) WHERE status = 'open';

CREATE TABLE challenge_targets (
    challenge_id  uuid NOT NULL REFERENCES challenges (id),
    group_id      uuid NOT NULL REFERENCES booking_groups (id),
    PRIMARY KEY (challenge_id, group_id)
);
CREATE INDEX challenge_targets_group_idx ON challenge_targets (group_id);

-- Maintenance and closures of a resource. Bookings never overlap a block.
CREATE TABLE resource_blocks (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    resource_id  uuid NOT NULL REFERENCES resources (id),
    during       tstzrange NOT NULL CHECK (NOT isempty(during)),
    kind         text NOT NULL CHECK (kind IN ('maintenance', 'closure')),
    reason       text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX resource_blocks_during_idx ON resource_blocks USING gist (resource_id, during);

-- Idempotency keys: the first answer to a POST, replayed for a retry with the same key.
CREATE TABLE idempotency_keys (
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash  bytea NOT NULL,
    status        integer,
    headers       jsonb,
    body          bytea,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE resource_blocks;
DROP TABLE challenge_targets;
DROP TABLE challenges;
DROP TABLE bookings;
DROP SEQUENCE hold_seq;
DROP TABLE booking_groups;
DROP TRIGGER sites_default_policy ON sites;
DROP FUNCTION site_default_policy();
DROP TABLE site_policies;
