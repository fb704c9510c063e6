package web

import (
	"math"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

func TestMoneyIsWrittenInTheCurrencysMinorUnits(t *testing.T) {
	for _, c := range []struct {
		lang     string
		minor    int64
		currency string
		want     string
	}{
		{"en", 12345678, "MAD", "123\u202f456.78\u00a0MAD"},
		{"fr", 12345678, "MAD", "123\u202f456,78\u00a0MAD"},
		{"en", 5, "MAD", "0.05\u00a0MAD"},
		{"en", 1234567, "XOF", "1\u202f234\u202f567\u00a0XOF"},
		{"fr", 250000, "XOF", "250\u202f000\u00a0XOF"},
		{"en", 999, "XOF", "999\u00a0XOF"},
		{"en", -150, "EUR", "−1.50\u00a0EUR"},
		{"en", 0, "MAD", "0.00\u00a0MAD"},
		// The currency's own minor unit, from the one ISO 4217 table.
		{"en", 1234567, "JPY", "1\u202f234\u202f567\u00a0JPY"},
		{"fr", 1234567, "KWD", "1\u202f234,567\u00a0KWD"},
		{"en", 5, "BHD", "0.005\u00a0BHD"},
		{"en", 12345, "", "123.45"},
	} {
		if got := planMoney(c.lang, c.minor, c.currency); got != c.want {
			t.Errorf("planMoney(%s, %d, %s) = %q, want %q", c.lang, c.minor, c.currency, got, c.want)
		}
	}
}

func TestDurationsAreWords(t *testing.T) {
	for _, c := range []struct {
		lang  string
		hours float64
		want  string
	}{
		{"en", 0.5, "30 min"},
		{"en", 1, "1 hour"},
		{"en", 26, "1 day 2 hours"},
		{"en", 24 * 38, "38 days"},
		{"fr", 49, "2 jours 1 heure"},
		{"en", -5.2, "5 hours"},
	} {
		if got := durationWords(c.lang, c.hours); got != c.want {
			t.Errorf("durationWords(%s, %v) = %q, want %q", c.lang, c.hours, got, c.want)
		}
	}
}

// TestPlanDatesAreTheSitesLocalDates reads the form's dates in the site's zone from
// the embedded tz data whatever the machine's zone: before Morocco's 2026 change
// Casablanca was UTC+01:00 outside Ramadan, so 09:00 there on 1 June 2026 was 08:00
// UTC.
func TestPlanDatesAreTheSitesLocalDates(t *testing.T) {
	casa := booking.Site{ID: uuid.New(), TimeZone: "Africa/Casablanca"}
	dakar := booking.Site{ID: uuid.New(), TimeZone: "Africa/Dakar"}
	prod := uuid.New().String()
	in, err := planRequest("en", planForm{Production: prod, Site: casa.ID.String(), Template: "feature", Earliest: "2026-06-01", Deadline: "2026-06-19",
		Skip: map[string]bool{"offline_edit": true, "picture_lock": true, "grade": true}, HDR: true, ColouristLang: "wo"}, []booking.Site{dakar, casa})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC); !in.EarliestStart.Equal(want) {
		t.Errorf("earliest start %s, want %s", in.EarliestStart, want)
	}
	if want := time.Date(2026, 6, 19, 23, 0, 0, 0, time.UTC); !in.Deadline.Equal(want) {
		t.Errorf("deadline %s, want the end of 19 June in Casablanca, %s", in.Deadline, want)
	}
	if strings.Join(in.Skip, ",") != "offline_edit,picture_lock" || in.SiteID != casa.ID {
		t.Errorf("skip %v, site %s", in.Skip, in.SiteID)
	}
	if in.Preferences["grading_suite"][0] != "hdr" || in.Preferences["colourist"][0] != "lang:wo" {
		t.Errorf("preferences %v", in.Preferences)
	}
	// After the change Casablanca is UTC+00:00, like Dakar all year.
	for _, s := range []booking.Site{casa, dakar} {
		in, err := planRequest("en", planForm{Production: prod, Site: s.ID.String(), Template: "short", Earliest: "2027-03-01"}, []booking.Site{casa, dakar})
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC); !in.EarliestStart.Equal(want) || !in.Deadline.IsZero() || len(in.Preferences) != 0 {
			t.Errorf("%s: %+v", s.TimeZone, in)
		}
	}
	for _, f := range []planForm{
		{Site: casa.ID.String(), Template: "feature", Earliest: "2027-03-01"},
		{Production: prod, Template: "feature", Earliest: "2027-03-01"},
		{Production: prod, Site: casa.ID.String(), Template: "opera", Earliest: "2027-03-01"},
		{Production: prod, Site: casa.ID.String(), Template: "feature", Earliest: "1 March"},
		{Production: prod, Site: casa.ID.String(), Template: "feature", Earliest: "2027-03-01", Deadline: "2027-02-28"},
	} {
		if _, err := planRequest("en", f, []booking.Site{casa}); booking.ErrorCode(err) != booking.EINVALID {
			t.Errorf("%+v: %v, want invalid", f, err)
		}
	}
}

