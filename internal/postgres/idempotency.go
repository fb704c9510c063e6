package postgres

import (
	"bytes"
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

var _ booking.Idempotency = (*DB)(nil)

// IdempotencyTakeover is how long a request may hold its key unanswered before a retry
// may take the key over (the first process died mid-request).
const IdempotencyTakeover = time.Minute

// BeginIdempotent claims key for a request. It returns the stored answer when the same
// request was answered before, EUNPROCESSABLE when the key was used for another request,
// and ECONFLICT while the first request with the key is still being answered. A key
// claimed booking.IdempotencyRetention ago or earlier has expired: it is claimed anew,
// whatever it was used for (the cleanup job deletes such keys; this does not wait for it).
func (db *DB) BeginIdempotent(ctx context.Context, userID uuid.UUID, key string, hash []byte) (*booking.StoredResponse, error) {
	now := db.now()
	var out *booking.StoredResponse
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = NULL, headers = NULL, body = NULL,
				created_at = EXCLUDED.created_at
			WHERE idempotency_keys.created_at <= $5`, userID, key, hash, now, now.Add(-booking.IdempotencyRetention))
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		var stored []byte
		var status *int
		var headers map[string]string
		var body []byte
		var created time.Time
		if err := tx.QueryRow(ctx, `SELECT request_hash, status, headers, body, created_at FROM idempotency_keys
			WHERE user_id = $1 AND key = $2 FOR UPDATE`, userID, key).Scan(&stored, &status, &headers, &body, &created); err != nil {
			return err
		}
		switch {
		case !bytes.Equal(stored, hash):
			return booking.Errorf(booking.EUNPROCESSABLE, "This Idempotency-Key was used for a different request.")
		case status != nil:
			out = &booking.StoredResponse{Status: *status, Headers: headers, Body: body}
			return nil
		case now.Sub(created) < IdempotencyTakeover:
			return booking.Errorf(booking.ECONFLICT, "A request with this Idempotency-Key is still being answered; retry shortly.")
		}
		_, err = tx.Exec(ctx, `UPDATE idempotency_keys SET created_at = $3 WHERE user_id = $1 AND key = $2`, userID, key, now)
		return err
	})
	return out, err
}

// CompleteIdempotent stores the answer to a claimed key; an answer that says to retry
// (a 5xx) frees the key instead.
func (db *DB) CompleteIdempotent(ctx context.Context, userID uuid.UUID, key string, resp booking.StoredResponse) error {
	if resp.Status >= 500 {
		_, err := db.Pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status IS NULL`, userID, key)
		return formatError(err)
	}
	_, err := db.Pool.Exec(ctx, `UPDATE idempotency_keys SET status = $3, headers = $4, body = $5 WHERE user_id = $1 AND key = $2`,
		userID, key, resp.Status, resp.Headers, resp.Body)
	return formatError(err)
}
