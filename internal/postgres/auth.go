package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/auth"
	"github.com/posthub/posthub/internal/booking"
)

var _ booking.Auth = (*DB)(nil)

var errUnauthorized = booking.Errorf(booking.EUNAUTHORIZED, "The credentials are not valid.")

// actorColumns reads an Actor from users u.
const actorColumns = `u.id, u.organisation_id, u.role, u.email, u.locale,
	coalesce((SELECT array_agg(site_id ORDER BY site_id) FROM user_sites WHERE user_id = u.id), '{}')`

func scanActor(row pgx.Row, extra ...any) (booking.Actor, error) {
	var a booking.Actor
	dest := append([]any{&a.UserID, &a.OrganisationID, &a.Role, &a.Email, &a.Locale, &a.SiteIDs}, extra...)
	return a, row.Scan(dest...)
}

// AuthenticateToken returns EUNAUTHORIZED for a malformed, unknown, expired or revoked
// token, or one whose user is disabled; the cases are not told apart to the caller.
func (db *DB) AuthenticateToken(ctx context.Context, token string) (booking.Actor, error) {
	if !auth.LooksLikeToken(token) {
		return booking.Actor{}, errUnauthorized
	}
	var tokenID uuid.UUID
	// last_used_at is kept to the minute: writing it on every request would make each
	// read a write.
	a, err := scanActor(db.Pool.QueryRow(ctx, `
		WITH touch AS (
			UPDATE api_tokens SET last_used_at = $2
			WHERE hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
			  AND (last_used_at IS NULL OR last_used_at <= $2 - interval '1 minute'))
		SELECT `+actorColumns+`, t.id FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)
		  AND u.disabled_at IS NULL`, auth.HashToken(token), db.now()), &tokenID)
	if err == pgx.ErrNoRows {
		return booking.Actor{}, errUnauthorized
	}
	if err != nil {
		return booking.Actor{}, formatError(err)
	}
	a.Credential = "token:" + tokenID.String()
	return a, nil
}

// AuthenticateSession returns EUNAUTHORIZED for an unknown or expired session.
func (db *DB) AuthenticateSession(ctx context.Context, sessionID string) (booking.Session, error) {
	var s booking.Session
	if sessionID == "" || len(sessionID) > 100 {
		return s, errUnauthorized
	}
	hash := auth.HashToken(sessionID)
	a, err := scanActor(db.Pool.QueryRow(ctx, `
		UPDATE sessions s SET last_seen_at = $2
		FROM users u
		WHERE s.id_hash = $1 AND u.id = s.user_id AND s.expires_at > $2 AND u.disabled_at IS NULL
		RETURNING `+actorColumns+`, s.csrf_token, s.expires_at`, hash, db.now()), &s.CSRFToken, &s.ExpiresAt)
	if err == pgx.ErrNoRows {
		return s, errUnauthorized
	}
	if err != nil {
		return s, formatError(err)
	}
	a.Credential = "session:" + sessionKey(hash)
	s.Actor = a
	return s, nil
}

// sessionKey is a short, non-secret name for a session, for rate limits and the audit.
func sessionKey(hash []byte) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for _, c := range hash[:8] {
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// Login checks the credentials and opens a session. Success and failure are both
// audited; the failure records the email tried, never the password.
func (db *DB) Login(ctx context.Context, email, password string, ttl time.Duration) (string, booking.Session, error) {
	var sess booking.Session
	var id string
	now := db.now()
	var hash *string
	a, err := scanActor(db.Pool.QueryRow(ctx, `SELECT `+actorColumns+`, u.password_hash FROM users u
		WHERE lower(u.email) = lower($1) AND u.disabled_at IS NULL`, email), &hash)
	if err != nil && err != pgx.ErrNoRows {
		return "", sess, formatError(err)
	}
	stored := ""
	if err == nil && hash != nil {
		stored = *hash
	}
	if !auth.CheckPassword(password, stored) {
		_ = db.inTx(ctx, func(tx pgx.Tx) error {
			return audit(ctx, tx, booking.Actor{}, now, auditEvent{Action: "auth.login_failed", ObjectType: "user",
				After: map[string]string{"email": email}})
		})
		return "", sess, errUnauthorized
	}
	id = auth.NewSecret(32)
	sess = booking.Session{Actor: a, CSRFToken: auth.NewSecret(32), ExpiresAt: now.Add(ttl)}
	idHash := auth.HashToken(id)
	sess.Actor.Credential = "session:" + sessionKey(idHash)
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $4)`, idHash, a.UserID, sess.CSRFToken, now, sess.ExpiresAt); err != nil {
			return err
		}
		return audit(ctx, tx, sess.Actor, now, auditEvent{Action: "auth.login", ObjectType: "user", ObjectID: a.UserID.String()})
	})
	if err != nil {
		return "", booking.Session{}, err
	}
	return id, sess, nil
}

// Logout ends the session and audits it.
func (db *DB) Logout(ctx context.Context, a booking.Actor, sessionID string) error {
	now := db.now()
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1 AND user_id = $2`,
			auth.HashToken(sessionID), a.UserID); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "auth.logout", ObjectType: "user", ObjectID: a.UserID.String()})
	})
}

