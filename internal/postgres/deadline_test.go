package postgres_test

import (
	"testing"
	"time"

	"github.com/posthub/posthub/internal/booking"
)

// The demo Casablanca site (UTC+00:00 all of 2027) works Mon–Fri 09:00–13:00 and
// 14:00–19:00 and Sat 09:00–13:00, but 09:00–15:00 Mon–Fri only during Ramadan (to
// 9 March 2027); 10 and 11 March are a provisional Eid al-Fitr.

// setChallengeWindow sets the demo Casablanca site's challenge window.
func (f *fixture) setChallengeWindow(t *testing.T, window time.Duration) {
	t.Helper()
	pol, err := f.db.SitePolicy(f.ctx, f.actors["manager"].SiteIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, site := range f.actors["manager"].SiteIDs {
		pol.SiteID, pol.ChallengeWindow = site, booking.Duration(window)
		if _, err := f.db.UpdateSitePolicy(f.ctx, f.actors["manager"], pol); err != nil {
			t.Fatal(err)
		}
	}
}

// challenge has producer and then producer_other place a hold on [start, end) at now,
// and producer_other confirm: a challenge.
func (f *fixture) challenge(t *testing.T, now, start, end time.Time) (ahead, challenger booking.Booking) {
	t.Helper()
	suite := f.resources[:1]
	f.now = now
	ahead = f.hold(t, "producer", suite, start, end)
	challenger = f.hold(t, "producer_other", suite, start, end)
	challenger = f.act(t, "producer_other", challenger.ID, booking.ActionConfirm)
	if challenger.Status != booking.StatusHold || challenger.Challenge == nil {
		t.Fatalf("confirming behind a hold: %+v, want an open challenge", challenger)
	}
	return ahead, challenger
}

// settlesAt checks that ProcessDue settles the challenge at deadline and not a second
// before: the hold ahead is released and the challenger confirmed.
func (f *fixture) settlesAt(t *testing.T, deadline time.Time, ahead, challenger booking.Booking) {
	t.Helper()
	res, err := f.db.ProcessDue(f.ctx, deadline.Add(-time.Second))
	if err != nil || res.ChallengesSettled != 0 {
		t.Fatalf("a second before the deadline: %+v %v", res, err)
	}
	res, err = f.db.ProcessDue(f.ctx, deadline)
	if err != nil || res.ChallengesSettled != 1 {
		t.Fatalf("at the deadline: %+v %v", res, err)
	}
	if got := f.get(t, ahead.ID); got.Status != booking.StatusReleased || got.StatusReason != "challenge deadline passed" {
		t.Errorf("the hold ahead after the deadline: %s (%s)", got.Status, got.StatusReason)
	}
	if got := f.get(t, challenger.ID); got.Status != booking.StatusConfirmed {
		t.Errorf("the challenger after the deadline: %s", got.Status)
	}
}

// TestChallengeWindowCountsWorkingHours: the challenge window is working time at the
// site, not clock time, with provisional holidays closed.
func TestChallengeWindowCountsWorkingHours(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		window   time.Duration
		now      time.Time
		want     time.Time
		clockEnd time.Time // now + window, the old deadline
	}{
		// Fri 5 March 13:00–15:00, the Ramadan weekend closed, Mon 8 March 09:00–15:00.
		{"over a weekend", 8 * time.Hour, time.Date(2027, 3, 5, 13, 0, 0, 0, time.UTC),
			time.Date(2027, 3, 8, 15, 0, 0, 0, time.UTC), time.Date(2027, 3, 5, 21, 0, 0, 0, time.UTC)},
		// Tue 9 March 13:00–15:00, the provisional Eid of 10–11 March closed, Fri 12
		// March 09:00–11:00.
		{"over a provisional Eid", 4 * time.Hour, time.Date(2027, 3, 9, 13, 0, 0, 0, time.UTC),
			time.Date(2027, 3, 12, 11, 0, 0, 0, time.UTC), time.Date(2027, 3, 9, 17, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.setChallengeWindow(t, c.window)
			// The contested slot: Monday 15 March, 09:00–13:00, after both deadlines.
			ahead, challenger := f.challenge(t, c.now, f.at(15, 9), f.at(15, 13))
			if got := challenger.Challenge.Deadline; !got.Equal(c.want) {
				t.Fatalf("deadline %s, want %s (clock time would give %s)", got, c.want, c.clockEnd)
			}
			if got := f.get(t, ahead.ID); len(got.ChallengedBy) != 1 || !got.ChallengedBy[0].Deadline.Equal(c.want) {
				t.Fatalf("the hold ahead sees the challenge as %+v", got.ChallengedBy)
			}
			f.settlesAt(t, c.want, ahead, challenger)
		})
	}
}

