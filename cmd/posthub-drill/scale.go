package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// runScale is `posthub-drill scale`: several serve processes (each with its River
// workers) on one database, many clients placing, confirming, releasing and declining
// holds and booking directly on a few resources with overlapping intervals, spread
// round-robin over the processes. Afterwards: no overlapping confirmed bookings, every
// acknowledged confirmation kept, every notice and every due reminder delivered once
// (deliveries row) and received by the sink.
func runScale(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	duration := fs.Duration("duration", 30*time.Second, "how long the load runs")
	clients := fs.Int("clients", 24, "concurrent clients (two thirds producers, one third managers)")
	procs := fs.Int("processes", 3, "posthub serve processes")
	drain := fs.Duration("drain-timeout", 3*time.Minute, "how long to wait for the job queues to drain after the load")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed of the load")
	pairs := fs.Int("pair-percent", 30, "percentage of bookings that hold a suite and a colourist together")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pairs < 0 || *pairs > 100 {
		return fmt.Errorf("-pair-percent must be 0-100")
	}
	pairPercent = *pairs
	if *duration <= 0 || *duration > 10*time.Minute || *clients < 3 || *clients > 500 || *procs < 1 || *procs > 8 {
		return fmt.Errorf("want 0 < -duration ≤ 10m, 3 ≤ -clients ≤ 500, 1 ≤ -processes ≤ 8")
	}
	log := &progress{w: stderr, start: time.Now()}
	h, err := setup(ctx, cf, log)
	if err != nil {
		return err
	}
	defer h.close()
	err = scale(ctx, h, stdout, *duration, *clients, *procs, *drain, *seed)
	if err != nil {
		h.failed = true
	}
	return err
}

// The reminder offset the drill gives Casablanca: bookings start after the drill is
// over (their holds never expire by starting, none completes), yet their reminders fall
// due during it.
const scaleReminderOffset = 3 * time.Minute

// pairPercent is the share of scale bookings made of two resources.
var pairPercent = 30

