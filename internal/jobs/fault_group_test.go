package jobs_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/jobs"
)

// TestFaultWorkerKilledMidGroupsDeliversOnce is TestFaultWorkerKilledMidBatchDeliversOnce
// for grouped notices: a producer accepts plans of three stages each, and each plan is
// one notice to his two colleagues (none to him). `posthub worker` is killed with
// SIGKILL twice just after the SMTP server has taken a mail and before the worker hears
// so; a last run finishes. Every colleague gets one mail per plan, a mail sent again
// after a kill has the same Message-ID (at most one per kill), the one who acted gets
// none, and each (notice, person, channel) is recorded once.
func TestFaultWorkerKilledMidGroupsDeliversOnce(t *testing.T) {
	f, smtpd, posthub := startFaultTest(t)
	actor := f.addProducer(t, "producer", "ousmane", "Ousmane Ndiaye", "en")
	f.addProducer(t, "producer", "fatou", "Fatou Sall", "en")
	f.clearJobs(t)

	const plans = 8
	from := time.Now().UTC().Truncate(24 * time.Hour).Add(60 * 24 * time.Hour) // reminders far off
	for i := range plans {
		f.acceptPlan(t, "ousmane", "producer", from.Add(time.Duration(i)*7*24*time.Hour))
	}
	type key struct{ event, user uuid.UUID }
	expected := map[string]key{}
	var groups []uuid.UUID
	for _, r := range f.groupRows(t, plans) {
		g := decodeArgs[jobs.NoticeGroupArgs](t, r)
		groups = append(groups, g.EventID)
		for _, who := range []string{"producer", "fatou"} {
			expected[messageID(g.EventID, f.users[who])] = key{g.EventID, f.users[who]}
		}
	}
	bin := posthub()

	dir := t.TempDir()
	env := workerEnv(f, smtpd)
	killAt := []int{3, 10}
	killWorkersAt(t, f, smtpd, bin, dir, killAt, 20*time.Second, func(total int, _ *gotMail) int { return total })
	last := startWorker(t, bin, dir, len(killAt), env(4)...)
	// Each plan: email and in-app to the two colleagues, in-app to the one who acted.
	const perPlan = 5
	allIn := waitFor(30*time.Second, func() bool {
		return f.count(t, `SELECT (SELECT count(*) FROM deliveries WHERE status = 'delivered' AND event_id = ANY($1))
			+ (SELECT count(*) FROM notifications WHERE event_id = ANY($1))`, groups) >= perPlan*plans
	})
	if err := last.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-last.exited:
	case <-time.After(25 * time.Second):
		t.Errorf("worker did not stop within 25 s of SIGTERM")
	}

	got := byMessageID(smtpd)
	duplicates := 0
	for id := range expected {
		if got[id] == 0 {
			t.Errorf("mail %s never arrived", id)
		}
	}
	for id, c := range got {
		if _, ok := expected[id]; !ok {
			t.Errorf("unexpected mail %s", id)
		}
		duplicates += c - 1
	}
	if !allIn || duplicates > len(killAt) {
		t.Errorf("all recorded: %v; %d mails sent again for %d kills (%v)", allIn, duplicates, len(killAt), got)
	}
	for _, m := range smtpd.Messages() {
		if len(m.EnvelopeTo) == 1 && m.EnvelopeTo[0] == actor.Email {
			t.Errorf("the one who accepted the plans was mailed %s", m.MessageID)
		}
	}
	rows, _ := f.db.Pool.Query(f.ctx, `SELECT event_id, recipient_id, channel, count(*) FROM deliveries GROUP BY 1, 2, 3`)
	var k key
	var channel string
	var n, emails int
	if _, err := pgx.ForEachRow(rows, []any{&k.event, &k.user, &channel, &n}, func() error {
		if n != 1 {
			t.Errorf("delivery %s of %s to %s recorded %d times", channel, k.event, k.user, n)
		}
		if channel == "email" {
			emails++
			if _, ok := expected[messageID(k.event, k.user)]; !ok {
				t.Errorf("an email delivery of %s to %s not expected", k.event, k.user)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if emails != len(expected) {
		t.Errorf("%d email deliveries recorded, want %d", emails, len(expected))
	}
	// The feed: each plan's notice once in each of the three people's feeds.
	if c := f.count(t, `SELECT count(DISTINCT (event_id, user_id)) FROM notifications WHERE event_id = ANY($1)`, groups); c != 3*plans {
		t.Errorf("%d feed entries, want %d", c, 3*plans)
	}
	if c := f.count(t, `SELECT count(*) FROM river_job WHERE kind = $1 AND state IN ('discarded', 'cancelled')`, jobs.NoticeGroupArgs{}.Kind()); c != 0 {
		t.Errorf("%d grouped notice jobs given up on", c)
	}
}
