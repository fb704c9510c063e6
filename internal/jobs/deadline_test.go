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

// setNow moves the fixture's frozen clock.
func (f *fixture) setNow(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

// mailTo returns the text of the one message sent to email whose subject starts with
// prefix.
func mailTo(t *testing.T, m *memMailer, email, prefix string) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var found []string
	for _, msg := range m.msgs {
		if msg.To == email && strings.HasPrefix(msg.Subject, prefix) {
			found = append(found, msg.Text)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d messages to %s starting %q, want 1", len(found), email, prefix)
	}
	return found[0]
}

// TestChallengeDeadlineScheduledAndShownWithItsOffset: a challenge made on Wednesday
// 15:00 for Thursday 10:00 has its deadline an hour before the slot; the due work is
// scheduled then, and the challenger and the holder ahead are told it in the site's
// wall-clock with the zone and its UTC offset.
func TestChallengeDeadlineScheduledAndShownWithItsOffset(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.setNow(time.Date(2027, 3, 17, 15, 0, 0, 0, time.UTC))
	start := time.Date(2027, 3, 18, 10, 0, 0, 0, time.UTC)
	deadline := start.Add(-time.Hour)
	f.book(t, "producer", "producer", booking.StatusHold, f.suites[:1], start, start.Add(3*time.Hour))
	behind := f.book(t, "producer_other", "producer_other", booking.StatusHold, f.suites[:1], start, start.Add(3*time.Hour))
	f.clearJobs(t)
	// An admin confirms the hold behind for its producer, who is then told (the one who
	// acts is not).
	if b := f.act(t, "admin", behind.ID, booking.ActionConfirm); b.Challenge == nil || !b.Challenge.Deadline.Equal(deadline) {
		t.Fatalf("challenge %+v, want the deadline %s", b.Challenge, deadline)
	}
	if n := f.count(t, `SELECT count(*) FROM river_job WHERE kind = $1 AND scheduled_at = $2`, jobs.DueArgs{}.Kind(), deadline); n != 1 {
		t.Errorf("%d due-work jobs at the deadline, want 1", n)
	}

	mails := &memMailer{}
	worker := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.NoticeWorker{Deps: f.deps(mails, notify.WebhookSender{})})
	for _, row := range f.noticeRows(t, 2) {
		f.inTx(t, func(tx pgx.Tx) {
			if res, err := worker.WorkJob(f.ctx, t, tx, row); err != nil || res.Job.State != rivertype.JobStateCompleted {
				t.Fatalf("notice: %+v %v", res, err)
			}
		})
	}
	// The holder ahead reads French, the challenger English.
	if text := mailTo(t, mails, f.actors["producer"].Email, "Votre option est challengée"); !strings.Contains(text,
		"Échéance: jeu. 18 mars 2027 09:00 (Africa/Casablanca, UTC+00:00)\n") {
		t.Errorf("the holder ahead's notice:\n%s", text)
	}
	if text := mailTo(t, mails, f.actors["producer_other"].Email, "Challenge opened"); !strings.Contains(text,
		"Deadline: Thu 18 Mar 2027 09:00 (Africa/Casablanca, UTC+00:00)\n") {
		t.Errorf("the challenger's notice:\n%s", text)
	}
}

// TestHoldExpiryFollowUpsAtTheSlotStart: a hold whose lifetime outlasts its slot's
// start expires at the start; the due work is scheduled then and the warning a day
// before, naming that time with the zone and offset.
func TestHoldExpiryFollowUpsAtTheSlotStart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	start := at(3, 9) // two days ahead, within the default 7-day lifetime
	h := f.book(t, "producer", "producer", booking.StatusHold, f.suites[:1], start, start.Add(4*time.Hour))
	if h.HoldExpiresAt == nil || !h.HoldExpiresAt.Equal(start) {
		t.Fatalf("hold expires at %v, want its start %s", h.HoldExpiresAt, start)
	}
	rivertest.RequireInserted(f.ctx, t, f.driver, jobs.DueArgs{},
		&rivertest.RequireInsertedOpts{Queue: jobs.QueueMaintenance, ScheduledAt: start})
	if due := f.dueNotices(t, h.ID); len(due) != 1 || due[0].Kind != booking.DueHoldExpiring || !due[0].Ref.Equal(start) ||
		!due[0].Due.Equal(start.Add(-jobs.HoldExpiryWarning)) {
		t.Fatalf("due notices %+v, want the warning %s before %s", due, jobs.HoldExpiryWarning, start)
	}
	mails := &memMailer{}
	deps := f.deps(mails, notify.WebhookSender{})
	f.setNow(start.Add(-jobs.HoldExpiryWarning))
	if n := f.sweep(t, deps); n != 1 {
		t.Fatalf("the sweep at the warning's time enqueued %d, want 1", n)
	}
	job := rivertest.RequireInserted(f.ctx, t, f.driver, jobs.HoldExpiringArgs{},
		&rivertest.RequireInsertedOpts{Queue: jobs.QueueReminders, State: rivertype.JobStateAvailable})
	warn := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.HoldExpiringWorker{Deps: deps})
	f.inTx(t, func(tx pgx.Tx) {
		if res, err := warn.Work(f.ctx, t, tx, job.Args, nil); err != nil || res.Job.State != rivertype.JobStateCompleted {
			t.Fatalf("warning: %+v %v", res, err)
		}
	})
	if text := mailTo(t, mails, f.actors["producer"].Email, "Votre option expire bientôt"); !strings.Contains(text,
		"Échéance: mer. 3 mars 2027 09:00 (Africa/Casablanca, UTC+00:00)\n") {
		t.Errorf("the warning:\n%s", text)
	}
}
