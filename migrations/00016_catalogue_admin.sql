-- +goose Up
-- Catalogue administration (issue 17). Sites are taken out of service as resources
-- are (active), never deleted; sites, resources, organisations, users and productions
-- count their changes (version), the ETag their PATCH routes compare with If-Match.
-- Password links let a user set their password from a mailed single-use link. Additive,
-- with defaults, so the previous release keeps working during an upgrade.
ALTER TABLE sites ADD COLUMN active boolean NOT NULL DEFAULT true;
ALTER TABLE sites ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE resources ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE organisations ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE users ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE productions ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);

-- A password link (an admin's invitation, or a reset the user asked for). Its secret
-- is made when the mail goes out, so it never rests in the job queue; only its SHA-256
-- is kept (hash, NULL until mailed). A link is used once (used_at), replaced by a newer
-- one or the user's deactivation (revoked_at), and expires.
CREATE TABLE password_links (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (purpose IN ('invite', 'reset')),
    hash        bytea UNIQUE,
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    mailed_at   timestamptz,
    used_at     timestamptz,
    revoked_at  timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX password_links_user_idx ON password_links (user_id, created_at DESC);
CREATE INDEX password_links_expires_idx ON password_links (expires_at);

-- +goose Down
DROP TABLE password_links;
ALTER TABLE productions DROP COLUMN version;
ALTER TABLE users DROP COLUMN version;
ALTER TABLE organisations DROP COLUMN version;
ALTER TABLE resources DROP COLUMN version;
ALTER TABLE sites DROP COLUMN version;
ALTER TABLE sites DROP COLUMN active;
