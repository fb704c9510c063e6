-- +goose Up
-- Working time is what a booking sells: time outside the site's working hours is sold
-- only by a booking made as overtime (booking_groups.overtime), billed at the rate
-- card's overtime multiplier (basis points: 15000 is 1.5×). Who may book overtime is
-- the site's policy: 'approval' (a producer's overtime waits for a manager),
-- 'allowed' (producers book it outright) or 'managers' (only managers book it).
-- A calendar change that alters the working time a future booking holds flags it for
-- review (working_time_review: what changed) until a manager marks it reviewed or the
-- booking changes. Additive, with defaults, so the previous release keeps working
-- during an upgrade.
ALTER TABLE booking_groups ADD COLUMN overtime boolean NOT NULL DEFAULT false;
ALTER TABLE booking_groups ADD COLUMN working_time_review text;
ALTER TABLE booking_groups ADD COLUMN working_time_review_at timestamptz;
CREATE INDEX booking_groups_overtime_idx ON booking_groups (site_id, end_at) WHERE overtime;
CREATE INDEX booking_groups_review_idx ON booking_groups (site_id, working_time_review_at) WHERE working_time_review_at IS NOT NULL;
ALTER TABLE site_policies ADD COLUMN overtime text NOT NULL DEFAULT 'approval'
    CHECK (overtime IN ('approval', 'allowed', 'managers'));
ALTER TABLE rate_cards ADD COLUMN overtime_multiplier_bp integer NOT NULL DEFAULT 15000
    CHECK (overtime_multiplier_bp BETWEEN 10000 AND 50000);

-- +goose Down
ALTER TABLE rate_cards DROP COLUMN overtime_multiplier_bp;
ALTER TABLE site_policies DROP COLUMN overtime;
DROP INDEX booking_groups_review_idx;
DROP INDEX booking_groups_overtime_idx;
ALTER TABLE booking_groups DROP COLUMN working_time_review_at;
ALTER TABLE booking_groups DROP COLUMN working_time_review;
ALTER TABLE booking_groups DROP COLUMN overtime;
