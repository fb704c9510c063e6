package booking_test

import (
	"strings"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// deadlineCalendar is Casablanca's demo week (Mon–Fri 09:00–13:00 and 14:00–19:00, Sat
// 09:00–13:00) with a provisional holiday on Wed 10 June 2026. Casablanca is on
// UTC+01:00 in June 2026, so local times differ from UTC.
func deadlineCalendar() *calendar.Calendar {
	day := []calendar.Span{{From: calendar.Clock{Hour: 9}, To: calendar.Clock{Hour: 13}}, {From: calendar.Clock{Hour: 14}, To: calendar.Clock{Hour: 19}}}
	cal := &calendar.Calendar{Location: calendar.MustLoadLocation("Africa/Casablanca")}
	for d := time.Monday; d <= time.Friday; d++ {
		cal.Week[d] = day
	}
	cal.Week[time.Saturday] = day[:1]
	cal.Holidays = []calendar.Holiday{{Date: calendar.Date{Year: 2026, Month: time.June, Day: 10}, Name: "Eid al-Adha", Provisional: true}}
	return cal
}

// casa is a wall-clock time in Casablanca in June 2026.
func casa(day, hour, minute int) time.Time {
	return time.Date(2026, time.June, day, hour, minute, 0, 0, calendar.MustLoadLocation("Africa/Casablanca"))
}

func TestChallengeDeadlineCountsWorkingTimeAndEndsBeforeTheStart(t *testing.T) {
	t.Parallel()
	cal := deadlineCalendar()
	cases := []struct {
		name          string
		now, start    time.Time
		window        time.Duration
		want          time.Time
		clockDeadline time.Time // what now + window gave before: it must differ
	}{
		{"the window runs over the weekend in working hours",
			casa(5, 17, 0), casa(15, 10, 0), 8 * time.Hour,
			casa(8, 11, 0), // Fri 17–19, Sat 09–13, Mon 09–11
			casa(6, 1, 0)},
		{"a provisional holiday is not working time",
			casa(9, 17, 0), casa(15, 10, 0), 4 * time.Hour,
			casa(11, 11, 0), // Tue 17–19, Wed 10 (provisional Eid) closed, Thu 09–11
			casa(9, 21, 0)},
		{"Wednesday's challenge for Thursday 10:00 ends an hour before the start, not on Friday",
			casa(17, 15, 0), casa(18, 10, 0), 48 * time.Hour,
			casa(18, 9, 0),
			casa(19, 15, 0)},
		{"exactly the least working time to answer is enough",
			casa(18, 8, 30), casa(18, 11, 0), 48 * time.Hour,
			casa(18, 10, 0), // 09:00–10:00 to answer
			casa(20, 8, 30)},
	}
	for _, c := range cases {
		got, err := booking.ChallengeDeadline(cal, c.window, c.now.UTC(), c.start.UTC())
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("%s: deadline %s, want %s (UTC)", c.name, got.In(cal.Location), c.want)
		}
		if got.Equal(c.clockDeadline) {
			t.Errorf("%s: the case does not tell working time from clock time", c.name)
		}
		if !got.Before(c.start) || !got.After(c.now) {
			t.Errorf("%s: deadline %s not between now %s and the start %s", c.name, got, c.now, c.start)
		}
	}
}

func TestChallengeDeadlineRefusedWhenTheHoldsAheadCannotAnswer(t *testing.T) {
	t.Parallel()
	cal := deadlineCalendar()
	cases := []struct {
		name       string
		now, start time.Time
		left       time.Duration
		local      string
	}{
		{"overnight for the morning: no working hours before the cut-off",
			casa(17, 22, 0), casa(18, 10, 0), 0, "Thu 18 Jun 2026 09:00 (Africa/Casablanca, UTC+01:00)"},
		{"the slot starts within the hour",
			casa(18, 9, 30), casa(18, 10, 0), 0, "Thu 18 Jun 2026 09:00 (Africa/Casablanca, UTC+01:00)"},
		{"less than an hour of working time",
			casa(18, 8, 30), casa(18, 10, 59), 59 * time.Minute, "Thu 18 Jun 2026 09:59 (Africa/Casablanca, UTC+01:00)"},
		{"a provisional Eid is no time to answer in",
			casa(9, 19, 0), casa(11, 9, 30), 0, "Thu 11 Jun 2026 08:30 (Africa/Casablanca, UTC+01:00)"},
	}
	for _, c := range cases {
		_, err := booking.ChallengeDeadline(cal, 48*time.Hour, c.now.UTC(), c.start.UTC())
		de, ok := err.(*booking.Error)
		if !ok || de.Code != booking.ECONFLICT {
			t.Errorf("%s: %v, want a conflict", c.name, err)
			continue
		}
		if de.Details["reason"] != booking.ReasonChallengeTooLate || de.Details["working_time_left"] != booking.Duration(c.left) ||
			de.Details["latest_deadline_local"] != c.local || !de.Details["latest_deadline"].(time.Time).Equal(c.start.Add(-time.Hour)) {
			t.Errorf("%s: details %v", c.name, de.Details)
		}
		if !strings.Contains(de.Message, c.local) || !strings.Contains(de.Message, "managers") {
			t.Errorf("%s: message %q", c.name, de.Message)
		}
	}
	// A site with no working hours at all: nobody is there to answer.
	closed := &calendar.Calendar{Location: cal.Location}
	if _, err := booking.ChallengeDeadline(closed, time.Hour, casa(1, 9, 0).UTC(), casa(20, 9, 0).UTC()); booking.ErrorCode(err) != booking.ECONFLICT {
		t.Errorf("closed site: %v, want a conflict", err)
	}
}

func TestHoldExpiryNeverAfterTheStart(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	week := booking.Duration(7 * 24 * time.Hour)
	if got := booking.HoldExpiry(now, week, now.Add(10*24*time.Hour)); !got.Equal(now.Add(7 * 24 * time.Hour)) {
		t.Errorf("a slot after the lifetime: expiry %s, want the lifetime's end", got)
	}
	start := now.Add(2 * 24 * time.Hour)
	if got := booking.HoldExpiry(now, week, start); !got.Equal(start) {
		t.Errorf("a slot within the lifetime: expiry %s, want its start %s", got, start)
	}
}
