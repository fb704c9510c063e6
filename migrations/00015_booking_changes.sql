-- +goose Up
-- The log of booking changes that live views (the scheduling board, GET
-- /api/v1/events) follow: one row per booking a change touched, written in the
-- change's transaction. Every posthub process reads it (so a change made through one
-- reaches the streams of all), and a stream resumes from its last id. Rows are kept a
-- week (jobs' cleanup).
CREATE TABLE booking_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    booking_id  uuid NOT NULL,
    kind        text NOT NULL
);
CREATE INDEX booking_changes_at_idx ON booking_changes (at);

-- +goose Down
DROP TABLE booking_changes;
