package icalfeed

import (
	"bytes"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

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

// eventTime reads an event's DTSTART or DTEND with its TZID against the embedded tz
// database (the machine's may be older).
func eventTime(t *testing.T, e *ics.VEvent, p ics.ComponentProperty) (time.Time, string) {
	t.Helper()
	prop := e.GetProperty(p)
	if prop == nil {
		t.Fatalf("%s missing", p)
	}
	tzid := prop.ICalParameters["TZID"]
	if len(tzid) != 1 {
		t.Fatalf("%s has TZID %v, want one", p, tzid)
	}
	loc, err := calendar.LoadLocation(tzid[0])
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("20060102T150405", prop.Value, loc)
	if err != nil {
		t.Fatalf("%s %q: %v", p, prop.Value, err)
	}
	return v, tzid[0]
}

func TestRenderParsesBack(t *testing.T) {
	t.Parallel()
	c := booking.FeedCalendar{Name: "posthub — Grading Suite 1", Zones: []string{"Africa/Casablanca", "Europe/Paris"},
		From: utc("2026-09-01T00:00:00Z"), To: utc("2028-01-01T00:00:00Z"), Stamp: utc("2026-11-29T12:00:00Z"),
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
	tzs := map[string]*ics.VTimezone{}
	for _, tz := range cal.Timezones() {
		tzs[tz.GetProperty(ics.ComponentPropertyTzid).Value] = tz
	}
	if len(tzs) != 2 || tzs["Africa/Casablanca"] == nil || tzs["Europe/Paris"] == nil {
		t.Fatalf("timezones %v", tzs)
	}
	// Casablanca: +01 until the 2026-09-20 change to permanent +00; Paris: CET/CEST.
	casa := string(raw[bytes.Index(raw, []byte("TZID:Africa/Casablanca")):])
	casa = casa[:strings.Index(casa, "END:VTIMEZONE")]
	if !strings.Contains(casa, "TZOFFSETFROM:+0100") || !strings.Contains(casa, "TZOFFSETTO:+0000") || !strings.Contains(casa, "DTSTART:20260920T020000") {
		t.Errorf("Casablanca's VTIMEZONE lacks the 2026-09-20 change:\n%s", casa)
	}
	paris := string(raw[bytes.Index(raw, []byte("TZID:Europe/Paris")):])
	paris = paris[:strings.Index(paris, "END:VTIMEZONE")]
	if !strings.Contains(paris, "BEGIN:DAYLIGHT") || !strings.Contains(paris, "DTSTART:20270328T020000") || !strings.Contains(paris, "TZOFFSETTO:+0200") {
		t.Errorf("Paris's VTIMEZONE lacks the 2027 summer time:\n%s", paris)
	}

	events := map[string]*ics.VEvent{}
	for _, e := range cal.Events() {
		events[e.Id()] = e
	}
	if len(events) != 3 {
		t.Fatalf("%d events", len(events))
	}
	for uid, want := range map[string]struct {
		status, zone string
		start, end   time.Time
	}{
		"a@posthub": {"TENTATIVE", "Africa/Casablanca", c.Events[0].Start, c.Events[0].End},
		"b@posthub": {"CONFIRMED", "Europe/Paris", c.Events[1].Start, c.Events[1].End},
	} {
		e := events[uid]
		if got := e.GetProperty(ics.ComponentPropertyStatus).Value; got != want.status {
			t.Errorf("%s: STATUS %s, want %s", uid, got, want.status)
		}
		start, zone := eventTime(t, e, ics.ComponentPropertyDtStart)
		end, _ := eventTime(t, e, ics.ComponentPropertyDtEnd)
		if zone != want.zone || !start.Equal(want.start) || !end.Equal(want.end) {
			t.Errorf("%s: %s %s–%s, want %s %s–%s", uid, zone, start, end, want.zone, want.start, want.end)
		}
	}
	// Paris in July is UTC+2: 07:00Z is 09:00 on the wall.
	if v := events["b@posthub"].GetProperty(ics.ComponentPropertyDtStart).Value; v != "20270701T090000" {
		t.Errorf("Paris DTSTART %s", v)
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
