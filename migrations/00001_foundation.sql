-- +goose Up
-- The foundation schema: the hub's sites and resources, the production companies and
-- their productions, and the people who use posthub. Every instant is timestamptz (UTC);
-- zone arithmetic happens in Go against the embedded tz database, never here.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE sites (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    time_zone   text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Organisations are production companies, plus the hub's own operating company to
-- which managers, operators and admins belong.
CREATE TABLE organisations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    kind        text NOT NULL CHECK (kind IN ('hub', 'production_company')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A resource's kind is data (grading_suite, colourist, ...), not an enum, so a site can
-- add a new kind of room or craft without a migration. Rates are in minor units of the
-- site's currency.
CREATE TABLE resources (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id          uuid NOT NULL REFERENCES sites (id),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    category         text NOT NULL CHECK (category IN ('room', 'person', 'equipment')),
    kind             text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{1,62}$'),
    capabilities     text[] NOT NULL DEFAULT '{}',
    rate_minor       bigint NOT NULL DEFAULT 0 CHECK (rate_minor >= 0),
    rate_unit        text NOT NULL DEFAULT 'hour' CHECK (rate_unit IN ('hour', 'day')),
    trainee_capacity integer NOT NULL DEFAULT 0 CHECK (trainee_capacity >= 0),
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (site_id, name)
);
CREATE INDEX resources_site_kind_idx ON resources (site_id, kind);
CREATE INDEX resources_capabilities_idx ON resources USING gin (capabilities);

CREATE TABLE productions (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    format           text NOT NULL CHECK (format IN ('feature', 'short', 'documentary', 'series_episode')),
    runtime_minutes  integer NOT NULL CHECK (runtime_minutes BETWEEN 1 AND 1000),
    emerging         boolean NOT NULL DEFAULT false,
    programme        text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX productions_organisation_idx ON productions (organisation_id);

-- A production's origin countries with their co-production shares, in percent; the
-- shares of one production add up to 100 (checked by the application on write).
CREATE TABLE production_origins (
    production_id  uuid NOT NULL REFERENCES productions (id) ON DELETE CASCADE,
    country        text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    share_pct      numeric(5, 2) NOT NULL CHECK (share_pct > 0 AND share_pct <= 100),
    PRIMARY KEY (production_id, country)
);

CREATE TABLE users (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    email            text NOT NULL CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role             text NOT NULL CHECK (role IN ('admin', 'manager', 'operator', 'producer')),
    locale           text NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'fr')),
    password_hash    text,
    disabled_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_idx ON users (lower(email));

-- Managers manage one or more sites.
CREATE TABLE user_sites (
    user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    site_id  uuid NOT NULL REFERENCES sites (id),
    PRIMARY KEY (user_id, site_id)
);

-- API tokens are shown once; only their SHA-256 is kept. The prefix is the token's
-- first characters, kept so a person can tell their tokens apart.
CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    prefix        text NOT NULL,
    hash          bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE user_sites;
DROP TABLE users;
DROP TABLE production_origins;
DROP TABLE productions;
DROP TABLE resources;
DROP TABLE organisations;
DROP TABLE sites;
