package web

import (
	"net/url"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

func TestParseSpans(t *testing.T) {
	ok := map[string]string{
		"":                            "",
		"  ":                          "",
		"closed":                      "",
		"09:00–13:00, 14:00–19:00":    "09:00–13:00, 14:00–19:00",
		"09:00-13:00 14:00-19:00":     "09:00–13:00, 14:00–19:00",
		"14:00 - 19:00; 9:00 - 13:00": "09:00–13:00, 14:00–19:00",
		"9h-13h et 14h30-18h":         "09:00–13:00, 14:30–18:00",
		"9 to 13":                     "09:00–13:00",
		"9h à 13h":                    "09:00–13:00",
		"8.30-12.30":                  "08:30–12:30",
		"22:00-24:00":                 "22:00–24:00",
		"00:00–24:00":                 "00:00–24:00",
	}
	for in, want := range ok {
		spans, why := parseSpans("en", in)
		if why != "" || spansText(spans) != want {
			t.Errorf("parseSpans(%q) = %q, %q; want %q", in, spansText(spans), why, want)
		}
	}
	if spans, why := parseSpans("fr", "fermé"); why != "" || spans != nil {
		t.Errorf("fermé: %v %q", spans, why)
	}
	for in, key := range map[string]string{
		"9 to noon":                "calendar.err_spans",
		"09:00":                    "calendar.err_spans",
		"25:00-26:00":              "calendar.err_spans",
		"09:60-10:00":              "calendar.err_spans",
		"24:30-24:45":              "calendar.err_spans",
		"13:00-09:00":              "calendar.err_span_order",
		"09:00-09:00":              "calendar.err_span_order",
		"09:00-13:00, 12:00-18:00": "calendar.err_span_order",
	} {
		if _, why := parseSpans("fr", in); why != translate("fr", key) {
			t.Errorf("parseSpans(%q) says %q, want %s", in, why, key)
		}
	}
}

func TestBlockRule(t *testing.T) {
	cases := []struct {
		form  url.Values
		start time.Weekday
		want  string
		field string
	}{
		{url.Values{"repeat": {"none"}}, time.Monday, "", ""},
		{url.Values{}, time.Monday, "", ""},
		{url.Values{"repeat": {"weekly"}, "byday": {"FR", "MO"}}, time.Monday, "FREQ=WEEKLY;BYDAY=MO,FR", ""},
		{url.Values{"repeat": {"weekly"}}, time.Friday, "FREQ=WEEKLY;BYDAY=FR", ""},
		{url.Values{"repeat": {"weekly"}, "byday": {"SU"}}, time.Friday, "FREQ=WEEKLY;BYDAY=SU", ""},
		{url.Values{"repeat": {"monthly"}}, time.Friday, "FREQ=MONTHLY", ""},
		// A rule written out wins over the choice.
		{url.Values{"repeat": {"monthly"}, "rrule": {" rrule:freq=weekly;interval=2;byday=fr "}}, time.Friday, "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", ""},
		{url.Values{"repeat": {"rrule"}}, time.Friday, "", "rrule"},
		{url.Values{"rrule": {"FREQ=SOMETIMES"}}, time.Friday, "", "rrule"},
		{url.Values{"rrule": {"FREQ=MINUTELY"}}, time.Friday, "", "rrule"},
		{url.Values{"repeat": {"fortnightly"}}, time.Friday, "", "repeat"},
	}
	for _, c := range cases {
		f := newFailure("block", c.form)
		got := blockRule("en", c.form, c.start, f)
		if got != c.want || (c.field == "") != (len(f.Errors) == 0) || (c.field != "" && f.Errors[c.field] == "") {
			t.Errorf("blockRule(%v) = %q, errors %v; want %q (error on %q)", c.form, got, f.Errors, c.want, c.field)
		}
	}
}

func TestRepeatText(t *testing.T) {
	loc, err := calendar.LoadLocation("Africa/Casablanca")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2027, 1, 8, 9, 0, 0, 0, loc) // a Friday
	until := time.Date(2027, 3, 26, 23, 59, 59, 0, loc)
	cases := []struct {
		lang, rule string
		until      *time.Time
		want       string
	}{
		{"en", "FREQ=WEEKLY;BYDAY=MO,FR", &until, "Every week on Mon, Fri until Fri 26 Mar 2027"},
		{"fr", "FREQ=WEEKLY;BYDAY=FR", &until, "Chaque semaine le ven. jusqu’au ven. 26 mars 2027"},
		{"en", "FREQ=WEEKLY", nil, "Every week on Fri"},
		{"en", "FREQ=MONTHLY", nil, "Every month, on the same day"},
		{"en", "FREQ=MONTHLY;UNTIL=20270601T000000Z", nil, "Every month, on the same day until Tue 1 Jun 2027"},
		{"en", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", nil, "Rule: FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"},
		{"fr", "FREQ=MONTHLY;BYDAY=1MO", nil, "Règle : FREQ=MONTHLY;BYDAY=1MO"},
	}
	for _, c := range cases {
		b := booking.Block{Start: start.UTC(), End: start.Add(10 * time.Hour).UTC(), RRule: c.rule, Until: c.until}
		if got := repeatText(c.lang, b, loc); got != c.want {
			t.Errorf("repeatText(%s, %s) = %q, want %q", c.lang, c.rule, got, c.want)
		}
	}
}

func TestFormDateIsBounded(t *testing.T) {
	for v, ok := range map[string]bool{"2027-03-10": true, "2000-01-01": true, "2199-12-31": true, "1999-12-31": false,
		"2200-01-01": false, "2027-02-30": false, "10/03/2027": false, "": false, " 2027-03-10 ": true} {
		if _, got := formDate(v); got != ok {
			t.Errorf("formDate(%q) = %v", v, got)
		}
	}
}
