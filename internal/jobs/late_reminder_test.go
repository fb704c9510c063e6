package jobs_test

import (
	"testing"
	"time"

	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/notify"
)

// TestLatePassedReminderIsSentNow: a booking made inside its reminder window (or a
// follow-up job run late, rescued after a crash) still gets the nearest passed
// reminder, now, when the booking has not started.
func TestLatePassedReminderIsSentNow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.clearJobs(t)
	// Starts in 3 hours, inside the site's (Ramadan) working hours that Monday, 09:00 to
	// 15:00: both the 72 h and the 24 h reminder times have passed.
	start := frozenNow.Add(3 * time.Hour)
	b := f.book(t, "manager", "producer", booking.StatusConfirmed, f.suites[:1], start, start.Add(3*time.Hour))
	deps := f.deps(&memMailer{}, notify.WebhookSender{})
	check := func(how string) {
		t.Helper()
		due := f.dueNotices(t, b.ID)
		if len(due) != 1 || due[0].Kind != booking.DueReminder || due[0].Before != 24*time.Hour || !due[0].Ref.Equal(start) || !due[0].Due.Equal(frozenNow) {
			t.Fatalf("%s: due notices %+v, want the 24 h reminder for %s, due now", how, due, start)
		}
		rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.ReminderArgs{}, nil)
		// The next sweep enqueues it, available at once.
		if n := f.sweep(t, deps); n != 1 {
			t.Fatalf("%s: the sweep enqueued %d, want 1", how, n)
		}
		rows := rivertest.RequireManyInserted(f.ctx, t, f.driver, []rivertest.ExpectedJob{
			{Args: jobs.ReminderArgs{}, Opts: &rivertest.RequireInsertedOpts{Queue: jobs.QueueReminders, State: rivertype.JobStateAvailable}},
		})
		if a := decodeArgs[jobs.ReminderArgs](t, rows[0]); a.Before != 24*time.Hour || !a.Start.Equal(start) {
			t.Fatalf("%s: late reminder %+v, want the 24 h one for %s", how, a, start)
		}
	}
	check("the booking's transaction")
	f.followUp(t, deps, b.ID)
	check("a follow-up job")
}
