package jobs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/notify"
)

// followUp clears the jobs, then inserts and works a follow-up job for the booking, as
// one from a process that did not know the booking's state; what it schedules is then
// all there is to see.
func (f *fixture) followUp(t *testing.T, deps *jobs.Deps, id uuid.UUID) {
	t.Helper()
	f.clearJobs(t)
	w := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.FollowUpWorker{Deps: deps})
	f.inTx(t, func(tx pgx.Tx) {
		if res, err := w.Work(f.ctx, t, tx, jobs.FollowUpArgs{BookingID: id}, nil); err != nil || res.Job.State != rivertype.JobStateCompleted {
			t.Fatalf("follow-up: %+v %v", res, err)
		}
	})
	if _, err := f.db.Pool.Exec(f.ctx, `DELETE FROM river_job WHERE kind = $1`, jobs.FollowUpArgs{}.Kind()); err != nil {
		t.Fatal(err)
	}
}

// reminders asserts that a reminder 72 h and one 24 h before start (the default
// policy) were scheduled, and no due work at the end (the periodic due work completes
// bookings), and returns the reminders.
func (f *fixture) reminders(t *testing.T, start, end time.Time) []jobs.ReminderArgs {
	t.Helper()
	rows := rivertest.RequireManyInserted(f.ctx, t, f.driver, []rivertest.ExpectedJob{
		{Args: jobs.ReminderArgs{}, Opts: &rivertest.RequireInsertedOpts{Queue: jobs.QueueReminders, State: rivertype.JobStateScheduled, ScheduledAt: start.Add(-72 * time.Hour)}},
		{Args: jobs.ReminderArgs{}, Opts: &rivertest.RequireInsertedOpts{Queue: jobs.QueueReminders, State: rivertype.JobStateScheduled, ScheduledAt: start.Add(-24 * time.Hour)}},
	})
	var out []jobs.ReminderArgs
	for i, before := range []time.Duration{72 * time.Hour, 24 * time.Hour} {
		a := decodeArgs[jobs.ReminderArgs](t, rows[i])
		if !a.Start.Equal(start) || a.Before != before {
			t.Errorf("reminder %+v, want start %s, %s before", a, start, before)
		}
		out = append(out, a)
	}
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.DueArgs{}, nil)
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.FollowUpArgs{}, nil)
	f.clearJobs(t)
	return out
}

func TestStaleRemindersDoNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	smtpd := newMailServer(t)
	deps := f.deps(smtpd.Mailer(), notify.WebhookSender{})
	remind := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.ReminderWorker{Deps: deps})
	run := func(a jobs.ReminderArgs) {
		t.Helper()
		f.inTx(t, func(tx pgx.Tx) {
			if res, err := remind.Work(f.ctx, t, tx, a, nil); err != nil || res.Job.State != rivertype.JobStateCompleted {
				t.Fatalf("reminder %+v: %v %v", a, res, err)
			}
		})
	}
	sent := func() (mails, inApp int) {
		return smtpd.Len(), f.count(t, `SELECT count(*) FROM notifications WHERE kind = 'reminder'`)
	}

	// The booking's own transaction schedules its reminders; a follow-up job (from a
	// process that did not know the state) schedules the same.
	b := f.book(t, "manager", "producer", booking.StatusConfirmed, f.suites[:1], at(10, 10), at(10, 18))
	f.reminders(t, at(10, 10), at(10, 18))
	f.followUp(t, deps, b.ID)
	old := f.reminders(t, at(10, 10), at(10, 18))

	// Moved a day later: the old reminders are stale, the move schedules new ones.
	if _, err := f.db.Reschedule(f.ctx, f.actors["manager"], b.ID, at(11, 10), at(11, 18), booking.ActOptions{}); err != nil {
		t.Fatal(err)
	}
	moved := f.reminders(t, at(11, 10), at(11, 18))
	for _, a := range old {
		run(a)
	}
	if m, n := sent(); m != 0 || n != 0 {
		t.Fatalf("stale reminders sent %d mails and %d notifications", m, n)
	}

	// The current one is sent, to the producer and the site's manager, once.
	run(moved[1])
	run(moved[1])
	if m, n := sent(); m != 2 || n != 2 {
		t.Fatalf("current reminder sent %d mails and %d notifications, want 2 and 2", m, n)
	}
	for _, m := range smtpd.Messages() {
		if want := "Rappel : " + f.prod["producer"].Title + " commence bientôt"; m.Subject != want {
			t.Errorf("subject %q, want %q", m.Subject, want)
		}
		if !strings.Contains(m.Text, "jeu. 11 mars 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)") {
			t.Errorf("reminder shows the wrong time:\n%s", m.Text)
		}
	}

	// Cancelled: no reminder for its current start, and nothing schedules one.
	f.clearJobs(t)
	f.act(t, "manager", b.ID, booking.ActionCancel)
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.ReminderArgs{}, nil)
	f.followUp(t, deps, b.ID)
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.ReminderArgs{}, nil)
	run(moved[0])
	if m, n := sent(); m != 2 || n != 2 {
		t.Fatalf("after cancelling: %d mails and %d notifications, want still 2 and 2", m, n)
	}
}

