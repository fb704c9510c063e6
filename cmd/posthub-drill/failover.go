package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/devpg"
)

// The failover drill: a primary and a streaming standby on this machine (initdb,
// pg_basebackup through a replication slot, standby.signal and primary_conninfo),
// posthub on a connection string naming both with target_session_attrs=read-write,
// booking, confirmation and reminder load, then the primary killed as a machine dies
// (SIGKILL to the postmaster and every process it started) and the standby promoted.
// It runs once with asynchronous replication, reporting what acknowledged writes that
// loses, and once with synchronous replication, where losing any is a broken invariant.

const standbyName = "standby1"

// The reminder lane of the failover drill: bookings starting failLaneLead (+0–20 s)
// ahead with Casablanca's one reminder failLaneOffset before, so every reminder falls
// due 20–40 s after its booking: after the failover for the bookings made before it.
// One minute is the shortest reminder offset posthub takes.
const failLaneOffset, failLaneLead = time.Minute, 80 * time.Second

type failoverOpts struct {
	modes          []string
	clients        int
	before, after  time.Duration
	detect         time.Duration
	lag            time.Duration
	syncCommit     string
	latSegment     time.Duration
	latRounds      int
	latClients     int
	drain          time.Duration
	reminders      bool
	seed           uint64
	recoverTimeout time.Duration
}

// runFailover is `posthub-drill failover`.
func runFailover(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("failover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	var o failoverOpts
	mode := fs.String("mode", "both", "replication: async, sync, or both (async first, then sync, each on a fresh primary and standby)")
	fs.IntVar(&o.clients, "clients", 8, "concurrent clients (half producers, half managers)")
	fs.DurationVar(&o.before, "before", 15*time.Second, "load before the primary is killed")
	fs.DurationVar(&o.after, "after", 15*time.Second, "load after the first write the new primary took")
	fs.DurationVar(&o.detect, "detect", time.Second, "time between the kill and the promotion: the failure detection of a cluster manager")
	fs.DurationVar(&o.lag, "replication-lag", 200*time.Millisecond, "stop the primary's WAL sender this long before the kill, so the standby lags as across a network (0: the kill comes with whatever lag this machine has, almost none)")
	fs.StringVar(&o.syncCommit, "synchronous-commit", "on", "synchronous_commit of posthub's database in sync mode: on, remote_apply or remote_write")
	fs.DurationVar(&o.latSegment, "latency", 4*time.Second, "sync mode, before the load: length of each segment of the synchronous-commit latency comparison (0 skips it)")
	fs.IntVar(&o.latRounds, "latency-rounds", 3, "segments with and without synchronous commit, alternating")
	fs.IntVar(&o.latClients, "latency-clients", 4, "clients of the latency comparison (managers booking free slots back to back)")
	fs.DurationVar(&o.drain, "drain-timeout", 3*time.Minute, "how long to wait for the job queues to drain after the load")
	fs.BoolVar(&o.reminders, "reminders", true, "also book slots ~80 s ahead with a 1 min reminder, so reminders fall due after the failover, and check each was delivered once")
	fs.Uint64Var(&o.seed, "seed", uint64(time.Now().UnixNano()), "random seed of the load")
	fs.DurationVar(&o.recoverTimeout, "recover-timeout", 90*time.Second, "how long posthub may take to answer /readyz 200 and take a write after the promotion")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch *mode {
	case "both":
		o.modes = []string{"async", "sync"}
	case "async", "sync":
		o.modes = []string{*mode}
	default:
		return fmt.Errorf("-mode %q: want async, sync or both", *mode)
	}
	switch o.syncCommit {
	case "on", "remote_apply", "remote_write":
	default:
		return fmt.Errorf("-synchronous-commit %q: want on, remote_apply or remote_write (the others wait for no standby)", o.syncCommit)
	}
	if o.clients < 2 || o.clients > 200 || o.before <= 0 || o.after <= 0 || o.detect < 0 || o.lag < 0 || o.lag > 10*time.Second || o.latRounds < 1 || o.latClients < 1 {
		return errors.New("want 2 ≤ -clients ≤ 200, -before and -after > 0, -detect ≥ 0, 0 ≤ -replication-lag ≤ 10s, -latency-rounds and -latency-clients ≥ 1")
	}
	if os.Getenv("DATABASE_URL") != "" {
		fmt.Fprintln(stderr, "posthub-drill failover: DATABASE_URL is ignored: the drill starts its own primary and standby")
	}
	if _, err := devpg.FindBinaries(); err != nil {
		return err
	}
	log := &progress{w: stderr, start: time.Now()}
	// One posthub binary for both modes.
	if cf.posthub == "" {
		dir, err := os.MkdirTemp("", "posthub-drill-bin-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		b := &harness{log: log, tmp: dir}
		if err := b.locateBinary(ctx); err != nil {
			return err
		}
		cf.posthub = b.bin
	}
	var results []*failoverResult
	var broken []string
	for _, m := range o.modes {
		r, err := failoverMode(ctx, cf, o, m, log, stdout)
		if r != nil {
			results = append(results, r)
		}
		var inv *invariantError
		if errors.As(err, &inv) {
			for _, n := range inv.names {
				broken = append(broken, m+": "+n)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("%s mode: %w", m, err)
		}
	}
	failoverSummary(stdout, results)
	if len(broken) > 0 {
		return &invariantError{names: broken}
	}
	fmt.Fprintf(stdout, "failover drill passed\n")
	return nil
}

// pgPair is the drill's primary and standby.
type pgPair struct {
	primary, standby *devpg.Server
	killed           bool
	fast             bool
}

func (c *pgPair) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/%s?sslmode=disable&target_session_attrs=read-write&connect_timeout=5",
		c.primary.Port(), c.standby.Port(), db)
}

func (c *pgPair) stop(log *progress) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if c.standby != nil {
		if err := c.standby.Stop(ctx); err != nil {
			log.printf("stopping the standby: %v", err)
		}
	}
	if c.primary != nil && !c.killed {
		if err := c.primary.Stop(ctx); err != nil {
			log.printf("stopping the primary: %v", err)
		}
	}
}

