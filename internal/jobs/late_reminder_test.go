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

// TestLateFollowUpSendsThePassedReminderNow: a follow-up that runs after a reminder's
// time (rescued after a crash, or a booking made inside the reminder window) still
// schedules the nearest passed reminder, for now, when the booking has not started.
func TestLateFollowUpSendsThePassedReminderNow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.clearJobs(t)
	// Starts in 10 hours: both the 72 h and the 24 h reminder times have passed.
	start := frozenNow.Add(10 * time.Hour)
	f.book(t, "manager", "producer", booking.StatusConfirmed, f.suites[:1], start, start.Add(3*time.Hour))
	f.followUp(t, f.deps(&memMailer{}, notify.WebhookSender{}))
	rows := rivertest.RequireManyInserted(f.ctx, t, f.driver, []rivertest.ExpectedJob{
		{Args: jobs.ReminderArgs{}, Opts: &rivertest.RequireInsertedOpts{Queue: jobs.QueueReminders, State: rivertype.JobStateAvailable}},
		{Args: jobs.DueArgs{}, Opts: &rivertest.RequireInsertedOpts{Queue: jobs.QueueMaintenance, State: rivertype.JobStateScheduled}},
	})
	a := decodeArgs[jobs.ReminderArgs](t, rows[0])
	if a.Before != 24*time.Hour || !a.Start.Equal(start) {
		t.Fatalf("late reminder %+v, want the 24 h one for %s", a, start)
	}
}
