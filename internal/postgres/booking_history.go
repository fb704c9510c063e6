package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

var (
	_ booking.BookingHistory = (*DB)(nil)
	_ booking.People         = (*DB)(nil)
)

// maxHistory bounds a booking's history as one page shows it.
const maxHistory = 200

// BookingHistory returns the audit rows of a booking the actor may see, oldest first.
// A producer sees the names of their own organisation's people only; the others are
// told by their role.
func (db *DB) BookingHistory(ctx context.Context, a booking.Actor, id uuid.UUID) ([]booking.BookingChange, error) {
	if _, err := db.FindBooking(ctx, a, id); err != nil {
		return nil, err
	}
	rows, _ := db.Pool.Query(ctx, `SELECT l.at, l.action, coalesce(l.actor_role, ''),
			CASE WHEN $2::uuid IS NULL OR u.organisation_id = $2 THEN coalesce(u.name, '') ELSE '' END,
			l.before, l.after
		FROM audit_log l LEFT JOIN users u ON u.id = l.actor_id
		WHERE l.object_type = 'booking' AND l.object_id = $1
		ORDER BY l.id LIMIT $3`, id.String(), confinedTo(a), maxHistory)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.BookingChange, error) {
		var c booking.BookingChange
		var at time.Time
		var before, after []byte
		if err := r.Scan(&at, &c.Action, &c.ActorRole, &c.ActorName, &before, &after); err != nil {
			return c, err
		}
		c.At = at.UTC()
		c.Before, c.After = auditBooking(before), auditBooking(after)
		return c, nil
	})
	if err != nil {
		return nil, formatError(err)
	}
	if out == nil {
		out = []booking.BookingChange{}
	}
	return out, nil
}

// auditBooking reads a booking as an audit row recorded it; nil when it holds none.
func auditBooking(raw []byte) *booking.Booking {
	if len(raw) == 0 {
		return nil
	}
	var b booking.Booking
	if json.Unmarshal(raw, &b) != nil || b.ID == uuid.Nil {
		return nil
	}
	return &b
}

// UserName returns a user's name.
func (db *DB) UserName(ctx context.Context, id uuid.UUID) (string, error) {
	var name string
	err := db.Pool.QueryRow(ctx, `SELECT name FROM users WHERE id = $1`, id).Scan(&name)
	return name, notFound(err, "user")
}