// startPair starts the primary, creates posthub's database, makes the standby with
// pg_basebackup and, in sync mode, makes it the primary's synchronous standby.
func startPair(ctx context.Context, h *harness, mode string, o failoverOpts) (*pgPair, error) {
	c := &pgPair{fast: h.flags.fast}
	h.onClose = func() { c.stop(h.log) }
	var err error
	if c.primary, err = devpg.Start(ctx, devpg.Options{Dir: filepath.Join(h.tmp, "pg-primary"), Fast: c.fast}); err != nil {
		return c, fmt.Errorf("starting the primary: %w", err)
	}
	if err := createDatabase(ctx, c.primary.URL("postgres"), "posthub"); err != nil {
		return c, err
	}
	t0 := time.Now()
	if c.standby, err = devpg.StartStandby(ctx, c.primary, standbyName, devpg.Options{Dir: filepath.Join(h.tmp, "pg-standby"), Fast: c.fast}); err != nil {
		return c, fmt.Errorf("starting the standby: %w", err)
	}
	h.log.printf("primary on 127.0.0.1:%d, standby %q on 127.0.0.1:%d (pg_basebackup and start took %s)",
		c.primary.Port(), standbyName, c.standby.Port(), time.Since(t0).Round(time.Millisecond))
	conn, err := pgx.Connect(ctx, c.primary.URL("postgres"))
	if err != nil {
		return c, err
	}
	defer conn.Close(ctx)
	// posthub's sessions commit with synchronous_commit on in both modes (a database
	// setting, which wins over -fast's command-line synchronous_commit=off): in async
	// mode that waits for the local flush only.
	level := "on"
	if mode == "sync" {
		level = o.syncCommit
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE posthub SET synchronous_commit = "+level); err != nil {
		return c, err
	}
	if mode == "sync" {
		if err := setSyncStandby(ctx, conn, true); err != nil {
			return c, err
		}
	} else if err := waitReplication(ctx, conn, "async"); err != nil {
		return c, err
	}
	h.dbURL = c.url("posthub")
	h.log.printf("%s replication; posthub's DATABASE_URL %s", mode, h.dbURL)
	return c, nil
}

// setSyncStandby names the standby in the primary's synchronous_standby_names (or
// empties it) and waits until the primary's WAL sender reports the state.
func setSyncStandby(ctx context.Context, conn *pgx.Conn, on bool) error {
	names, want := "", "async"
	if on {
		names, want = standbyName, "sync"
	}
	if _, err := conn.Exec(ctx, "ALTER SYSTEM SET synchronous_standby_names = '"+names+"'"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return err
	}
	return waitReplication(ctx, conn, want)
}

