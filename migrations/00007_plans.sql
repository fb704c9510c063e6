-- +goose Up
-- Plans: the planner's proposals for a production's whole post-production, kept so a
-- producer can accept the one they saw, and so a re-plan can say what changed.
CREATE TABLE plans (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    production_id  uuid NOT NULL REFERENCES productions (id),
    site_id        uuid NOT NULL REFERENCES sites (id),
    status         text NOT NULL CHECK (status IN ('proposed', 'accepted', 'superseded')),
    request        jsonb NOT NULL,
    plan           jsonb NOT NULL,
    replaces_id    uuid REFERENCES plans (id),
    created_by     uuid REFERENCES users (id),
    created_at     timestamptz NOT NULL,
    accepted_at    timestamptz
);
CREATE INDEX plans_production_idx ON plans (production_id, created_at DESC);

-- +goose Down
DROP TABLE plans;
