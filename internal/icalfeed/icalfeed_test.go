package icalfeed

import (
	"bytes"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/emersion/go-ical"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// eventTime reads an event's DTSTART or DTEND, which must be a UTC date-time: no TZID,
// no floating time.
func eventTime(t *testing.T, e *ics.VEvent, p ics.ComponentProperty) time.Time {
	t.Helper()
	prop := e.GetProperty(p)
	if prop == nil {
		t.Fatalf("%s missing", p)
	}
	if tzid, ok := prop.ICalParameters["TZID"]; ok {
		t.Fatalf("%s has TZID %v; the feed writes UTC", p, tzid)
	}
	v, err := time.Parse("20060102T150405Z", prop.Value)
	if err != nil {
		t.Fatalf("%s %q is not a UTC date-time: %v", p, prop.Value, err)
	}
	return v
}

func TestRenderParsesBack(t *testing.T) {
	t.Parallel()
	c := booking.FeedCalendar{Name: "posthub — Grading Suite 1", Stamp: utc("2026-11-29T12:00:00Z"),
		Events: []booking.FeedEvent{
			{UID: "a@posthub", Start: utc("2027-03-10T09:00:00Z"), End: utc("2027-03-10T17:00:00Z"), TimeZone: "Africa/Casablanca",
				Status: booking.StatusHold, Rank: 2, Title: "Le Souffle du Baobab", Company: "Téranga Lumière Films",
				Resources: []string{"Grading Suite 1"}, Site: "Casablanca", Note: "HDR pass; bring the LUTs, please", Trainees: 2, Sequence: 3,
				Updated: utc("2026-11-20T10:00:00Z")},
			{UID: "b@posthub", Start: utc("2027-07-01T07:00:00Z"), End: utc("2027-07-01T15:00:00Z"), TimeZone: "Europe/Paris",
				Status: booking.StatusConfirmed, Title: "Sable et Sel", Resources: []string{"Salle Atlas"}},
			{UID: "c@posthub", Start: utc("2027-03-11T09:00:00Z"), End: utc("2027-03-11T12:00:00Z"), TimeZone: "Africa/Casablanca",
				Busy: true, Resources: []string{"Grading Suite 1"}, Status: booking.StatusConfirmed},
		}}
	raw, err := Render(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("\r\n")) || !bytes.HasPrefix(raw, []byte("BEGIN:VCALENDAR\r\n")) {
		t.Fatalf("not CRLF iCalendar: %q", raw[:40])
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line over 75 octets: %q", line)
		}
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(cal.Timezones()) != 0 || bytes.Contains(raw, []byte("TZID")) {
		t.Errorf("the feed names zones for clients to look up:\n%s", raw)
	}

	events := map[string]*ics.VEvent{}
	for _, e := range cal.Events() {
		events[e.Id()] = e
	}
	if len(events) != 3 {
		t.Fatalf("%d events", len(events))
	}
	for uid, want := range map[string]struct {
		status, local string
		start, end    time.Time
	}{
		// Casablanca is +00 all year from 2026-09-20 (tzdata 2026c); Paris in July is
		// UTC+2, so 07:00Z is 09:00 on the wall.
		"a@posthub": {"TENTATIVE", "Site time: Wed 10 Mar 2027, 09:00–17:00 UTC+00:00 (Africa/Casablanca).", c.Events[0].Start, c.Events[0].End},
		"b@posthub": {"CONFIRMED", "Site time: Thu 1 Jul 2027, 09:00–17:00 UTC+02:00 (Europe/Paris).", c.Events[1].Start, c.Events[1].End},
	} {
		e := events[uid]
		if got := e.GetProperty(ics.ComponentPropertyStatus).Value; got != want.status {
			t.Errorf("%s: STATUS %s, want %s", uid, got, want.status)
		}
		start := eventTime(t, e, ics.ComponentPropertyDtStart)
		end := eventTime(t, e, ics.ComponentPropertyDtEnd)
		if !start.Equal(want.start) || !end.Equal(want.end) {
			t.Errorf("%s: %s–%s, want %s–%s", uid, start, end, want.start, want.end)
		}
		if desc := e.GetProperty(ics.ComponentPropertyDescription).Value; !strings.Contains(desc, "\n"+want.local+"\n") && !strings.HasSuffix(desc, "\n"+want.local) {
			t.Errorf("%s: description %q lacks the line %q", uid, desc, want.local)
		}
	}
	if v := events["b@posthub"].GetProperty(ics.ComponentPropertyDtStart).Value; v != "20270701T070000Z" {
		t.Errorf("Paris DTSTART %s", v)
	}
	if start, end := eventTime(t, events["c@posthub"], ics.ComponentPropertyDtStart), eventTime(t, events["c@posthub"], ics.ComponentPropertyDtEnd); !start.Equal(c.Events[2].Start) || !end.Equal(c.Events[2].End) {
		t.Errorf("busy event at %s–%s", start, end)
	}
	a := events["a@posthub"]
	summary := a.GetProperty(ics.ComponentPropertySummary).Value
	if !strings.HasPrefix(summary, "Hold #2: Le Souffle du Baobab") {
		t.Errorf("summary %q", summary)
	}
	desc := a.GetProperty(ics.ComponentPropertyDescription).Value
	if !strings.Contains(desc, "rank 2") || !strings.Contains(desc, "bring the LUTs, please") || !strings.Contains(desc, "Trainees: 2") {
		t.Errorf("description %q", desc)
	}
	if a.GetProperty(ics.ComponentPropertySequence).Value != "3" {
		t.Error("SEQUENCE is the booking's version")
	}
	busy := events["c@posthub"]
	if busy.GetProperty(ics.ComponentPropertySummary).Value != "Busy" || busy.GetProperty(ics.ComponentPropertyDescription) != nil {
		t.Errorf("busy event shows more than busy: %s", busy.Serialize(nil))
	}
	if strings.Contains(string(raw), "Téranga") && strings.Count(string(raw), "Téranga") != 1 {
		t.Error("the company appears outside its own event")
	}
}

func TestFilename(t *testing.T) {
	t.Parallel()
	if got := Filename("posthub — Grading Suite 1 — Zellige"); got != "posthub-grading-suite-1-zellige.ics" {
		t.Fatal(got)
	}
	if got := Filename("—"); got != "posthub.ics" {
		t.Fatal(got)
	}
}

// staleCasablanca is Africa/Casablanca for June 2027 as a client whose tz data predates
// Morocco's change to permanent UTC+00 (tzdata 2026c) has it: UTC+01, as every summer
// outside Ramadan in 2025b. The machine's own zoneinfo may be on either side of the
// change, so the test does not use it.
var staleCasablanca = time.FixedZone("+01", 3600)

// clientTime reads an event's DTSTART or DTEND with github.com/emersion/go-ical, a
// parser independent of the one that writes the feed, as a calendar program with the
// given tz data does: a UTC date-time as it is, and a date-time with a TZID as a
// wall-clock in the client's own zone of that name, whatever VTIMEZONE the feed
// carries (as the measured program did). A floating time fails the test.
func clientTime(t *testing.T, e ical.Event, name string, zones map[string]*time.Location) time.Time {
	t.Helper()
	p := e.Props.Get(name)
	if p == nil {
		t.Fatalf("%s missing", name)
	}
	read := *p
	read.Params = ical.Params{}
	var loc *time.Location
	for k, v := range p.Params {
		if k != ical.ParamTimezoneID {
			read.Params[k] = v
			continue
		}
		if loc = zones[p.Params.Get(k)]; loc == nil {
			t.Fatalf("%s: the client has no zone %q", name, p.Params.Get(k))
		}
	}
	if loc == nil && !strings.HasSuffix(p.Value, "Z") {
		t.Fatalf("%s %q is a floating time", name, p.Value)
	}
	v, err := read.DateTime(loc)
	if err != nil {
		t.Fatalf("%s %q: %v", name, p.Value, err)
	}
	return v
}

func decodeFeed(t *testing.T, raw []byte) *ical.Calendar {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(raw)).Decode()
	if err != nil {
		t.Fatalf("go-ical rejects the feed: %v\n%s", err, raw)
	}
	return cal
}

