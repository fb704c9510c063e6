package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/notify"
)

// TestSweepEnqueuesEachDueNoticeOnce: a sweep that fails before it commits (a crash)
// enqueues nothing and leaves the notices due; sweeps running at once enqueue each
// due notice once between them, and nothing that is not yet due.
func TestSweepEnqueuesEachDueNoticeOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	deps := f.deps(&memMailer{}, notify.WebhookSender{})
	var ids []string
	for _, r := range f.suites[:4] {
		b := f.book(t, "manager", "producer", booking.StatusConfirmed, []uuid.UUID{r}, at(10, 10), at(10, 18))
		ids = append(ids, b.ID.String())
	}
	// Every reminder is due (the 24 h ones at this instant); the warning of a hold
	// placed now, a day before it expires at its start, is not.
	f.setNow(at(9, 10))
	h := f.book(t, "producer", "producer", booking.StatusHold, f.suites[:1], at(11, 10), at(11, 18))
	f.clearJobs(t)
	pending := func() int { return f.count(t, `SELECT count(*) FROM booking_due_notices`) }
	enqueued := func() int {
		return f.count(t, `SELECT count(*) FROM river_job WHERE kind IN ($1, $2)`, jobs.ReminderArgs{}.Kind(), jobs.HoldExpiringArgs{}.Kind())
	}
	if n := pending(); n != 9 {
		t.Fatalf("%d due notices, want 9 (two reminders of four bookings, a hold's warning)", n)
	}

	crash := errors.New("crash before the commit")
	n, err := f.db.SweepDue(f.ctx, f.clock(), 100, func(ctx context.Context, tx pgx.Tx, ns []booking.DueNotice) error {
		if err := jobs.EnqueueDue(f.client)(ctx, tx, ns); err != nil {
			return err
		}
		return crash
	})
	if !errors.Is(err, crash) || n != 0 {
		t.Fatalf("failing sweep: %d, %v", n, err)
	}
	if p, e := pending(), enqueued(); p != 9 || e != 0 {
		t.Fatalf("after a failed sweep: %d due, %d enqueued; want 9 and 0", p, e)
	}

	var wg sync.WaitGroup
	total := make(chan int, 4)
	for range 4 {
		wg.Go(func() {
			n, err := jobs.SweepDueOnce(f.ctx, deps.Store, f.client, f.clock())
			if err != nil {
				t.Errorf("sweep: %v", err)
			}
			total <- n
		})
	}
	wg.Wait()
	close(total)
	sum := 0
	for n := range total {
		sum += n
	}
	if p, e := pending(), enqueued(); sum != 8 || p != 1 || e != 8 {
		t.Fatalf("concurrent sweeps enqueued %d (%d jobs), %d left due; want 8, 8 and 1", sum, e, p)
	}
	if c := f.count(t, `SELECT count(DISTINCT (args->>'booking_id', args->>'before')) FROM river_job WHERE kind = $1
		AND args->>'booking_id' = ANY($2)`, jobs.ReminderArgs{}.Kind(), ids); c != 8 {
		t.Fatalf("%d distinct reminders enqueued, want 8", c)
	}
	if f.count(t, `SELECT count(*) FROM booking_due_notices WHERE booking_id = $1 AND kind = 'hold_expiring'`, h.ID) != 1 {
		t.Fatal("the hold's warning, not yet due, was swept")
	}
	if n := f.sweep(t, deps); n != 0 {
		t.Fatalf("a further sweep enqueued %d", n)
	}
}

// TestFaultWorkerKilledWhileRemindersFallDue books confirmed bookings whose reminders
// fall due a few seconds later, runs `posthub worker` (whose sweeper enqueues them)
// against a real SMTP server and kills it with SIGKILL twice while their mails go out
// — each time just after the server has taken a message and before the worker hears
// that it did — then lets a last run finish. Every reminder reaches each of its
// people; a mail sent again after a kill has the same Message-ID; each delivery is
// recorded once; and every due notice was enqueued (none is left).
func TestFaultWorkerKilledWhileRemindersFallDue(t *testing.T) {
	f, smtpd, posthub := startFaultTest(t)
	bin := posthub()

	// Four bookings at the site's next working hour at least two hours ahead, with two
	// reminders each falling due 3 and 4 s from now: 16 mails (producer and manager).
	cal := f.casablanca(t)
	start := dbtest.NextWorking(t, cal, time.Now().UTC().Add(2*time.Hour))
	lead := start.Sub(time.Now()).Truncate(time.Second)
	offsets := []int64{int64((lead - 3*time.Second).Seconds()), int64((lead - 4*time.Second).Seconds())}
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE site_policies SET reminder_offsets_seconds = $2
		WHERE site_id = (SELECT site_id FROM resources WHERE id = $1)`, f.suites[0], offsets); err != nil {
		t.Fatal(err)
	}
	const n = 4
	for _, r := range f.suites[:n] {
		f.book(t, "manager", "producer", booking.StatusConfirmed, []uuid.UUID{r}, start, start.Add(time.Hour))
	}
	if c := f.count(t, `SELECT count(*) FROM booking_due_notices WHERE kind = 'reminder'`); c != 2*n {
		t.Fatalf("%d due reminders, want %d", c, 2*n)
	}
	const want = 2 * n * 2

	dir := t.TempDir()
	env := workerEnv(f, smtpd)
	isReminder := func(m *gotMail) bool {
		return strings.HasPrefix(m.Subject, "Rappel") || strings.HasPrefix(m.Subject, "Reminder")
	}
	reminders := 0 // reminder mails received in all (the confirmations go too)
	killAt := []int{3, 9}
	killWorkersAt(t, f, smtpd, bin, dir, killAt, 30*time.Second, func(_ int, m *gotMail) int {
		if isReminder(m) {
			reminders++
		}
		return reminders
	})
	last := startWorker(t, bin, dir, len(killAt), env(4)...)
	distinct := func() map[string]int {
		got := map[string]int{}
		for _, m := range smtpd.Messages() {
			if isReminder(m) {
				got[m.MessageID]++
			}
		}
		return got
	}
	waitFor(60*time.Second, func() bool { return len(distinct()) >= want })
	waitFor(30*time.Second, func() bool {
		return f.count(t, `SELECT count(*) FROM deliveries WHERE kind = 'reminder' AND channel = 'email' AND status = 'delivered'`) >= want
	})
	if err := last.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-last.exited

	got := distinct()
	dups := 0
	for _, c := range got {
		dups += c - 1
	}
	t.Logf("%d reminder mails, %d distinct Message-IDs, %d redelivered after %d kills", len(got)+dups, len(got), dups, len(killAt))
	if len(got) != want {
		t.Errorf("%d distinct reminder mails, want %d", len(got), want)
	}
	if dups > len(killAt) {
		t.Errorf("%d redeliveries for %d kills", dups, len(killAt))
	}
	if c := f.count(t, `SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE kind = 'reminder' AND channel = 'email'
		GROUP BY event_id, recipient_id HAVING count(*) = 1) x`); c != want {
		t.Errorf("%d reminder emails recorded once, want %d", c, want)
	}
	if c := f.count(t, `SELECT count(*) FROM booking_due_notices`); c != 0 {
		t.Errorf("%d due notices never enqueued", c)
	}
	if c := f.count(t, `SELECT count(*) FROM river_job WHERE kind = $1`, jobs.ReminderArgs{}.Kind()); c != 2*n {
		t.Errorf("%d reminder jobs, want %d (one per due notice)", c, 2*n)
	}
}
