package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// ManagerDigests gathers, for every manager, what needs their eye at the sites they
// manage as of now: approvals waiting, open challenges, confirmed bookings starting in
// the next day and holds expiring in the next day.
func (db *DB) ManagerDigests(ctx context.Context, now time.Time) ([]booking.Digest, error) {
	rows, _ := db.Pool.Query(ctx, `SELECT id, email, name, locale, role FROM users WHERE role = 'manager' AND disabled_at IS NULL ORDER BY email`)
	managers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.Recipient, error) {
		var x booking.Recipient
		err := r.Scan(&x.UserID, &x.Email, &x.Name, &x.Locale, &x.Role)
		return x, err
	})
	if err != nil {
		return nil, formatError(err)
	}
	day := now.Add(24 * time.Hour)
	var out []booking.Digest
	for _, m := range managers {
		d := booking.Digest{Manager: m}
		lists := []struct {
			dst    *[]booking.DigestItem
			sql    string
			window bool // the query takes the day's window as $2 and $3
		}{
			{&d.Approvals, `SELECT g.id, p.title, s.name, g.start_at, g.end_at, s.time_zone, NULL::timestamptz FROM booking_groups g
				JOIN productions p ON p.id = g.production_id JOIN sites s ON s.id = g.site_id
				WHERE g.status = 'hold' AND g.approval_requested_at IS NOT NULL AND g.site_id IN (SELECT site_id FROM user_sites WHERE user_id = $1)
				ORDER BY g.start_at`, false},
			{&d.Challenges, `SELECT g.id, p.title, s.name, g.start_at, g.end_at, s.time_zone, c.deadline FROM challenges c
				JOIN booking_groups g ON g.id = c.challenger_id JOIN productions p ON p.id = g.production_id JOIN sites s ON s.id = g.site_id
				WHERE c.status = 'open' AND g.site_id IN (SELECT site_id FROM user_sites WHERE user_id = $1) ORDER BY c.deadline`, false},
			{&d.StartingSoon, `SELECT g.id, p.title, s.name, g.start_at, g.end_at, s.time_zone, NULL::timestamptz FROM booking_groups g
				JOIN productions p ON p.id = g.production_id JOIN sites s ON s.id = g.site_id
				WHERE g.status = 'confirmed' AND g.start_at >= $2 AND g.start_at < $3 AND g.site_id IN (SELECT site_id FROM user_sites WHERE user_id = $1)
				ORDER BY g.start_at`, true},
			{&d.ExpiringSoon, `SELECT g.id, p.title, s.name, g.start_at, g.end_at, s.time_zone, g.hold_expires_at FROM booking_groups g
				JOIN productions p ON p.id = g.production_id JOIN sites s ON s.id = g.site_id
				WHERE g.status = 'hold' AND g.hold_expires_at >= $2 AND g.hold_expires_at < $3 AND g.site_id IN (SELECT site_id FROM user_sites WHERE user_id = $1)
				ORDER BY g.hold_expires_at`, true},
		}
		for _, l := range lists {
			args := []any{m.UserID}
			if l.window {
				args = append(args, now, day)
			}
			rows, _ := db.Pool.Query(ctx, l.sql, args...)
			items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (booking.DigestItem, error) {
				var it booking.DigestItem
				err := r.Scan(&it.BookingID, &it.Production, &it.Site, &it.Start, &it.End, &it.TimeZone, &it.Due)
				if loc, lerr := calendar.LoadLocation(it.TimeZone); lerr == nil {
					it.StartLocal = localString(loc, it.Start)
				}
				return it, err
			})
			if err != nil {
				return nil, formatError(err)
			}
			*l.dst = items
		}
		out = append(out, d)
	}
	return out, nil
}