func TestHoldExpiringWarnsOnlyLiveHolds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	mails := &memMailer{}
	deps := f.deps(mails, notify.WebhookSender{})
	warn := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.HoldExpiringWorker{Deps: deps})
	run := func(a jobs.HoldExpiringArgs) {
		t.Helper()
		f.inTx(t, func(tx pgx.Tx) {
			if res, err := warn.Work(f.ctx, t, tx, a, nil); err != nil || res.Job.State != rivertype.JobStateCompleted {
				t.Fatalf("warning %+v: %v %v", a, res, err)
			}
		})
	}

	h := f.book(t, "producer", "producer", booking.StatusHold, f.suites[:1], at(10, 10), at(10, 18))
	expires := frozenNow.Add(7 * 24 * time.Hour) // the default hold lifetime
	if h.HoldExpiresAt == nil || !h.HoldExpiresAt.Equal(expires) {
		t.Fatalf("hold expires at %v, want %s", h.HoldExpiresAt, expires)
	}
	job := rivertest.RequireInserted(f.ctx, t, f.driver, jobs.HoldExpiringArgs{},
		&rivertest.RequireInsertedOpts{Queue: jobs.QueueReminders, State: rivertype.JobStateScheduled, ScheduledAt: expires.Add(-jobs.HoldExpiryWarning)})
	rivertest.RequireInserted(f.ctx, t, f.driver, jobs.DueArgs{},
		&rivertest.RequireInsertedOpts{Queue: jobs.QueueMaintenance, ScheduledAt: expires})

	run(jobs.HoldExpiringArgs{BookingID: h.ID, ExpiresAt: expires.Add(time.Hour)}) // not this hold's expiry
	if n := mails.Len(); n != 0 {
		t.Fatalf("%d warnings for another expiry", n)
	}
	run(job.Args)
	run(job.Args)
	if n := mails.Len(); n != 1 { // the producer only, once
		t.Fatalf("%d warnings, want 1", n)
	}
	if m := mails.msgs[0]; m.To != f.actors["producer"].Email || !strings.HasPrefix(m.Subject, "Votre option expire bientôt") {
		t.Errorf("warning %+v", m)
	}
	// A hold released before its warning is not warned of.
	h2 := f.book(t, "producer", "producer", booking.StatusHold, f.suites[1:2], at(10, 10), at(10, 18))
	f.act(t, "producer", h2.ID, booking.ActionRelease)
	run(jobs.HoldExpiringArgs{BookingID: h2.ID, ExpiresAt: *h2.HoldExpiresAt})
	if n := mails.Len(); n != 1 {
		t.Fatalf("%d warnings after the release, want still 1", n)
	}
}