func scale(ctx context.Context, h *harness, out io.Writer, duration time.Duration, nClients, nProcs int, drain time.Duration, seed uint64) error {
	log := h.log
	var ps []*serveProc
	var addrs []string
	for i := range nProcs {
		p, err := h.startServe(ctx, fmt.Sprintf("serve-%d", i+1))
		if err != nil {
			return err
		}
		ps = append(ps, p)
		addrs = append(addrs, p.addr)
		log.printf("serve-%d ready on %s (pid %d)", i+1, p.addr, p.pid())
	}
	api := newAPIClient(nClients * 2)
	casablanca := h.w.sites["casablanca"]
	if status, body, err := api.call(ctx, "PUT", "http://"+addrs[0]+"/api/v1/sites/"+casablanca.String()+"/policy", h.tokens["manager"],
		map[string]any{"confirm_needs_approval": false, "hold_lifetime": "168h", "challenge_window": "48h", "min_notice": "0s",
			"reminder_offsets": []string{scaleReminderOffset.String()}}, nil); err != nil || status != http.StatusOK {
		return fmt.Errorf("setting the Casablanca policy: %d %v %s", status, err, truncate(body, 200))
	}

	nMgr := max(1, nClients/3)
	nProd := nClients - nMgr
	roleTokens := map[string][]string{}
	for _, role := range []string{"manager", "producer", "producer_other"} {
		n := 3 * nClients
		ts, err := mintTokens(ctx, h, role, "drill-"+role, n)
		if err != nil {
			return err
		}
		roleTokens[role] = ts
	}
	log.printf("minted %d tokens per role (posthub allows 600 requests a minute per credential and process)", 3*nClients)

	// Two grids, both contended. Most requests go to a window of 48 working hours
	// (Casablanca's), more than a year ahead, that moves one working hour every 50 ms:
	// while a stretch of time is in the window it is fought over (holds queue,
	// confirmations supersede them, direct bookings collide), then the front moves on,
	// so the load never runs out of free slots. One manager's direct booking in eight
	// goes to the near grid: starts every 3 s over 30 s just after the drill, lengths
	// of 3 to 12 s, soon full; its bookings' reminders fall due during the drill. The
	// near grid is booked as overtime, as it falls whenever the drill runs, working
	// hours or not, and so by managers only: a producer's overtime would wait for
	// approval. Resources: three suites and three colourists, singly or a suite with a
	// colourist together.
	t0 := time.Now()
	margin := 20 * time.Second
	base := t0.Add(duration + margin + scaleReminderOffset).Truncate(time.Second).Add(time.Second)
	far, err := newWorkHours(h.w.calendars[casablanca], t0.Add(400*24*time.Hour).UTC().Truncate(time.Hour))
	if err != nil {
		return fmt.Errorf("the Casablanca calendar: %w", err)
	}
	const step, starts = 3 * time.Second, 10
	const windowHours, advance = 48, 50 * time.Millisecond
	lastDue := base.Add(starts*step - scaleReminderOffset)
	log.printf("load: %d clients (%d producers, %d managers) on %d processes for %s; near slots from %s, reminders due %s to %s",
		nClients, nProd, nMgr, nProcs, duration, base.Format("15:04:05"), base.Add(-scaleReminderOffset).Format("15:04:05"), lastDue.Format("15:04:05"))

	dl0 := deadlocks(ctx, h.pool)
	ring := &addrRing{addrs: addrs}
	st := newStats()
	acks := newAckSet()
	holds := &holdPool{}
	six := append(append([]uuid.UUID(nil), h.w.suites[:3]...), h.w.colourists[:3]...)
	slot := func(r *rand.Rand, manager bool) ([]uuid.UUID, time.Time, time.Time, bool) {
		var start, end time.Time
		near := manager && r.IntN(8) == 0
		if near {
			start = base.Add(time.Duration(r.IntN(starts)) * step)
			end = start.Add(time.Duration(1+r.IntN(4)) * step)
		} else {
			front := int(time.Since(t0) / advance)
			start = far.at(front + r.IntN(windowHours))
			end = start.Add(time.Duration(1+r.IntN(4)) * time.Hour)
		}
		if r.IntN(100) < pairPercent {
			return []uuid.UUID{h.w.suites[r.IntN(3)], h.w.colourists[r.IntN(3)]}, start, end, near
		}
		return []uuid.UUID{six[r.IntN(len(six))]}, start, end, near
	}
	ctxLoad, cancel := context.WithDeadline(ctx, t0.Add(duration))
	defer cancel()
	do := func(op, method, path, token string, body, into any) (int, []byte) {
		start := time.Now()
		status, b, err := api.call(ctxLoad, method, "http://"+ring.get()+path, token, body, into)
		if ctxLoad.Err() != nil {
			return -1, nil // the load's deadline cut it short: not counted
		}
		if err != nil && status == statusNetErr {
			b = []byte(err.Error())
		}
		st.record(op, status, time.Since(start), b)
		return status, b
	}
	var wg sync.WaitGroup
	for c := range nClients {
		r := rand.New(rand.NewPCG(seed, uint64(c)))
		if c < nProd {
			role := []string{"producer", "producer_other"}[c%2]
			tr := &tokenRing{tokens: roleTokens[role][3*c : 3*c+3]}
			prods := h.w.prods[role]
			wg.Go(func() { producerLoop(ctxLoad, r, do, tr, prods, slot, acks, holds) })
		} else {
			tr := &tokenRing{tokens: roleTokens["manager"][3*c : 3*c+3]}
			wg.Go(func() { managerLoop(ctxLoad, r, do, tr, h.w.allProds, slot, acks, holds) })
		}
	}
	wg.Wait()
	elapsed := time.Since(t0)
	log.printf("load over after %s", elapsed.Round(time.Millisecond))

	fmt.Fprintf(out, "\n== posthub-drill scale: %d serve processes, %d clients, %s ==\n", nProcs, nClients, elapsed.Round(time.Millisecond))
	fmt.Fprintf(out, "%s\n", h.header())
	fmt.Fprintf(out, "requests (status×count, latency):\n")
	st.report(out, elapsed)
	for _, p := range ps {
		if hwm, err := vmHWM(p.pid()); err == nil {
			fmt.Fprintf(out, "  %s peak RSS (VmHWM) %.1f MB\n", p.name, float64(hwm)/(1<<20))
		}
	}

	// The backlog of the load first, then the reminders, then the queues again.
	if _, left, err := waitQuiet(ctx, h.pool, drain, log); err != nil {
		return err
	} else if len(left) == 0 {
		fmt.Fprintf(out, "  job queues drained %s after the load ended\n", time.Since(t0.Add(elapsed)).Round(100*time.Millisecond))
	}
	if err := waitUntil(ctx, log, lastDue.Add(15*time.Second), "the last reminder to fall due"); err != nil {
		return err
	}
	_, left, err := waitQuiet(ctx, h.pool, drain, log)
	if err != nil {
		return err
	}
	checkAt := time.Now()
	log.printf("checking invariants")
	v := &verdict{w: out}
	fmt.Fprintf(out, "invariants:\n")
	v.check("job_queues_drained", len(left) == 0, fmt.Sprintf("due jobs left after %s: %d kinds", drain, len(left)), left...)
	if err := commonBookingChecks(ctx, h, v, acks.list()); err != nil {
		return err
	}
	_, errs5 := st.total(func(s int) bool { return s >= 500 || s == statusNetErr })
	v.check("no_server_errors", errs5 == 0, fmt.Sprintf("%d answers 5xx or no answer", errs5))
	v.note("deadlocks", fmt.Sprintf("%d detected by PostgreSQL during the drill (each after deadlock_timeout, 1 s by default)", deadlocks(ctx, h.pool)-dl0))
	v.note("booking retries", txRetries(ctx, ps))
	_, limited := st.total(func(s int) bool { return s == 429 })
	v.note("rate_limited", fmt.Sprintf("%d answers 429", limited))

	nr, err := checkNotices(ctx, h.pool, h.sink)
	if err != nil {
		return err
	}
	v.check("notices_delivered_once", len(filterKinds(nr.noRow))+len(filterKinds(nr.notReceived)) == 0,
		fmt.Sprintf("%d notice jobs (%s); %d emails expected, %d with one deliveries row and received", nr.jobs, summariseStates(nr.byState), nr.expected, nr.ok),
		append(prefix("no deliveries row: ", filterKinds(nr.noRow)), prefix("never received: ", filterKinds(nr.notReceived))...)...)
	v.check("notices_finished", len(filterKinds(nr.unfinished)) == 0, fmt.Sprintf("%d emails of notice jobs not completed", len(filterKinds(nr.unfinished))),
		filterKinds(nr.unfinished)...)
	v.note("notice emails by event", summariseStates(nr.perKind))

	if err := checkReminders(ctx, h, v, checkAt); err != nil {
		return err
	}
	dups, dupMsgs, unrecorded, err := sinkVsDeliveries(ctx, h.pool, h.sink)
	if err != nil {
		return err
	}
	total, distinct, noID := h.sink.counts()
	v.note("sink", fmt.Sprintf("%d messages, %d distinct Message-IDs, %d without one", total, distinct, noID))
	v.note("redeliveries (same Message-ID)", fmt.Sprintf("%d Message-IDs received more than once (%d extra messages)", len(dups), dupMsgs), dups...)
	v.note("received without deliveries row", fmt.Sprintf("%d", len(unrecorded)), unrecorded...)
	if s, err := jobStates(ctx, h.pool); err == nil {
		v.note("river jobs", s)
	}
	if err := v.err(); err != nil {
		return err
	}
	fmt.Fprintf(out, "scale drill passed\n")
	return nil
}

