package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/auth"
	"github.com/posthub/posthub/internal/booking"
)

var _ booking.Authenticator = (*DB)(nil)

// AuthenticateToken returns EUNAUTHORIZED for a malformed, unknown, expired or revoked
// token, or one whose user is disabled; the cases are not told apart to the caller.
func (db *DB) AuthenticateToken(ctx context.Context, token string) (booking.Actor, error) {
	unauthorized := booking.Errorf(booking.EUNAUTHORIZED, "The token is not valid.")
	if !auth.LooksLikeToken(token) {
		return booking.Actor{}, unauthorized
	}
	var a booking.Actor
	var siteIDs []uuid.UUID
	err := db.Pool.QueryRow(ctx, `
		UPDATE api_tokens t SET last_used_at = $2
		FROM users u
		WHERE t.hash = $1 AND u.id = t.user_id
		  AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)
		  AND u.disabled_at IS NULL
		RETURNING u.id, u.organisation_id, u.role, u.email, u.locale,
		          coalesce((SELECT array_agg(site_id) FROM user_sites WHERE user_id = u.id), '{}')`,
		auth.HashToken(token), db.now()).Scan(&a.UserID, &a.OrganisationID, &a.Role, &a.Email, &a.Locale, &siteIDs)
	if err == pgx.ErrNoRows {
		return booking.Actor{}, unauthorized
	}
	if err != nil {
		return booking.Actor{}, formatError(err)
	}
	a.SiteIDs = siteIDs
	return a, nil
}

// CreateToken issues a token for a user and returns it in plain text, the only time it
// is ever seen. A zero ttl means no expiry.
func (db *DB) CreateToken(ctx context.Context, userID uuid.UUID, name string, ttl time.Duration) (string, error) {
	var plain string
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		plain, err = createToken(ctx, tx, userID, name, ttl, db.now())
		return err
	})
	return plain, err
}

func createToken(ctx context.Context, tx pgx.Tx, userID uuid.UUID, name string, ttl time.Duration, now time.Time) (string, error) {
	t := auth.NewToken()
	var expires *time.Time
	if ttl > 0 {
		e := now.Add(ttl)
		expires = &e
	}
	_, err := tx.Exec(ctx, `INSERT INTO api_tokens (user_id, name, prefix, hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, userID, name, t.Prefix, t.Hash, now, expires)
	if err != nil {
		return "", notFound(err, "user")
	}
	return t.Plain, nil
}
