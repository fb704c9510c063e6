-- +goose Up
-- Co-production: trainees on bookings, rate cards, exchange rates and quotes with the
-- rates locked in, ring-fenced capacity for programmes, and iCalendar feeds.

-- Trainees sitting in on a booking (at most its rooms' trainee capacity, checked by
-- the application); their hours are the treaty report's training hours.
ALTER TABLE booking_groups ADD COLUMN trainees integer NOT NULL DEFAULT 0 CHECK (trainees BETWEEN 0 AND 100);

-- Rate cards per resource kind or per resource (which overrides its kind's), per hour
-- or per day, in minor units of the site's currency; effective dates are site-local
-- and inclusive, both optional.
CREATE TABLE rate_cards (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id         uuid NOT NULL REFERENCES sites (id),
    kind            text CHECK (kind ~ '^[a-z][a-z0-9_]{1,62}$'),
    resource_id     uuid REFERENCES resources (id),
    unit            text NOT NULL CHECK (unit IN ('hour', 'day')),
    amount_minor    bigint NOT NULL CHECK (amount_minor >= 0),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    effective_from  date,
    effective_to    date,
    created_by      uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    CHECK ((kind IS NULL) <> (resource_id IS NULL)),
    CHECK (effective_from IS NULL OR effective_to IS NULL OR effective_from <= effective_to)
);
CREATE INDEX rate_cards_site_idx ON rate_cards (site_id);

-- Exchange rates as managers enter them: one unit of base is worth rate units of quote
-- from effective_at on. Exact decimals; nothing is fetched from the network.
CREATE TABLE exchange_rates (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    base          text NOT NULL CHECK (base ~ '^[A-Z]{3}$'),
    quote         text NOT NULL CHECK (quote ~ '^[A-Z]{3}$'),
    rate          numeric(30, 12) NOT NULL CHECK (rate > 0),
    effective_at  timestamptz NOT NULL,
    created_by    uuid REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    CHECK (base <> quote)
);
CREATE INDEX exchange_rates_pair_idx ON exchange_rates (base, quote, effective_at DESC);

-- Quotes as made: lines, totals and conversions with the exchange rates they used, in
-- the document itself, so a rate entered later changes nothing. Never updated.
CREATE TABLE quotes (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    booking_id     uuid REFERENCES booking_groups (id),
    production_id  uuid REFERENCES productions (id),
    site_id        uuid NOT NULL REFERENCES sites (id),
    currency       text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    total_minor    bigint NOT NULL,
    rates_at       timestamptz NOT NULL,
    document       jsonb NOT NULL,
    created_by     uuid REFERENCES users (id),
    created_at     timestamptz NOT NULL
);
CREATE INDEX quotes_booking_idx ON quotes (booking_id, created_at DESC);
CREATE INDEX quotes_production_idx ON quotes (production_id, created_at DESC);

-- +goose StatementBegin
CREATE FUNCTION quotes_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a quote is locked once made' USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER quotes_no_update BEFORE UPDATE ON quotes FOR EACH ROW EXECUTE FUNCTION quotes_locked();

-- Ring-fenced capacity: a share of a resource kind's working hours per period kept for
-- a programme's productions (optionally only those from the countries listed), open to
-- all release_days before the date.
CREATE TABLE ring_fences (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id       uuid NOT NULL REFERENCES sites (id),
    kind          text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{1,62}$'),
    programme     text NOT NULL CHECK (length(programme) BETWEEN 1 AND 200),
    countries     text[] NOT NULL DEFAULT '{}',
    share_pct     numeric(5, 2) NOT NULL CHECK (share_pct > 0 AND share_pct <= 100),
    period        text NOT NULL CHECK (period IN ('month', 'quarter', 'year')),
    release_days  integer NOT NULL CHECK (release_days BETWEEN 0 AND 366),
    created_by    uuid REFERENCES users (id),
    created_at    timestamptz NOT NULL
);
CREATE INDEX ring_fences_site_kind_idx ON ring_fences (site_id, kind);

-- iCalendar feeds at secret URLs: only the token's SHA-256 is kept, like API tokens.
-- A feed shows what its owner (user_id) may see.
CREATE TABLE ical_feeds (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('resource', 'production', 'user')),
    object_id     uuid NOT NULL,
    prefix        text NOT NULL,
    hash          bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);
CREATE INDEX ical_feeds_user_idx ON ical_feeds (user_id);

-- +goose Down
DROP TABLE ical_feeds;
DROP TABLE ring_fences;
DROP TRIGGER quotes_no_update ON quotes;
DROP FUNCTION quotes_locked();
DROP TABLE quotes;
DROP TABLE exchange_rates;
DROP TABLE rate_cards;
ALTER TABLE booking_groups DROP COLUMN trainees;
