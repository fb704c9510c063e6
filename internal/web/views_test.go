package web

import (
	"strings"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/calendar"
)

// TestTimelineShowsLockedAndOvertimeTime: a booking's time outside working hours is
// drawn apart from its working time, veiled when only reserved and hatched when sold
// as overtime, one mark per closed stretch inside the day's visible hours.
func TestTimelineShowsLockedAndOvertimeTime(t *testing.T) {
	t.Parallel()
	loc := calendar.MustLoadLocation("Africa/Casablanca")
	day := calendar.Date{Year: 2027, Month: time.June, Day: 7}
	cal := &calendar.Calendar{Location: loc}
	cal.Week[time.Monday] = []calendar.Span{{From: calendar.Clock{Hour: 9}, To: calendar.Clock{Hour: 13}}, {From: calendar.Clock{Hour: 14}, To: calendar.Clock{Hour: 19}}}
	iv := calendar.Interval{Start: day.At(calendar.Clock{Hour: 9}, loc), End: day.At(calendar.Clock{Hour: 22}, loc)}
	closed := cal.UseOf(iv, nil).Closed // 13–14 and 19–22
	items := []timelineItem{
		{Row: 0, Start: iv.Start, End: iv.End, Kind: "confirmed", Label: "A", Title: "A", Closed: closed},
		{Row: 1, Start: iv.Start, End: iv.End, Kind: "confirmed", Label: "B", Title: "B", Closed: closed, Overtime: true},
		{Row: 2, Start: day.At(calendar.Clock{Hour: 9}, loc), End: day.At(calendar.Clock{Hour: 12}, loc), Kind: "hold", Rank: 1, Label: "C", Title: "C"},
	}
	svg := string(timelineSVG("tl", "t", "d", []timelineDay{{Date: day, Label: "Mon 7"}}, []timelineRow{{Label: "a"}, {Label: "b"}, {Label: "c"}}, items, loc, 8, 22, iv.Start))
	if n := strings.Count(svg, `class="locked"`); n != 2 {
		t.Errorf("%d locked marks, want 2 (lunch and evening of the booking not sold as overtime)", n)
	}
	if n := strings.Count(svg, `class="overtime"`); n != 2 {
		t.Errorf("%d overtime marks, want 2", n)
	}
	if !strings.Contains(svg, `<pattern id="tl-overtime"`) {
		t.Error("no overtime pattern")
	}
}

// TestTimeUseText: a booking card says its working time and, apart, what it holds
// outside working hours: reserved and not sold, or overtime.
func TestTimeUseText(t *testing.T) {
	t.Parallel()
	loc := calendar.MustLoadLocation("Africa/Casablanca")
	cal := &calendar.Calendar{Location: loc}
	for d := time.Monday; d <= time.Friday; d++ {
		cal.Week[d] = []calendar.Span{{From: calendar.Clock{Hour: 9}, To: calendar.Clock{Hour: 13}}, {From: calendar.Clock{Hour: 14}, To: calendar.Clock{Hour: 19}}}
	}
	mon := calendar.Date{Year: 2027, Month: time.June, Day: 7}
	u := cal.UseOf(calendar.Interval{Start: mon.At(calendar.Clock{Hour: 9}, loc), End: mon.AddDays(2).At(calendar.Clock{Hour: 19}, loc)}, nil)
	for _, c := range []struct {
		lang     string
		overtime bool
		want     string
	}{
		{"en", false, "27 h of working time · 31 h outside working hours, reserved but not sold"},
		{"en", true, "27 h of working time · 31 h of overtime"},
		{"fr", false, "27 h de temps ouvré · 31 h hors heures ouvrées, réservées mais non facturées"},
	} {
		if got := timeUseText(c.lang, u, c.overtime); got != c.want {
			t.Errorf("%s overtime=%v: %q, want %q", c.lang, c.overtime, got, c.want)
		}
	}
	half := cal.UseOf(calendar.Interval{Start: mon.At(calendar.Clock{Hour: 9}, loc), End: mon.At(calendar.Clock{Hour: 11, Minute: 30}, loc)}, nil)
	if got := timeUseText("fr", half, false); got != "2,5 h de temps ouvré" {
		t.Errorf("a morning: %q", got)
	}
}

// TestFormTimesAreBounded: the web forms' times are held to the instants the API
// accepts, so a page cannot store what the API would refuse.
func TestFormTimesAreBounded(t *testing.T) {
	t.Parallel()
	loc := calendar.MustLoadLocation("Africa/Casablanca")
	if _, ok := parseInputLocal("2027-03-10T10:00", loc); !ok {
		t.Error("an ordinary time refused")
	}
	for _, v := range []string{"9999-12-31T23:00", "1999-12-31T10:00", "2200-01-02T00:00"} {
		if _, ok := parseInputLocal(v, loc); ok {
			t.Errorf("%s accepted", v)
		}
	}
}
