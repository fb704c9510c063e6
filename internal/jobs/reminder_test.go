package jobs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/notify"
)

// followUp works the one follow-up job enqueued since the last clearJobs.
func (f *fixture) followUp(t *testing.T, deps *jobs.Deps) {
	t.Helper()
	job := rivertest.RequireInserted(f.ctx, t, f.driver, jobs.FollowUpArgs{}, &rivertest.RequireInsertedOpts{Queue: jobs.QueueReminders})
	// Keep only it, so what it schedules is all there is to see after.
	if _, err := f.db.Pool.Exec(f.ctx, `DELETE FROM river_job WHERE id <> $1`, job.ID); err != nil {
		t.Fatal(err)
	}
	w := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.FollowUpWorker{Deps: deps})
	row := job.JobRow
	if state, err := work(t, f, w, &row); err != nil || state != rivertype.JobStateCompleted {
		t.Fatalf("follow-up: %s %v", state, err)
	}
	if _, err := f.db.Pool.Exec(f.ctx, `DELETE FROM river_job WHERE id = $1`, job.ID); err != nil {
		t.Fatal(err)
	}
}

// reminders asserts that the follow-up scheduled a reminder 72 h and one 24 h before
// start (the default policy) and the due work at end, and returns the reminders.
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
	due := rivertest.RequireInserted(f.ctx, t, f.driver, jobs.DueArgs{},
		&rivertest.RequireInsertedOpts{Queue: jobs.QueueMaintenance, State: rivertype.JobStateScheduled, ScheduledAt: end})
	if due.Args.At == nil || !due.Args.At.Equal(end) {
		t.Errorf("due work at %v, want %s", due.Args.At, end)
	}
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

	b := f.book(t, "manager", "producer", booking.StatusConfirmed, f.suites[:1], at(10, 10), at(10, 18))
	f.followUp(t, deps)
	old := f.reminders(t, at(10, 10), at(10, 18))

	// Moved a day later: the old reminders are stale, the follow-up schedules new ones.
	if _, err := f.db.Reschedule(f.ctx, f.actors["manager"], b.ID, at(11, 10), at(11, 18), booking.ActOptions{}); err != nil {
		t.Fatal(err)
	}
	f.followUp(t, deps)
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

	// Cancelled: no reminder for its current start, and the follow-up schedules none.
	f.act(t, "manager", b.ID, booking.ActionCancel)
	f.followUp(t, deps)
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
	f.followUp(t, deps)
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