func prefix(p string, xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = p + x
	}
	return out
}

// commonBookingChecks are the booking invariants every drill checks.
func commonBookingChecks(ctx context.Context, h *harness, v *verdict, acked []uuid.UUID) error {
	overlaps, n, err := overlappingConfirmed(ctx, h.pool)
	if err != nil {
		return err
	}
	v.check("no_overlapping_confirmed_bookings", len(overlaps) == 0, fmt.Sprintf("%d confirmed booking rows, %d overlapping pairs", n, len(overlaps)), overlaps...)
	inc, err := inconsistentRows(ctx, h.pool)
	if err != nil {
		return err
	}
	v.check("booking_rows_match_groups", len(inc) == 0, fmt.Sprintf("%d inconsistent rows", len(inc)), inc...)
	lost, err := lostAcknowledged(ctx, h.pool, acked)
	if err != nil {
		return err
	}
	v.check("acknowledged_confirmations_kept", len(lost) == 0, fmt.Sprintf("%d confirmations acknowledged by the API, %d lost", len(acked), len(lost)), lost...)
	return nil
}

// checkReminders: every reminder that fell due before checkAt (with some slack) for a
// booking confirmed well before it is delivered once and received. A reminder whose
// time came within reminderMargin of the confirmation may legitimately be skipped
// (posthub sends only the nearest reminder whose time has passed, and none once the
// booking has started).
func checkReminders(ctx context.Context, h *harness, v *verdict, checkAt time.Time) error {
	const reminderMargin, slack = 5 * time.Second, 10 * time.Second
	exp, err := reminderExpectations(ctx, h.pool)
	if err != nil {
		return err
	}
	rows, err := deliveredKeys(ctx, h.pool, "reminder")
	if err != nil {
		return err
	}
	var must, okMust, optional, optionalSent, notDue int
	var missing []string
	for _, e := range exp {
		switch {
		case e.due.After(checkAt.Add(-slack)):
			notDue++
			continue
		case !e.due.After(e.confirmed):
			continue // due before it was confirmed: none is sent
		case e.due.Before(e.confirmed.Add(reminderMargin)):
			optional++
			if rows[e.key] {
				optionalSent++
			}
			continue
		}
		must++
		_, got := h.sink.get(e.key.messageID())
		if rows[e.key] && got {
			okMust++
			continue
		}
		missing = append(missing, fmt.Sprintf("reminder of booking %s due %s (confirmed %s) to user %s: deliveries row %t, received %t",
			e.booking, e.due.Format("15:04:05.000"), e.confirmed.Format("15:04:05.000"), e.key.user, rows[e.key], got))
	}
	v.check("reminders_delivered_once", len(missing) == 0,
		fmt.Sprintf("%d reminder emails due, %d delivered and received; %d due within %s of the confirmation (%d sent); %d not yet due",
			must, okMust, optional, reminderMargin, optionalSent, notDue), missing...)
	return nil
}

