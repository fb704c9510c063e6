package booking

import (
	"errors"
	"time"

	"github.com/posthub/posthub/internal/calendar"
)

// A hold's expiry and a challenge's deadline are both bounded by the slot's start: a
// hold can no longer be confirmed once its slot has begun (the due work expires a hold
// whose start has come, whatever it was waiting for), so a lifetime or a window that
// ran past the start would promise time that does not exist.

// HoldExpiry returns when a hold placed at now on a slot starting at start expires: the
// site's hold lifetime later (clock time), but never after the start. A hold still
// unconfirmed when its slot begins expires then anyway; capping the stored expiry
// there makes the expiry shown, the warning before it and the due work scheduled at it
// name the moment the hold really ends.
func HoldExpiry(now time.Time, lifetime Duration, start time.Time) time.Time {
	e := now.Add(time.Duration(lifetime))
	if start.Before(e) {
		return start
	}
	return e
}

// ChallengeSettleLead is how long before the contested slot starts a challenge is
// settled at the latest. The winner is told before the session rather than at its
// start, and the due work confirms the challenger while its hold is still live (at the
// start an unconfirmed hold expires, and its challenge with it).
const ChallengeSettleLead = time.Hour

// ChallengeMinAnswer is the least working time the holds ahead must have to answer a
// challenge. A challenge that would leave them less (the slot starts too soon, or only
// closed hours remain before it) is refused rather than releasing their holds behind
// their backs.
const ChallengeMinAnswer = time.Hour

// ChallengeCalendar is how a challenge window reads the site's calendar. Provisional
// holidays count as closed: the people who must answer may well be off for an Eid
// whose date is announced a day or two before, and a deadline must not run out while
// they are. The cost of guessing wrong is a deadline later than needed, bounded by the
// slot's start; the other way round it would be a hold lost unanswered.
var ChallengeCalendar = calendar.Options{AvoidProvisional: true}

// ReasonChallengeTooLate is the details' reason of the conflict ChallengeDeadline
// answers when the holds ahead would have no time to answer.
const ReasonChallengeTooLate = "challenge_too_late"

// ChallengeDeadline returns when the holds ahead of a challenger whose slot starts at
// start must confirm or release, for a challenge made at now under the site's calendar
// cal and challenge window:
//
//   - the window counts working time at the site (cal's working hours, overrides and
//     holidays, provisional ones closed; see ChallengeCalendar), from now;
//   - but the deadline is never later than ChallengeSettleLead before start: when the
//     window does not fit, the holds ahead get the working time until then;
//   - and if that leaves them less than ChallengeMinAnswer of working time (or less
//     than the window, if it is shorter), the challenge is refused: ECONFLICT (409)
//     with details reason ReasonChallengeTooLate, the latest deadline there could have
//     been and the working time it left. The challenger keeps its hold; the site's
//     managers can still decline the holds ahead, after which it confirms at once.
//
// The result is in UTC.
func ChallengeDeadline(cal *calendar.Calendar, window time.Duration, now, start time.Time) (time.Time, error) {
	latest := start.Add(-ChallengeSettleLead)
	full, err := cal.AddWorkingHours(now, window, ChallengeCalendar)
	switch {
	case err == nil && !full.After(latest):
		return full.UTC(), nil
	case err != nil && !errors.Is(err, calendar.ErrNoWorkingTime):
		return time.Time{}, err
	}
	var left time.Duration
	if latest.After(now) {
		left = cal.WorkingHoursBetween(now, latest, ChallengeCalendar)
	}
	if need := min(window, ChallengeMinAnswer); left < need {
		loc := cal.Location
		if loc == nil {
			loc = time.UTC
		}
		l := latest.In(loc)
		local := l.Format("Mon 2 Jan 2006 15:04") + " (" + loc.String() + ", UTC" + l.Format("-07:00") + ")"
		return time.Time{}, &Error{Code: ECONFLICT,
			Message: "The slot starts too soon to challenge the holds ahead of yours: a challenge must be settled an hour before the start, by " +
				local + ", which leaves them " + left.String() + " of working time to answer, less than " + need.String() +
				". Ask the site's managers: they can decline the holds ahead.",
			Details: map[string]any{"reason": ReasonChallengeTooLate, "latest_deadline": latest.UTC(), "latest_deadline_local": local,
				"working_time_left": Duration(left), "min_answer": Duration(need)}}
	}
	return latest.UTC(), nil
}
