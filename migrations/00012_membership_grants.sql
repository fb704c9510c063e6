-- +goose Up
-- Programme membership and emerging-filmmaker status count (ring-fences, the treaty
-- report, utilisation) only when a manager or admin granted them: productions.programme
-- and productions.emerging are the granted values. What a producer asks for waits in
-- requested_programme / requested_emerging until a manager grants or refuses it.
-- Existing rows keep what they have (review them in the manager's queue if in doubt).
ALTER TABLE productions ADD COLUMN requested_programme text;
ALTER TABLE productions ADD COLUMN requested_emerging boolean NOT NULL DEFAULT false;
CREATE INDEX productions_requests_idx ON productions (id) WHERE requested_programme IS NOT NULL OR requested_emerging;

-- +goose Down
DROP INDEX productions_requests_idx;
ALTER TABLE productions DROP COLUMN requested_emerging;
ALTER TABLE productions DROP COLUMN requested_programme;