// A client on tz data older than the embedded release still puts a booking at its
// instant: the feed's times are UTC, so the client's Africa/Casablanca never enters.
// The TZID form the feed used to write is read an hour early by the same client.
func TestFeedTimesSurviveStaleTZData(t *testing.T) {
	t.Parallel()
	start, end := utc("2027-06-10T09:00:00Z"), utc("2027-06-10T17:00:00Z")
	casablanca := calendar.MustLoadLocation("Africa/Casablanca")
	if _, off := start.In(casablanca).Zone(); off != 0 {
		t.Fatalf("embedded tzdata %s has Casablanca at %+ds in June 2027, not +00: the test's premise is gone", calendar.TZVersion(), off)
	}
	if _, off := start.In(staleCasablanca).Zone(); off != 3600 {
		t.Fatal("the stale zone must disagree with the embedded one")
	}
	stale := map[string]*time.Location{"Africa/Casablanca": staleCasablanca}

	raw, err := Render(booking.FeedCalendar{Name: "posthub — Salle Atlas", Stamp: utc("2027-05-01T00:00:00Z"),
		Events: []booking.FeedEvent{
			{UID: "hold@posthub", Start: start, End: end, TimeZone: "Africa/Casablanca", Status: booking.StatusHold, Rank: 1,
				Title: "Layali Derb Sultan", Resources: []string{"Salle Atlas"}, Site: "Casablanca"},
			{UID: "busy@posthub", Start: start.Add(9 * time.Hour), End: start.Add(11 * time.Hour), TimeZone: "Africa/Casablanca",
				Status: booking.StatusConfirmed, Busy: true, Resources: []string{"Salle Atlas"}, Site: "Casablanca"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]ical.Event{}
	for _, e := range decodeFeed(t, raw).Events() {
		uid, _ := e.Props.Text(ical.PropUID)
		events[uid] = e
	}
	for uid, want := range map[string][2]time.Time{
		"hold@posthub": {start, end},
		"busy@posthub": {start.Add(9 * time.Hour), start.Add(11 * time.Hour)},
	} {
		e, ok := events[uid]
		if !ok {
			t.Fatalf("%s missing from\n%s", uid, raw)
		}
		gotStart := clientTime(t, e, ical.PropDateTimeStart, stale)
		gotEnd := clientTime(t, e, ical.PropDateTimeEnd, stale)
		if !gotStart.Equal(want[0]) || !gotEnd.Equal(want[1]) {
			t.Errorf("%s: a client on stale tz data shows %s–%s, want %s–%s", uid, gotStart.UTC(), gotEnd.UTC(), want[0], want[1])
		}
	}
	if !bytes.Contains(raw, []byte("\r\nDTSTART:20270610T090000Z\r\n")) || !bytes.Contains(raw, []byte("\r\nDTEND:20270610T170000Z\r\n")) {
		t.Errorf("DTSTART/DTEND not in UTC:\n%s", raw)
	}
	desc, err := events["hold@posthub"].Props.Text(ical.PropDescription)
	if err != nil || !strings.Contains(desc, "Site time: Thu 10 Jun 2027, 09:00–17:00 UTC+00:00 (Africa/Casablanca).") {
		t.Errorf("description %q (%v) lacks the site's wall-clock", desc, err)
	}

	// The form the feed used to write: the embedded release's wall-clock with the zone's
	// TZID (and a VTIMEZONE, which the client does not consult).
	old := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + ProductID + "\r\nBEGIN:VEVENT\r\nUID:old@posthub\r\nDTSTAMP:20270501T000000Z\r\n" +
		"DTSTART;TZID=Africa/Casablanca:" + start.In(casablanca).Format("20060102T150405") + "\r\n" +
		"DTEND;TZID=Africa/Casablanca:" + end.In(casablanca).Format("20060102T150405") + "\r\n" +
		"END:VEVENT\r\nEND:VCALENDAR\r\n"
	oldEvent := decodeFeed(t, []byte(old)).Events()[0]
	if got := clientTime(t, oldEvent, ical.PropDateTimeStart, stale); !got.Equal(start.Add(-time.Hour)) {
		t.Errorf("the old TZID form under stale tz data reads %s; the measured client read it an hour early, %s", got.UTC(), start.Add(-time.Hour))
	}
	if got := clientTime(t, oldEvent, ical.PropDateTimeStart, map[string]*time.Location{"Africa/Casablanca": casablanca}); !got.Equal(start) {
		t.Errorf("the old TZID form with current tz data reads %s, want %s", got.UTC(), start)
	}
}

// No text a user typed can end a content line: CR, LF and CRLF all become an escaped
// \n, other controls are dropped, and both parsers read back one property per line.
func TestTextCannotInjectLines(t *testing.T) {
	t.Parallel()
	c := booking.FeedCalendar{Name: "posthub — Atlas\rX-INJECTED:name", Stamp: utc("2027-05-01T00:00:00Z"),
		Events: []booking.FeedEvent{{UID: "x@posthub", Start: utc("2027-06-10T09:00:00Z"), End: utc("2027-06-10T17:00:00Z"),
			TimeZone: "Africa/Casablanca", Status: booking.StatusConfirmed,
			Title: "Souffle\rSTATUS:CANCELLED", Company: "Téranga\r\nDTSTART:19700101T000000Z", Resources: []string{"Salle\nAtlas"},
			Site: "Casa\x00blanca\x1b", Note: "one\rtwo\r\nthree\nfour\n\rfive\tsix\x7f;, \\ end"}}}
	raw, err := Render(c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	if n := strings.Count(s, "\r\n"); strings.Count(s, "\r") != n || strings.Count(s, "\n") != n {
		t.Fatalf("a CR or LF outside a CRLF line ending:\n%q", s)
	}
	for _, bad := range []string{"\x00", "\x1b", "\x7f"} {
		if strings.Contains(s, bad) {
			t.Errorf("control %q in the feed", bad)
		}
	}
	unfolded := strings.ReplaceAll(s, "\r\n ", "")
	for _, line := range strings.Split(unfolded, "\r\n") {
		for _, injected := range []string{"X-INJECTED", "STATUS:CANCELLED", "DTSTART:1970", "TWO", "Atlas"} {
			if strings.HasPrefix(strings.ToUpper(line), strings.ToUpper(injected)) {
				t.Errorf("injected line %q", line)
			}
		}
	}

	// golang-ical, which writes the feed, reads it back.
	cal, err := ics.ParseCalendar(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(cal.Events()) != 1 {
		t.Fatalf("%d events", len(cal.Events()))
	}
	e := cal.Events()[0]
	for _, p := range []ics.ComponentProperty{ics.ComponentPropertyDtStart, ics.ComponentPropertyStatus} {
		n := 0
		for _, q := range e.Properties {
			if q.IANAToken == string(p) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d %s properties", n, p)
		}
	}
	if got := e.GetProperty(ics.ComponentPropertyStatus).Value; got != "CONFIRMED" {
		t.Errorf("STATUS %s", got)
	}
	if got := eventTime(t, e, ics.ComponentPropertyDtStart); !got.Equal(c.Events[0].Start) {
		t.Errorf("DTSTART %s", got)
	}
	for _, p := range cal.CalendarProperties {
		if strings.HasPrefix(p.IANAToken, "X-INJECTED") {
			t.Errorf("injected calendar property %s", p.IANAToken)
		}
	}

	// go-ical, independently, reads the same texts.
	ev := decodeFeed(t, raw).Events()[0]
	for prop, want := range map[string]string{
		ical.PropSummary:  "Souffle\nSTATUS:CANCELLED (Téranga\nDTSTART:19700101T000000Z) — Salle\nAtlas",
		ical.PropLocation: "Salle\nAtlas · Casablanca",
	} {
		if got, err := ev.Props.Text(prop); err != nil || got != want {
			t.Errorf("%s %q (%v), want %q", prop, got, err, want)
		}
	}
	if desc, _ := ev.Props.Text(ical.PropDescription); !strings.HasSuffix(desc, "\none\ntwo\nthree\nfour\n\nfive\tsix;, \\ end") {
		t.Errorf("description %q", desc)
	}
	if n := len(ev.Props.Values(ical.PropDateTimeStart)); n != 1 {
		t.Errorf("%d DTSTART properties", n)
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a\rb":            "a\nb",
		"a\r\nb":          "a\nb",
		"a\nb":            "a\nb",
		"a\n\rb":          "a\n\nb",
		"a\r\r\nb":        "a\n\nb",
		"a\x00b\tc\x7fd":  "ab\tcd",
		"a\u0085b":        "ab",
		"bad \xff utf-8":  "bad \uFFFD utf-8",
		"Téranga; a, b\\": "Téranga; a, b\\",
	} {
		if got := text(in); got != want {
			t.Errorf("text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSiteTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		start, end, zone, want string
	}{
		{"2027-06-10T09:00:00Z", "2027-06-10T17:00:00Z", "Africa/Casablanca", "Thu 10 Jun 2027, 09:00–17:00 UTC+00:00 (Africa/Casablanca)"},
		// Before Morocco's change the same zone was +01.
		{"2026-06-10T09:00:00Z", "2026-06-10T17:00:00Z", "Africa/Casablanca", "Wed 10 Jun 2026, 10:00–18:00 UTC+01:00 (Africa/Casablanca)"},
		{"2027-07-01T20:00:00Z", "2027-07-02T02:00:00Z", "Europe/Paris", "Thu 1 Jul 2027 22:00 – Fri 2 Jul 2027 04:00 UTC+02:00 (Europe/Paris)"},
		// Across the spring change each time names its own offset.
		{"2027-03-28T00:00:00Z", "2027-03-28T03:00:00Z", "Europe/Paris", "Sun 28 Mar 2027, 01:00 UTC+01:00–05:00 UTC+02:00 (Europe/Paris)"},
		{"2027-06-10T09:00:00Z", "2027-06-10T17:00:00Z", "America/St_Johns", "Thu 10 Jun 2027, 06:30–14:30 UTC-02:30 (America/St_Johns)"},
	} {
		got, err := siteTime(utc(tc.start), utc(tc.end), tc.zone)
		if err != nil || got != tc.want {
			t.Errorf("siteTime(%s, %s, %s) = %q, %v; want %q", tc.start, tc.end, tc.zone, got, err, tc.want)
		}
	}
	if _, err := siteTime(utc("2027-06-10T09:00:00Z"), utc("2027-06-10T17:00:00Z"), "Mars/Olympus"); err == nil {
		t.Error("an unknown zone renders")
	}
	if _, err := Render(booking.FeedCalendar{Events: []booking.FeedEvent{{UID: "z@posthub", TimeZone: "Local"}}}); err == nil {
		t.Error("Render accepts an event in a zone the embedded database lacks")
	}
}
