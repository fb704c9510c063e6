package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

var _ booking.Calendars = (*DB)(nil)

// querier is what reads need: the pool or a transaction.
type querier interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
	QueryRow(context.Context, string, ...any) pgx.Row
	SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
}

var weekdayNames = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

const dateLayout = "2006-01-02"

// span is a working span in local minutes since midnight, as stored.
type span struct {
	Weekday int `json:"weekday"`
	FromMin int `json:"from_min"`
	ToMin   int `json:"to_min"`
}

func clockString(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

func parseClock(s string) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("bad clock")
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("bad clock")
	}
	return h*60 + m, nil
}

// weekToSpans turns the API's week into stored spans, checking it.
func weekToSpans(w booking.Week) ([]span, error) {
	var out []span
	for name, ws := range w {
		day := -1
		for i, n := range weekdayNames {
			if n == strings.ToLower(name) {
				day = i
			}
		}
		if day < 0 {
			return nil, &booking.Error{Code: booking.EINVALID, Message: "Unknown weekday " + name + ".", Details: map[string]any{"field": "week"}}
		}
		for _, s := range ws {
			from, err1 := parseClock(s.From)
			to, err2 := parseClock(s.To)
			if err1 != nil || err2 != nil || from >= to {
				return nil, &booking.Error{Code: booking.EINVALID, Message: "Working spans are \"HH:MM\" pairs with from before to.",
					Details: map[string]any{"field": "week", "weekday": name}}
			}
			out = append(out, span{Weekday: day, FromMin: from, ToMin: to})
		}
	}
	if err := (&calendar.Calendar{Location: time.UTC, Week: toCalendarWeek(out)}).Validate(); err != nil {
		return nil, &booking.Error{Code: booking.EINVALID, Message: "The week's spans overlap or are malformed: " + err.Error(), Details: map[string]any{"field": "week"}}
	}
	return out, nil
}

func spansToWeek(spans []span) booking.Week {
	w := booking.Week{}
	for _, s := range spans {
		name := weekdayNames[s.Weekday]
		w[name] = append(w[name], booking.WorkingSpan{From: clockString(s.FromMin), To: clockString(s.ToMin)})
	}
	return w
}

func toCalendarWeek(spans []span) calendar.Week {
	var w calendar.Week
	for _, s := range spans {
		w[s.Weekday] = append(w[s.Weekday], calendar.Span{
			From: calendar.Clock{Hour: s.FromMin / 60, Minute: s.FromMin % 60},
			To:   calendar.Clock{Hour: s.ToMin / 60, Minute: s.ToMin % 60}})
	}
	return w
}

func toDate(t time.Time) calendar.Date {
	return calendar.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// siteCalendar reads everything about a site's calendar, in one round trip (every
// booking change reads it): its zone, its week, its overrides and the holidays of its
// country and its own.
func (db *DB) siteCalendar(ctx context.Context, q querier, siteID uuid.UUID) (booking.SiteCalendar, *calendar.Calendar, error) {
	b := &pgx.Batch{}
	read := queueSiteCalendar(b, siteID)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return booking.SiteCalendar{}, nil, err
	}
	return read()
}