func requireAdmin(a booking.Actor) error {
	if a.Role != booking.RoleAdmin {
		return booking.Errorf(booking.EFORBIDDEN, "Only admins may do this.")
	}
	return nil
}

const userColumns = `u.id, u.organisation_id, u.email, u.name, u.role, u.locale,
	coalesce((SELECT array_agg(site_id ORDER BY site_id) FROM user_sites WHERE user_id = u.id), '{}'),
	u.password_hash IS NOT NULL, u.disabled_at IS NULL, u.version, u.created_at`

func scanUser(row pgx.Row) (booking.User, error) {
	var u booking.User
	err := row.Scan(&u.ID, &u.OrganisationID, &u.Email, &u.Name, &u.Role, &u.Locale, &u.SiteIDs, &u.HasPassword, &u.Active, &u.Version, &u.CreatedAt)
	return u, err
}

// CreateUser adds a user; admins only.
func (db *DB) CreateUser(ctx context.Context, a booking.Actor, in booking.UserInput) (booking.User, error) {
	var u booking.User
	if err := requireAdmin(a); err != nil {
		return u, err
	}
	if in.Locale == "" {
		in.Locale = "en"
	}
	switch {
	case !strings.Contains(in.Email, "@") || len(in.Email) > 254:
		return u, booking.Errorf(booking.EINVALID, "email is not valid.")
	case in.Name == "":
		return u, booking.Errorf(booking.EINVALID, "name is required.")
	case !in.Role.Valid():
		return u, booking.Errorf(booking.EINVALID, "role must be admin, manager, operator or producer.")
	case !booking.ValidLocale(in.Locale):
		return u, booking.Errorf(booking.EINVALID, "locale %s.", booking.LocaleRule())
	case in.Password != "" && len(in.Password) < auth.MinPasswordLength:
		return u, booking.Errorf(booking.EINVALID, "password must be at least %d characters.", auth.MinPasswordLength)
	case len(in.SiteIDs) > 0 && in.Role != booking.RoleManager:
		return u, booking.Errorf(booking.EINVALID, "only managers manage sites.")
	}
	var hash *string
	if in.Password != "" {
		h, err := auth.HashPassword(in.Password)
		if err != nil {
			return u, err
		}
		hash = &h
	}
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var id uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO users (organisation_id, email, name, role, locale, password_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			in.OrganisationID, in.Email, in.Name, in.Role, in.Locale, hash, now).Scan(&id); err != nil {
			return err
		}
		for _, s := range in.SiteIDs {
			if _, err := tx.Exec(ctx, `INSERT INTO user_sites (user_id, site_id) VALUES ($1, $2)`, id, s); err != nil {
				return err
			}
		}
		var err error
		if u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id)); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "user.created", ObjectType: "user", ObjectID: id.String(), After: u})
	})
	return u, err
}

// ListUsers lists every user; admins only.
func (db *DB) ListUsers(ctx context.Context, a booking.Actor) ([]booking.User, error) {
	if err := requireAdmin(a); err != nil {
		return nil, err
	}
	rows, _ := db.Pool.Query(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.email`)
	us, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.User, error) { return scanUser(r) })
	return us, formatError(err)
}

// FindUserByEmail returns ENOTFOUND for an unknown email; admins only.
func (db *DB) FindUserByEmail(ctx context.Context, a booking.Actor, email string) (booking.User, error) {
	if err := requireAdmin(a); err != nil {
		return booking.User{}, err
	}
	u, err := scanUser(db.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE lower(u.email) = lower($1)`, email))
	return u, notFound(err, "user")
}

