package jobs_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/jobs"
)

// startFaultTest starts a test that runs `posthub worker` processes and kills them:
// skipped with -short (make test and CI run it), parallel; it builds posthub while the
// fixture and the mail server start, and posthub waits for the binary's path.
func startFaultTest(t *testing.T) (f *fixture, smtpd *mailServer, posthub func() string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds posthub and kills its worker processes; make test and CI run it")
	}
	t.Parallel()
	var bin string
	var buildErr error
	built := make(chan struct{})
	binDir := t.TempDir()
	go func() {
		defer close(built)
		bin, buildErr = buildPosthub(binDir)
	}()
	f, smtpd = newFixture(t, true), newMailServer(t)
	return f, smtpd, func() string {
		<-built
		if buildErr != nil {
			t.Fatal(buildErr)
		}
		return bin
	}
}

// buildPosthub builds the posthub binary into dir.
func buildPosthub(dir string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "posthub")
	out, err := exec.Command(goTool, "build", "-o", bin, "github.com/posthub/posthub/cmd/posthub").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

// workerProc is one `posthub worker` process.
type workerProc struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{} // closed once it has exited and been reaped
	err    error         // its exit, once exited is closed
}

func startWorker(t *testing.T, bin, dir string, run int, env ...string) *workerProc {
	t.Helper()
	p := &workerProc{log: filepath.Join(dir, fmt.Sprintf("worker-%d.log", run)), exited: make(chan struct{})}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "worker")
	p.cmd.Env = append([]string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}, env...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("worker run %d log:\n%s", run, b)
		}
	})
	return p
}

// workerEnv is the environment of a `posthub worker` on the fixture's database, sending
// through smtpd with this many workers.
func workerEnv(f *fixture, smtpd *mailServer) func(workers int) []string {
	return func(workers int) []string {
		return []string{"DATABASE_URL=" + f.url, fmt.Sprintf("POSTHUB_SMTP_URL=smtp://127.0.0.1:%d?tls=none", smtpd.Port),
			fmt.Sprintf("POSTHUB_WORKERS=%d", workers), "POSTHUB_LOG_LEVEL=warn", "POSTHUB_MAIL_FROM=posthub <noreply@posthub.test>",
			"POSTHUB_PUBLIC_URL=https://posthub.test"}
	}
}

// killWorkersAt runs one single-worker `posthub worker` per entry of killAt, killing
// each with SIGKILL once count (called with each mail received, under a lock) reaches
// its entry; after each kill it fast-forwards River's rescue of the killed worker's
// jobs, its leadership and the lease of its delivery claims, as a restart long after
// would find them. It fails the test if a run does not reach its count within wait.
func killWorkersAt(t *testing.T, f *fixture, smtpd *mailServer, bin, dir string, killAt []int, wait time.Duration, count func(total int, m *gotMail) int) {
	t.Helper()
	var mu sync.Mutex
	var current *workerProc
	next := 0
	killed := make(chan int, len(killAt))
	smtpd.mu.Lock()
	smtpd.onData = func(total int, m *gotMail) {
		mu.Lock()
		defer mu.Unlock()
		n := count(total, m)
		if next >= len(killAt) || n < killAt[next] || current == nil {
			return
		}
		_ = current.cmd.Process.Signal(syscall.SIGKILL)
		select {
		case <-current.exited:
		case <-time.After(10 * time.Second):
		}
		next++
		current = nil
		killed <- n
	}
	smtpd.mu.Unlock()
	env := workerEnv(f, smtpd)
	for run := range killAt {
		p := startWorker(t, bin, dir, run, env(1)...)
		mu.Lock()
		current = p
		mu.Unlock()
		select {
		case n := <-killed:
			<-p.exited
			t.Logf("run %d killed with SIGKILL at %d mails counted (%v)", run, n, p.err)
		case <-time.After(wait):
			select {
			case <-p.exited:
				t.Fatalf("worker run %d exited by itself: %v", run, p.err)
			default:
				t.Fatalf("run %d: %d mails in %s, waiting for %d", run, smtpd.Len(), wait, killAt[run])
			}
		}
		// The killed worker's jobs stay running until River's rescuer, on the leader,
		// finds them older than RescueStuckJobsAfter, and its leadership lasts until its
		// TTL passes. Fast-forward both instead of waiting: the next run rescues the
		// jobs at once and retries them, as it would after that wait.
		var stuck []string
		if err := f.db.Pool.QueryRow(f.ctx, `WITH s AS (UPDATE river_job SET attempted_at = attempted_at - interval '2 hours'
			WHERE state = 'running' RETURNING kind) SELECT coalesce(array_agg(kind ORDER BY kind), '{}') FROM s`).Scan(&stuck); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.Pool.Exec(f.ctx, `DELETE FROM river_leader`); err != nil {
			t.Fatal(err)
		}
		// Likewise the killed worker's delivery claims lapse after their lease.
		var claims int
		if err := f.db.Pool.QueryRow(f.ctx, `WITH c AS (UPDATE deliveries SET claimed_at = claimed_at - interval '2 hours'
			WHERE status = 'sending' RETURNING 1) SELECT count(*) FROM c`).Scan(&claims); err != nil {
			t.Fatal(err)
		}
		t.Logf("run %d left %d delivery claims and %d jobs running: %v", run, claims, len(stuck), stuck)
	}
}

