// Package icalfeed renders a booking feed as iCalendar (RFC 5545) with
// github.com/arran4/golang-ical: one VEVENT per booking, holds TENTATIVE with their
// rank in the summary, confirmed and completed bookings CONFIRMED, times in the site's
// wall-clock with a TZID whose VTIMEZONE is written from the embedded tz database (so
// a client needs no zone data of its own, and Morocco's 2026 change is right).
package icalfeed

import (
	"fmt"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// ProductID is the feed's PRODID.
const ProductID = "-//posthub//Booking feed//EN"

const localStamp = "20060102T150405"

// Render writes the feed as an iCalendar document.
func Render(c booking.FeedCalendar) ([]byte, error) {
	cal := ics.NewCalendarFor("posthub")
	cal.SetProductId(ProductID)
	cal.SetCalscale("GREGORIAN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName(c.Name)
	cal.SetName(c.Name)
	cal.SetXPublishedTTL("PT15M")
	cal.SetRefreshInterval("PT15M") // the library adds VALUE=DURATION
	from, to := c.From, c.To
	for _, e := range c.Events {
		if e.Start.Before(from) {
			from = e.Start
		}
		if e.End.After(to) {
			to = e.End
		}
	}
	locs := map[string]*time.Location{}
	for _, z := range c.Zones {
		loc, err := calendar.LoadLocation(z)
		if err != nil {
			return nil, err
		}
		locs[z] = loc
		addTimezone(cal, z, loc, from, to)
	}
	for _, e := range c.Events {
		loc, ok := locs[e.TimeZone]
		if !ok {
			return nil, fmt.Errorf("icalfeed: event %s in zone %q, which the feed does not define", e.UID, e.TimeZone)
		}
		ev := cal.AddEvent(e.UID)
		ev.SetDtStampTime(c.Stamp)
		ev.SetSequence(e.Sequence)
		if !e.Updated.IsZero() {
			ev.SetModifiedAt(e.Updated)
		}
		ev.SetProperty(ics.ComponentPropertyDtStart, e.Start.In(loc).Format(localStamp), ics.WithTZID(e.TimeZone))
		ev.SetProperty(ics.ComponentPropertyDtEnd, e.End.In(loc).Format(localStamp), ics.WithTZID(e.TimeZone))
		ev.SetProperty(ics.ComponentPropertyTransp, string(ics.TransparencyOpaque))
		location := strings.Join(e.Resources, ", ")
		if e.Site != "" {
			location = strings.TrimPrefix(location+" · "+e.Site, " · ")
		}
		ev.SetLocation(location)
		if e.Busy {
			ev.SetSummary("Busy")
			ev.SetClass(ics.ClassificationConfidential)
			continue
		}
		ev.SetSummary(Summary(e))
		ev.SetDescription(description(e))
		if e.Status == booking.StatusHold {
			ev.SetStatus(ics.ObjectStatusTentative)
		} else {
			ev.SetStatus(ics.ObjectStatusConfirmed)
		}
	}
	// RFC 5545 lines end in CRLF (the library defaults to LF).
	return []byte(cal.Serialize(ics.WithNewLine("\r\n"))), nil
}

// Summary is an event's title: a hold shows its place in the queue.
func Summary(e booking.FeedEvent) string {
	s := e.Title
	if e.Company != "" {
		s += " (" + e.Company + ")"
	}
	if len(e.Resources) > 0 {
		s += " — " + strings.Join(e.Resources, ", ")
	}
	if e.Status == booking.StatusHold {
		return fmt.Sprintf("Hold #%d: %s", e.Rank, s)
	}
	return s
}

func description(e booking.FeedEvent) string {
	var b strings.Builder
	switch e.Status {
	case booking.StatusHold:
		fmt.Fprintf(&b, "On hold, rank %d in the queue", e.Rank)
		if e.Rank == 1 {
			b.WriteString(" (first hold)")
		}
		b.WriteString(".")
		if e.ApprovalPending {
			b.WriteString(" Confirmation awaits a manager's approval.")
		}
	case booking.StatusCompleted:
		b.WriteString("Completed.")
	default:
		b.WriteString("Confirmed.")
	}
	if e.Trainees > 0 {
		fmt.Fprintf(&b, "\nTrainees: %d.", e.Trainees)
	}
	if e.Note != "" {
		b.WriteString("\n" + e.Note)
	}
	return b.String()
}

// offset writes a UTC offset as RFC 5545's utc-offset: +0100, -0230, +000000 style
// seconds only when needed.
func offset(secs int) string {
	sign := "+"
	if secs < 0 {
		sign, secs = "-", -secs
	}
	s := fmt.Sprintf("%s%02d%02d", sign, secs/3600, secs/60%60)
	if secs%60 != 0 {
		s += fmt.Sprintf("%02d", secs%60)
	}
	return s
}

// addTimezone writes the zone's VTIMEZONE: the observance in force at from, then one
// per change of offset until to, each with its own DTSTART (local time in the offset
// it changes from), as RFC 5545 section 3.6.5 asks. Changes that keep the offset and
// name (a data artefact, such as the end of 32-bit transition tables) are skipped.
func addTimezone(cal *ics.Calendar, id string, loc *time.Location, from, to time.Time) {
	tz := cal.AddTimezone(id)
	add := func(at time.Time, fromOffset int) {
		name, off := at.In(loc).Zone()
		var obs *ics.ComponentBase
		if at.In(loc).IsDST() {
			d := &ics.Daylight{}
			tz.Components = append(tz.Components, d)
			obs = &d.ComponentBase
		} else {
			s := &ics.Standard{}
			tz.Components = append(tz.Components, s)
			obs = &s.ComponentBase
		}
		start := at.UTC().Add(time.Duration(fromOffset) * time.Second)
		obs.SetProperty(ics.ComponentPropertyDtStart, start.Format(localStamp))
		obs.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), offset(fromOffset))
		obs.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), offset(off))
		if name != "" {
			obs.SetProperty(ics.ComponentProperty(ics.PropertyTzname), name)
		}
	}
	first, next := from.In(loc).ZoneBounds()
	name, cur := from.In(loc).Zone()
	prev := cur
	if first.IsZero() {
		first = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(cur) * time.Second)
	} else {
		_, prev = first.Add(-time.Second).In(loc).Zone()
	}
	add(first, prev)
	for i := 0; i < 1000 && !next.IsZero() && next.Before(to); i++ {
		n, off := next.In(loc).Zone()
		if off != cur || n != name {
			add(next, cur)
			name, cur = n, off
		}
		_, next = next.In(loc).ZoneBounds()
	}
}

// Filename is a safe download name for a feed.
func Filename(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = "posthub"
	}
	return s + ".ics"
}
