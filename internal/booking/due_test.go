package booking

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestDueNotices(t *testing.T) {
	id := uuid.New()
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	h := func(n int) Duration { return Duration(time.Duration(n) * time.Hour) }
	start := now.Add(100 * time.Hour)
	// Each offset once, due before the start.
	got := DueNotices(FollowUpState{BookingID: id, Status: StatusConfirmed, Start: start, ReminderOffsets: []Duration{h(72), h(24), h(72)}}, now)
	if len(got) != 2 || got[0].Before != 72*time.Hour || !got[0].Due.Equal(start.Add(-72*time.Hour)) ||
		got[1].Before != 24*time.Hour || !got[1].Due.Equal(start.Add(-24*time.Hour)) || got[1].Kind != DueReminder || !got[1].Ref.Equal(start) {
		t.Fatalf("reminders %+v", got)
	}
	// Inside the window: only the nearest passed reminder, due now.
	soon := now.Add(3 * time.Hour)
	got = DueNotices(FollowUpState{BookingID: id, Status: StatusConfirmed, Start: soon, ReminderOffsets: []Duration{h(72), h(24), h(1)}}, now)
	if len(got) != 2 || got[0].Before != time.Hour || got[1].Before != 24*time.Hour || !got[1].Due.Equal(now) {
		t.Fatalf("late reminders %+v", got)
	}
	// Started: none.
	if got = DueNotices(FollowUpState{BookingID: id, Status: StatusConfirmed, Start: now.Add(-time.Minute), ReminderOffsets: []Duration{h(1)}}, now); len(got) != 0 {
		t.Fatalf("reminders of a started booking %+v", got)
	}
	// A hold: its warning a day before it expires, unless that has passed.
	exp := now.Add(48 * time.Hour)
	got = DueNotices(FollowUpState{BookingID: id, Status: StatusHold, Start: start, HoldExpiresAt: &exp, ReminderOffsets: []Duration{h(1)}}, now)
	if len(got) != 1 || got[0].Kind != DueHoldExpiring || !got[0].Ref.Equal(exp) || !got[0].Due.Equal(exp.Add(-HoldExpiryWarning)) {
		t.Fatalf("warning %+v", got)
	}
	exp = now.Add(time.Hour)
	if got = DueNotices(FollowUpState{BookingID: id, Status: StatusHold, HoldExpiresAt: &exp}, now); len(got) != 0 {
		t.Fatalf("warning past its time %+v", got)
	}
	// Cancelled: none.
	if got = DueNotices(FollowUpState{BookingID: id, Status: StatusCancelled, Start: start, ReminderOffsets: []Duration{h(1)}}, now); len(got) != 0 {
		t.Fatalf("notices of a cancelled booking %+v", got)
	}
}
