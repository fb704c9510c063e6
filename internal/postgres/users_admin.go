package postgres

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/auth"
	"github.com/posthub/posthub/internal/booking"
)

// UpdateUser changes a user (admins only): name, role, locale, organisation, the sites
// a manager manages, and whether they are active. A deactivated user's sessions end
// and their password links stop working; their API tokens stay, refused while they
// are deactivated (AuthenticateToken), and work again if they are reactivated.
func (db *DB) UpdateUser(ctx context.Context, a booking.Actor, id uuid.UUID, p booking.UserPatch, ifMatch *int) (booking.User, error) {
	var out booking.User
	if err := requireAdmin(a); err != nil {
		return out, err
	}
	if err := p.Validate(); err != nil {
		return out, err
	}
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1 FOR NO KEY UPDATE OF u`, id))
		if err != nil {
			return notFound(err, "user")
		}
		if err := checkVersion("user", ifMatch, before.Version); err != nil {
			return err
		}
		after := before
		setIf(&after.Name, p.Name)
		setIf(&after.Role, p.Role)
		setIf(&after.Locale, p.Locale)
		setIf(&after.OrganisationID, p.OrganisationID)
		setIf(&after.Active, p.Active)
		if p.SiteIDs != nil {
			after.SiteIDs = slices.Clone(*p.SiteIDs)
			slices.SortFunc(after.SiteIDs, func(x, y uuid.UUID) int { return compareUUID(x, y) })
		}
		if after.Role != booking.RoleManager && len(after.SiteIDs) > 0 {
			return &booking.Error{Code: booking.EINVALID, Message: "Only managers manage sites: give site_ids [] with another role.",
				Details: map[string]any{"field": "site_ids"}}
		}
		sitesChanged := !slices.Equal(before.SiteIDs, after.SiteIDs)
		if after.Name == before.Name && after.Role == before.Role && after.Locale == before.Locale &&
			after.OrganisationID == before.OrganisationID && after.Active == before.Active && !sitesChanged {
			out = before
			return nil
		}
		if after.OrganisationID != before.OrganisationID {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organisations WHERE id = $1)`, after.OrganisationID).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return &booking.Error{Code: booking.ENOTFOUND, Message: "No such organisation.", Details: map[string]any{"field": "organisation_id"}}
			}
		}
		if sitesChanged {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM sites WHERE id = ANY($1)`, after.SiteIDs).Scan(&n); err != nil {
				return err
			}
			if n != len(after.SiteIDs) {
				return &booking.Error{Code: booking.ENOTFOUND, Message: "No such site.", Details: map[string]any{"field": "site_ids"}}
			}
		}
		if before.Role == booking.RoleAdmin && before.Active && (after.Role != booking.RoleAdmin || !after.Active) {
			// The other active admins' rows are locked, so two admins cannot demote each
			// other at once and leave none.
			rows, _ := tx.Query(ctx, `SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1 ORDER BY id FOR UPDATE`, id)
			others, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			if err != nil {
				return err
			}
			if len(others) == 0 {
				return booking.Conflict(booking.ReasonLastAdmin, "This is the last active admin: make another admin first.")
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET name = $2, role = $3, locale = $4, organisation_id = $5,
				disabled_at = CASE WHEN $6 THEN NULL ELSE coalesce(disabled_at, $7) END, version = version + 1
			WHERE id = $1`, id, after.Name, after.Role, after.Locale, after.OrganisationID, after.Active, now); err != nil {
			return err
		}
		if sitesChanged {
			if _, err := tx.Exec(ctx, `DELETE FROM user_sites WHERE user_id = $1`, id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO user_sites (user_id, site_id) SELECT $1, unnest($2::uuid[])`, id, after.SiteIDs); err != nil {
				return err
			}
		}
		if before.Active && !after.Active {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
				return err
			}
			if err := revokeLinks(ctx, tx, id, uuid.Nil, now); err != nil {
				return err
			}
		}
		if out, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id)); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "user.updated", ObjectType: "user", ObjectID: id.String(), Before: before, After: out})
	})
	return out, err
}

// setIf replaces *dst with *v when v is given.
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func compareUUID(x, y uuid.UUID) int {
	for i := range x {
		if x[i] != y[i] {
			return int(x[i]) - int(y[i])
		}
	}
	return 0
}

// revokeLinks ends the user's password links that are still open, but keep.
func revokeLinks(ctx context.Context, tx pgx.Tx, userID, keep uuid.UUID, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE password_links SET revoked_at = $3
		WHERE user_id = $1 AND id <> $2 AND used_at IS NULL AND revoked_at IS NULL`, userID, keep, now)
	return err
}

