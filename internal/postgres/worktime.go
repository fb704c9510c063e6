package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// nextWorkingSearch is how far past a refused interval the refusal looks for the
// site's next working hours to name.
const nextWorkingSearch = 62 * 24 * time.Hour

// checkWorkingTime applies the one definition of working time (calendar.UseOf) to a
// booking's interval at its site. An interval holding no working time is refused
// unless it is booked as overtime (EUNPROCESSABLE, naming the site's next working
// hours); one that reserves closed time without selling it, or touches a holiday
// (provisional or not), is accepted with warnings naming them. It returns the site's
// calendar for the checks that follow.
func (db *DB) checkWorkingTime(ctx context.Context, q querier, siteID uuid.UUID, start, end time.Time, overtime bool) ([]string, *calendar.Calendar, error) {
	_, cal, err := db.siteCalendar(ctx, q, siteID)
	if err != nil {
		return nil, nil, err
	}
	warnings, err := workingTimeWarnings(cal, start, end, overtime)
	return warnings, cal, err
}

// workingTimeWarnings is checkWorkingTime on a calendar already read.
func workingTimeWarnings(cal *calendar.Calendar, start, end time.Time, overtime bool) ([]string, error) {
	u := cal.UseOf(calendar.Interval{Start: start, End: end}, nil)
	if len(u.Working) == 0 && !overtime {
		return nil, closedRefusal(cal, start, end)
	}
	var warnings []string
	for _, h := range u.Holidays {
		if h.Provisional {
			warnings = append(warnings, "provisional holiday "+h.Date.String()+" ("+h.Name+"): the date may yet be a holiday")
		} else {
			warnings = append(warnings, "holiday "+h.Date.String()+" ("+h.Name+"): the site is closed that day")
		}
	}
	if closed := u.Closed.Duration(); closed > 0 {
		if overtime {
			warnings = append(warnings, fmt.Sprintf("%s of the booking is outside working hours and is sold as overtime", hoursText(closed)))
		} else {
			warnings = append(warnings, fmt.Sprintf("%s of the booking is outside working hours: reserved, not sold (%s of working time is); book as overtime to work then",
				hoursText(closed), hoursText(u.Working.Duration())))
		}
	}
	return warnings, nil
}

// closedRefusal refuses an interval with no working time, naming the site's next
// working hours from its start.
func closedRefusal(cal *calendar.Calendar, start, end time.Time) error {
	loc := cal.Location
	details := map[string]any{"field": "start", "start": start.UTC(), "end": end.UTC()}
	msg := "The site is closed for the whole interval; book within its working hours, or as overtime."
	if next := cal.WorkingTime(calendar.Interval{Start: start, End: start.Add(nextWorkingSearch)}, calendar.Options{}); len(next) > 0 {
		n := next[0]
		// A working stretch that runs on past midnight is named up to its first day's end.
		details["next_working_start"], details["next_working_end"] = n.Start.UTC(), n.End.UTC()
		details["next_working_start_local"], details["next_working_end_local"] = localString(loc, n.Start), localString(loc, n.End)
		msg = fmt.Sprintf("The site is closed for the whole interval; its next working hours are %s–%s (%s, UTC%s). Book within them, or as overtime.",
			n.Start.In(loc).Format("Mon 2006-01-02 15:04"), n.End.In(loc).Format("15:04"), loc, n.Start.In(loc).Format("-07:00"))
	}
	return &booking.Error{Code: booking.EUNPROCESSABLE, Message: msg, Details: details}
}

