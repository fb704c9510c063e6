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
	check := func(how string) {
		t.Helper()
		rows := rivertest.RequireManyInserted(f.ctx, t, f.driver, []rivertest.ExpectedJob{
			{Args: jobs.ReminderArgs{}, Opts: &rivertest.RequireInsertedOpts{Queue: jobs.QueueReminders, State: rivertype.JobStateAvailable}},
		})
		if a := decodeArgs[jobs.ReminderArgs](t, rows[0]); a.Before != 24*time.Hour || !a.Start.Equal(start) {
			t.Fatalf("%s: late reminder %+v, want the 24 h one for %s", how, a, start)
		}
	}
	check("the booking's transaction")
	f.followUp(t, f.deps(&memMailer{}, notify.WebhookSender{}), b.ID)
	check("a follow-up job")
}