func TestPlanSVGDrawsARowPerStageOverLocalDays(t *testing.T) {
	loc, _ := calendar.LoadLocation("Africa/Casablanca")
	from := calendar.Date{Year: 2027, Month: time.March, Day: 1}
	var days []timelineDay
	for i := range 21 {
		d := from.AddDays(i)
		days = append(days, timelineDay{Date: d, Label: d.Weekday().String()[:3], Closed: d.Weekday() == time.Sunday})
	}
	at := func(day, hour int) time.Time { return from.AddDays(day).At(calendar.Clock{Hour: hour}, loc) }
	bars := []planBar{
		{ID: "conform", Label: "Conform", Sub: "Edit Suite 1 · Tom", Hours: "14 h", Start: at(0, 9), End: at(1, 14)},
		{ID: "grade", Label: "Colour grade", Sub: "Grading Suite 1", Hours: "42.5 h", Start: at(2, 9), End: at(6, 13),
			Changed: true, PrevStart: at(1, 14), PrevEnd: at(5, 19)},
	}
	marks := []planMark{{At: at(56, 0), Label: "Deadline", Kind: "deadline"}, {At: at(0, 9), Label: "Picture lock", Kind: "start"}}
	svg := string(planSVG("plan-timeline", "Timeline", "desc <&>", days, bars, marks, loc, "proposed", "Changed"))
	if n := strings.Count(svg, `<g class="stage`); n != 2 {
		t.Errorf("%d stage rows", n)
	}
	if n := strings.Count(svg, `<g class="day`); n != 21 {
		t.Errorf("%d days", n)
	}
	if n := strings.Count(svg, `<g class="day closed"`); n != 3 {
		t.Errorf("%d closed days", n)
	}
	if !strings.Contains(svg, "desc &lt;&amp;&gt;") || !strings.Contains(svg, `class="previous"`) || !strings.Contains(svg, "Deadline →") {
		t.Errorf("svg lacks escaping, the previous place or the deadline beyond the axis:\n%s", svg)
	}
	// A deadline at the end of the last day is drawn on the axis, not past it.
	marks[0].At = from.AddDays(21).At(calendar.Clock{}, loc)
	svg = string(planSVG("plan-timeline", "Timeline", "desc", days, bars, marks, loc, "proposed", "Changed"))
	if !strings.Contains(svg, `<g class="mark mark-deadline"><line x1="1060.0"`) {
		t.Errorf("the deadline at the end of the last day is not drawn at its right edge")
	}
	// The conform bar starts at 09:00 of the first day: 9/24 of the first column.
	m := regexp.MustCompile(`<rect class="bar" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"`).FindAllStringSubmatch(svg, -1)
	if len(m) != 2 || m[0][1] != "235.0" {
		t.Errorf("bars %v", m)
	}
}

