package postgres

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// localLayout shows a site-local wall-clock time with its offset, always numeric
// ("+00:00", never "Z"), so a person sees which offset applied.
const localLayout = "2006-01-02T15:04:05-07:00"

func localString(loc *time.Location, t time.Time) string { return t.In(loc).Format(localLayout) }

// wallClock is t's local wall-clock reading as a zone-less time, as stored in the
// timestamp (without time zone) columns.
func wallClock(loc *time.Location, t time.Time) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// storeLocalTimes derives a group's site-local start and end with the embedded tz
// database and records which release it used.
func storeLocalTimes(ctx context.Context, tx pgx.Tx, groupID uuid.UUID, zone string, start, end time.Time) error {
	loc, err := calendar.LoadLocation(zone)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE booking_groups SET time_zone = $2, local_start = $3, local_end = $4, tz_version = $5 WHERE id = $1`,
		groupID, zone, wallClock(loc, start), wallClock(loc, end), calendar.TZVersion())
	return err
}

// formatStoredLocal shows a stored wall-clock reading with the offset it had from the
// UTC instant, without consulting any tz data again.
func formatStoredLocal(local *time.Time, utc time.Time) string {
	if local == nil {
		return ""
	}
	offset := local.Sub(utc.UTC())
	return utc.In(time.FixedZone("", int(offset/time.Second))).Format(localLayout)
}

// ParseLocal reads a zone-less wall-clock time ("2027-03-10T10:00:00") at a site, with
// the embedded tz database. A wall-clock time that falls in a gap is moved forward as
// time.Date does; one that occurs twice takes the first.
func ParseLocal(zone, s string) (time.Time, error) {
	loc, err := calendar.LoadLocation(zone)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, loc)
	if err != nil {
		t, err = time.ParseInLocation("2006-01-02T15:04", s, loc)
	}
	if err != nil {
		return time.Time{}, booking.Errorf(booking.EINVALID, "Local times look like 2027-03-10T10:00:00 (no offset; the site's zone applies).")
	}
	return t.UTC(), nil
}

// RederiveLocalTimes re-derives the local wall-clock of future bookings whose times
// were derived with another tz release than the embedded one, and returns the bookings
// whose wall-clock moved; each is audited and raised as an event.
func (db *DB) RederiveLocalTimes(ctx context.Context) ([]booking.Booking, error) {
	now := db.now()
	version := calendar.TZVersion()
	rows, _ := db.Pool.Query(ctx, `SELECT id FROM booking_groups WHERE end_at > $1 AND time_zone IS NOT NULL
		AND tz_version IS DISTINCT FROM $2 AND status IN ('hold', 'confirmed') ORDER BY start_at`, now, version)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, formatError(err)
	}
	var moved []booking.Booking
	for _, id := range ids {
		err := db.inTxRetry(ctx, func(ctx context.Context, tx pgx.Tx) error {
			before, err := db.loadBooking(ctx, tx, id)
			if err != nil {
				return err
			}
			if err := storeLocalTimes(ctx, tx, id, before.TimeZone, before.Start, before.End); err != nil {
				return err
			}
			after, err := db.loadBooking(ctx, tx, id)
			if err != nil {
				return err
			}
			if after.StartLocal == before.StartLocal && after.EndLocal == before.EndLocal {
				return nil
			}
			moved = append(moved, after)
			g := &groupRow{ID: id, ProductionID: after.ProductionID, SiteID: after.SiteID}
			var ch change
			ch.add(g, booking.EventLocalTimeChanged, now, "tz database "+before.TZVersion+" → "+version)
			if err := audit(ctx, tx, booking.System, now, auditEvent{Action: "booking.local_time_changed", ObjectType: "booking",
				ObjectID: id.String(), Before: before, After: after}); err != nil {
				return err
			}
			return db.emit(ctx, tx, &ch)
		})
		if err != nil {
			return moved, err
		}
	}
	return moved, nil
}
