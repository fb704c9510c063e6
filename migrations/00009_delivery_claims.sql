-- +goose Up
-- A delivery is claimed ('sending', claimed_at) in a short transaction of its own
-- before the message goes out and marked 'delivered' after, so no database transaction
-- stays open across SMTP or HTTP. A claim older than its lease belongs to a worker that
-- died and may be taken over. Additive, so processes of the previous release keep
-- working during a rolling upgrade.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK (status IN ('sending', 'delivered', 'skipped'));
ALTER TABLE deliveries ALTER COLUMN delivered_at DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN claimed_at timestamptz;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_claim_check
    CHECK ((status = 'sending') = (delivered_at IS NULL) AND (status <> 'sending' OR claimed_at IS NOT NULL));

-- +goose Down
DELETE FROM deliveries WHERE status = 'sending';
ALTER TABLE deliveries DROP CONSTRAINT deliveries_claim_check;
ALTER TABLE deliveries DROP COLUMN claimed_at;
ALTER TABLE deliveries ALTER COLUMN delivered_at SET NOT NULL;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK (status IN ('delivered', 'skipped'));
