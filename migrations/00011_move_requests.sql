-- +goose Up
-- A producer's move of a confirmed booking at a site whose confirmations need a
-- manager's approval is a request: the booking keeps its slot, the requested one is
-- kept here with approval_requested_at set, until a manager approves (the move is
-- made) or declines it. Additive.
ALTER TABLE booking_groups ADD COLUMN requested_start timestamptz;
ALTER TABLE booking_groups ADD COLUMN requested_end timestamptz;
ALTER TABLE booking_groups ADD CONSTRAINT booking_groups_requested_check
    CHECK ((requested_start IS NULL) = (requested_end IS NULL) AND (requested_start IS NULL OR requested_end > requested_start));

-- +goose Down
ALTER TABLE booking_groups DROP CONSTRAINT booking_groups_requested_check;
ALTER TABLE booking_groups DROP COLUMN requested_end;
ALTER TABLE booking_groups DROP COLUMN requested_start;