// TestFaultWorkerKilledMidBatchDeliversOnce queues the notices of 40 confirmed
// bookings, runs `posthub worker` against a real SMTP server and kills it with
// SIGKILL twice in the middle of the batch — each time just after the server has
// taken a message and before the worker hears that it did, the worst moment — then
// lets a last run finish. Every person gets every notice; a message sent again after
// a kill carries the same Message-ID, so it is recognisable as a redelivery; and
// the deliveries table records each (event, recipient, channel) once.
func TestFaultWorkerKilledMidBatchDeliversOnce(t *testing.T) {
	f, smtpd, posthub := startFaultTest(t)
	began := time.Now()

	// N confirmed bookings an admin makes, for a French and an English producer's
	// productions in turn: each tells its producer and the site's manager, 2N mails. Each lasts an hour
	// from the site's first working time at least two hours after the previous one's
	// start, so it holds working time whatever day and hour the test runs.
	const n = 40
	producers := []string{"producer", "producer_other"}
	cal := f.casablanca(t)
	from := time.Now().UTC().Truncate(time.Hour).Add(60 * 24 * time.Hour) // reminders far off
	for i := range n {
		start := dbtest.NextWorking(t, cal, from)
		f.book(t, "admin", producers[i%2], booking.StatusConfirmed, f.suites[:1], start, start.Add(time.Hour))
		from = start.Add(2 * time.Hour)
	}
	type key struct{ event, user uuid.UUID }
	expected := map[string]key{}
	for i, r := range f.noticeRows(t, n) {
		a := decodeArgs[jobs.NoticeArgs](t, r)
		for _, who := range []string{producers[i%2], "manager"} {
			expected[messageID(a.EventID, f.users[who])] = key{a.EventID, f.users[who]}
		}
	}
	bin := posthub()
	t.Logf("setup (%d bookings, the rest of the build): %s", n, time.Since(began).Round(time.Millisecond))

	dir := t.TempDir()
	env := workerEnv(f, smtpd)

	// Each killed run works one job at a time, so a kill can leave at most one mail
	// taken by the server but not recorded as sent; the kill comes before the server
	// answers DATA: the mail is here, the worker never hears so.
	killAt := []int{5, 30} // mails received in all, at which to kill
	killWorkersAt(t, f, smtpd, bin, dir, killAt, 20*time.Second, func(total int, _ *gotMail) int { return total })

	// The last run finishes the batch and is stopped gracefully.
	last := startWorker(t, bin, dir, len(killAt), env(4)...)
	received := func() map[string]int {
		got := map[string]int{}
		for _, m := range smtpd.Messages() {
			got[m.MessageID]++
		}
		return got
	}
	allIn := waitFor(30*time.Second, func() bool {
		got := received()
		for id := range expected {
			if got[id] == 0 {
				return false
			}
		}
		return true
	})
	// Every mail arriving is not every delivery recorded: the last job may have sent
	// its mail and not yet committed. Stop the worker only once every delivery is
	// recorded (or the wait runs out), so SIGTERM does not cut a job short and leave
	// the last delivery to a retry after the test has looked.
	waitFor(30*time.Second, func() bool {
		return f.count(t, `SELECT (SELECT count(*) FROM deliveries) + (SELECT count(*) FROM notifications)`) >= 2*len(expected)
	})
	if err := last.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-last.exited:
		if last.err != nil {
			t.Errorf("worker stopped with SIGTERM: %v", last.err)
		}
	case <-time.After(25 * time.Second):
		t.Errorf("worker did not stop within 25 s of SIGTERM")
	}

	got := received()
	var missing, unexpected, redelivered []string
	for id := range expected {
		if got[id] == 0 {
			missing = append(missing, id)
		}
	}
	duplicates := 0
	for id, c := range got {
		if _, ok := expected[id]; !ok {
			unexpected = append(unexpected, id)
		}
		if c > 1 {
			duplicates += c - 1
			redelivered = append(redelivered, fmt.Sprintf("%s ×%d", id, c))
		}
	}
	sort.Strings(missing)
	if !allIn || len(missing) > 0 {
		t.Errorf("%d of %d mails never arrived: %v", len(missing), len(expected), missing)
	}
	if len(unexpected) > 0 {
		t.Errorf("mails with unexpected Message-IDs: %v", unexpected)
	}
	t.Logf("%d mails received for %d expected; %d redelivered after %d kills: %v", smtpd.Len(), len(expected), duplicates, len(killAt), redelivered)
	if duplicates > len(killAt) {
		t.Errorf("%d redeliveries for %d kills", duplicates, len(killAt))
	}

	// Each (event, recipient, channel) is recorded once, and nothing else.
	// The mails' deliveries, and the feed entries (whose own key, event and user, is
	// what makes them once).
	rows, _ := f.db.Pool.Query(f.ctx, `SELECT event_id, recipient_id, channel FROM deliveries
		UNION ALL SELECT event_id, user_id, 'in_app' FROM notifications`)
	type delivery struct {
		key
		channel string
	}
	recorded := map[delivery]int{}
	var d delivery
	if _, err := pgx.ForEachRow(rows, []any{&d.event, &d.user, &d.channel}, func() error {
		recorded[d]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, k := range expected {
		for _, ch := range []string{"email", "in_app"} {
			if c := recorded[delivery{k, ch}]; c != 1 {
				t.Errorf("delivery %s of %s to %s recorded %d times", ch, k.event, k.user, c)
			}
		}
	}
	if len(recorded) != 2*len(expected) {
		t.Errorf("%d deliveries and feed entries recorded, want %d", len(recorded), 2*len(expected))
	}
	if c := f.count(t, `SELECT count(*) FROM notifications`); c != len(expected) {
		t.Errorf("%d in-app notifications, want %d", c, len(expected))
	}
	// A killed worker may have done a job's work without River having recorded it
	// done (completions are flushed in batches): that job is retried later, and
	// sends nothing. None may be given up on.
	if c := f.count(t, `SELECT count(*) FROM river_job WHERE kind = $1 AND state IN ('discarded', 'cancelled')`, jobs.NoticeArgs{}.Kind()); c != 0 {
		t.Errorf("%d notice jobs given up on", c)
	}
	var states []string
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT coalesce(array_agg(state::text || ' (attempt ' || attempt || ')' ORDER BY id), '{}')
		FROM river_job WHERE kind = $1 AND state <> 'completed'`, jobs.NoticeArgs{}.Kind()).Scan(&states); err != nil {
		t.Fatal(err)
	}
	t.Logf("notice jobs still to retry (their work done, so a no-op): %v", states)
	t.Logf("took %s", time.Since(began).Round(time.Millisecond))
}
