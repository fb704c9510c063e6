package booking

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// HoldExpiryWarning is how long before a hold expires its producers are warned.
const HoldExpiryWarning = 24 * time.Hour

// The kinds of due notice.
const (
	DueReminder     = "reminder"
	DueHoldExpiring = "hold_expiring"
)

// DueNotice is a notice a booking's state calls for at a later time: a reminder
// before a confirmed booking starts, or the warning before a hold expires. The storage
// keeps them with the booking, by due time, and the workers enqueue each once it is due.
type DueNotice struct {
	BookingID uuid.UUID
	Kind      string
	// Ref is what the notice was scheduled for: the booking's start (a reminder), the
	// hold's expiry (a warning). A notice whose booking has moved on since does nothing.
	Ref time.Time
	// Before is a reminder's offset before the start; zero for a warning.
	Before time.Duration
	Due    time.Time
}

// DueNotices are the notices a booking's state calls for, as of now, each offset
// once. A reminder whose time has passed (the booking was made inside the reminder
// window, or its follow-up ran late) is due now if the booking has not started: late
// rather than never. Only the nearest such reminder goes, not every one that passed.
func DueNotices(b FollowUpState, now time.Time) []DueNotice {
	var out []DueNotice
	switch b.Status {
	case StatusConfirmed:
		var late *DueNotice
		var seen []time.Duration
		for _, off := range b.ReminderOffsets {
			before := time.Duration(off)
			if slices.Contains(seen, before) {
				continue
			}
			seen = append(seen, before)
			n := DueNotice{BookingID: b.BookingID, Kind: DueReminder, Ref: b.Start, Before: before, Due: b.Start.Add(-before)}
			switch {
			case n.Due.After(now):
				out = append(out, n)
			case b.Start.After(now) && (late == nil || n.Before < late.Before):
				late = &n
			}
		}
		if late != nil {
			late.Due = now
			out = append(out, *late)
		}
	case StatusHold:
		if b.HoldExpiresAt != nil {
			exp := *b.HoldExpiresAt
			if warn := exp.Add(-HoldExpiryWarning); warn.After(now) {
				out = append(out, DueNotice{BookingID: b.BookingID, Kind: DueHoldExpiring, Ref: exp, Due: warn})
			}
		}
	}
	return out
}