// TestChallengeDeadlineEndsBeforeTheSlot: a challenge made on Wednesday afternoon for
// Thursday 10:00 is settled at 09:00 on Thursday, an hour before the start, not 48 h
// later on Friday when the slot has long begun.
func TestChallengeDeadlineEndsBeforeTheSlot(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // the default window, 48 h
	start := time.Date(2027, 3, 18, 10, 0, 0, 0, time.UTC)
	ahead, challenger := f.challenge(t, time.Date(2027, 3, 17, 15, 0, 0, 0, time.UTC), start, start.Add(3*time.Hour))
	want := start.Add(-booking.ChallengeSettleLead)
	if got := challenger.Challenge.Deadline; !got.Equal(want) {
		t.Fatalf("deadline %s, want %s, an hour before the slot", got, want)
	}
	f.settlesAt(t, want, ahead, challenger)
}

// TestChallengeRefusedWhenTheHoldsAheadCannotAnswer: when the slot starts too soon for
// the holds ahead to have an hour of working time before the cut-off, confirming
// behind them is refused with 409 and changes nothing; a manager declining the hold
// ahead then lets the confirmation through.
func TestChallengeRefusedWhenTheHoldsAheadCannotAnswer(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 3, 18, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		now  time.Time
	}{
		{"overnight for the morning", time.Date(2027, 3, 17, 22, 0, 0, 0, time.UTC)},
		{"within the hour before the start", time.Date(2027, 3, 18, 9, 30, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			suite := f.resources[:1]
			f.now = c.now
			ahead := f.hold(t, "producer", suite, start, start.Add(3*time.Hour))
			behind := f.hold(t, "producer_other", suite, start, start.Add(3*time.Hour))
			f.events = nil
			_, err := f.db.Act(f.ctx, f.actors["producer_other"], behind.ID, booking.ActionConfirm, booking.ActOptions{})
			de := wantCode(t, err, booking.ECONFLICT)
			if de.Details["reason"] != booking.ReasonChallengeTooLate ||
				de.Details["latest_deadline_local"] != "Thu 18 Mar 2027 09:00 (Africa/Casablanca, UTC+00:00)" {
				t.Errorf("details %v", de.Details)
			}
			if got := f.get(t, behind.ID); got.Status != booking.StatusHold || got.Challenge != nil || got.Version != behind.Version {
				t.Errorf("the refused challenger changed: %+v", got)
			}
			if got := f.get(t, ahead.ID); got.Status != booking.StatusHold || len(got.ChallengedBy) != 0 {
				t.Errorf("the hold ahead changed: %+v", got)
			}
			if len(f.events) != 0 {
				t.Errorf("a refused challenge raised %d events", len(f.events))
			}
			var n int
			if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM challenges`).Scan(&n); err != nil || n != 0 {
				t.Errorf("%d challenges stored (%v)", n, err)
			}
			// What the message advises: a manager declines the hold ahead.
			f.act(t, "manager", ahead.ID, booking.ActionDecline)
			if got := f.act(t, "producer_other", behind.ID, booking.ActionConfirm); got.Status != booking.StatusConfirmed {
				t.Errorf("confirming with nobody ahead: %s", got.Status)
			}
		})
	}
}

// TestHoldExpiryCappedAtTheStart: a hold whose lifetime would outlast the slot's start
// expires at the start, and says so.
func TestHoldExpiryCappedAtTheStart(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // the default lifetime, 7 days, from Mon 1 March 09:00
	soon := f.hold(t, "producer", f.resources[:1], f.at(3, 9), f.at(3, 13))
	if soon.HoldExpiresAt == nil || !soon.HoldExpiresAt.Equal(f.at(3, 9)) {
		t.Fatalf("a hold starting in two days expires at %v, want its start %s", soon.HoldExpiresAt, f.at(3, 9))
	}
	later := f.hold(t, "producer", f.resources[:1], f.at(19, 9), f.at(19, 13))
	if want := f.now.Add(7 * 24 * time.Hour); later.HoldExpiresAt == nil || !later.HoldExpiresAt.Equal(want) {
		t.Fatalf("a hold starting after its lifetime expires at %v, want %s", later.HoldExpiresAt, want)
	}
	res, err := f.db.ProcessDue(f.ctx, f.at(3, 9))
	if err != nil || res.Expired != 1 || f.get(t, soon.ID).Status != booking.StatusExpired || f.get(t, later.ID).Status != booking.StatusHold {
		t.Fatalf("at the first start: %+v %v", res, err)
	}
}

// TestRescheduledHoldExpiryCappedAtItsNewStart: a hold moved to a slot that starts
// before its expiry expires at the new start; a move never extends a hold.
func TestRescheduledHoldExpiryCappedAtItsNewStart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h := f.hold(t, "producer", f.resources[:1], f.at(19, 9), f.at(19, 13))
	if want := f.now.Add(7 * 24 * time.Hour); h.HoldExpiresAt == nil || !h.HoldExpiresAt.Equal(want) {
		t.Fatalf("the hold expires at %v, want %s", h.HoldExpiresAt, want)
	}
	moved, err := f.db.Reschedule(f.ctx, f.actors["producer"], h.ID, f.at(3, 9), f.at(3, 13), booking.ActOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if moved.HoldExpiresAt == nil || !moved.HoldExpiresAt.Equal(f.at(3, 9)) {
		t.Fatalf("the hold moved to 3 March 09:00 expires at %v, want its new start", moved.HoldExpiresAt)
	}
}
