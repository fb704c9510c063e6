package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// runFaults is `posthub-drill faults`: one serve process under booking load is killed
// with SIGKILL five times (restarted each time) and its PostgreSQL restarted once.
// Recovery is measured from the fault to /readyz answering 200. Afterwards: no
// overlapping confirmed bookings, every acknowledged confirmation kept, and every
// confirmed booking's confirmation email delivered exactly once per recipient
// (deliveries row) and received by the sink; redeliveries (the same Message-ID
// received again) are reported.
func runFaults(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("faults", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	clients := fs.Int("clients", 12, "concurrent clients (half producers, half managers)")
	kills := fs.Int("kills", 5, "SIGKILLs of the serve process")
	settle := fs.Duration("settle", 5*time.Second, "steady load between a recovery and the next fault")
	drain := fs.Duration("drain-timeout", 4*time.Minute, "how long to wait for the job queues to drain after the load (River rescues the jobs of a killed process after jobs.RescueStuckJobsAfter, 1 minute)")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed of the load")
	lane := fs.Bool("reminder-lane", false, "also book slots starting ~3 min ahead with a 2 min reminder offset, so their reminders fall due around the faults, and check each was delivered once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	reminderLane = *lane
	if *clients < 2 || *clients > 200 || *kills < 0 || *kills > 20 || *settle <= 0 || *settle > time.Minute {
		return fmt.Errorf("want 2 ≤ -clients ≤ 200, 0 ≤ -kills ≤ 20, 0 < -settle ≤ 1m")
	}
	log := &progress{w: stderr, start: time.Now()}
	h, err := setup(ctx, cf, log)
	if err != nil {
		return err
	}
	defer h.close()
	err = faults(ctx, h, stdout, *clients, *kills, *settle, *drain, *seed)
	if err != nil {
		h.failed = true
	}
	return err
}

// reminderLane makes the faults drill book near slots whose reminders fall due while
// the jobs of killed processes wait to be rescued.
var reminderLane bool

const laneReminderOffset, laneLead = 2 * time.Minute, 3 * time.Minute

// faultResult is one fault and how the service came back.
type faultResult struct {
	what        string
	at          time.Time     // the fault began
	down        time.Time     // it took effect: the process reaped, PostgreSQL stopped
	ready       time.Duration // fault → /readyz 200
	firstWrite  time.Duration // fault → first booking write answered 2xx
	detail      string
	readyErr    error
	writeMissed bool
}

func faults(ctx context.Context, h *harness, out io.Writer, nClients, nKills int, settle, drain time.Duration, seed uint64) error {
	log := h.log
	p, err := h.startServe(ctx, "serve-1")
	if err != nil {
		return err
	}
	log.printf("serve-1 ready on %s (pid %d)", p.addr, p.pid())
	api := newAPIClient(nClients * 2)
	nMgr := nClients / 2
	nProd := nClients - nMgr
	roleTokens := map[string][]string{}
	for _, role := range []string{"manager", "producer", "producer_other"} {
		ts, err := mintTokens(ctx, h, role, "drill-"+role, 2*nClients)
		if err != nil {
			return err
		}
		roleTokens[role] = ts
	}

	// Slots more than a year ahead (no reminder falls due), in the working hours of
	// eight resources' sites, at both sites: enough contention for conflicts, enough
	// room for many confirmed bookings all along.
	res := append(append(append([]uuid.UUID(nil), h.w.suites[:3]...), h.w.colourists[:3]...), h.w.resources["dakar"][:2]...)
	hours, err := siteHours(h.w, time.Now().UTC().Add(400*24*time.Hour).Truncate(24*time.Hour))
	if err != nil {
		return err
	}
	six := append(append([]uuid.UUID(nil), h.w.suites[:3]...), h.w.colourists[:3]...)
	var tLoad time.Time
	if reminderLane {
		casablanca := h.w.sites["casablanca"]
		if status, body, err := api.call(ctx, "PUT", "http://"+p.addr+"/api/v1/sites/"+casablanca.String()+"/policy", h.tokens["manager"],
			map[string]any{"confirm_needs_approval": false, "hold_lifetime": "168h", "challenge_window": "48h", "min_notice": "0s",
				"reminder_offsets": []string{laneReminderOffset.String()}}, nil); err != nil || status != http.StatusOK {
			return fmt.Errorf("setting the Casablanca policy: %d %v %s", status, err, truncate(body, 200))
		}
	}
	slot := func(r *rand.Rand, manager bool) ([]uuid.UUID, time.Time, time.Time, bool) {
		if reminderLane && manager && r.IntN(3) == 0 {
			// The near lane: a 20 s window starting laneLead ahead, moving with the
			// clock. Reminders fall due about a minute after booking — around the
			// later faults and while a killed process's jobs wait to be rescued —
			// and before the booking starts. It falls whenever the drill runs,
			// working hours or not, so managers book it as overtime (a producer's
			// overtime would wait for approval).
			el := time.Since(tLoad).Truncate(time.Second)
			start := tLoad.Truncate(time.Second).Add(laneLead + el + time.Duration(r.IntN(20))*time.Second)
			return []uuid.UUID{six[r.IntN(len(six))]}, start, start.Add(time.Duration(1+r.IntN(2)) * time.Second), true
		}
		// A window of 48 working hours (of the resource's site) that moves one
		// working hour every 100 ms, so there are free slots to fight over from the
		// first fault to the last.
		front := int(time.Since(tLoad) / (100 * time.Millisecond))
		rs := res[r.IntN(len(res))]
		start := hours[h.w.siteOf[rs]].at(front + r.IntN(48))
		end := start.Add(time.Duration(1+r.IntN(3)) * time.Hour)
		return []uuid.UUID{rs}, start, end, false
	}

	dl0 := deadlocks(ctx, h.pool)
	st := newStats()
	acks := newAckSet()
	holds := &holdPool{}
	var lastWrite atomic.Int64 // unix nanos of the latest 2xx booking write
	ctxLoad, cancel := context.WithCancel(ctx)
	defer cancel()
	do := func(op, method, path, token string, body, into any) (int, []byte) {
		start := time.Now()
		status, b, err := api.call(ctxLoad, method, "http://"+p.addr+path, token, body, into)
		if ctxLoad.Err() != nil {
			return -1, nil
		}
		if err != nil && status == statusNetErr {
			b = []byte(err.Error())
		}
		if status/100 == 2 && method == "POST" {
			lastWrite.Store(time.Now().UnixNano())
		}
		st.record(op, status, time.Since(start), b)
		return status, b
	}
	tLoad = time.Now()
	var wg sync.WaitGroup
	for c := range nClients {
		r := rand.New(rand.NewPCG(seed, uint64(c)))
		if c < nProd {
			role := []string{"producer", "producer_other"}[c%2]
			tr := &tokenRing{tokens: roleTokens[role][2*c : 2*c+2]}
			prods := h.w.prods[role]
			wg.Go(func() { producerLoop(ctxLoad, r, do, tr, prods, slot, acks, holds) })
		} else {
			tr := &tokenRing{tokens: roleTokens["manager"][2*c : 2*c+2]}
			wg.Go(func() { managerLoop(ctxLoad, r, do, tr, h.w.allProds, slot, acks, holds) })
		}
	}
	t0 := time.Now()
	log.printf("load: %d clients (%d producers, %d managers) on serve-1", nClients, nProd, nMgr)

	wait := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	// recovered measures fault → /readyz 200 and fault → first successful write.
	recovered := func(f *faultResult) {
		_, err := waitReady(ctx, p.addr, 90*time.Second)
		f.readyErr = err
		if err == nil {
			f.ready = time.Since(f.at)
		}
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if w := lastWrite.Load(); w > f.down.UnixNano() {
				f.firstWrite = time.Unix(0, w).Sub(f.at)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		f.writeMissed = true
	}
	kill := func(n int, midSMTP bool) faultResult {
		f := faultResult{what: fmt.Sprintf("kill -9 #%d", n)}
		if midSMTP {
			fired := make(chan time.Time, 1)
			h.sink.armHook(func(id string) {
				at := time.Now()
				p.kill9() // before the sink answers DATA: posthub never hears the 250
				f.down = time.Now()
				fired <- at
				f.detail = "while the sink held " + id
			})
			select {
			case f.at = <-fired:
			case <-time.After(5 * time.Second):
				if h.sink.disarm() {
					f.at = time.Now()
					p.kill9()
					f.down = time.Now()
					f.detail = "no mail in flight within 5 s: killed at a random moment"
				} else {
					f.at = <-fired
				}
			}
		} else {
			f.at = time.Now()
			p.kill9()
			f.down = time.Now()
			f.detail = "at a random moment of the load"
		}
		if err := p.start(); err != nil {
			f.readyErr = err
			return f
		}
		recovered(&f)
		return f
	}
	var results []faultResult
	plan := []string{}
	for i := 1; i <= nKills; i++ {
		plan = append(plan, fmt.Sprintf("kill%d", i))
		if i == (nKills+1)/2 && h.pg != nil {
			plan = append(plan, "pg")
		}
	}
	if nKills == 0 && h.pg != nil {
		plan = append(plan, "pg")
	}
	for _, step := range plan {
		if !wait(settle) {
			return ctx.Err()
		}
		var f faultResult
		if step == "pg" {
			f = faultResult{what: "PostgreSQL restart", at: time.Now()}
			stopTook, startTook, err := h.restartPostgres(ctx)
			if err != nil {
				return fmt.Errorf("restarting PostgreSQL: %w", err)
			}
			f.down = f.at.Add(stopTook)
			f.detail = fmt.Sprintf("pg_ctl stop -m fast took %s, start %s", stopTook.Round(time.Millisecond), startTook.Round(time.Millisecond))
			h.pool.Reset()
			recovered(&f)
		} else {
			n := len(results) + 1 - countPG(results)
			f = kill(n, n%2 == 0) // every other kill just as the sink takes a message
		}
		results = append(results, f)
		log.printf("%s: ready after %s, first write after %s (%s)", f.what, f.ready.Round(time.Millisecond), f.firstWrite.Round(time.Millisecond), f.detail)
		if f.readyErr != nil {
			log.printf("%s: not ready: %v", f.what, f.readyErr)
		}
	}
	if !wait(settle) {
		return ctx.Err()
	}
	cancel()
	wg.Wait()
	loadEnd := time.Now()
	log.printf("load over after %s", loadEnd.Sub(t0).Round(time.Millisecond))

	fmt.Fprintf(out, "\n== posthub-drill faults: 1 serve process, %d clients, %s of load ==\n", nClients, loadEnd.Sub(t0).Round(time.Millisecond))
	fmt.Fprintf(out, "%s\n", h.header())
	fmt.Fprintf(out, "requests (status×count, latency; failures around the faults are expected):\n")
	st.report(out, loadEnd.Sub(t0))
	fmt.Fprintf(out, "faults (recovery = fault → /readyz 200 of the new process; first write = fault → first 2xx booking write):\n")
	v := &verdict{w: out}
	for _, f := range results {
		fmt.Fprintf(out, "  %-20s at +%5.1fs  recovery %8s  first write %8s  %s\n", f.what, f.at.Sub(t0).Seconds(),
			f.ready.Round(time.Millisecond), f.firstWrite.Round(time.Millisecond), f.detail)
	}
	if h.pg == nil {
		fmt.Fprintf(out, "  (PostgreSQL restart skipped: DATABASE_URL given, the drill does not own the server)\n")
	}

	log.printf("waiting up to %s for the job queues to drain (jobs a killed process held are rescued after jobs.RescueStuckJobsAfter, 1 min)", drain)
	quietAt, left, err := waitQuiet(ctx, h.pool, drain, log)
	if err != nil {
		return err
	}
	if reminderLane {
		// The last lane booking starts at most laneLead + 20 s after the load ended.
		lastDue := loadEnd.Add(laneLead + 20*time.Second - laneReminderOffset)
		if err := waitUntil(ctx, log, lastDue.Add(15*time.Second), "the lane's last reminder to fall due"); err != nil {
			return err
		}
		if _, left, err = waitQuiet(ctx, h.pool, drain, log); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "invariants:\n")
	for _, f := range results {
		ok := f.readyErr == nil && !f.writeMissed
		v.check("recovered: "+f.what, ok, fmt.Sprintf("ready after %s", f.ready.Round(time.Millisecond)), errString(f.readyErr))
	}
	v.check("job_queues_drained", len(left) == 0, fmt.Sprintf("due jobs left after %s: %d kinds", drain, len(left)), left...)
	if !quietAt.IsZero() {
		v.note("drained", fmt.Sprintf("queues quiet %s after the load ended", quietAt.Sub(loadEnd).Round(100*time.Millisecond)))
	}
	if err := commonBookingChecks(ctx, h, v, acks.list()); err != nil {
		return err
	}
	v.note("deadlocks", fmt.Sprintf("%d detected by PostgreSQL during the drill", deadlocks(ctx, h.pool)-dl0))
	noNotice, nConfirmed, err := confirmedWithoutNotice(ctx, h)
	if err != nil {
		return err
	}
	v.check("confirmations_enqueued", len(noNotice) == 0, fmt.Sprintf("%d confirmed bookings, %d without a confirmed notice job", nConfirmed, len(noNotice)), noNotice...)
	nr, err := checkNotices(ctx, h.pool, h.sink)
	if err != nil {
		return err
	}
	conf := nr.perKind["confirmed"]
	bad := append(append(prefix("no deliveries row: ", filterKinds(nr.noRow, "confirmed")),
		prefix("never received: ", filterKinds(nr.notReceived, "confirmed"))...), prefix("job not completed: ", filterKinds(nr.unfinished, "confirmed"))...)
	v.check("confirmation_emails_delivered_once", len(bad) == 0,
		fmt.Sprintf("%d confirmation emails expected (producers and managers), %d missing", conf+len(filterKinds(nr.unfinished, "confirmed")), len(bad)), bad...)
	others := append(append(prefix("no deliveries row: ", filterKinds(nr.noRow)), prefix("never received: ", filterKinds(nr.notReceived))...),
		prefix("job not completed: ", filterKinds(nr.unfinished))...)
	v.check("all_notice_emails_delivered_once", len(others) == 0,
		fmt.Sprintf("%d notice jobs (%s), %d emails expected, %d delivered and received", nr.jobs, summariseStates(nr.byState), nr.expected, nr.ok), others...)
	if reminderLane {
		if err := checkReminders(ctx, h, v, time.Now()); err != nil {
			return err
		}
		// Reminder jobs are inserted when due, by the sweep of due notices (a build
		// before issue 20 scheduled them ahead): those inserted more than 2 s after
		// their time waited for a sweeper, e.g. while every worker was killed.
		var late, left int
		if err := h.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'booking_reminder'
			AND created_at > (args->>'start')::timestamptz - make_interval(secs => (args->>'before')::bigint / 1e9) + interval '2 seconds'`).Scan(&late); err != nil {
			return err
		}
		v.note("reminders enqueued late", fmt.Sprintf("%d reminder jobs inserted more than 2 s after their time", late))
		var dueTable bool
		if err := h.pool.QueryRow(ctx, `SELECT to_regclass('booking_due_notices') IS NOT NULL`).Scan(&dueTable); err != nil {
			return err
		}
		if dueTable {
			if err := h.pool.QueryRow(ctx, `SELECT count(*) FROM booking_due_notices WHERE due_at < now() - interval '10 seconds'`).Scan(&left); err != nil {
				return err
			}
		}
		v.check("due_notices_swept", left == 0, fmt.Sprintf("%d due notices more than 10 s past their time not enqueued", left))
	}
	dups, dupMsgs, unrecorded, err := sinkVsDeliveries(ctx, h.pool, h.sink)
	if err != nil {
		return err
	}
	total, distinct, noID := h.sink.counts()
	v.note("sink", fmt.Sprintf("%d messages, %d distinct Message-IDs, %d without one", total, distinct, noID))
	v.note("redeliveries (same Message-ID)", fmt.Sprintf("%d Message-IDs received more than once (%d extra messages): sent, then the process died or the database went away before the delivery committed", len(dups), dupMsgs), dups...)
	v.note("received without deliveries row", fmt.Sprintf("%d", len(unrecorded)), unrecorded...)
	if s, err := jobStates(ctx, h.pool); err == nil {
		v.note("river jobs", s)
	}
	if err := v.err(); err != nil {
		return err
	}
	fmt.Fprintf(out, "faults drill passed\n")
	return nil
}

func countPG(rs []faultResult) int {
	n := 0
	for _, r := range rs {
		if r.what == "PostgreSQL restart" {
			n++
		}
	}
	return n
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// confirmedWithoutNotice lists confirmed bookings with no confirmed notice job: a
// confirmation that committed without the job that tells people of it.
func confirmedWithoutNotice(ctx context.Context, h *harness) ([]string, int, error) {
	var n int
	if err := h.pool.QueryRow(ctx, `SELECT count(*) FROM booking_groups WHERE status = 'confirmed'`).Scan(&n); err != nil {
		return nil, 0, err
	}
	rows, _ := h.pool.Query(ctx, `WITH n AS (`+noticeItems+`)
		SELECT g.id FROM booking_groups g WHERE g.status = 'confirmed' AND NOT EXISTS (
		SELECT 1 FROM n WHERE n.event = 'confirmed' AND n.booking_id = g.id)`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	var out []string
	for _, id := range ids {
		out = append(out, "booking "+id.String())
	}
	return out, n, err
}