// queueSiteCalendar queues siteCalendar's statements on b; the function it returns
// gives the calendar once b has been sent.
func queueSiteCalendar(b *pgx.Batch, siteID uuid.UUID) func() (booking.SiteCalendar, *calendar.Calendar, error) {
	out := booking.SiteCalendar{SiteID: siteID, TZVersion: calendar.TZVersion(), Week: booking.Week{},
		Overrides: []booking.CalendarOverride{}, Holidays: []booking.Holiday{}}
	var spans []span
	var overrides []calendar.Override
	var holidays []calendar.Holiday
	found := false
	b.Queue(`SELECT time_zone FROM sites WHERE id = $1`, siteID).Query(func(rows pgx.Rows) error {
		var err error
		out.TimeZone, err = pgx.CollectExactlyOneRow(rows, pgx.RowTo[string])
		found = err == nil
		if err == pgx.ErrNoRows {
			return nil
		}
		return err
	})
	b.Queue(`SELECT weekday, from_min, to_min FROM site_week_spans WHERE site_id = $1 ORDER BY weekday, from_min`, siteID).Query(func(rows pgx.Rows) error {
		var err error
		spans, err = pgx.CollectRows(rows, pgx.RowToStructByPos[span])
		return err
	})
	b.Queue(`SELECT id, name, from_date, to_date, spans FROM calendar_overrides WHERE site_id = $1 ORDER BY from_date, created_at`, siteID).Query(func(rows pgx.Rows) error {
		var id uuid.UUID
		var name string
		var from, to time.Time
		var raw []span
		_, err := pgx.ForEachRow(rows, []any{&id, &name, &from, &to, &raw}, func() error {
			out.Overrides = append(out.Overrides, booking.CalendarOverride{ID: id, Name: name, From: from.Format(dateLayout), To: to.Format(dateLayout), Week: spansToWeek(raw)})
			overrides = append(overrides, calendar.Override{From: toDate(from), To: toDate(to), Week: toCalendarWeek(raw), Name: name})
			return nil
		})
		return err
	})
	b.Queue(`SELECT id, coalesce(country, ''), site_id, date, name, provisional FROM holidays
		WHERE country = (SELECT country FROM sites WHERE id = $1) OR site_id = $1 ORDER BY date, name`, siteID).Query(func(rows pgx.Rows) error {
		var h booking.Holiday
		var date time.Time
		_, err := pgx.ForEachRow(rows, []any{&h.ID, &h.Country, &h.SiteID, &date, &h.Name, &h.Provisional}, func() error {
			h.Date = date.Format(dateLayout)
			out.Holidays = append(out.Holidays, h)
			holidays = append(holidays, calendar.Holiday{Date: toDate(date), Name: h.Name, Provisional: h.Provisional})
			return nil
		})
		return err
	})
	return func() (booking.SiteCalendar, *calendar.Calendar, error) {
		if !found {
			return out, nil, notFound(pgx.ErrNoRows, "site")
		}
		loc, err := calendar.LoadLocation(out.TimeZone)
		if err != nil {
			return out, nil, fmt.Errorf("site %s: %w", siteID, err)
		}
		out.Week = spansToWeek(spans)
		return out, &calendar.Calendar{Location: loc, Week: toCalendarWeek(spans), Overrides: overrides, Holidays: holidays}, nil
	}
}

// SiteCalendar returns ENOTFOUND for an unknown site.
func (db *DB) SiteCalendar(ctx context.Context, siteID uuid.UUID) (booking.SiteCalendar, error) {
	sc, _, err := db.siteCalendar(ctx, db.Pool, siteID)
	return sc, err
}

func mayManage(a booking.Actor, siteID uuid.UUID) error {
	if a.Role == booking.RoleAdmin || a.ManagesSite(siteID) {
		return nil
	}
	return booking.Errorf(booking.EFORBIDDEN, "You do not manage this site.")
}

// SetWeek replaces a site's ordinary week.
func (db *DB) SetWeek(ctx context.Context, a booking.Actor, siteID uuid.UUID, w booking.Week) (booking.SiteCalendar, error) {
	spans, err := weekToSpans(w)
	if err != nil {
		return booking.SiteCalendar{}, err
	}
	var out booking.SiteCalendar
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		before, _, err := db.siteCalendar(ctx, tx, siteID)
		if err != nil {
			return err
		}
		if err := mayManage(a, siteID); err != nil {
			return err
		}
		if err := db.recalendar(ctx, tx, a, []uuid.UUID{siteID}, recheckWindow{}, "The site's working week changed", func() error {
			if _, err := tx.Exec(ctx, `DELETE FROM site_week_spans WHERE site_id = $1`, siteID); err != nil {
				return err
			}
			for _, s := range spans {
				if _, err := tx.Exec(ctx, `INSERT INTO site_week_spans (site_id, weekday, from_min, to_min) VALUES ($1, $2, $3, $4)`,
					siteID, s.Weekday, s.FromMin, s.ToMin); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		if out, _, err = db.siteCalendar(ctx, tx, siteID); err != nil {
			return err
		}
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "calendar.week_set", ObjectType: "site", ObjectID: siteID.String(), Before: before.Week, After: out.Week})
	})
	return out, err
}

func parseDate(field, s string) (time.Time, error) {
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		return d, &booking.Error{Code: booking.EINVALID, Message: field + " must be a date like 2027-03-10.", Details: map[string]any{"field": field}}
	}
	return d, nil
}

