-- +goose Up
-- The notices a booking's state calls for at a later time — the reminders before a
-- confirmed booking, the warning before a hold expires — as rows with their due time,
-- written in the booking change's transaction (which drops the booking's earlier
-- rows when it moves or ends it). Each worker process sweeps the due rows
-- (jobs.RunDueSweeper): it deletes them and enqueues their River jobs in one
-- transaction, so a notice is enqueued once, and a crash before the commit leaves its
-- row for the next sweep. ref_at is what the notice was scheduled for (the booking's
-- start, the hold's expiry); before_ns the reminder's offset.
--
-- River reminder and warning jobs scheduled by an earlier release stay in river_job
-- and are worked as before (the workers still check that the booking has not moved).
CREATE TABLE booking_due_notices (
    booking_id  uuid        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('reminder', 'hold_expiring')),
    ref_at      timestamptz NOT NULL,
    before_ns   bigint      NOT NULL DEFAULT 0,
    due_at      timestamptz NOT NULL,
    PRIMARY KEY (booking_id, kind, ref_at, before_ns)
);
CREATE INDEX booking_due_notices_due_idx ON booking_due_notices (due_at);

-- +goose Down
-- The notices not yet due are lost: an earlier release has only the River jobs.
DROP TABLE booking_due_notices;