// newLink makes a password link for the user, ends their earlier ones and queues its
// mail, all in tx.
func (db *DB) newLink(ctx context.Context, tx pgx.Tx, a booking.Actor, u booking.PasswordLink, purpose string, now time.Time) (booking.PasswordLink, error) {
	ttl := booking.InviteLinkTTL
	if purpose == booking.LinkReset {
		ttl = booking.ResetLinkTTL
	}
	if err := revokeLinks(ctx, tx, u.UserID, uuid.Nil, now); err != nil {
		return u, err
	}
	var by *uuid.UUID
	if a.UserID != uuid.Nil {
		by = &a.UserID
	}
	l := u
	l.Purpose, l.CreatedAt, l.ExpiresAt = purpose, now, now.Add(ttl)
	if err := tx.QueryRow(ctx, `INSERT INTO password_links (user_id, purpose, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, l.UserID, purpose, by, now, l.ExpiresAt).Scan(&l.ID); err != nil {
		return l, err
	}
	return l, db.OnPasswordLink(ctx, tx, l)
}

var errNoMail = booking.Errorf(booking.EUNAVAILABLE, "This process cannot send mail; retry later.")

// InviteUser makes an invitation link for the user and queues its mail (admins only).
func (db *DB) InviteUser(ctx context.Context, a booking.Actor, id uuid.UUID) (booking.PasswordLink, error) {
	var l booking.PasswordLink
	if err := requireAdmin(a); err != nil {
		return l, err
	}
	if db.OnPasswordLink == nil {
		return l, errNoMail
	}
	now := db.now()
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var active bool
		u := booking.PasswordLink{UserID: id}
		if err := tx.QueryRow(ctx, `SELECT email, name, locale, disabled_at IS NULL FROM users WHERE id = $1 FOR NO KEY UPDATE`, id).
			Scan(&u.Email, &u.Name, &u.Locale, &active); err != nil {
			return notFound(err, "user")
		}
		if !active {
			return booking.Conflict(booking.ReasonUserInactive, "The user is deactivated; reactivate them before inviting them.")
		}
		var err error
		if l, err = db.newLink(ctx, tx, a, u, booking.LinkInvite, now); err != nil {
			return err
		}
		return audit(ctx, tx, a, now, auditEvent{Action: "user.invited", ObjectType: "user", ObjectID: id.String(), After: l})
	})
	return l, err
}

// resetThrottle is how soon after a reset link another is made for the same user: a
// request within it is answered as any other and does nothing.
const resetThrottle = time.Minute

// RequestPasswordReset makes a reset link for the active user with the email and
// queues its mail; for an unknown or deactivated user it does nothing. Neither answer
// says which happened.
func (db *DB) RequestPasswordReset(ctx context.Context, email string) error {
	if db.OnPasswordLink == nil {
		return errNoMail
	}
	now := db.now()
	return db.inTx(ctx, func(tx pgx.Tx) error {
		u := booking.PasswordLink{}
		var orgID uuid.UUID
		var role booking.Role
		err := tx.QueryRow(ctx, `SELECT id, organisation_id, role, email, name, locale FROM users
			WHERE lower(email) = lower($1) AND disabled_at IS NULL FOR NO KEY UPDATE`, email).
			Scan(&u.UserID, &orgID, &role, &u.Email, &u.Name, &u.Locale)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		var recent bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM password_links WHERE user_id = $1 AND purpose = 'reset' AND created_at > $2)`,
			u.UserID, now.Add(-resetThrottle)).Scan(&recent); err != nil || recent {
			return err
		}
		l, err := db.newLink(ctx, tx, booking.Actor{}, u, booking.LinkReset, now)
		if err != nil {
			return err
		}
		// Asked anonymously: the audit names no actor.
		return audit(ctx, tx, booking.Actor{}, now, auditEvent{Action: "user.password_reset_requested", ObjectType: "user",
			ObjectID: u.UserID.String(), After: l})
	})
}

// linkRow is a password link as stored, with its user.
type linkRow struct {
	booking.PasswordLink
	usedAt, revokedAt *time.Time
	userActive        bool
	orgID             uuid.UUID
	role              booking.Role
	invitedBy         string
}

const linkSelect = `SELECT l.id, l.user_id, l.purpose, l.created_at, l.expires_at, l.used_at, l.revoked_at,
		u.email, u.name, u.locale, u.disabled_at IS NULL, u.organisation_id, u.role, coalesce(c.name, '')
	FROM password_links l JOIN users u ON u.id = l.user_id LEFT JOIN users c ON c.id = l.created_by`

func scanLink(row pgx.Row) (linkRow, error) {
	var l linkRow
	err := row.Scan(&l.ID, &l.UserID, &l.Purpose, &l.CreatedAt, &l.ExpiresAt, &l.usedAt, &l.revokedAt,
		&l.Email, &l.Name, &l.Locale, &l.userActive, &l.orgID, &l.role, &l.invitedBy)
	return l, err
}

