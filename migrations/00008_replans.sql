-- +goose Up
-- What-if re-plans: a manager's proposal to repack a site's pending holds, applied
-- only when the manager approves it.
CREATE TABLE replans (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id     uuid NOT NULL REFERENCES sites (id),
    status      text NOT NULL CHECK (status IN ('proposed', 'applied', 'discarded')),
    proposal    jsonb NOT NULL,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    applied_at  timestamptz
);

-- +goose Down
DROP TABLE replans;
