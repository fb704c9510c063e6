-- +goose Up
-- A producer's requested move of a confirmed booking may change its resources too
-- (PATCH resource_ids); null keeps them.
ALTER TABLE booking_groups ADD COLUMN requested_resource_ids uuid[];

-- +goose Down
ALTER TABLE booking_groups DROP COLUMN requested_resource_ids;