// producerLoop places holds and confirms or releases them, until ctx ends.
func producerLoop(ctx context.Context, r *rand.Rand, do func(op, method, path, token string, body, into any) (int, []byte),
	tr *tokenRing, prods []uuid.UUID, slot slotFunc, acks *ackSet, pool *holdPool) {
	var mine []uuid.UUID
	for ctx.Err() == nil {
		res, start, end, _ := slot(r, false)
		var b bookingResp
		status, _ := do("hold", "POST", "/api/v1/bookings", tr.get(),
			bookingReq{ProductionID: prods[r.IntN(len(prods))], ResourceIDs: res, Start: rfc(start), End: rfc(end), Status: "hold"}, &b)
		if status != http.StatusCreated {
			pause(ctx, status)
			continue
		}
		pool.add(b.ID)
		switch x := r.IntN(10); {
		case x < 5:
			var c bookingResp
			status, _ := do("confirm(producer)", "POST", "/api/v1/bookings/"+b.ID.String()+"/confirm", tr.get(), nil, &c)
			if status == http.StatusOK && c.Status == "confirmed" {
				acks.add(c.ID)
			} else if status == http.StatusAccepted {
				mine = append(mine, b.ID)
			}
		case x < 8:
			do("release", "POST", "/api/v1/bookings/"+b.ID.String()+"/release", tr.get(), nil, nil)
		default:
			mine = append(mine, b.ID)
		}
		// Now and then let go of an older hold (one that may be challenging others).
		if len(mine) > 3 {
			i := r.IntN(len(mine))
			do("release(old)", "POST", "/api/v1/bookings/"+mine[i].String()+"/release", tr.get(), nil, nil)
			mine = append(mine[:i], mine[i+1:]...)
		}
	}
}