// AddOverride adds a period with other hours.
func (db *DB) AddOverride(ctx context.Context, a booking.Actor, siteID uuid.UUID, o booking.CalendarOverride) (booking.CalendarOverride, error) {
	from, err := parseDate("from", o.From)
	if err != nil {
		return o, err
	}
	to, err := parseDate("to", o.To)
	if err != nil {
		return o, err
	}
	if to.Before(from) || to.Sub(from) > 366*24*time.Hour {
		return o, &booking.Error{Code: booking.EUNPROCESSABLE, Message: "to must be on or after from, within a year.", Details: map[string]any{"field": "to"}}
	}
	if o.Name = strings.TrimSpace(o.Name); o.Name == "" {
		return o, &booking.Error{Code: booking.EINVALID, Message: "name is required.", Details: map[string]any{"field": "name"}}
	}
	spans, err := weekToSpans(o.Week)
	if err != nil {
		return o, err
	}
	raw, _ := json.Marshal(spans)
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if _, _, err := db.siteCalendar(ctx, tx, siteID); err != nil {
			return err
		}
		if err := mayManage(a, siteID); err != nil {
			return err
		}
		what := fmt.Sprintf("Period %q (%s to %s) added", o.Name, o.From, o.To)
		if err := db.recalendar(ctx, tx, a, []uuid.UUID{siteID}, dayWindow(from, to), what, func() error {
			return tx.QueryRow(ctx, `INSERT INTO calendar_overrides (site_id, name, from_date, to_date, spans) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
				siteID, o.Name, from, to, raw).Scan(&o.ID)
		}); err != nil {
			return err
		}
		o.Week = spansToWeek(spans)
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "calendar.override_added", ObjectType: "calendar_override", ObjectID: o.ID.String(), After: o})
	})
	return o, err
}

// DeleteOverride removes a period with other hours.
func (db *DB) DeleteOverride(ctx context.Context, a booking.Actor, id uuid.UUID) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var site uuid.UUID
		var name string
		var from, to time.Time
		if err := tx.QueryRow(ctx, `SELECT site_id, name, from_date, to_date FROM calendar_overrides WHERE id = $1`, id).Scan(&site, &name, &from, &to); err != nil {
			return notFound(err, "override")
		}
		if err := mayManage(a, site); err != nil {
			return err
		}
		what := fmt.Sprintf("Period %q (%s to %s) removed", name, from.Format(dateLayout), to.Format(dateLayout))
		if err := db.recalendar(ctx, tx, a, []uuid.UUID{site}, dayWindow(from, to), what, func() error {
			_, err := tx.Exec(ctx, `DELETE FROM calendar_overrides WHERE id = $1`, id)
			return err
		}); err != nil {
			return err
		}
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "calendar.override_deleted", ObjectType: "calendar_override", ObjectID: id.String()})
	})
}

// mayManageHoliday: a site's closure by its managers; a national holiday by the
// managers of a site in that country; anything by admins.
func mayManageHoliday(ctx context.Context, q querier, a booking.Actor, country string, site *uuid.UUID) error {
	if a.Role == booking.RoleAdmin {
		return nil
	}
	if site != nil {
		return mayManage(a, *site)
	}
	var ok bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sites WHERE country = $1 AND id = ANY($2))`, country, a.SiteIDs).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return booking.Errorf(booking.EFORBIDDEN, "You manage no site in that country.")
	}
	return nil
}

const holidayColumns = `id, coalesce(country, ''), site_id, date, name, provisional`

func scanHoliday(row pgx.Row) (booking.Holiday, error) {
	var h booking.Holiday
	var d time.Time
	err := row.Scan(&h.ID, &h.Country, &h.SiteID, &d, &h.Name, &h.Provisional)
	h.Date = d.Format(dateLayout)
	return h, err
}

// AddHoliday adds a national holiday or a site closure.
func (db *DB) AddHoliday(ctx context.Context, a booking.Actor, h booking.Holiday) (booking.Holiday, error) {
	if (h.Country == "") == (h.SiteID == nil) {
		return h, booking.Errorf(booking.EINVALID, "Give either country or site_id.")
	}
	if h.Country != "" && !isCountryCode(h.Country) {
		return h, &booking.Error{Code: booking.EINVALID, Message: "country must be an ISO 3166 alpha-2 code.", Details: map[string]any{"field": "country"}}
	}
	d, err := parseDate("date", h.Date)
	if err != nil {
		return h, err
	}
	if h.Name = strings.TrimSpace(h.Name); h.Name == "" {
		return h, &booking.Error{Code: booking.EINVALID, Message: "name is required.", Details: map[string]any{"field": "name"}}
	}
	var out booking.Holiday
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		if err := mayManageHoliday(ctx, tx, a, h.Country, h.SiteID); err != nil {
			return err
		}
		sites, err := sitesOfHoliday(ctx, tx, h)
		if err != nil {
			return err
		}
		what := fmt.Sprintf("Holiday %s (%s) added", h.Date, h.Name)
		if h.Provisional {
			what = fmt.Sprintf("Provisional holiday %s (%s) added", h.Date, h.Name)
		}
		if err := db.recalendar(ctx, tx, a, sites, dayWindow(d), what, func() error {
			out, err = scanHoliday(tx.QueryRow(ctx, `INSERT INTO holidays (country, site_id, date, name, provisional)
				VALUES (nullif($1, ''), $2, $3, $4, $5) RETURNING `+holidayColumns, h.Country, h.SiteID, d, h.Name, h.Provisional))
			return err
		}); err != nil {
			return err
		}
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "holiday.added", ObjectType: "holiday", ObjectID: out.ID.String(), After: out})
	})
	return out, err
}