// waitReplication waits until the standby streams with the given sync_state.
func waitReplication(ctx context.Context, conn *pgx.Conn, syncState string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		var state, sync string
		err := conn.QueryRow(ctx, `SELECT state, sync_state FROM pg_stat_replication WHERE application_name = $1`, standbyName).Scan(&state, &sync)
		if err == nil && state == "streaming" && sync == syncState {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the standby is not streaming with sync_state %s after 1 min (state %q, sync_state %q, %v)", syncState, state, sync, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// failoverResult is what one mode measured, for the summary.
type failoverResult struct {
	mode                     string
	acked, ackedConfirmed    int
	lostCreated, lostConfirm int
	lostState                int
	ackedBeforeKill          int
	lagBytes                 int64
	killedChildren           int
	promoteAfter, promoteDur time.Duration
	ready, firstWrite        time.Duration
	p50Before, p99Before     time.Duration
	n500, n503, nNoAnswer    int
	redeliveries             int
	phantoms                 int
	latency                  *syncCost
	broken                   []string
}

func failoverMode(ctx context.Context, cf commonFlags, o failoverOpts, mode string, log *progress, out io.Writer) (*failoverResult, error) {
	log.printf("==== failover drill, %s replication ====", mode)
	var pair *pgPair
	h, err := setupWith(ctx, cf, log, func(ctx context.Context, h *harness) error {
		var err error
		pair, err = startPair(ctx, h, mode, o)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer h.close()
	r, err := failover(ctx, h, pair, o, mode, out)
	if err != nil {
		h.failed = true
	}
	return r, err
}

// ackLog remembers every booking write the API acknowledged (2xx): the bookings it
// created and each status it answered for them.
type ackLog struct {
	mu      sync.Mutex
	created map[uuid.UUID]time.Time            // answer time of the 201
	states  map[uuid.UUID]map[string]time.Time // answered status → answer time
}

func newAckLog() *ackLog {
	return &ackLog{created: map[uuid.UUID]time.Time{}, states: map[uuid.UUID]map[string]time.Time{}}
}

func (a *ackLog) record(created bool, id uuid.UUID, status string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if created {
		a.created[id] = at
	}
	if a.states[id] == nil {
		a.states[id] = map[string]time.Time{}
	}
	a.states[id][status] = at
}

// lostWrite is an acknowledged write the database does not hold.
type lostWrite struct {
	kind string // "created", "confirmed", "state"
	desc string
}

// lost compares the acknowledged writes with the database. extra are ids to report as
// created and acknowledged although they never were (the checker's control).
func (a *ackLog) lost(ctx context.Context, pool *pgxpool.Pool, kill time.Time, extra ...uuid.UUID) (lost []lostWrite, n ackCounts, err error) {
	a.mu.Lock()
	ids := make([]uuid.UUID, 0, len(a.states)+len(extra))
	created := map[uuid.UUID]time.Time{}
	states := map[uuid.UUID]map[string]time.Time{}
	for id, st := range a.states {
		ids = append(ids, id)
		states[id] = st
	}
	for id, at := range a.created {
		created[id] = at
	}
	a.mu.Unlock()
	for _, id := range extra {
		ids = append(ids, id)
		created[id] = time.Now()
		states[id] = map[string]time.Time{"hold": time.Now()}
	}
	rows, _ := pool.Query(ctx, `SELECT a.id, coalesce(g.status, 'missing') FROM unnest($1::uuid[]) a(id) LEFT JOIN booking_groups g ON g.id = a.id`, ids)
	now := map[uuid.UUID]string{}
	var id uuid.UUID
	var st string
	if _, err := pgx.ForEachRow(rows, []any{&id, &st}, func() error { now[id] = st; return nil }); err != nil {
		return nil, n, err
	}
	rel := func(t time.Time) string {
		d := t.Sub(kill)
		if d < 0 {
			return fmt.Sprintf("%s before the kill", (-d).Round(time.Millisecond))
		}
		return fmt.Sprintf("%s after the kill", d.Round(time.Millisecond))
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].String() < ids[j].String() })
	for _, id := range ids {
		st := now[id]
		n.acked++
		answered := states[id]
		confirmedAt, wasConfirmed := answered["confirmed"]
		if wasConfirmed {
			n.confirmed++
		} else if _, ok := answered["released"]; ok {
			n.releasedDeclined++
		} else if _, ok := answered["declined"]; ok {
			n.releasedDeclined++
		}
		switch {
		case st == "missing":
			at, ok := created[id]
			if !ok {
				for _, t := range answered {
					at = t
				}
			}
			lost = append(lost, lostWrite{"created", fmt.Sprintf("booking %s (created, answered %s) is missing", id, rel(at))})
		case wasConfirmed:
			if st != "confirmed" && st != "completed" {
				lost = append(lost, lostWrite{"confirmed", fmt.Sprintf("booking %s answered confirmed %s is %s", id, rel(confirmedAt), st)})
			}
		default:
			for _, want := range []string{"released", "declined"} {
				if at, ok := answered[want]; ok && st != want {
					lost = append(lost, lostWrite{"state", fmt.Sprintf("booking %s answered %s %s is %s", id, want, rel(at), st)})
				}
			}
		}
	}
	return lost, n, nil
}

// ackCounts counts the acknowledged bookings: all, those answered confirmed, and those
// answered released or declined (and never confirmed).
type ackCounts struct{ acked, confirmed, releasedDeclined int }

// phases splits the load's answers at the kill and at the first write the new primary
// took.
type phases struct {
	before, during, after *stats
	kill, recovered       atomic.Int64 // unix nanos; 0 until it happened
}

func (p *phases) at(t time.Time) *stats {
	switch k, r := p.kill.Load(), p.recovered.Load(); {
	case k == 0 || t.UnixNano() < k:
		return p.before
	case r == 0 || t.UnixNano() < r:
		return p.during
	default:
		return p.after
	}
}

func failover(ctx context.Context, h *harness, pair *pgPair, o failoverOpts, mode string, out io.Writer) (*failoverResult, error) {
	log := h.log
	res := &failoverResult{mode: mode}
	p, err := h.startServe(ctx, "serve-1")
	if err != nil {
		return nil, err
	}
	log.printf("serve-1 ready on %s (pid %d)", p.addr, p.pid())
	api := newAPIClient(o.clients * 2)
	nMgr := o.clients / 2
	nProd := o.clients - nMgr
	// posthub allows 10 active API tokens per user (the CLI is exempt) and 1200 requests
	// a minute per user and process, 600 per token. So the producer clients share the two
	// demo producers, two clients each, the manager-side clients are admins of their
	// own (admins get no manager notices, so the emails per event stay those of the
	// other drills), every client has two tokens made with `posthub token create`, and
	// each client sends at most perClientRate requests a second.
	clientTokens := make([][]string, o.clients)
	for c := range o.clients {
		email := demoEmail("producer")
		if c >= nProd {
			if email, err = cliAdmin(ctx, h, fmt.Sprintf("drill-admin-%d", c)); err != nil {
				return nil, err
			}
		} else if c%2 == 1 {
			email = demoEmail("producer_other")
		}
		if clientTokens[c], err = cliTokens(ctx, h, email, fmt.Sprintf("drill-client-%d", c), 2); err != nil {
			return nil, err
		}
	}
	if mode == "sync" && o.latSegment > 0 {
		if res.latency, err = measureSyncCost(ctx, h, pair, api, p.addr, o); err != nil {
			return nil, fmt.Errorf("measuring the cost of synchronous commit: %w", err)
		}
	}

	// The load of the faults drill: holds, confirmations, releases, declines and direct
	// bookings on eight resources more than a year ahead, and with -reminders a lane
	// of near bookings whose reminders fall due after the failover.
	resources := append(append(append([]uuid.UUID(nil), h.w.suites[:3]...), h.w.colourists[:3]...), h.w.resources["dakar"][:2]...)
	hours, err := siteHours(h.w, time.Now().UTC().Add(400*24*time.Hour).Truncate(24*time.Hour))
	if err != nil {
		return nil, err
	}
	six := append(append([]uuid.UUID(nil), h.w.suites[:3]...), h.w.colourists[:3]...)
	if o.reminders {
		casablanca := h.w.sites["casablanca"]
		if status, body, err := api.call(ctx, "PUT", "http://"+p.addr+"/api/v1/sites/"+casablanca.String()+"/policy", h.tokens["manager"],
			map[string]any{"confirm_needs_approval": false, "hold_lifetime": "168h", "challenge_window": "48h", "min_notice": "0s",
				"reminder_offsets": []string{failLaneOffset.String()}}, nil); err != nil || status != http.StatusOK {
			return nil, fmt.Errorf("setting the Casablanca policy: %d %v %s", status, err, truncate(body, 200))
		}
	}
	var tLoad time.Time
	slot := func(r *rand.Rand, manager bool) ([]uuid.UUID, time.Time, time.Time, bool) {
		if o.reminders && manager && r.IntN(3) == 0 {
			el := time.Since(tLoad).Truncate(time.Second)
			start := tLoad.Truncate(time.Second).Add(failLaneLead + el + time.Duration(r.IntN(20))*time.Second)
			return []uuid.UUID{six[r.IntN(len(six))]}, start, start.Add(time.Duration(1+r.IntN(2)) * time.Second), true
		}
		front := int(time.Since(tLoad) / (100 * time.Millisecond))
		rs := resources[r.IntN(len(resources))]
		start := hours[h.w.siteOf[rs]].at(front + r.IntN(48))
		return []uuid.UUID{rs}, start, start.Add(time.Duration(1+r.IntN(3)) * time.Hour), false
	}

	ph := &phases{before: newStats(), during: newStats(), after: newStats()}
	acks := newAckLog()
	confirms := newAckSet() // what the shared loops report as confirmed
	holds := &holdPool{}
	var n503, n503NoRetry atomic.Int64
	var firstMu sync.Mutex
	var firstWrite time.Time // answer time of the first 2xx write sent after the kill
	ctxLoad, cancel := context.WithCancel(ctx)
	defer cancel()
	do := func(op, method, path, token string, body, into any) (int, []byte) {
		start := time.Now()
		status, hdr, b, err := api.callHeader(ctxLoad, method, "http://"+p.addr+path, token, body, into)
		if ctxLoad.Err() != nil {
			return -1, nil
		}
		end := time.Now()
		if err != nil && status == statusNetErr {
			b = []byte(err.Error())
		}
		if status == http.StatusServiceUnavailable {
			n503.Add(1)
			if hdr.Get("Retry-After") == "" {
				n503NoRetry.Add(1)
			}
		}
		if status/100 == 2 && method == "POST" {
			var br bookingResp
			if json.Unmarshal(b, &br) == nil && br.ID != uuid.Nil && br.Status != "" {
				acks.record(status == http.StatusCreated && path == "/api/v1/bookings", br.ID, br.Status, end)
			}
			if k := ph.kill.Load(); k != 0 && start.UnixNano() > k {
				firstMu.Lock()
				if firstWrite.IsZero() || end.Before(firstWrite) {
					firstWrite = end
				}
				firstMu.Unlock()
			}
		}
		ph.at(start).record(op, status, end.Sub(start), b)
		return status, b
	}
	tLoad = time.Now()
	var wg sync.WaitGroup
	for c := range o.clients {
		r := rand.New(rand.NewPCG(o.seed, uint64(c)))
		tr := &tokenRing{tokens: clientTokens[c]}
		pc := &pacer{every: time.Second / perClientRate}
		cdo := func(op, method, path, token string, body, into any) (int, []byte) {
			if !pc.wait(ctxLoad) {
				return -1, nil
			}
			return do(op, method, path, token, body, into)
		}
		if c < nProd {
			prods := h.w.prods[[]string{"producer", "producer_other"}[c%2]]
			wg.Go(func() { producerLoop(ctxLoad, r, cdo, tr, prods, slot, confirms, holds) })
		} else {
			wg.Go(func() { managerLoop(ctxLoad, r, cdo, tr, h.w.allProds, slot, confirms, holds) })
		}
	}
	log.printf("load: %d clients (%d producers, %d admins acting as managers), at most %d requests/s each, for %s, then the primary dies",
		o.clients, nProd, nMgr, perClientRate, o.before)
	sleep := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
			return nil
		}
	}
	if err := sleep(o.before); err != nil {
		return nil, err
	}

	// With -replication-lag the WAL sender stops (SIGSTOP) that long before the kill:
	// the standby falls behind as one across a network or under load does. On one
	// machine it otherwise keeps within microseconds of the primary.
	conn, err := pgx.Connect(ctx, pair.primary.URL("posthub"))
	if err != nil {
		return nil, err
	}
	stopped := 0 // the WAL sender while it is stopped
	if o.lag > 0 {
		var sender int
		if err := conn.QueryRow(ctx, `SELECT pid FROM pg_stat_replication WHERE application_name = $1`, standbyName).Scan(&sender); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("finding the WAL sender: %w", err)
		}
		if err := syscall.Kill(sender, syscall.SIGSTOP); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("stopping the WAL sender %d: %w", sender, err)
		}
		// Should the drill end before the kill, the primary must still stop cleanly.
		stopped = sender
		defer func() {
			if stopped != 0 {
				_ = syscall.Kill(stopped, syscall.SIGCONT)
			}
		}()
		log.printf("WAL sender %d stopped: the standby falls behind for %s, then the primary dies", sender, o.lag)
		if err := sleep(o.lag); err != nil {
			conn.Close(ctx)
			return nil, err
		}
	}
	// The replication lag just before the kill: WAL the primary has written and the
	// standby has not confirmed flushing.
	_ = conn.QueryRow(ctx, `SELECT coalesce(pg_current_wal_lsn() - flush_lsn, 0)::bigint FROM pg_stat_replication WHERE application_name = $1`, standbyName).Scan(&res.lagBytes)
	conn.Close(ctx)
	tKill := time.Now()
	ph.kill.Store(tKill.UnixNano())
	pid, kids, err := pair.primary.Kill(ctx)
	if err != nil {
		return nil, fmt.Errorf("killing the primary: %w", err)
	}
	pair.killed = true
	stopped = 0
	res.killedChildren = kids
	log.printf("killed the primary: kill -9 postmaster %d and its %d processes (%s after the load began; standby %d bytes behind just before)",
		pid, kids, tKill.Sub(tLoad).Round(time.Millisecond), res.lagBytes)

	// /readyz from the kill on: down, then up again once posthub reaches the new primary.
	readyAt := make(chan time.Time, 1)
	go func() {
		sawDown := false
		deadline := tKill.Add(o.recoverTimeout + o.detect + time.Minute)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			resp, err := readyClient.Get("http://" + p.addr + "/readyz")
			ok := false
			if err == nil {
				ok = resp.StatusCode == http.StatusOK
				resp.Body.Close()
			}
			if !ok {
				sawDown = true
			} else if sawDown {
				readyAt <- time.Now()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(readyAt)
	}()

	if err := sleep(o.detect); err != nil {
		return nil, err
	}
	tPromote := time.Now()
	if err := pair.standby.Promote(ctx); err != nil {
		return nil, err
	}
	tPromoted := time.Now()
	res.promoteAfter, res.promoteDur = tPromote.Sub(tKill), tPromoted.Sub(tPromote)
	log.printf("promoted the standby %s after the kill (pg_ctl promote took %s)", res.promoteAfter.Round(time.Millisecond), res.promoteDur.Round(time.Millisecond))
	// The new primary runs alone: it must not wait for a synchronous standby it does
	// not have (the setting was made on the old primary after the base backup).
	var names string
	if conn, err := pgx.Connect(ctx, pair.standby.URL("posthub")); err == nil {
		_ = conn.QueryRow(ctx, `SHOW synchronous_standby_names`).Scan(&names)
		conn.Close(ctx)
	}
	h.pool.Reset()

	var readyErr error
	select {
	case t, ok := <-readyAt:
		if ok {
			res.ready = t.Sub(tKill)
		} else {
			readyErr = fmt.Errorf("/readyz did not answer 200 within %s of the promotion", o.recoverTimeout)
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	deadline := time.Now().Add(o.recoverTimeout)
	for {
		firstMu.Lock()
		fw := firstWrite
		firstMu.Unlock()
		if !fw.IsZero() {
			res.firstWrite = fw.Sub(tKill)
			ph.recovered.Store(fw.UnixNano())
			break
		}
		if time.Now().After(deadline) {
			break
		}
		if err := sleep(10 * time.Millisecond); err != nil {
			return nil, err
		}
	}
	log.printf("posthub recovered: /readyz 200 %s after the kill, first write %s after", res.ready.Round(time.Millisecond), res.firstWrite.Round(time.Millisecond))
	if err := sleep(o.after); err != nil {
		return nil, err
	}
	cancel()
	wg.Wait()
	loadEnd := time.Now()
	log.printf("load over after %s", loadEnd.Sub(tLoad).Round(time.Millisecond))

	fmt.Fprintf(out, "\n== posthub-drill failover, %s replication: 1 serve process, %d clients, %s of load ==\n", mode, o.clients, loadEnd.Sub(tLoad).Round(time.Millisecond))
	fsync := "fsync on"
	if h.flags.fast {
		fsync = "fsync off"
	}
	sc := "synchronous_commit on, no synchronous standby"
	if mode == "sync" {
		sc = fmt.Sprintf("synchronous_standby_names '%s', synchronous_commit %s", standbyName, o.syncCommit)
	}
	fmt.Fprintf(out, "%s; %s; PostgreSQL primary + streaming standby (pg_basebackup, slot %s), %s; %s\n", h.version, machine(), standbyName, fsync, sc)
	fmt.Fprintf(out, "requests before the kill:\n")
	ph.before.report(out, 0)
	fmt.Fprintf(out, "requests sent between the kill and the first write the new primary took:\n")
	ph.during.report(out, 0)
	fmt.Fprintf(out, "requests after that:\n")
	ph.after.report(out, 0)
	res.p50Before, res.p99Before = writeLatency(ph.before)
	for _, s := range []*stats{ph.before, ph.during, ph.after} {
		_, n := s.total(func(st int) bool { return st == http.StatusInternalServerError })
		res.n500 += n
		_, n = s.total(func(st int) bool { return st == statusNetErr })
		res.nNoAnswer += n
	}
	res.n503 = int(n503.Load())
	fmt.Fprintf(out, "failover:\n")
	if o.lag > 0 {
		fmt.Fprintf(out, "  the primary's WAL sender stopped %s before the kill (-replication-lag): the standby behind as across a network\n", o.lag)
	}
	fmt.Fprintf(out, "  standby %d bytes of WAL behind (pg_current_wal_lsn - flush_lsn) just before the kill\n", res.lagBytes)
	fmt.Fprintf(out, "  kill -9 postmaster %d and its %d processes at +%.1fs; promoted %s later (pg_ctl promote -w took %s); synchronous_standby_names on the new primary %q\n",
		pid, kids, tKill.Sub(tLoad).Seconds(), res.promoteAfter.Round(time.Millisecond), res.promoteDur.Round(time.Millisecond), names)
	fmt.Fprintf(out, "  /readyz 200 again %s after the kill; first successful write %s after the kill (%s after the promotion)\n",
		res.ready.Round(time.Millisecond), res.firstWrite.Round(time.Millisecond), (res.firstWrite - res.promoteAfter - res.promoteDur).Round(time.Millisecond))

	log.printf("waiting up to %s for the job queues to drain", o.drain)
	drainEnd := time.Now().Add(o.drain)
	quietAt, left, err := waitQuiet(ctx, h.pool, o.drain, log)
	if err != nil {
		return nil, err
	}
	// Jobs that failed or snoozed during the outage wait as 'scheduled' for their retry
	// (a delivery claimed when the primary died snoozes until the claim's one-minute
	// lease ends); waitQuiet does not count a job scheduled ahead.
	if retried, err := waitRetries(ctx, h.pool, time.Until(drainEnd), log); err != nil {
		return nil, err
	} else if retried {
		if quietAt, left, err = waitQuiet(ctx, h.pool, max(time.Until(drainEnd), 5*time.Second), log); err != nil {
			return nil, err
		}
	}
	if o.reminders {
		lastDue := loadEnd.Add(failLaneLead + 20*time.Second - failLaneOffset)
		if err := waitUntil(ctx, log, lastDue.Add(10*time.Second), "the lane's last reminder to fall due"); err != nil {
			return nil, err
		}
		if _, left, err = waitQuiet(ctx, h.pool, o.drain, log); err != nil {
			return nil, err
		}
	}

	fmt.Fprintf(out, "invariants:\n")
	v := &verdict{w: out}
	v.check("readyz_recovered", readyErr == nil, fmt.Sprintf("/readyz 200 %s after the kill", res.ready.Round(time.Millisecond)), errString(readyErr))
	v.check("writes_resumed", res.firstWrite > 0, fmt.Sprintf("first 2xx booking write %s after the kill", res.firstWrite.Round(time.Millisecond)))

	// What the API acknowledged against what the new primary holds. The control: a
	// booking id never written, passed as acknowledged, must come back as lost.
	control := uuid.New()
	lost, counts, err := acks.lost(ctx, h.pool, tKill, control)
	if err != nil {
		return nil, err
	}
	counts.acked-- // the control
	acked, ackedConf := counts.acked, counts.confirmed
	controlFound := false
	var real []lostWrite
	for _, l := range lost {
		if strings.Contains(l.desc, control.String()) {
			controlFound = true
			continue
		}
		real = append(real, l)
	}
	lost = real
	res.acked, res.ackedConfirmed = acked, ackedConf
	for _, l := range lost {
		switch l.kind {
		case "created":
			res.lostCreated++
		case "confirmed":
			res.lostConfirm++
		default:
			res.lostState++
		}
	}
	acks.mu.Lock()
	for _, st := range acks.states {
		for _, t := range st {
			if t.Before(tKill) {
				res.ackedBeforeKill++
				break
			}
		}
	}
	acks.mu.Unlock()
	v.check("lost_ack_check_works", controlFound, "a booking id never written, passed as acknowledged, is reported lost")
	v.check("writes_acknowledged_around_the_kill", res.ackedBeforeKill > 0 && acked > res.ackedBeforeKill,
		fmt.Sprintf("%d bookings acknowledged before the kill, %d after", res.ackedBeforeKill, acked-res.ackedBeforeKill))
	judgeLost(v, mode, lost, counts)
	if err := bookingStateChecks(ctx, h, v); err != nil {
		return nil, err
	}
	samples := serveErrors(p.logPath(), 10)
	v.check("no_500_answers", res.n500 == 0, fmt.Sprintf("%d answers 500 (%d answered 503, %d got no answer)", res.n500, res.n503, res.nNoAnswer), samples...)
	v.check("503_answers_have_retry_after", n503NoRetry.Load() == 0, fmt.Sprintf("%d of %d answers 503 without Retry-After", n503NoRetry.Load(), res.n503))
	v.check("job_queues_drained", len(left) == 0, fmt.Sprintf("due jobs left after %s: %d kinds", o.drain, len(left)), left...)
	if !quietAt.IsZero() {
		v.note("drained", fmt.Sprintf("queues quiet %s after the load ended", quietAt.Sub(loadEnd).Round(100*time.Millisecond)))
	}
	var after, afterDone, afterBad int
	if err := h.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'completed'),
			count(*) FILTER (WHERE state IN ('discarded', 'cancelled'))
		FROM river_job WHERE created_at > $1 AND queue IN ('notifications', 'reminders')`, tPromoted).Scan(&after, &afterDone, &afterBad); err != nil {
		return nil, err
	}
	v.check("river_works_after_failover", after > 0 && afterBad == 0 && len(left) == 0,
		fmt.Sprintf("%d notification and reminder jobs inserted after the promotion: %d completed, %d discarded or cancelled", after, afterDone, afterBad))
	if s, err := riverPickup(ctx, h.pool, tKill, tPromoted); err == nil {
		v.note("river pickup (attempted - scheduled)", s)
	}
	noNotice, nConfirmed, err := confirmedWithoutNotice(ctx, h)
	if err != nil {
		return nil, err
	}
	v.check("confirmations_enqueued", len(noNotice) == 0, fmt.Sprintf("%d confirmed bookings, %d without a confirmed notice job", nConfirmed, len(noNotice)), noNotice...)
	nr, err := checkNotices(ctx, h.pool, h.sink)
	if err != nil {
		return nil, err
	}
	bad := append(append(prefix("no deliveries row: ", filterKinds(nr.noRow, "confirmed")),
		prefix("never received: ", filterKinds(nr.notReceived, "confirmed"))...), prefix("job not completed: ", filterKinds(nr.unfinished, "confirmed"))...)
	v.check("confirmation_emails_delivered_once", len(bad) == 0,
		fmt.Sprintf("%d confirmation emails expected, %d missing", nr.perKind["confirmed"]+len(filterKinds(nr.unfinished, "confirmed")), len(bad)), bad...)
	others := append(append(prefix("no deliveries row: ", filterKinds(nr.noRow)), prefix("never received: ", filterKinds(nr.notReceived))...),
		prefix("job not completed: ", filterKinds(nr.unfinished))...)
	v.check("all_notice_emails_delivered_once", len(others) == 0,
		fmt.Sprintf("%d notice jobs (%s), %d emails expected, %d delivered and received", nr.jobs, summariseStates(nr.byState), nr.expected, nr.ok), others...)
	if o.reminders {
		if err := checkReminders(ctx, h, v, time.Now()); err != nil {
			return nil, err
		}
	}
	dups, dupMsgs, unrecorded, err := sinkVsDeliveries(ctx, h.pool, h.sink)
	if err != nil {
		return nil, err
	}
	res.redeliveries, res.phantoms = len(dups), len(unrecorded)
	total, distinct, noID := h.sink.counts()
	v.note("sink", fmt.Sprintf("%d messages, %d distinct Message-IDs, %d without one", total, distinct, noID))
	v.note("redeliveries (same Message-ID)", fmt.Sprintf("%d Message-IDs received more than once (%d extra messages): sent, then the database went away before the delivery was marked; sent again after the claim's lease", len(dups), dupMsgs), dups...)
	what := "sent, and the delivery's row was lost with the old primary"
	if mode == "sync" {
		what = "sent, and the delivery's claim never committed"
	}
	v.note("received without deliveries row", fmt.Sprintf("%d (%s)", len(unrecorded), what), unrecorded...)
	if s, err := jobStates(ctx, h.pool); err == nil {
		v.note("river jobs", s)
	}
	if err := v.err(); err != nil {
		res.broken = v.broken
		return res, err
	}
	fmt.Fprintf(out, "failover drill (%s replication) passed\n", mode)
	return res, nil
}

// waitRetries waits until no notification or reminder job that has run before is
// scheduled to run again (a retry or a snooze), or until timeout; it reports whether
// there were any.
func waitRetries(ctx context.Context, pool *pgxpool.Pool, timeout time.Duration, log *progress) (bool, error) {
	deadline := time.Now().Add(timeout)
	any, logged := false, false
	for {
		var n int
		var next *time.Time
		err := pool.QueryRow(ctx, `SELECT count(*), max(scheduled_at) FROM river_job
			WHERE queue IN ('notifications', 'reminders') AND state IN ('scheduled', 'retryable') AND attempted_at IS NOT NULL`).Scan(&n, &next)
		if err != nil {
			return any, err
		}
		if n == 0 || time.Now().After(deadline) {
			return any, nil
		}
		any = true
		if !logged && next != nil {
			log.printf("waiting for %d jobs scheduled to run again after the outage (the last at %s, in %s)", n, next.Format("15:04:05"), time.Until(*next).Round(time.Second))
			logged = true
		}
		select {
		case <-ctx.Done():
			return any, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// judgeLost reports the acknowledged writes the new primary lacks: in sync mode each
// kind is an invariant (any loss breaks it), in async mode a figure.
func judgeLost(v *verdict, mode string, lost []lostWrite, n ackCounts) {
	descs := func(kind string) []string {
		var d []string
		for _, l := range lost {
			if l.kind == kind {
				d = append(d, l.desc)
			}
		}
		return d
	}
	for _, s := range []struct{ name, kind, what string }{
		{"acknowledged_bookings_exist", "created", fmt.Sprintf("%d bookings acknowledged (2xx), %%d missing after the failover", n.acked)},
		{"acknowledged_confirmations_kept", "confirmed", fmt.Sprintf("%d answered confirmed, %%d not confirmed after the failover", n.confirmed)},
		{"acknowledged_releases_declines_kept", "state", fmt.Sprintf("%d answered released or declined, %%d not so after the failover", n.releasedDeclined)},
	} {
		d := descs(s.kind)
		if mode == "sync" {
			v.check(s.name, len(d) == 0, fmt.Sprintf(s.what, len(d)), d...)
		} else {
			v.note(s.name+" (async)", "LOST: "+fmt.Sprintf(s.what, len(d)), d...)
		}
	}
}

// bookingStateChecks: no two confirmed bookings of a resource overlap, and every
// booking's rows agree with its group.
func bookingStateChecks(ctx context.Context, h *harness, v *verdict) error {
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
	return nil
}

// writeLatency is the p50 and p99 of the successful booking writes in s.
func writeLatency(s *stats) (time.Duration, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []time.Duration
	for name, o := range s.ops {
		if name == "direct-confirmed" || name == "hold" || strings.HasPrefix(name, "confirm") {
			all = append(all, o.lat...)
		}
	}
	return percentile(all, 50), percentile(all, 99)
}

// riverPickup compares how long jobs waited to be picked up (attempted_at −
// scheduled_at of first attempts) before the kill and after the promotion: River's
// LISTEN/NOTIFY wakes workers at once; without it they would wait for the next poll.
func riverPickup(ctx context.Context, pool *pgxpool.Pool, kill, promoted time.Time) (string, error) {
	var parts []string
	for _, w := range []struct {
		name     string
		from, to time.Time
	}{{"before the kill", time.Time{}, kill}, {"after the promotion", promoted, time.Now().Add(time.Hour)}} {
		var n int
		var p50, p99 float64
		if err := pool.QueryRow(ctx, `SELECT count(*),
				coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM attempted_at - scheduled_at)), 0),
				coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM attempted_at - scheduled_at)), 0)
			FROM river_job WHERE kind IN ('booking_notice', 'booking_notice_group') AND attempt = 1 AND state = 'completed'
			  AND created_at > $1 AND created_at < $2`, w.from, w.to).Scan(&n, &p50, &p99); err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("%s: %d notice jobs, p50 %.1f ms, p99 %.1f ms", w.name, n, p50*1000, p99*1000))
	}
	return strings.Join(parts, "; "), nil
}

// serveErrors lists the distinct causes of the answers 500 in a serve log (posthub logs
// each as "request failed" with its error), most frequent first.
func serveErrors(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	count := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			Msg  string `json:"msg"`
			Err  string `json:"err"`
			Code string `json:"code"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Msg != "request failed" || l.Code != booking.EINTERNAL {
			continue
		}
		count[l.Err]++
	}
	var out []string
	for e, c := range count {
		out = append(out, fmt.Sprintf("%d× %s", c, e))
	}
	sort.Slice(out, func(i, j int) bool {
		return count[strings.SplitN(out[i], "× ", 2)[1]] > count[strings.SplitN(out[j], "× ", 2)[1]]
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// syncCost is the booking latency with and without a synchronous standby.
type syncCost struct {
	off, on       []time.Duration
	errOff, errOn int
	segment       time.Duration
	rounds        int
	clients       int
	level         string
}

// measureSyncCost books free slots back to back as managers, alternating segments
// without a synchronous standby (synchronous_standby_names empty) and with it, on the
// same primary, standby and posthub process: the cost of synchronous commit at the
// HTTP level. It leaves the standby synchronous.
func measureSyncCost(ctx context.Context, h *harness, pair *pgPair, api *apiClient, addr string, o failoverOpts) (*syncCost, error) {
	conn, err := pgx.Connect(ctx, pair.primary.URL("posthub"))
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rings := make([]*tokenRing, o.latClients)
	for i := range rings {
		email, err := cliAdmin(ctx, h, fmt.Sprintf("drill-latency-%d", i))
		if err != nil {
			return nil, err
		}
		ts, err := cliTokens(ctx, h, email, fmt.Sprintf("drill-latency-%d", i), 2)
		if err != nil {
			return nil, err
		}
		rings[i] = &tokenRing{tokens: ts}
	}
	var all []uuid.UUID
	for _, slug := range []string{"casablanca", "dakar"} {
		all = append(all, h.w.resources[slug]...)
	}
	hours, err := siteHours(h.w, time.Date(time.Now().UTC().Year()+5, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return nil, err
	}
	slots := &slotter{res: all, hours: hours, siteOf: h.w.siteOf}
	prods := h.w.allProds
	var prodN atomic.Int64
	c := &syncCost{segment: o.latSegment, rounds: o.latRounds, clients: o.latClients, level: o.syncCommit}
	segment := func(on bool) error {
		if err := setSyncStandby(ctx, conn, on); err != nil {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, o.latSegment)
		defer cancel()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range o.latClients {
			tr := rings[i]
			pc := &pacer{every: time.Second / perClientRate}
			wg.Go(func() {
				for pc.wait(sctx) {
					r, s, e := slots.get()
					start := time.Now()
					status, _, _ := api.call(sctx, "POST", "http://"+addr+"/api/v1/bookings", tr.get(),
						bookingReq{ProductionID: prods[int(prodN.Add(1))%len(prods)], ResourceIDs: []uuid.UUID{r}, Start: rfc(s), End: rfc(e), Status: "confirmed"}, nil)
					d := time.Since(start)
					if sctx.Err() != nil {
						return
					}
					mu.Lock()
					switch {
					case status == http.StatusCreated && on:
						c.on = append(c.on, d)
					case status == http.StatusCreated:
						c.off = append(c.off, d)
					case on:
						c.errOn++
					default:
						c.errOff++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return nil
	}
	h.log.printf("synchronous-commit cost: %d rounds of %s without and %s with the synchronous standby, %d clients at %d bookings/s each",
		o.latRounds, o.latSegment, o.latSegment, o.latClients, perClientRate)
	for i := range o.latRounds {
		order := []bool{false, true}
		if i%2 == 1 {
			order = []bool{true, false}
		}
		for _, on := range order {
			if err := segment(on); err != nil {
				return nil, err
			}
		}
	}
	if err := setSyncStandby(ctx, conn, true); err != nil {
		return nil, err
	}
	h.log.printf("synchronous-commit cost: without p50 %s p99 %s (%d), with p50 %s p99 %s (%d)",
		fmtMS(percentile(c.off, 50)), fmtMS(percentile(c.off, 99)), len(c.off), fmtMS(percentile(c.on, 50)), fmtMS(percentile(c.on, 99)), len(c.on))
	return c, nil
}

// perClientRate is the most requests a second a failover drill client sends: two
// clients share a demo producer, and posthub allows 20 a second per user and 10 per
// token.
const perClientRate = 9

// pacer spaces a client's requests at least every apart.
type pacer struct {
	every time.Duration
	next  time.Time
}

// wait sleeps until the next request may go; false when ctx ended first.
func (p *pacer) wait(ctx context.Context) bool {
	now := time.Now()
	if d := p.next.Sub(now); d > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
		}
		now = p.next
	}
	p.next = now.Add(p.every)
	return ctx.Err() == nil
}

// demoEmail is a demo user's email address.
func demoEmail(key string) string { return demo.Emails()[key] }

// cliAdmin creates an admin of the demo hub with `posthub user add` and returns its
// email.
func cliAdmin(ctx context.Context, h *harness, name string) (string, error) {
	email := name + "@drill.posthub.test"
	if _, err := h.posthub(ctx, "user", "add", "--email", email, "--name", name, "--role", "admin", "--org", demo.HubSlug); err != nil {
		return "", err
	}
	return email, nil
}

// cliTokens makes n API tokens for a user with `posthub token create`.
func cliTokens(ctx context.Context, h *harness, email, name string, n int) ([]string, error) {
	var out []string
	for i := range n {
		b, err := h.posthub(ctx, "token", "create", "--email", email, "--name", fmt.Sprintf("%s-%d", name, i))
		if err != nil {
			return nil, err
		}
		t := strings.TrimSpace(string(b))
		if t == "" || strings.ContainsAny(t, " \n") {
			return nil, fmt.Errorf("posthub token create printed %q, want the token alone", truncate(b, 80))
		}
		out = append(out, t)
	}
	return out, nil
}

// failoverSummary prints the figures of every mode side by side.
func failoverSummary(out io.Writer, rs []*failoverResult) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(out, "\n== posthub-drill failover: summary ==\n")
	fmt.Fprintf(out, "  %-10s %9s %9s %9s %9s %9s %10s %10s %10s %8s %5s %5s %6s\n", "mode", "acked", "lost", "lost-conf", "lost-stat", "lag B",
		"promoted", "readyz", "1st write", "p50/p99", "500", "503", "redeliv")
	for _, r := range rs {
		fmt.Fprintf(out, "  %-10s %9d %9d %9d %9d %9d %10s %10s %10s %s/%s %5d %5d %6d\n", r.mode, r.acked, r.lostCreated, r.lostConfirm, r.lostState, r.lagBytes,
			(r.promoteAfter + r.promoteDur).Round(time.Millisecond), r.ready.Round(time.Millisecond), r.firstWrite.Round(time.Millisecond),
			fmtMS(r.p50Before), fmtMS(r.p99Before), r.n500, r.n503, r.redeliveries)
	}
	fmt.Fprintf(out, "  (acked: bookings with a 2xx write; lost: missing, lost-conf: answered confirmed and not, lost-stat: released/declined reverted;\n")
	fmt.Fprintf(out, "   lag: WAL bytes the standby had not flushed just before the kill; promoted/readyz/1st write: from the kill;\n")
	fmt.Fprintf(out, "   p50/p99: booking writes under the drill's load before the kill)\n")
	for _, r := range rs {
		if c := r.latency; c != nil {
			p := func(ds []time.Duration, q float64) time.Duration { return percentile(ds, q) }
			fmt.Fprintf(out, "  synchronous commit cost (%s mode, %d clients booking free slots at %d/s each, %d×%s per setting in alternating segments, synchronous_commit %s):\n",
				r.mode, c.clients, perClientRate, c.rounds, c.segment, c.level)
			fmt.Fprintf(out, "    without synchronous standby: %5d bookings  p50 %s  p99 %s  (%d failed)\n", len(c.off), fmtMS(p(c.off, 50)), fmtMS(p(c.off, 99)), c.errOff)
			fmt.Fprintf(out, "    with synchronous standby:    %5d bookings  p50 %s  p99 %s  (%d failed)\n", len(c.on), fmtMS(p(c.on, 50)), fmtMS(p(c.on, 99)), c.errOn)
			fmt.Fprintf(out, "    cost: p50 %+.1f ms, p99 %+.1f ms\n", float64(p(c.on, 50)-p(c.off, 50))/1e6, float64(p(c.on, 99)-p(c.off, 99))/1e6)
		}
	}
}