// usable refuses a link that was used, revoked or has expired (EGONE, details.reason).
func (l linkRow) usable(now time.Time) error {
	gone := func(reason, msg string) error {
		return &booking.Error{Code: booking.EGONE, Message: msg, Details: map[string]any{"reason": reason}}
	}
	switch {
	case l.usedAt != nil:
		return gone(booking.ReasonLinkUsed, "This password link was already used; ask for a new one.")
	case l.revokedAt != nil || !l.userActive:
		return gone(booking.ReasonLinkRevoked, "This password link was replaced by a newer one or withdrawn; use the newest, or ask for a new one.")
	case !now.Before(l.ExpiresAt):
		return gone(booking.ReasonLinkExpired, "This password link has expired; ask for a new one.")
	}
	return nil
}

var errNoLink = booking.Errorf(booking.ENOTFOUND, "No such password link.")

// findLink reads the link with this secret; ENOTFOUND for a malformed or unknown one.
func findLink(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, secret, lock string) (linkRow, error) {
	if !auth.LooksLikeLinkSecret(secret) {
		return linkRow{}, errNoLink
	}
	l, err := scanLink(q.QueryRow(ctx, linkSelect+` WHERE l.hash = $1`+lock, auth.HashToken(secret)))
	if err == pgx.ErrNoRows {
		return l, errNoLink
	}
	return l, formatError(err)
}

// CheckPasswordLink says what a link's secret is for without using it.
func (db *DB) CheckPasswordLink(ctx context.Context, secret string) (booking.PasswordLink, error) {
	l, err := findLink(ctx, db.Pool, secret, "")
	if err == nil {
		err = l.usable(db.now())
	}
	if err != nil {
		return booking.PasswordLink{}, err
	}
	return l.PasswordLink, nil
}

// SetPasswordWithLink sets the user's password from a link's secret, once. The link
// is checked before the password is hashed (a costly hash is not spent on a bad link)
// and again, locked, before it is used. The user's other links are revoked and their
// sessions end; the change is audited as the user's own.
func (db *DB) SetPasswordWithLink(ctx context.Context, secret, password string) error {
	if len(password) < auth.MinPasswordLength {
		return &booking.Error{Code: booking.EINVALID, Message: "password must be at least " + strconv.Itoa(auth.MinPasswordLength) + " characters.",
			Details: map[string]any{"field": "password"}}
	}
	l, err := findLink(ctx, db.Pool, secret, "")
	if err == nil {
		err = l.usable(db.now())
	}
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		l, err := findLink(ctx, tx, secret, ` FOR UPDATE OF l`)
		if err != nil {
			return err
		}
		if err := l.usable(now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, version = version + 1 WHERE id = $1`, l.UserID, hash); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE password_links SET used_at = $2 WHERE id = $1`, l.ID, now); err != nil {
			return err
		}
		if err := revokeLinks(ctx, tx, l.UserID, l.ID, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, l.UserID); err != nil {
			return err
		}
		who := booking.Actor{UserID: l.UserID, OrganisationID: l.orgID, Role: l.role, Email: l.Email}
		return audit(ctx, tx, who, now, auditEvent{Action: "user.password_set", ObjectType: "user", ObjectID: l.UserID.String(),
			After: map[string]any{"link_id": l.ID, "purpose": l.Purpose}})
	})
}

// IssuePasswordLink gives a link a new secret, of which only the hash is kept, and
// returns its mail: the worker that sends it calls this as it sends, so the secret
// never rests in the job queue. A mail sent again (a retry after a failure) carries a
// new secret and the earlier one stops working. ENOTFOUND for no such link, EGONE for
// one that can no longer be used.
func (db *DB) IssuePasswordLink(ctx context.Context, linkID uuid.UUID) (booking.PasswordMail, error) {
	var m booking.PasswordMail
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		l, err := scanLink(tx.QueryRow(ctx, linkSelect+` WHERE l.id = $1 FOR UPDATE OF l`, linkID))
		if err != nil {
			return notFound(err, "password link")
		}
		if err := l.usable(now); err != nil {
			return err
		}
		secret := auth.NewLinkSecret()
		if _, err := tx.Exec(ctx, `UPDATE password_links SET hash = $2, mailed_at = $3 WHERE id = $1`, linkID, auth.HashToken(secret), now); err != nil {
			return err
		}
		m = booking.PasswordMail{Link: l.PasswordLink, Secret: secret}
		if l.Purpose == booking.LinkInvite {
			m.InvitedBy = l.invitedBy
		}
		return nil
	})
	return m, err
}
