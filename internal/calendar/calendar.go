package calendar

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Clock is a local wall-clock time of day at minute precision, such as 09:00.
// Working hours are agreed in local time ("we open at nine"), not as UTC
// offsets, so they are stored this way and turned into instants day by day.
// Valid values run from 00:00 to 23:59, plus 24:00 to mean the end of the day.
type Clock struct {
	Hour, Minute int
}

// IsValid reports whether c is a time of day between 00:00 and 24:00
// inclusive; 24:00 is allowed only as the end of a span, so that a day worked
// until midnight needs no special case.
func (c Clock) IsValid() bool {
	if c.Hour == 24 {
		return c.Minute == 0
	}
	return c.Hour >= 0 && c.Hour < 24 && c.Minute >= 0 && c.Minute < 60
}

// String formats c as "15:04", the form used in error messages and by people
// editing calendars.
func (c Clock) String() string {
	return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute)
}

// minutes returns c as minutes since local midnight, for ordering clocks.
func (c Clock) minutes() int {
	return c.Hour*60 + c.Minute
}

// Span is one stretch of local working time within a day, [From, To), such as
// 09:00–13:00. To may be 24:00 so that a span can run to the end of the day.
// A day may have several spans (a split day with a lunch break).
type Span struct {
	From, To Clock
}

// IsValid reports whether both ends are valid clocks and From is strictly
// before To; an empty or inverted span is a data-entry mistake, not a closed
// day (a closed day simply has no spans).
func (s Span) IsValid() bool {
	return s.From.IsValid() && s.To.IsValid() && s.From.minutes() < s.To.minutes()
}

// String formats s as "09:00-13:00" for error messages.
func (s Span) String() string {
	return s.From.String() + "-" + s.To.String()
}

// Week holds the working spans of each weekday, indexed by time.Weekday
// (Sunday is 0). A weekday with no spans is closed; several spans make a split
// day. Spans within a day must not overlap (see Calendar.Validate).
type Week [7][]Span

// Date is a civil calendar date with no time or zone, such as 2027-03-05.
// Holidays and overrides are defined on the site's local dates, and using a
// zone-less type keeps them from being shifted by whatever location a
// time.Time happens to carry.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's own location, so callers choose the
// zone explicitly with t.In(loc) first.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses an ISO 8601 calendar date "2006-01-02", the form dates are
// stored and exchanged in, rejecting impossible dates like 2027-02-30.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("calendar: bad date %q: %w", s, err)
	}
	return DateOf(t), nil
}

// IsValid reports whether d names a real day (month 1–12, day within the
// month), because time.Date would silently normalise 2027-02-30 to March 2
// and a holiday stored that way would close the wrong day.
func (d Date) IsValid() bool {
	if d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	return DateOf(time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)) == d
}

// AddDays returns the date n days after d (before, if n is negative),
// counting civil days so that DST changes cannot skip or repeat a date.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Compare returns -1, 0 or +1 as d is before, equal to or after o, for
// sorting and range checks.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmpInt(d.Year, o.Year)
	case d.Month != o.Month:
		return cmpInt(int(d.Month), int(o.Month))
	default:
		return cmpInt(d.Day, o.Day)
	}
}

// Before reports whether d is an earlier date than o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is a later date than o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// Weekday returns the day of the week of d, which selects its spans in a
// Week.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// At returns the instant at which the wall clock in loc shows c on date d.
// It is time.Date(d.Year, d.Month, d.Day, c.Hour, c.Minute, 0, 0, loc), with
// time.Date's rules for times that do not exist or exist twice (see
// Calendar), and 24:00 meaning 00:00 of the next day.
func (d Date) At(c Clock, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, c.Hour, c.Minute, 0, 0, loc)
}

// String formats d as "2006-01-02", matching ParseDate.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// cmpInt returns -1, 0 or +1 as a is less than, equal to or greater than b.
func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Override replaces a site's whole Week on the dates From through To
// inclusive, for seasonal hours such as Ramadan. A weekday with no spans in
// the override's Week is closed during the period, even if it is worked
// normally, so an override says everything about the days it covers.
type Override struct {
	From, To Date
	Week     Week
	Name     string
}

