package booking

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/calendar"
)

// WorkingSpan is a stretch of local working time in a day, "09:00" to "13:00"; "24:00"
// ends a day.
type WorkingSpan struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Week maps a weekday's lower-case English name ("monday") to its working spans; a day
// missing or empty is not worked.
type Week map[string][]WorkingSpan

// CalendarOverride replaces a site's week on the dates From..To inclusive (e.g. shorter
// Ramadan hours). Dates are "2006-01-02" in the site's calendar.
type CalendarOverride struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	From string    `json:"from"`
	To   string    `json:"to"`
	Week Week      `json:"week"`
}

// Holiday closes a day: nationally (Country) or at one site (SiteID). Provisional ones
// (lunar dates announced late) are avoided by the planner and warned about on manual
// bookings until a manager confirms them.
type Holiday struct {
	ID          uuid.UUID  `json:"id"`
	Country     string     `json:"country,omitempty"`
	SiteID      *uuid.UUID `json:"site_id,omitempty"`
	Date        string     `json:"date"`
	Name        string     `json:"name"`
	Provisional bool       `json:"provisional"`
}

// SiteCalendar is a site's working calendar as people edit it.
type SiteCalendar struct {
	SiteID    uuid.UUID          `json:"site_id"`
	TimeZone  string             `json:"time_zone"`
	TZVersion string             `json:"tz_version"`
	Week      Week               `json:"week"`
	Overrides []CalendarOverride `json:"overrides"`
	Holidays  []Holiday          `json:"holidays"`
}

// Calendar turns sc into the calendar package's form, to answer questions of working
// time with: the same week, overrides and holidays the storage layer checks bookings
// against. Spans, dates and weekday names that do not parse are left out; an unknown
// time zone is an error.
func (sc SiteCalendar) Calendar() (*calendar.Calendar, error) {
	loc, err := calendar.LoadLocation(sc.TimeZone)
	if err != nil {
		return nil, err
	}
	week := func(w Week) calendar.Week {
		var out calendar.Week
		for name, spans := range w {
			for i, n := range []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"} {
				if strings.EqualFold(n, name) {
					for _, s := range spans {
						from, ok1 := ParseClock(s.From)
						to, ok2 := ParseClock(s.To)
						if ok1 && ok2 {
							out[i] = append(out[i], calendar.Span{From: from, To: to})
						}
					}
				}
			}
		}
		return out
	}
	cal := &calendar.Calendar{Location: loc, Week: week(sc.Week)}
	for _, o := range sc.Overrides {
		from, err1 := calendar.ParseDate(o.From)
		to, err2 := calendar.ParseDate(o.To)
		if err1 == nil && err2 == nil {
			cal.Overrides = append(cal.Overrides, calendar.Override{From: from, To: to, Week: week(o.Week), Name: o.Name})
		}
	}
	for _, h := range sc.Holidays {
		if d, err := calendar.ParseDate(h.Date); err == nil {
			cal.Holidays = append(cal.Holidays, calendar.Holiday{Date: d, Name: h.Name, Provisional: h.Provisional})
		}
	}
	return cal, nil
}

// ParseClock reads a WorkingSpan end, "09:00" or "24:00"; ok is false for anything
// else.
func ParseClock(s string) (c calendar.Clock, ok bool) {
	if len(s) != 5 || s[2] != ':' {
		return c, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	c = calendar.Clock{Hour: h, Minute: m}
	return c, err1 == nil && err2 == nil && c.IsValid()
}

// Demand asks for one resource of a kind with all the given capabilities.
type Demand struct {
	Kind         string   `json:"kind"`
	Capabilities []string `json:"capabilities"`
}

// AvailabilityQuery asks for the earliest slots where every demand can be met at
// once, for Hours of working time, within [From, To).
type AvailabilityQuery struct {
	SiteID       uuid.UUID
	Demands      []Demand
	Hours        time.Duration
	From, To     time.Time
	Limit        int
	IgnoreHolds  bool // when false, first holds count as taken
	ExcludeGroup uuid.UUID
	// ProductionID, when set, names who would book: slots that would take capacity a
	// ring-fence reserves for a programme the production is not in are left out.
	ProductionID uuid.UUID
}

// Slot is one feasible answer: an interval and a concrete resource per demand.
type Slot struct {
	Start      time.Time      `json:"start"`
	End        time.Time      `json:"end"`
	StartLocal string         `json:"start_local"`
	EndLocal   string         `json:"end_local"`
	TimeZone   string         `json:"time_zone"`
	Resources  []SlotResource `json:"resources"`
}

// SlotResource is the resource a slot gives a demand.
type SlotResource struct {
	Demand     int       `json:"demand"`
	ResourceID uuid.UUID `json:"resource_id"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
}

// Calendars keeps sites' working calendars and answers questions of working time.
type Calendars interface {
	// SiteCalendar returns ENOTFOUND for an unknown site.
	SiteCalendar(ctx context.Context, siteID uuid.UUID) (SiteCalendar, error)
	// SetWeek replaces a site's week (managers of the site, admins).
	SetWeek(ctx context.Context, a Actor, siteID uuid.UUID, w Week) (SiteCalendar, error)
	// AddOverride adds a period with other hours.
	AddOverride(ctx context.Context, a Actor, siteID uuid.UUID, o CalendarOverride) (CalendarOverride, error)
	// DeleteOverride removes one.
	DeleteOverride(ctx context.Context, a Actor, id uuid.UUID) error
	// AddHoliday adds a national holiday (Country) or a site closure (SiteID).
	AddHoliday(ctx context.Context, a Actor, h Holiday) (Holiday, error)
	// ConfirmHoliday settles a provisional holiday, optionally on another date.
	ConfirmHoliday(ctx context.Context, a Actor, id uuid.UUID, date string) (Holiday, error)
	// DeleteHoliday removes a holiday (e.g. a provisional date that proved wrong).
	DeleteHoliday(ctx context.Context, a Actor, id uuid.UUID) error
	// AddWorkingHours returns the instant d of working time after from at the site,
	// both shown in the site's wall-clock too.
	AddWorkingHours(ctx context.Context, siteID uuid.UUID, from time.Time, d time.Duration) (WorkingTime, error)
	// Availability returns the earliest slots meeting every demand at once.
	Availability(ctx context.Context, a Actor, q AvailabilityQuery) ([]Slot, error)
}

// WorkingTime is the answer to "d of working time after from": both ends as UTC
// instants and as site-local wall-clock with the offset that applies.
type WorkingTime struct {
	From      time.Time
	FromLocal string
	End       time.Time
	EndLocal  string
	TimeZone  string
}