// managerLoop books directly, declines holds and confirms them, until ctx ends.
func managerLoop(ctx context.Context, r *rand.Rand, do func(op, method, path, token string, body, into any) (int, []byte),
	tr *tokenRing, prods []uuid.UUID, slot slotFunc, acks *ackSet, pool *holdPool) {
	for ctx.Err() == nil {
		switch x := r.IntN(20); {
		case x < 12:
			res, start, end, overtime := slot(r, true)
			var b bookingResp
			status, _ := do("direct-confirmed", "POST", "/api/v1/bookings", tr.get(),
				bookingReq{ProductionID: prods[r.IntN(len(prods))], ResourceIDs: res, Start: rfc(start), End: rfc(end), Status: "confirmed", Overtime: overtime}, &b)
			if status == http.StatusCreated && b.Status == "confirmed" {
				acks.add(b.ID)
			}
			pause(ctx, status)
		case x < 16:
			if id, ok := pool.take(r.IntN); ok {
				do("decline", "POST", "/api/v1/bookings/"+id.String()+"/decline", tr.get(), map[string]string{"reason": "drill"}, nil)
			}
		default:
			if id, ok := pool.take(r.IntN); ok {
				var c bookingResp
				status, _ := do("confirm(manager)", "POST", "/api/v1/bookings/"+id.String()+"/confirm", tr.get(), nil, &c)
				if status == http.StatusOK && c.Status == "confirmed" {
					acks.add(c.ID)
				}
			}
		}
	}
}

// pause backs off briefly after an answer that says the server is unwell.
func pause(ctx context.Context, status int) {
	var d time.Duration
	switch {
	case status == statusNetErr || status >= 500:
		d = 50 * time.Millisecond
	case status == 429:
		d = time.Second
	default:
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// txRetries sums posthub_booking_tx_retries_total over the serve processes, by reason:
// lock_order restarts are the lock discipline at work; deadlock and exhausted ones
// should not occur.
func txRetries(ctx context.Context, ps []*serveProc) string {
	sum := map[string]float64{}
	re := regexp.MustCompile(`(?m)^posthub_booking_tx_retries_total\{reason="([a-z_]+)"\} ([0-9.e+]+)$`)
	for _, p := range ps {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+p.addr+"/metrics", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return "metrics unreadable: " + err.Error()
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, m := range re.FindAllStringSubmatch(string(body), -1) {
			n, _ := strconv.ParseFloat(m[2], 64)
			sum[m[1]] += n
		}
	}
	var parts []string
	for _, reason := range []string{"lock_order", "deadlock", "serialization", "exhausted"} {
		parts = append(parts, fmt.Sprintf("%s %.0f", reason, sum[reason]))
	}
	return strings.Join(parts, ", ") + " (posthub_booking_tx_retries_total, all processes)"
}

// waitUntil sleeps until t, saying what for, or until ctx ends.
func waitUntil(ctx context.Context, log *progress, t time.Time, what string) error {
	wait := time.Until(t)
	if wait <= 0 {
		return nil
	}
	log.printf("waiting %s for %s", wait.Round(time.Second), what)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
		return nil
	}
}