func isCountryCode(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

// ConfirmHoliday settles a provisional holiday, on its date or the one announced.
func (db *DB) ConfirmHoliday(ctx context.Context, a booking.Actor, id uuid.UUID, date string) (booking.Holiday, error) {
	var out booking.Holiday
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanHoliday(tx.QueryRow(ctx, `SELECT `+holidayColumns+` FROM holidays WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "holiday")
		}
		if err := mayManageHoliday(ctx, tx, a, before.Country, before.SiteID); err != nil {
			return err
		}
		d := before.Date
		if date != "" {
			d = date
		}
		day, err := parseDate("date", d)
		if err != nil {
			return err
		}
		was, _ := time.Parse(dateLayout, before.Date)
		sites, err := sitesOfHoliday(ctx, tx, before)
		if err != nil {
			return err
		}
		what := fmt.Sprintf("%s confirmed on %s", before.Name, d)
		if d != before.Date {
			what = fmt.Sprintf("%s confirmed on %s, not %s", before.Name, d, before.Date)
		}
		if err := db.recalendar(ctx, tx, a, sites, dayWindow(was, day), what, func() error {
			out, err = scanHoliday(tx.QueryRow(ctx, `UPDATE holidays SET provisional = false, date = $2 WHERE id = $1 RETURNING `+holidayColumns, id, day))
			return err
		}); err != nil {
			return err
		}
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "holiday.confirmed", ObjectType: "holiday", ObjectID: id.String(), Before: before, After: out})
	})
	return out, err
}

// DeleteHoliday removes a holiday.
func (db *DB) DeleteHoliday(ctx context.Context, a booking.Actor, id uuid.UUID) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanHoliday(tx.QueryRow(ctx, `SELECT `+holidayColumns+` FROM holidays WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "holiday")
		}
		if err := mayManageHoliday(ctx, tx, a, before.Country, before.SiteID); err != nil {
			return err
		}
		sites, err := sitesOfHoliday(ctx, tx, before)
		if err != nil {
			return err
		}
		day, _ := time.Parse(dateLayout, before.Date)
		if err := db.recalendar(ctx, tx, a, sites, dayWindow(day), fmt.Sprintf("Holiday %s (%s) removed", before.Date, before.Name), func() error {
			_, err := tx.Exec(ctx, `DELETE FROM holidays WHERE id = $1`, id)
			return err
		}); err != nil {
			return err
		}
		return audit(ctx, tx, a, db.now(), auditEvent{Action: "holiday.deleted", ObjectType: "holiday", ObjectID: id.String(), Before: before})
	})
}

// AddWorkingHours returns the instant d of working time after from at the site.
func (db *DB) AddWorkingHours(ctx context.Context, siteID uuid.UUID, from time.Time, d time.Duration) (booking.WorkingTime, error) {
	sc, cal, err := db.siteCalendar(ctx, db.Pool, siteID)
	if err != nil {
		return booking.WorkingTime{}, err
	}
	// Like the availability search and the planner, counting avoids provisional holidays.
	end, err := cal.AddWorkingHours(from, d, calendar.Options{AvoidProvisional: true})
	if err != nil {
		return booking.WorkingTime{}, &booking.Error{Code: booking.EUNPROCESSABLE, Message: "The site has no working time within reach.", Err: err}
	}
	return booking.WorkingTime{From: from.UTC(), FromLocal: localString(cal.Location, from), End: end.UTC(),
		EndLocal: localString(cal.Location, end), TimeZone: sc.TimeZone}, nil
}