// Contains reports whether date falls within the override's inclusive range.
func (o Override) Contains(date Date) bool {
	return !date.Before(o.From) && !date.After(o.To)
}

// Holiday closes the site on one local date, or shortens it to HalfDay.
//
// Provisional holidays are those whose date is not yet confirmed (lunar
// holidays announced a day or two before): the planner avoids them by passing
// Options{AvoidProvisional: true}, while manual bookings treat them as
// ordinary days and show a warning (see Calendar.ProvisionalDaysIn).
type Holiday struct {
	Date Date
	Name string
	// Provisional marks a date that may still move.
	Provisional bool
	// HalfDay, when non-nil, is the only working span that day (replacing
	// the week's or override's spans); nil closes the whole day.
	HalfDay *Span
}

// Options tune how a Calendar treats uncertain days.
type Options struct {
	// AvoidProvisional treats provisional holidays as holidays (closed, or
	// their HalfDay span). When false they are ordinary days, because a
	// person booking by hand should be warned, not silently blocked.
	AvoidProvisional bool
}

// Horizon is how far AddWorkingHours looks for working time before giving
// up: if a stretch this long (about three years) has none, the calendar is
// taken to have no more working time at all, rather than searching forever.
const Horizon = 3 * 366 * 24 * time.Hour

// maxSearch bounds the calendar time AddWorkingHours may scan in total, so a
// calendar with only a few minutes of work per Horizon and a huge duration
// still returns (with an error) in bounded time.
const maxSearch = 100 * 366 * 24 * time.Hour

// searchChunk is how much calendar time AddWorkingHours and
// WorkingHoursBetween expand into intervals at a time, bounding memory for
// long ranges while keeping per-chunk overhead small.
const searchChunk = 32 * 24 * time.Hour

// ErrNoWorkingTime is returned (wrapped) by AddWorkingHours when the
// requested duration cannot be reached within the search limits, typically
// because a calendar has no working days; callers can test for it with
// errors.Is to report a misconfigured site.
var ErrNoWorkingTime = errors.New("calendar: no working time within the search horizon")

// ErrInvalidCalendar is wrapped by every error from Calendar.Validate, so
// callers can tell bad calendar data apart from other failures.
var ErrInvalidCalendar = errors.New("calendar: invalid calendar")

// Calendar is a site's working calendar: the regular Week, period Overrides
// and Holidays, all in local wall-clock time in Location.
//
// For a given local date the spans come from, in order of precedence: the
// holidays on that date (closed, or HalfDay); else the last override in
// Overrides whose range contains the date (later entries win, so a
// correction can be appended); else Week.
//
// Spans become instants day by day with time.Date in Location, so each day
// uses the UTC offset in force at that moment: a day on which the offset
// changes (Paris DST days, Africa/Casablanca's switch from +01 to +00 on
// 2026-09-20) has the right length, and 09:00 means 09:00 local on either
// side of the change. Wall-clock times that do not exist (inside a
// spring-forward gap) or exist twice (inside a fall-back overlap) are mapped
// the way time.Date maps them. Go guarantees only that one of the two
// offsets around the change is used, and which one depends on the zone: in
// Paris 02:30 on 2027-03-28 (a gap) becomes 03:30 CEST, 01:30Z, and 02:30 on
// 2027-10-31 (an overlap) is the second, CET occurrence, 01:30Z; in
// Casablanca 01:30 on 2026-09-20 is likewise the +00 occurrence. Working hours
// that avoid the small hours, as real ones do, are unaffected. A span that
// such mapping leaves empty or inverted contributes nothing, and overlapping
// results are merged, so the output is always a valid Set.
//
// The Calendar is read-only for its methods, which are therefore safe for
// concurrent use as long as nobody modifies it. A nil Location is treated as
// UTC so that the methods never panic, but Validate rejects it.
type Calendar struct {
	Location  *time.Location
	Week      Week
	Overrides []Override
	Holidays  []Holiday
}

