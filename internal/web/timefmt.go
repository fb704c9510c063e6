package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/httpapi"
)

// Times shown to a person are site-local, with the zone named: a booking's stored
// wall-clock (start_local, end_local, time_zone), or any other instant turned into the
// site's zone with the embedded tz database.

// storedLocalLayout is how bookings carry their site-local wall-clock.
const storedLocalLayout = "2006-01-02T15:04:05-07:00"

// inputLayout is the value of an <input type="datetime-local">.
const inputLayout = "2006-01-02T15:04"

// parseStoredLocal reads a booking's start_local or end_local, keeping its offset.
func parseStoredLocal(s string) (time.Time, bool) {
	t, err := time.Parse(storedLocalLayout, s)
	return t, err == nil
}

// offsetLabel names a local time's offset: UTC+00:00.
func offsetLabel(t time.Time) string {
	return "UTC" + t.Format("-07:00")
}

// zoneLabel names a zone and the offset in force at t: Africa/Casablanca, UTC+00:00.
func zoneLabel(zone string, t time.Time) string {
	return zone + ", " + offsetLabel(t)
}

// formatDate is a date as people read it: Wed 10 Mar 2027 / mer. 10 mars 2027.
func formatDate(lang string, t time.Time) string {
	return fmt.Sprintf("%s %d %s %d", translate(lang, fmt.Sprintf("day.%d", t.Weekday())), t.Day(),
		translate(lang, fmt.Sprintf("month.%d", t.Month())), t.Year())
}

// formatShortDate is a date without its year: Wed 10 Mar.
func formatShortDate(lang string, d calendar.Date) string {
	t := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
	return fmt.Sprintf("%s %d %s", translate(lang, fmt.Sprintf("day.%d", t.Weekday())), t.Day(),
		translate(lang, fmt.Sprintf("month.%d", t.Month())))
}

// formatDateTime is a local time with its date: Wed 10 Mar 2027, 10:00.
func formatDateTime(lang string, t time.Time) string {
	return formatDate(lang, t) + ", " + t.Format("15:04")
}

// formatSpan shows a booking's interval in its site's wall-clock with the zone named:
// "Wed 10 Mar 2027, 10:00–14:00 (Africa/Casablanca, UTC+00:00)". An interval over
// several days names both dates; an offset change inside it names both offsets.
func formatSpan(lang, startLocal, endLocal, zone string) string {
	s, ok1 := parseStoredLocal(startLocal)
	e, ok2 := parseStoredLocal(endLocal)
	if !ok1 || !ok2 {
		return startLocal + " – " + endLocal + " (" + zone + ")"
	}
	var b strings.Builder
	b.WriteString(formatDateTime(lang, s))
	if calendar.DateOf(s) == calendar.DateOf(e) {
		b.WriteString("–" + e.Format("15:04"))
	} else {
		b.WriteString(" – " + formatDateTime(lang, e))
	}
	b.WriteString(" (" + zone + ", " + offsetLabel(s))
	if offsetLabel(e) != offsetLabel(s) {
		b.WriteString(" → " + offsetLabel(e))
	}
	b.WriteString(")")
	return b.String()
}

// bookingWhen is formatSpan for a booking.
func bookingWhen(lang string, b booking.Booking) string {
	if b.StartLocal == "" {
		return formatInstant(lang, b.Start, b.TimeZone)
	}
	return formatSpan(lang, b.StartLocal, b.EndLocal, b.TimeZone)
}

// formatInstant shows an instant in a zone, named: "Wed 10 Mar 2027, 10:00
// (Africa/Casablanca, UTC+00:00)". An unknown zone falls back to UTC, named as such.
func formatInstant(lang string, t time.Time, zone string) string {
	loc, err := calendar.LoadLocation(zone)
	if err != nil || zone == "" {
		loc, zone = time.UTC, "UTC"
	}
	l := t.In(loc)
	return formatDateTime(lang, l) + " (" + zoneLabel(zone, l) + ")"
}

// inputValue is a stored local time as a datetime-local input's value.
func inputValue(local string) string {
	if t, ok := parseStoredLocal(local); ok {
		return t.Format(inputLayout)
	}
	return ""
}

// parseInputLocal reads a datetime-local value ("2027-03-10T10:00") as a wall-clock
// time in loc, within the instants the API accepts (httpapi.CheckInstant).
func parseInputLocal(v string, loc *time.Location) (time.Time, bool) {
	for _, layout := range []string{inputLayout, "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, httpapi.CheckInstant("time", t) == nil
		}
	}
	return time.Time{}, false
}

// formatHours is a number of hours for people: 12.5 h.
func formatHours(h float64) string {
	if h == float64(int64(h)) {
		return fmt.Sprintf("%d h", int64(h))
	}
	return fmt.Sprintf("%.1f h", h)
}

// siteToday is the site-local date now.
func siteToday(now time.Time, loc *time.Location) calendar.Date {
	return calendar.DateOf(now.In(loc))
}

// mondayOf is the Monday of d's week.
func mondayOf(d calendar.Date) calendar.Date {
	return d.AddDays(-((int(d.Weekday()) + 6) % 7))
}

// dateWindow turns site-local dates [from, to] (both included) into instants.
func dateWindow(from, to calendar.Date, loc *time.Location) (time.Time, time.Time) {
	return from.At(calendar.Clock{}, loc).UTC(), to.AddDays(1).At(calendar.Clock{}, loc).UTC()
}