const tokenColumns = `id, user_id, name, prefix, created_at, expires_at, revoked_at, last_used_at`

func scanToken(row pgx.Row) (booking.TokenInfo, error) {
	var t booking.TokenInfo
	err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.LastUsedAt)
	return t, err
}

// MaxTokenTTL bounds a token's lifetime when one is given.
const MaxTokenTTL = 2 * 365 * 24 * time.Hour

// MaxActiveTokens is how many active (unrevoked, unexpired) API tokens a user may hold.
// Rate limits count per user as well as per credential, so more tokens would not buy
// more requests; the cap bounds how many live secrets one person leaves about.
const MaxActiveTokens = 10

// CreateToken issues a token and returns it in plain text, the only time it is seen.
// A user with MaxActiveTokens active tokens gets ECONFLICT (details.reason
// booking.ReasonTokenLimit), whoever asks through the API, admins included; the System
// actor (`posthub token create`, the demo seed), run by whoever holds the database's
// credentials, is exempt, so an operator can still issue a token to a user at the cap.
func (db *DB) CreateToken(ctx context.Context, a booking.Actor, userID uuid.UUID, name string, ttl time.Duration) (booking.TokenInfo, string, error) {
	var info booking.TokenInfo
	if userID != a.UserID && a.Role != booking.RoleAdmin {
		return info, "", booking.Errorf(booking.EFORBIDDEN, "You may create tokens only for yourself.")
	}
	if name = strings.TrimSpace(name); name == "" || len(name) > 200 {
		return info, "", booking.Errorf(booking.EINVALID, "name must be 1 to 200 characters.")
	}
	if ttl < 0 || ttl > MaxTokenTTL {
		return info, "", booking.Errorf(booking.EINVALID, "expiry must be in the future and within two years.")
	}
	t := auth.NewToken()
	now := db.now()
	var expires *time.Time
	if ttl > 0 {
		e := now.Add(ttl)
		expires = &e
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if !a.System {
			// The user's row lock makes concurrent creations count one after another. The
			// count is a statement of its own, after the lock: a subquery of the locking
			// statement would count from that statement's snapshot, taken before the wait.
			var locked uuid.UUID
			if err := tx.QueryRow(ctx, `SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID).Scan(&locked); err != nil {
				return notFound(err, "user")
			}
			var active int
			err := tx.QueryRow(ctx, `SELECT count(*) FROM users u JOIN api_tokens t ON t.user_id = u.id
				WHERE u.id = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)`, userID, now).Scan(&active)
			if err != nil {
				return err
			}
			if active >= MaxActiveTokens {
				return &booking.Error{Code: booking.ECONFLICT,
					Message: fmt.Sprintf("A user may hold at most %d active API tokens; revoke one (DELETE /api/v1/tokens/{id}) before creating another.", MaxActiveTokens),
					Details: map[string]any{"reason": booking.ReasonTokenLimit, "limit": MaxActiveTokens}}
			}
		}
		var err error
		info, err = scanToken(tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, prefix, hash, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+tokenColumns, userID, name, t.Prefix, t.Hash, now, expires))
		if err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "token.created", ObjectType: "api_token", ObjectID: info.ID.String(), After: info})
	})
	if err != nil {
		return booking.TokenInfo{}, "", err
	}
	return info, t.Plain, nil
}

// ListTokens lists the actor's own tokens, newest first.
func (db *DB) ListTokens(ctx context.Context, a booking.Actor) ([]booking.TokenInfo, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id`, a.UserID)
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.TokenInfo, error) { return scanToken(r) })
	return ts, formatError(err)
}

// RevokeToken revokes the actor's own token, or any token for an admin. Revoking a
// revoked token changes nothing and succeeds.
func (db *DB) RevokeToken(ctx context.Context, a booking.Actor, id uuid.UUID) error {
	now := db.now()
	return db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanToken(tx.QueryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens
			WHERE id = $1 AND (user_id = $2 OR $3) FOR UPDATE`, id, a.UserID, a.Role == booking.RoleAdmin))
		if err != nil {
			return notFound(err, "token")
		}
		if before.RevokedAt != nil {
			return nil
		}
		after, err := scanToken(tx.QueryRow(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 RETURNING `+tokenColumns, id, now))
		if err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "token.revoked", ObjectType: "api_token", ObjectID: id.String(), Before: before, After: after})
	})
}