// plan is a Calendar prepared for one call: holidays indexed by date, with
// those that Options make irrelevant already dropped, so per-day lookups are
// O(1) however many holidays a site has.
type plan struct {
	loc       *time.Location
	week      *Week
	overrides []Override
	holidays  map[Date][]Holiday
}

// newPlan prepares c for lookups under opts.
func (c *Calendar) newPlan(opts Options) *plan {
	p := &plan{loc: c.Location, week: &c.Week, overrides: c.Overrides}
	if p.loc == nil {
		p.loc = time.UTC
	}
	for _, h := range c.Holidays {
		if h.Provisional && !opts.AvoidProvisional {
			continue
		}
		if p.holidays == nil {
			p.holidays = make(map[Date][]Holiday)
		}
		p.holidays[h.Date] = append(p.holidays[h.Date], h)
	}
	return p
}

// spans returns the local working spans of date d. When several holidays
// fall on one day the most restrictive wins: any full closure closes the day,
// and half-days keep only the time common to all of them, because a holiday
// can only take working time away. Invalid half-day spans close the day.
func (p *plan) spans(d Date) []Span {
	if hs, ok := p.holidays[d]; ok {
		var open Span
		for i, h := range hs {
			if h.HalfDay == nil || !h.HalfDay.IsValid() {
				return nil
			}
			if i == 0 {
				open = *h.HalfDay
				continue
			}
			if h.HalfDay.From.minutes() > open.From.minutes() {
				open.From = h.HalfDay.From
			}
			if h.HalfDay.To.minutes() < open.To.minutes() {
				open.To = h.HalfDay.To
			}
		}
		if !open.IsValid() {
			return nil
		}
		return []Span{open}
	}
	for i := len(p.overrides) - 1; i >= 0; i-- {
		if p.overrides[i].Contains(d) {
			return p.overrides[i].Week[d.Weekday()]
		}
	}
	return p.week[d.Weekday()]
}

// workingTime expands the spans of every local date that can touch w into
// UTC intervals clipped to w. It starts a day early and ends a day late
// because time.Date's normalisation of gap times can move a span across
// midnight; Normalize then merges anything that ends up overlapping.
func (p *plan) workingTime(w Interval) Set {
	if w.IsEmpty() {
		return nil
	}
	w = Interval{Start: w.Start.UTC(), End: w.End.UTC()}
	first := DateOf(w.Start.In(p.loc)).AddDays(-1)
	last := DateOf(w.End.In(p.loc)).AddDays(1)
	var out []Interval
	for d := first; !d.After(last); d = d.AddDays(1) {
		for _, sp := range p.spans(d) {
			if !sp.IsValid() {
				continue
			}
			iv := Interval{Start: d.At(sp.From, p.loc).UTC(), End: d.At(sp.To, p.loc).UTC()}
			iv.Start = later(iv.Start, w.Start)
			iv.End = earlier(iv.End, w.End)
			if !iv.IsEmpty() {
				out = append(out, iv)
			}
		}
	}
	return Normalize(out...)
}

// WorkingTime returns the working time of c inside window as a normalised
// Set of intervals with UTC times. It works through the local dates the
// window touches, turning each day's spans into instants with time.Date in
// c.Location (see Calendar for how offset changes and non-existent times are
// handled), so the cost is proportional to the number of days in window.
// Spans that are not valid are skipped; run Validate to report them.
func (c *Calendar) WorkingTime(window Interval, opts Options) Set {
	return c.newPlan(opts).workingTime(window)
}