// hoursText shows a duration as people read hours: "31 h", "4 h 30 min".
func hoursText(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	if m == 0 {
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}

// recheckWindow bounds the bookings a calendar change may touch: those overlapping
// [From, To) (zero To: every future one).
type recheckWindow struct{ From, To time.Time }

// dayWindow is the window of the site-local dates a holiday occupies (before and
// after a move), with a day's margin either side for every zone.
func dayWindow(days ...time.Time) recheckWindow {
	var w recheckWindow
	for i, d := range days {
		from, to := d.Add(-36*time.Hour), d.Add(60*time.Hour)
		if i == 0 || from.Before(w.From) {
			w.From = from
		}
		if i == 0 || to.After(w.To) {
			w.To = to
		}
	}
	return w
}

// recalendar makes a calendar change in tx and re-derives the working time of the
// future active bookings at the sites it touches: those whose working time (by
// calendar.UseOf) changed are flagged for review with what changed, audited, and
// raised as working_time_changed, which tells their producers and the site's
// managers once. Stored quotes are not touched.
func (db *DB) recalendar(ctx context.Context, tx pgx.Tx, a booking.Actor, sites []uuid.UUID, w recheckWindow, what string, apply func() error) error {
	before := make(map[uuid.UUID]*calendar.Calendar, len(sites))
	for _, s := range sites {
		_, cal, err := db.siteCalendar(ctx, tx, s)
		if err != nil {
			return err
		}
		before[s] = cal
	}
	if err := apply(); err != nil {
		return err
	}
	now := db.now()
	ch := change{actor: a.UserID}
	for _, site := range sites {
		_, after, err := db.siteCalendar(ctx, tx, site)
		if err != nil {
			return err
		}
		from := w.From
		if from.Before(now) {
			from = now
		}
		var to *time.Time
		if !w.To.IsZero() {
			to = &w.To
		}
		type row struct {
			ID, ProductionID uuid.UUID
			Start, End       time.Time
		}
		rows, _ := tx.Query(ctx, `SELECT id, production_id, start_at, end_at FROM booking_groups
			WHERE site_id = $1 AND status IN ('hold', 'confirmed') AND end_at > $2 AND ($3::timestamptz IS NULL OR start_at < $3)
			ORDER BY start_at, id`, site, from, to)
		groups, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
		if err != nil {
			return err
		}
		for _, g := range groups {
			iv := calendar.Interval{Start: g.Start, End: g.End}
			was, is := before[site].UseOf(iv, nil).Working.Duration(), after.UseOf(iv, nil).Working.Duration()
			if was == is {
				continue
			}
			note := fmt.Sprintf("%s: the booking now holds %s of working time, not %s", what, hoursText(is), hoursText(was))
			if _, err := tx.Exec(ctx, `UPDATE booking_groups SET working_time_review = $2, working_time_review_at = $3 WHERE id = $1`, g.ID, note, now); err != nil {
				return err
			}
			if err := audit(ctx, tx, a, now, auditEvent{Action: "booking.working_time_changed", ObjectType: "booking", ObjectID: g.ID.String(),
				After: map[string]any{"working_seconds_before": int64(was / time.Second), "working_seconds_after": int64(is / time.Second), "review": note}}); err != nil {
				return err
			}
			ch.add(&groupRow{ID: g.ID, ProductionID: g.ProductionID, SiteID: site}, booking.EventWorkingTimeChanged, now, note)
		}
	}
	return db.emit(ctx, tx, &ch)
}

// sitesOfHoliday are the sites a holiday closes: its own site, or every site of its
// country.
func sitesOfHoliday(ctx context.Context, q querier, h booking.Holiday) ([]uuid.UUID, error) {
	if h.SiteID != nil {
		return []uuid.UUID{*h.SiteID}, nil
	}
	rows, _ := q.Query(ctx, `SELECT id FROM sites WHERE country = $1 ORDER BY id`, h.Country)
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// MarkWorkingTimeReviewed clears a booking's review flag (managers of its site, admins).
func (db *DB) MarkWorkingTimeReviewed(ctx context.Context, a booking.Actor, id uuid.UUID) (booking.Booking, error) {
	var out booking.Booking
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var site uuid.UUID
		var review *time.Time
		if err := tx.QueryRow(ctx, `SELECT site_id, working_time_review_at FROM booking_groups WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&site, &review); err != nil {
			return notFound(err, "booking")
		}
		if a.Role != booking.RoleAdmin && !a.ManagesSite(site) {
			if a.SeesAllProductions() {
				return booking.Errorf(booking.EFORBIDDEN, "You do not manage this site.")
			}
			return booking.Errorf(booking.ENOTFOUND, "No such booking.")
		}
		if review != nil {
			if _, err := tx.Exec(ctx, `UPDATE booking_groups SET working_time_review = NULL, working_time_review_at = NULL WHERE id = $1`, id); err != nil {
				return err
			}
			if err := audit(ctx, tx, a, db.now(), auditEvent{Action: "booking.working_time_reviewed", ObjectType: "booking", ObjectID: id.String()}); err != nil {
				return err
			}
		}
		var err error
		out, err = db.loadBooking(ctx, tx, id)
		return err
	})
	return out, err
}
