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

// followUp clears the jobs and the booking's due notices, then inserts and works a
// follow-up job for the booking, as one from a process that did not know the
// booking's state; what it schedules is then all there is to see.
func (f *fixture) followUp(t *testing.T, deps *jobs.Deps, id uuid.UUID) {
	t.Helper()
	f.clearJobs(t)
	if _, err := f.db.Pool.Exec(f.ctx, `DELETE FROM booking_due_notices WHERE booking_id = $1`, id); err != nil {
		t.Fatal(err)
	}
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

// dueNotices are the due notices stored for a booking, by due time.
func (f *fixture) dueNotices(t *testing.T, id uuid.UUID) []booking.DueNotice {
	t.Helper()
	rows, _ := f.db.Pool.Query(f.ctx, `SELECT booking_id, kind, ref_at, before_ns, due_at FROM booking_due_notices
		WHERE booking_id = $1 ORDER BY due_at, kind, before_ns`, id)
	var out []booking.DueNotice
	var d booking.DueNotice
	var before int64
	if _, err := pgx.ForEachRow(rows, []any{&d.BookingID, &d.Kind, &d.Ref, &before, &d.Due}, func() error {
		d.Before = time.Duration(before)
		out = append(out, d)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// reminders asserts that the booking's due notices are a reminder 72 h and one 24 h
// before start (the default policy) and nothing else, and that its change scheduled
// no River job for them, nor due work at the end (the periodic due work completes
// bookings); it returns the reminders' jobs as the sweep will enqueue them.
func (f *fixture) reminders(t *testing.T, id uuid.UUID, start time.Time) []jobs.ReminderArgs {
	t.Helper()
	due := f.dueNotices(t, id)
	var out []jobs.ReminderArgs
	for i, before := range []time.Duration{72 * time.Hour, 24 * time.Hour} {
		if i >= len(due) {
			t.Fatalf("due notices %+v, want reminders 72 h and 24 h before %s", due, start)
		}
		d := due[i]
		if d.Kind != booking.DueReminder || !d.Ref.Equal(start) || d.Before != before || !d.Due.Equal(start.Add(-before)) {
			t.Errorf("due notice %+v, want a reminder %s before %s", d, before, start)
		}
		out = append(out, jobs.ReminderArgs{BookingID: id, Start: start, Before: before})
	}
	if len(due) != 2 {
		t.Errorf("due notices %+v, want 2", due)
	}
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.ReminderArgs{}, nil)
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.DueArgs{}, nil)
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.FollowUpArgs{}, nil)
	f.clearJobs(t)
	return out
}

// sweep enqueues the due notices as a worker process's sweeper does, at the fixture's
// clock, and returns how many it enqueued.
func (f *fixture) sweep(t *testing.T, deps *jobs.Deps) int {
	t.Helper()
	n, err := jobs.SweepDueOnce(f.ctx, deps.Store, f.client, f.clock())
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	return n
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
	f.reminders(t, b.ID, at(10, 10))
	f.followUp(t, deps, b.ID)
	old := f.reminders(t, b.ID, at(10, 10))

	// Moved a day later: the move replaces the due reminders by the new ones. Jobs
	// for the old times (as an earlier release scheduled them, still queued after an
	// upgrade) are stale and do nothing.
	if _, err := f.db.Reschedule(f.ctx, f.actors["manager"], b.ID, at(11, 10), at(11, 18), booking.ActOptions{}); err != nil {
		t.Fatal(err)
	}
	moved := f.reminders(t, b.ID, at(11, 10))
	for _, a := range old {
		run(a)
	}
	if m, n := sent(); m != 0 || n != 0 {
		t.Fatalf("stale reminders sent %d mails and %d notifications", m, n)
	}

	// Nothing is enqueued before its time; at the 72 h reminder's time, that one is,
	// once however many sweeps run; it is sent to the producer and the site's
	// manager, once however often its job runs.
	f.clearJobs(t) // the stale ones just worked
	f.setNow(at(8, 10).Add(-time.Second))
	if n := f.sweep(t, deps); n != 0 {
		t.Fatalf("a sweep before any reminder is due enqueued %d", n)
	}
	f.setNow(at(8, 10))
	if n := f.sweep(t, deps); n != 1 {
		t.Fatalf("the sweep at the 72 h reminder's time enqueued %d, want 1", n)
	}
	if n := f.sweep(t, deps); n != 0 {
		t.Fatalf("a second sweep enqueued %d more", n)
	}
	job := rivertest.RequireInserted(f.ctx, t, f.driver, jobs.ReminderArgs{},
		&rivertest.RequireInsertedOpts{Queue: jobs.QueueReminders, State: rivertype.JobStateAvailable})
	if a := job.Args; a.BookingID != moved[0].BookingID || !a.Start.Equal(moved[0].Start) || a.Before != moved[0].Before {
		t.Fatalf("enqueued %+v, want %+v", job.Args, moved[0])
	}
	if due := f.dueNotices(t, b.ID); len(due) != 1 || due[0].Before != 24*time.Hour {
		t.Fatalf("due notices after the sweep: %+v, want the 24 h reminder", due)
	}
	run(job.Args)
	run(job.Args)
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

	// Cancelled: its due reminder is dropped, nothing schedules one, and a job of its
	// reminder (queued before the cancellation) sends nothing.
	f.clearJobs(t)
	f.act(t, "manager", b.ID, booking.ActionCancel)
	if due := f.dueNotices(t, b.ID); len(due) != 0 {
		t.Fatalf("due notices of a cancelled booking: %+v", due)
	}
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.ReminderArgs{}, nil)
	f.followUp(t, deps, b.ID)
	if due := f.dueNotices(t, b.ID); len(due) != 0 {
		t.Fatalf("a follow-up scheduled due notices for a cancelled booking: %+v", due)
	}
	f.setNow(at(10, 10))
	if n := f.sweep(t, deps); n != 0 {
		t.Fatalf("a sweep after the cancellation enqueued %d", n)
	}
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.ReminderArgs{}, nil)
	run(moved[1])
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
	if due := f.dueNotices(t, h.ID); len(due) != 1 || due[0].Kind != booking.DueHoldExpiring || !due[0].Ref.Equal(expires) ||
		!due[0].Due.Equal(expires.Add(-jobs.HoldExpiryWarning)) {
		t.Fatalf("due notices %+v, want the warning %s before %s", due, jobs.HoldExpiryWarning, expires)
	}
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.HoldExpiringArgs{}, nil)
	rivertest.RequireInserted(f.ctx, t, f.driver, jobs.DueArgs{},
		&rivertest.RequireInsertedOpts{Queue: jobs.QueueMaintenance, ScheduledAt: expires})
	f.setNow(expires.Add(-jobs.HoldExpiryWarning))
	if n := f.sweep(t, deps); n != 1 {
		t.Fatalf("the sweep at the warning's time enqueued %d, want 1", n)
	}
	job := rivertest.RequireInserted(f.ctx, t, f.driver, jobs.HoldExpiringArgs{},
		&rivertest.RequireInsertedOpts{Queue: jobs.QueueReminders, State: rivertype.JobStateAvailable})
	if job.Args.BookingID != h.ID || !job.Args.ExpiresAt.Equal(expires) {
		t.Fatalf("warning job %+v", job.Args)
	}

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
	if due := f.dueNotices(t, h2.ID); len(due) != 1 {
		t.Fatalf("due notices of the second hold: %+v", due)
	}
	f.act(t, "producer", h2.ID, booking.ActionRelease)
	if due := f.dueNotices(t, h2.ID); len(due) != 0 {
		t.Fatalf("due notices of a released hold: %+v", due)
	}
	run(jobs.HoldExpiringArgs{BookingID: h2.ID, ExpiresAt: *h2.HoldExpiresAt})
	if n := mails.Len(); n != 1 {
		t.Fatalf("%d warnings after the release, want still 1", n)
	}
}