// AddWorkingHours returns the instant at which d of working time has elapsed,
// counting from from, so that a 10-hour grading job started on Friday
// afternoon ends at the right moment the next working week. If from is
// outside working time, counting starts at the next working instant. When d
// is used up exactly at the end of a working interval, that end is returned,
// not the start of the next interval, so a job never appears to end after
// the site has closed for the night.
//
// d == 0 returns from unchanged; otherwise the result is in from's location.
// A negative d is an error. If a whole Horizon passes with no working time,
// or the search covers 100 years, the error wraps ErrNoWorkingTime; the
// search never loops forever.
func (c *Calendar) AddWorkingHours(from time.Time, d time.Duration, opts Options) (time.Time, error) {
	if d == 0 {
		return from, nil
	}
	if d < 0 {
		return time.Time{}, fmt.Errorf("calendar: AddWorkingHours: negative duration %v", d)
	}
	p := c.newPlan(opts)
	start := from.UTC()
	cur, lastWork, rem := start, start, d
	for {
		next := cur.Add(searchChunk)
		for _, iv := range p.workingTime(Interval{Start: cur, End: next}) {
			lastWork = iv.End
			l := iv.Duration()
			if rem <= l {
				return iv.Start.Add(rem).In(from.Location()), nil
			}
			rem -= l
		}
		cur = next
		if cur.Sub(lastWork) >= Horizon {
			return time.Time{}, fmt.Errorf("%w: adding %v from %s in %s: none between %s and %s (%v still to place)",
				ErrNoWorkingTime, d, from.Format(time.RFC3339), p.loc, lastWork.Format(time.RFC3339), cur.Format(time.RFC3339), rem)
		}
		if cur.Sub(start) >= maxSearch {
			return time.Time{}, fmt.Errorf("%w: adding %v from %s in %s: still %v to place after searching until %s",
				ErrNoWorkingTime, d, from.Format(time.RFC3339), p.loc, rem, cur.Format(time.RFC3339))
		}
	}
}

// WorkingHoursBetween returns the working time of c in [a, b), the inverse of
// AddWorkingHours: WorkingHoursBetween(a, AddWorkingHours(a, d)) == d. It is
// 0 when b is not after a. Long ranges are processed in chunks, so memory
// stays bounded while time grows with the number of days.
func (c *Calendar) WorkingHoursBetween(a, b time.Time, opts Options) time.Duration {
	p := c.newPlan(opts)
	var total time.Duration
	for cur := a; cur.Before(b); {
		next := earlier(cur.Add(searchChunk), b)
		total += p.workingTime(Interval{Start: cur, End: next}).Duration()
		cur = next
	}
	return total
}

// ProvisionalDaysIn returns the provisional holidays whose local day overlaps
// window, in date order, so that a manual booking on such a day can carry a
// warning that the site may turn out to be closed. The result is independent
// of Options: it lists what is uncertain, not how it is treated.
func (c *Calendar) ProvisionalDaysIn(window Interval) []Holiday {
	return c.holidaysIn(window, true)
}

// HolidaysIn returns the holidays, provisional or not, whose local day overlaps
// window, in date order.
func (c *Calendar) HolidaysIn(window Interval) []Holiday {
	return c.holidaysIn(window, false)
}

