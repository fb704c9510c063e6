package web

import (
	"strings"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/calendar"
)

func TestBoardWindowIsADayAWeekFromMondayOrACalendarMonth(t *testing.T) {
	d := calendar.Date{Year: 2027, Month: time.March, Day: 10} // a Wednesday
	for _, c := range []struct {
		zoom       string
		from       string
		days       int
		prev, next string
	}{
		{"day", "2027-03-10", 1, "2027-03-09", "2027-03-11"},
		{"week", "2027-03-08", 7, "2027-03-01", "2027-03-15"},
		{"month", "2027-03-01", 31, "2027-02-01", "2027-04-01"},
		{"nonsense", "2027-03-08", 7, "2027-03-01", "2027-03-15"},
	} {
		from, days, prev, next := boardWindow(c.zoom, d)
		if from.String() != c.from || days != c.days || prev.String() != c.prev || next.String() != c.next {
			t.Errorf("%s: %s %d days, prev %s next %s; want %s %d, %s %s", c.zoom, from, days, prev, next, c.from, c.days, c.prev, c.next)
		}
	}
	if from, days, prev, _ := boardWindow("month", calendar.Date{Year: 2028, Month: time.February, Day: 29}); from.String() != "2028-02-01" || days != 29 || prev.String() != "2028-01-01" {
		t.Errorf("February of a leap year: %s, %d days, prev %s", from, days, prev)
	}
	if _, _, prev, _ := boardWindow("month", calendar.Date{Year: 2027, Month: time.January, Day: 31}); prev.String() != "2026-12-01" {
		t.Errorf("before January: %s", prev)
	}
}

// The board turns instants into the site's wall-clock with the offsets the page
// sends, from the embedded tz data: Casablanca's move to UTC+00 on 2026-09-20, and
// Paris's summer time.
func TestBoardZoneOffsets(t *testing.T) {
	casa := calendar.MustLoadLocation("Africa/Casablanca")
	from := time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
	got := zoneOffsets(casa, from, from.Add(14*24*time.Hour))
	if len(got) != 2 || got[0][1] != 3600 || got[1][1] != 0 {
		t.Fatalf("Casablanca in September 2026: %v", got)
	}
	if at := time.UnixMilli(got[1][0]).UTC(); at.Month() != time.September || at.Day() < 19 || at.Day() > 20 {
		t.Errorf("the change is at %s", at)
	}
	paris := calendar.MustLoadLocation("Europe/Paris")
	got = zoneOffsets(paris, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC))
	if len(got) != 2 || got[0][1] != 3600 || got[1][1] != 7200 || time.UnixMilli(got[1][0]).UTC() != time.Date(2027, 3, 28, 1, 0, 0, 0, time.UTC) {
		t.Errorf("Paris in March 2027: %v", got)
	}
	if got := zoneOffsets(time.UTC, from, from.Add(time.Hour)); len(got) != 1 || got[0][1] != 0 {
		t.Errorf("UTC: %v", got)
	}
}

// Every word board.js shows is in every catalog, and none is sent under a name that
// reads like a catalog key.
func TestBoardWordsAreInEveryLanguage(t *testing.T) {
	for _, lang := range catalog.Languages() {
		for _, k := range boardMessages {
			if _, ok := catalog.Lookup(lang, k); !ok {
				t.Errorf("%s: missing %s", lang, k)
			}
		}
		for _, z := range []string{"day", "week", "month"} {
			if _, ok := catalog.Lookup(lang, "board.zoom_"+z); !ok {
				t.Errorf("%s: missing board.zoom_%s", lang, z)
			}
		}
		words := boardWords(lang)
		for name, text := range words {
			if strings.Contains(name, ".") || text == "" {
				t.Errorf("%s: word %q = %q", lang, name, text)
			}
		}
		if words["confirm"] == "" || words["day_1"] == "" || words["month_12"] == "" || words["num_decimal"] == "" || words["status_hold"] == "" {
			t.Errorf("%s: words %v", lang, words)
		}
	}
	if boardWords("fr")["confirm"] != "Confirmer" || boardWords("fr")["num_decimal"] != "," {
		t.Errorf("French words: %v", boardWords("fr"))
	}
}
