// Package icalfeed renders a booking feed as iCalendar (RFC 5545) with
// github.com/arran4/golang-ical: one VEVENT per booking, holds TENTATIVE with their
// rank in the summary, confirmed and completed bookings CONFIRMED.
//
// DTSTART and DTEND are UTC date-times (DTSTART:20270610T090000Z), and the feed has no
// TZID and no VTIMEZONE. A TZID names a zone that a client may look up in its own tz
// data, whatever VTIMEZONE the feed carries, and a client's data may predate the
// release embedded in internal/calendar: a parser on tzdata 2025b put a June 2027
// Africa/Casablanca booking an hour early, as Morocco's change to permanent UTC+00
// was not in its data. A UTC instant has nothing left to look up, so the instant the
// embedded release computed is the one every client shows, converted for display into
// the viewer's own zone, which is what a calendar user expects. (A TZID unique to the
// release would force the VTIMEZONE, but some clients treat a TZID they do not know as
// floating time or as their default zone.) Bookings are single events, never
// recurring ones, so no rule needs to be expanded in the site's wall-clock. People
// still see the site's wall-clock: a booking's DESCRIPTION gives its site-local times
// with their UTC offsets and the zone's name, computed from the embedded release.
package icalfeed

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	ics "github.com/arran4/golang-ical"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// ProductID is the feed's PRODID.
const ProductID = "-//posthub//Booking feed//EN"

// Render writes the feed as an iCalendar document. It fails when an event's zone is
// not in the embedded tz database.
func Render(c booking.FeedCalendar) ([]byte, error) {
	cal := ics.NewCalendarFor("posthub")
	cal.SetProductId(ProductID)
	cal.SetCalscale("GREGORIAN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName(text(c.Name))
	cal.SetName(text(c.Name))
	cal.SetXPublishedTTL("PT15M")
	cal.SetRefreshInterval("PT15M") // the library adds VALUE=DURATION
	for _, e := range c.Events {
		ev := cal.AddEvent(e.UID)
		ev.SetDtStampTime(c.Stamp)
		ev.SetSequence(e.Sequence)
		if !e.Updated.IsZero() {
			ev.SetModifiedAt(e.Updated)
		}
		ev.SetStartAt(e.Start) // in UTC, see the package comment
		ev.SetEndAt(e.End)
		ev.SetProperty(ics.ComponentPropertyTransp, string(ics.TransparencyOpaque))
		location := strings.Join(e.Resources, ", ")
		if e.Site != "" {
			location = strings.TrimPrefix(location+" · "+e.Site, " · ")
		}
		ev.SetLocation(text(location))
		if e.Busy {
			ev.SetSummary("Busy")
			ev.SetClass(ics.ClassificationConfidential)
			continue
		}
		local, err := siteTime(e.Start, e.End, e.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("icalfeed: event %s: %w", e.UID, err)
		}
		ev.SetSummary(text(Summary(e)))
		ev.SetDescription(text(description(e, local)))
		if e.Status == booking.StatusHold {
			ev.SetStatus(ics.ObjectStatusTentative)
		} else {
			ev.SetStatus(ics.ObjectStatusConfirmed)
		}
	}
	// RFC 5545 lines end in CRLF (the library defaults to LF).
	return []byte(cal.Serialize(ics.WithNewLine("\r\n"))), nil
}

// text makes a string safe as a TEXT value for the library, which escapes backslash,
// semicolon, comma and LF but passes CR and other controls through: a CR could end
// the line for a lenient parser and inject properties. CRLF, CR and LF all become LF
// (written as \n); other controls but tab, which TEXT does not allow, are dropped; and
// invalid UTF-8 becomes U+FFFD.
func text(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
	return strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// siteTime is a booking's interval in its site's wall-clock, by the embedded tz
// database, with the UTC offsets in force and the zone's name:
// "Thu 10 Jun 2027, 09:00–17:00 UTC+00:00 (Africa/Casablanca)". The end's date is
// written when it falls on another day, and each time's offset when they differ.
func siteTime(start, end time.Time, zone string) (string, error) {
	loc, err := calendar.LoadLocation(zone)
	if err != nil {
		return "", err
	}
	const day, clock = "Mon 2 Jan 2006", "15:04"
	s, e := start.In(loc), end.In(loc)
	_, so := s.Zone()
	_, eo := e.Zone()
	var b strings.Builder
	b.WriteString(s.Format(day))
	sameDay := s.Format(day) == e.Format(day)
	if sameDay {
		b.WriteString(",")
	}
	b.WriteString(" " + s.Format(clock))
	if so != eo {
		b.WriteString(" " + utcOffset(so))
	}
	if sameDay {
		b.WriteString("–")
	} else {
		b.WriteString(" – " + e.Format(day) + " ")
	}
	b.WriteString(e.Format(clock) + " " + utcOffset(eo) + " (" + zone + ")")
	return b.String(), nil
}

// utcOffset names an offset as UTC±hh:mm, with seconds only when it has some.
func utcOffset(secs int) string {
	sign := "+"
	if secs < 0 {
		sign, secs = "-", -secs
	}
	s := fmt.Sprintf("UTC%s%02d:%02d", sign, secs/3600, secs/60%60)
	if secs%60 != 0 {
		s += fmt.Sprintf(":%02d", secs%60)
	}
	return s
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

// description is a booking's status, its site-local times, trainees and note.
func description(e booking.FeedEvent, local string) string {
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
	b.WriteString("\nSite time: " + local + ".")
	if e.Trainees > 0 {
		fmt.Fprintf(&b, "\nTrainees: %d.", e.Trainees)
	}
	if e.Note != "" {
		b.WriteString("\n" + e.Note)
	}
	return b.String()
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