func (c *Calendar) holidaysIn(window Interval, onlyProvisional bool) []Holiday {
	if window.IsEmpty() {
		return nil
	}
	loc := c.location()
	var out []Holiday
	for _, h := range c.Holidays {
		if onlyProvisional && !h.Provisional {
			continue
		}
		day := Interval{Start: h.Date.At(Clock{}, loc), End: h.Date.AddDays(1).At(Clock{}, loc)}
		if day.Overlaps(window) {
			out = append(out, h)
		}
	}
	slices.SortStableFunc(out, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return out
}

// location is c.Location, or UTC when it is nil (which Validate rejects).
func (c *Calendar) location() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// DaysWith counts the local dates on which s has some time: the working days a
// day rate bills. A stretch running past midnight counts on both dates. It
// walks the dates s spans once, so a year costs a year of dates.
func (c *Calendar) DaysWith(s Set) int {
	if len(s) == 0 {
		return 0
	}
	loc := c.location()
	n, i := 0, 0
	last := DateOf(s[len(s)-1].End.Add(-time.Nanosecond).In(loc))
	for d := DateOf(s[0].Start.In(loc)); !d.After(last) && i < len(s); d = d.AddDays(1) {
		end := d.AddDays(1).At(Clock{}, loc)
		for i < len(s) && !s[i].End.After(d.At(Clock{}, loc)) {
			i++
		}
		if i < len(s) && s[i].Start.Before(end) {
			n++
		}
	}
	return n
}

// Use is how one resource's interval divides under the calendar. It is the one
// definition of working time that posthub sells, quotes, counts as used and
// reports: a booking reserves its whole interval, but what it uses is Working, the
// calendar's working time inside the interval less the resource's own blocks
// (leave, maintenance). Closed is the rest of the interval less the blocks: the
// time that only a booking made as overtime sells.
type Use struct {
	Interval Interval
	Working  Set
	Closed   Set
	// Holidays are the holidays whose local day the interval touches, provisional
	// ones included (they count as working days until confirmed, with a warning).
	Holidays []Holiday
}

// UseOf divides iv for a resource with the given blocks. Provisional holidays are
// ordinary days (Options{}): a booking on one is warned about, not refused, and a
// calendar change that confirms it re-derives the booking's use.
func (c *Calendar) UseOf(iv Interval, blocks Set) Use {
	u := Use{Interval: iv}
	if iv.IsEmpty() {
		return u
	}
	whole := Set{Interval{Start: iv.Start.UTC(), End: iv.End.UTC()}}.Subtract(blocks)
	u.Working = c.WorkingTime(iv, Options{}).Subtract(blocks)
	u.Closed = whole.Subtract(u.Working)
	u.Holidays = c.HolidaysIn(iv)
	return u
}

// Validate reports every problem in c that would make its working time
// wrong or ambiguous: a missing or host-dependent Location, spans that are
// empty, inverted, outside 00:00–24:00 or overlapping within a day, override
// ranges that are impossible or reversed, and invalid holiday dates or
// half-day spans. The error wraps ErrInvalidCalendar and joins all problems,
// so a manager editing a calendar sees them at once.
func (c *Calendar) Validate() error {
	var errs []error
	switch c.Location {
	case nil:
		errs = append(errs, errors.New("no location"))
	case time.Local:
		errs = append(errs, errors.New("location is time.Local, which depends on the host; load the site's IANA zone"))
	}
	errs = append(errs, validateWeek("week", &c.Week)...)
	for i, o := range c.Overrides {
		where := fmt.Sprintf("override %d (%q)", i, o.Name)
		switch {
		case !o.From.IsValid():
			errs = append(errs, fmt.Errorf("%s: invalid from date %s", where, o.From))
		case !o.To.IsValid():
			errs = append(errs, fmt.Errorf("%s: invalid to date %s", where, o.To))
		case o.To.Before(o.From):
			errs = append(errs, fmt.Errorf("%s: to date %s is before from date %s", where, o.To, o.From))
		}
		errs = append(errs, validateWeek(where, &o.Week)...)
	}
	for i, h := range c.Holidays {
		where := fmt.Sprintf("holiday %d (%q)", i, h.Name)
		if !h.Date.IsValid() {
			errs = append(errs, fmt.Errorf("%s: invalid date %s", where, h.Date))
		}
		if h.HalfDay != nil && !h.HalfDay.IsValid() {
			errs = append(errs, fmt.Errorf("%s: invalid half-day span %s", where, h.HalfDay))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidCalendar, errors.Join(errs...))
}

// validateWeek checks each weekday's spans are valid and do not overlap;
// touching spans (13:00–14:00 then 14:00–19:00) are allowed.
func validateWeek(where string, w *Week) []error {
	var errs []error
	for wd, spans := range w {
		for _, sp := range spans {
			if !sp.IsValid() {
				errs = append(errs, fmt.Errorf("%s %s: invalid span %s (need 00:00 <= from < to <= 24:00)", where, time.Weekday(wd), sp))
			}
		}
		sorted := slices.Clone(spans)
		slices.SortFunc(sorted, func(a, b Span) int { return cmpInt(a.From.minutes(), b.From.minutes()) })
		for i := 1; i < len(sorted); i++ {
			if sorted[i].From.minutes() < sorted[i-1].To.minutes() {
				errs = append(errs, fmt.Errorf("%s %s: spans %s and %s overlap", where, time.Weekday(wd), sorted[i-1], sorted[i]))
			}
		}
	}
	return errs
}