func TestSlackIsWordedClearly(t *testing.T) {
	deadline := time.Date(2027, 4, 27, 0, 0, 0, 0, time.UTC)
	hours := func(h float64) *float64 { return &h }
	for _, c := range []struct {
		p    booking.Plan
		lang string
		want string
		late bool
	}{
		{booking.Plan{Placed: true, Feasible: true, Deadline: &deadline, SlackHours: hours(948)}, "en", "Finishes 39 days 12 hours before the deadline.", false},
		{booking.Plan{Placed: true, Feasible: true, Deadline: &deadline, SlackHours: hours(948), SlackWorkingHours: hours(265.5)}, "en",
			"Finishes 39 days 12 hours before the deadline (265.5 h of working time).", false},
		{booking.Plan{Placed: true, Deadline: &deadline, SlackHours: hours(-30), MissesByHours: 30, SlackWorkingHours: hours(-9), MissesByWorkingHours: 9}, "en",
			"Misses the deadline by 1 day 6 hours (9 h of working time).", true},
		{booking.Plan{Placed: true, Deadline: &deadline, SlackHours: hours(-2.5), MissesByHours: 2.5, SlackWorkingHours: hours(-1.5), MissesByWorkingHours: 1.5}, "fr",
			"Dépasse la date de livraison de 3 heures (1,5 h de temps ouvré).", true},
		{booking.Plan{Placed: true, Feasible: true, Deadline: &deadline, SlackHours: hours(0)}, "en", "Finishes right at the deadline.", false},
		{booking.Plan{Placed: true, Feasible: true, SlackHours: nil}, "en", "", false},
		{booking.Plan{Placed: false, Deadline: &deadline}, "en", "", false},
	} {
		if got, late := slackText(c.lang, c.p); got != c.want || late != c.late {
			t.Errorf("slackText(%s, %+v) = %q, %v; want %q, %v", c.lang, c.p, got, late, c.want, c.late)
		}
	}
}

// TestPlanTimelineCoversAFeaturesWholeRun: a feature's plan runs five months and more;
// its timeline draws every day to the finish (narrower days) and the last stage's bar
// where it is, not squeezed against a cut-off axis.
func TestPlanTimelineCoversAFeaturesWholeRun(t *testing.T) {
	loc, _ := calendar.LoadLocation("Africa/Casablanca")
	from := calendar.Date{Year: 2027, Month: time.March, Day: 1}
	at := func(day, hour int) time.Time { return from.AddDays(day).At(calendar.Clock{Hour: hour}, loc) }
	p := booking.Plan{SiteID: uuid.New(), TimeZone: "Africa/Casablanca", Status: "proposed", EarliestStart: at(0, 9), Finish: at(170, 13)}
	bars := []planBar{
		{ID: "offline_edit", Label: "Offline edit", Start: at(0, 9), End: at(100, 19)},
		{ID: "deliverables_qc", Label: "Deliverables QC", Start: at(165, 9), End: at(170, 13)},
	}
	svg := string((&UI{}).planTimeline(httptest.NewRequest("GET", "/plans/x", nil), "en", p, loc, bars))
	if n := strings.Count(svg, `<g class="day`); n != 171 {
		t.Errorf("%d days drawn, want the 171 from the start to the finish", n)
	}
	m := regexp.MustCompile(`<rect class="bar" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"`).FindAllStringSubmatch(svg, -1)
	if len(m) != 2 {
		t.Fatalf("bars %v", m)
	}
	x, _ := strconv.ParseFloat(m[1][1], 64)
	w, _ := strconv.ParseFloat(m[1][2], 64)
	// 171 days share 860 px: 5 px each from x = 220. The QC starts at day 165, 09:00,
	// and lasts 5 days and 4 hours.
	if want := 220 + 5*(165+9.0/24); math.Abs(x-want) > 0.1 || math.Abs(w-5*(5+4.0/24)) > 0.1 {
		t.Errorf("the QC's bar at x %v width %v, want x %.1f width %.1f", x, w, want, 5*(5+4.0/24))
	}
}
