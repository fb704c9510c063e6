package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/posthub/posthub/internal/auth"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/postgres"
)

// runBench is `posthub-drill bench`:
//
//	(a) booking writes through HTTP (direct confirmed bookings on distinct free slots,
//	    N clients) against pgbench running the same insert transaction (whole, and its
//	    core alone) with N clients on the same database, and HTTP latency at half the
//	    peak rate (paced, open loop);
//	(c) the notification pipeline against the booking peak: confirmation emails
//	    delivered per second from a backlog of confirmations booked at the peak (the
//	    notifications queue paused meanwhile), against twice the peak booking rate;
//	    and the lateness of reminders falling due while it drains;
//	(d) the serve process's peak RSS.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	o := benchOpts{}
	fs.IntVar(&o.clients, "clients", 16, "concurrent HTTP clients, and pgbench clients")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "length of the peak, pgbench and paced runs")
	fs.IntVar(&o.pipeline, "pipeline-bookings", 1200, "confirmed bookings whose confirmation emails the pipeline run delivers")
	fs.IntVar(&o.reminders, "reminders", 60, "bookings whose reminders measure the lateness")
	fs.BoolVar(&o.strict, "strict", false, "exit 1 when a target is missed")
	fs.StringVar(&o.pgbench, "pgbench", "", "pgbench binary (default: next to the PostgreSQL server binaries)")
	extra := fs.String("paced-extra", "0.25", "further paced runs, as comma-separated fractions of the peak rate (empty: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, x := range strings.Split(*extra, ",") {
		if x = strings.TrimSpace(x); x == "" {
			continue
		}
		v, err := strconv.ParseFloat(x, 64)
		if err != nil || v <= 0 || v > 1 {
			return fmt.Errorf("-paced-extra: %q is not a fraction in (0, 1]", x)
		}
		o.pacedExtra = append(o.pacedExtra, v)
	}
	if o.clients < 1 || o.clients > 256 || o.duration < 5*time.Second || o.duration > 2*time.Minute || o.pipeline < 10 || o.pipeline > 20000 || o.reminders < 2 || o.reminders > 1000 {
		return fmt.Errorf("want 1 ≤ -clients ≤ 256, 5s ≤ -duration ≤ 2m, 10 ≤ -pipeline-bookings ≤ 20000, 2 ≤ -reminders ≤ 1000")
	}
	log := &progress{w: stderr, start: time.Now()}
	h, err := setup(ctx, cf, log)
	if err != nil {
		return err
	}
	defer h.close()
	err = bench(ctx, h, stdout, o)
	if err != nil && !isTargetMiss(err) {
		h.failed = true
	}
	return err
}

type benchOpts struct {
	clients    int
	duration   time.Duration
	pipeline   int
	reminders  int
	strict     bool
	pgbench    string
	pacedExtra []float64
}

type targetMiss struct{ invariantError }

func isTargetMiss(err error) bool {
	var t *targetMiss
	return errors.As(err, &t)
}

// slotter hands out distinct one-hour slots round-robin over resources: slot i is
// resource i mod R, in working hour i div R of its site (counted from the same base at
// every site). They never overlap and all hold working time, so they all succeed.
type slotter struct {
	res    []uuid.UUID
	hours  map[uuid.UUID]*workHours // by site
	siteOf map[uuid.UUID]uuid.UUID
	next   atomic.Int64
}

func (s *slotter) get() (uuid.UUID, time.Time, time.Time) {
	i := s.next.Add(1) - 1
	r := s.res[int(i%int64(len(s.res)))]
	start := s.hours[s.siteOf[r]].at(int(i / int64(len(s.res))))
	return r, start, start.Add(time.Hour)
}

// benchFigures are the measured figures, for the summary.
type benchFigures struct {
	httpPeak                  float64
	pgbenchCore, pgbenchFull  pgbenchRun
	httpPeakP50, httpPeakP99  time.Duration
	paced                     []pacedResult
	seqP50, seqP99            time.Duration
	peakCPU, pipeCPU          cpuUse
	pipeBookRate, pipeRate    float64
	pipeCreate, pipeDrain     time.Duration
	pipeEarly                 int
	lateP50, lateP99, lateMax time.Duration
	lateN, lateMissing        int
	hwm                       int64
	httpErrors                int
	warmupN, peakN, pipeMails int
}

func bench(ctx context.Context, h *harness, out io.Writer, o benchOpts) error {
	log := h.log
	f := &benchFigures{}
	p, err := h.startServe(ctx, "serve-1")
	if err != nil {
		return err
	}
	log.printf("serve-1 ready on %s (pid %d, POSTHUB_WORKERS=%d)", p.addr, p.pid(), h.flags.workers)
	api := newAPIClient(512)
	tokens, err := mintTokens(ctx, h, "manager", "drill-bench", 200)
	if err != nil {
		return err
	}
	tr := &tokenRing{tokens: tokens}
	log.printf("minted 200 manager tokens (posthub allows 600 requests a minute per credential and process)")

	var all []uuid.UUID
	for _, slug := range []string{"casablanca", "dakar"} {
		all = append(all, h.w.resources[slug]...)
	}
	year := time.Now().UTC().Year()
	hours, err := siteHours(h.w, time.Date(year+5, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	httpSlots := &slotter{res: all, hours: hours, siteOf: h.w.siteOf}
	prods := h.w.allProds
	var prodN atomic.Int64
	var lastBody atomic.Value
	book := func(ctx context.Context) (int, uuid.UUID, time.Duration) {
		r, s, e := httpSlots.get()
		var b bookingResp
		start := time.Now()
		status, body, _ := api.call(ctx, "POST", "http://"+p.addr+"/api/v1/bookings", tr.get(),
			bookingReq{ProductionID: prods[int(prodN.Add(1))%len(prods)], ResourceIDs: []uuid.UUID{r}, Start: rfc(s), End: rfc(e), Status: "confirmed"}, &b)
		d := time.Since(start)
		if status == http.StatusCreated {
			lastBody.Store(string(body))
		}
		return status, b.ID, d
	}
	// closedLoop runs n clients booking back to back until ctx ends or limit bookings
	// were attempted (limit 0: no limit).
	closedLoop := func(ctx context.Context, n, limit int) (ok int, errs int, lat []time.Duration, ids []uuid.UUID, elapsed time.Duration) {
		var mu sync.Mutex
		var attempted atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range n {
			wg.Go(func() {
				for ctx.Err() == nil {
					if limit > 0 && attempted.Add(1) > int64(limit) {
						return
					}
					status, id, d := book(ctx)
					if ctx.Err() != nil && status == statusNetErr {
						return
					}
					mu.Lock()
					if status == http.StatusCreated {
						ok++
						lat = append(lat, d)
						ids = append(ids, id)
					} else {
						errs++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return ok, errs, lat, ids, time.Since(start)
	}

	// Warm-up, then let the notices of the warm-up drain.
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	f.warmupN, _, _, _, _ = closedLoop(wctx, o.clients, 0)
	cancel()
	if err := h.quiet(ctx, "warm-up"); err != nil {
		return err
	}

	// (a) one client, one booking after another: the latency without queueing.
	_, _, seq, _, _ := closedLoop(ctx, 1, 200)
	f.seqP50, f.seqP99 = percentile(seq, 50), percentile(seq, 99)
	log.printf("(a) one client, 200 bookings in a row: p50 %s, p99 %s", fmtMS(f.seqP50), fmtMS(f.seqP99))
	if err := h.quiet(ctx, "one-client"); err != nil {
		return err
	}

	// (a) peak HTTP booking writes.
	log.printf("(a) peak: %d clients booking confirmed slots for %s", o.clients, o.duration)
	if h.flags.pgss {
		if _, err := h.pool.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
			return err
		}
	}
	pctx, cancel := context.WithTimeout(ctx, o.duration)
	c0 := h.sampleCPU(p.pid())
	ok, errs, lat, _, elapsed := closedLoop(pctx, o.clients, 0)
	f.peakCPU = c0.until(h.sampleCPU(p.pid()))
	cancel()
	f.peakN, f.httpErrors = ok, errs
	f.httpPeak = float64(ok) / elapsed.Seconds()
	f.httpPeakP50, f.httpPeakP99 = percentile(lat, 50), percentile(lat, 99)
	log.printf("(a) peak: %d bookings in %s = %.1f/s (p50 %s, p99 %s), %d errors; %s", ok, elapsed.Round(time.Millisecond), f.httpPeak, fmtMS(f.httpPeakP50), fmtMS(f.httpPeakP99), errs, f.peakCPU.perOp(ok))
	if ok == 0 {
		return errors.New("no booking succeeded in the peak run")
	}
	if err := h.quiet(ctx, "peak"); err != nil {
		return err
	}
	if h.flags.pgss {
		// The peak run and the work its notices caused, per booking.
		if err := h.statementProfile(ctx, out, ok); err != nil {
			return err
		}
	}

	// (a) paced HTTP at half the peak rate, open loop: latency counts from when each
	// request was due, so a stall shows (no coordinated omission). Then at lower rates,
	// for the shape of the curve.
	for i, frac := range append([]float64{0.5}, o.pacedExtra...) {
		pr, err := paced(ctx, h, book, f.httpPeak*frac, o.duration, p.pid())
		if err != nil {
			return err
		}
		pr.frac = frac
		f.paced = append(f.paced, pr)
		log.printf("(a) paced at %.0f%% of the peak: %d bookings at %.1f/s: p50 %s p99 %s max %s (service time p99 %s), %d errors; %s",
			100*frac, pr.n, pr.rate, fmtMS(pr.p50), fmtMS(pr.p99), fmtMS(pr.max), fmtMS(pr.serviceP99), pr.errors, pr.cpu.perOp(pr.n))
		if err := h.quiet(ctx, fmt.Sprintf("paced %d", i+1)); err != nil {
			return err
		}
	}

	// (a) pgbench on the same database with the same number of clients, after the
	// paced runs: its thousands of bookings and their jobs (worked by posthub) are a
	// burst of writes whose aftermath (autovacuum, a checkpoint) would land in them.
	if err := runPgbench(ctx, h, o, f, all, lastBody.Load().(string), p.pid()); err != nil {
		return err
	}
	// The whole transaction's notice jobs are real: posthub's workers deliver them.
	if err := h.quiet(ctx, "pgbench"); err != nil {
		return err
	}

	// (c) the notification pipeline against the booking peak, with reminders falling
	// due while it drains: Casablanca reminds one minute ahead; the reminder bookings
	// start 80 to 110 s from now, so their reminders fall due 20 to 50 s from now.
	lateness, err := scheduleReminders(ctx, h, api, p.addr, tr, o)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(lateness.firstDue.Add(-3 * time.Second))):
	}
	if err := pipeline(ctx, h, o, f, p.pid(), func(ctx context.Context, limit int) (int, int, []uuid.UUID) {
		ok, errs, _, ids, _ := closedLoop(ctx, o.clients, limit)
		return ok, errs, ids
	}); err != nil {
		return err
	}
	if err := lateness.measure(ctx, h, f); err != nil {
		return err
	}
	if err := h.quiet(ctx, "pipeline"); err != nil {
		return err
	}

	// (d) the serve process's peak RSS over everything above.
	if f.hwm, err = vmHWM(p.pid()); err != nil {
		return err
	}
	log.printf("(d) serve-1 peak RSS (VmHWM) %.1f MB", float64(f.hwm)/(1<<20))
	p.stop(30 * time.Second)
	return benchSummary(out, h, o, f)
}

// quiet waits for the job queues to drain between runs, so one run's email work does
// not slow the next.
func (h *harness) quiet(ctx context.Context, after string) error {
	t := time.Now()
	_, left, err := waitQuiet(ctx, h.pool, 3*time.Minute, h.log)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("the job queues did not drain after the %s run: %s", after, strings.Join(left, ", "))
	}
	h.log.printf("queues drained %s after the %s run", time.Since(t).Round(100*time.Millisecond), after)
	return nil
}

// confirmationEmails returns the Message-IDs of the confirmation emails of bookings.
func confirmationEmails(ctx context.Context, h *harness, ids []uuid.UUID) ([]string, error) {
	rows, _ := h.pool.Query(ctx, `WITH n AS (`+noticeItems+`)
		SELECT DISTINCT n.key_id, u.id
		FROM n
		JOIN booking_groups g ON g.id = n.booking_id
		JOIN productions p ON p.id = g.production_id
		CROSS JOIN LATERAL (
			SELECT id FROM users WHERE organisation_id = p.organisation_id AND role = 'producer' AND disabled_at IS NULL
			UNION
			SELECT u.id FROM users u JOIN user_sites us ON us.user_id = u.id
			WHERE us.site_id = g.site_id AND u.role = 'manager' AND u.disabled_at IS NULL
		) u
		WHERE n.event = 'confirmed' AND n.booking_id = ANY($1) AND u.id IS DISTINCT FROM n.actor`, ids)
	var out []string
	var e, u uuid.UUID
	_, err := pgx.ForEachRow(rows, []any{&e, &u}, func() error {
		out = append(out, emailKey{e, u}.messageID())
		return nil
	})
	// Everyone told of a confirmation but the person who made it: at least one per booking.
	if err == nil && len(out) < len(ids) {
		err = fmt.Errorf("only %d confirmation emails expected for %d bookings: notice jobs missing", len(out), len(ids))
	}
	return out, err
}

// waitReceived waits until the sink has every Message-ID, and returns when the last of
// them first arrived, or those still missing at timeout.
func waitReceived(ctx context.Context, sink *mailSink, want []string, timeout time.Duration) (time.Time, []string) {
	deadline := time.Now().Add(timeout)
	for {
		var last time.Time
		var missing []string
		for _, id := range want {
			m, ok := sink.get(id)
			if !ok {
				missing = append(missing, id)
				continue
			}
			if m.first.After(last) {
				last = m.first
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return last, missing
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runPgbench runs posthub's booking insert transaction under pgbench with as many
// clients as the HTTP run, on distinct slots of the same resources, on the same
// database: first its core (lock, conflict check, the rows written), then the whole
// of it, statement for statement as DB.Book issues it (internal/postgres/booking.go),
// with the token check before it and the River job rows inserted in it.
func runPgbench(ctx context.Context, h *harness, o benchOpts, f *benchFigures, res []uuid.UUID, sampleBooking string, servePID int) error {
	bin := o.pgbench
	if bin == "" {
		dir, err := pgBinDir()
		if err != nil {
			return err
		}
		bin = filepath.Join(dir, "pgbench")
	}
	if _, err := h.pool.Exec(ctx, `CREATE SEQUENCE IF NOT EXISTS drill_pgbench_slot`); err != nil {
		return err
	}
	core, full, err := pgbenchScripts(ctx, h, res, sampleBooking)
	if err != nil {
		return err
	}
	for _, run := range []struct {
		name, script string
		out          *pgbenchRun
	}{{"core", core, &f.pgbenchCore}, {"full", full, &f.pgbenchFull}} {
		path := filepath.Join(h.tmp, "booking-"+run.name+".pgbench.sql")
		if err := os.WriteFile(path, []byte(run.script), 0o644); err != nil {
			return err
		}
		threads := min(o.clients, runtime.NumCPU())
		args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(o.clients), "-j", strconv.Itoa(threads),
			"-T", strconv.Itoa(int(o.duration.Seconds())), "-f", path, h.dbURL}
		run.out.script = path
		run.out.cmd = bin + " " + strings.Join(args[:len(args)-1], " ") + " <DATABASE_URL>"
		h.log.printf("(a) pgbench %s: %s", run.name, run.out.cmd)
		c0 := h.sampleCPU(servePID)
		outb, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		run.out.cpu = c0.until(h.sampleCPU(servePID))
		if err != nil {
			return fmt.Errorf("pgbench %s: %w\n%s", run.name, err, outb)
		}
		m := regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`).FindSubmatch(outb)
		if m == nil {
			return fmt.Errorf("pgbench %s printed no tps:\n%s", run.name, outb)
		}
		run.out.tps, _ = strconv.ParseFloat(string(m[1]), 64)
		if m := regexp.MustCompile(`latency average = ([0-9.]+ ms)`).FindSubmatch(outb); m != nil {
			run.out.latency = string(m[1])
		}
		if m := regexp.MustCompile(`number of failed transactions: ([0-9]+)`).FindSubmatch(outb); m != nil {
			run.out.failed, _ = strconv.Atoi(string(m[1]))
		}
		h.log.printf("(a) pgbench %s: %.1f transactions/s (latency average %s, %d failed); %s", run.name, run.out.tps, run.out.latency,
			run.out.failed, run.out.cpu.perOp(int(run.out.tps*o.duration.Seconds())))
	}
	return nil
}

// pgbenchRun is one pgbench run's figures.
type pgbenchRun struct {
	tps         float64
	latency     string
	failed      int
	script, cmd string
	cpu         cpuUse
}

// pgbenchScripts writes the two pgbench scripts. Slot n books resource n mod R for
// hour n div R, twenty years ahead, so no two transactions collide.
func pgbenchScripts(ctx context.Context, h *harness, res []uuid.UUID, sampleBooking string) (core, full string, err error) {
	var sites, ids, kinds, zones []string
	for _, r := range res {
		var kind, zone string
		if err := h.pool.QueryRow(ctx, `SELECT r.kind, s.time_zone FROM resources r JOIN sites s ON s.id = r.site_id WHERE r.id = $1`, r).
			Scan(&kind, &zone); err != nil {
			return "", "", err
		}
		ids, sites = append(ids, r.String()), append(sites, h.w.siteOf[r].String())
		kinds, zones = append(kinds, kind), append(zones, zone)
	}
	var hubOrg uuid.UUID
	if err := h.pool.QueryRow(ctx, `SELECT organisation_id FROM users WHERE id = $1`, h.w.users["manager"]).Scan(&hubOrg); err != nil {
		return "", "", err
	}
	// A build with due notices (booking_due_notices, issue 20) writes a booking's
	// reminders there; an earlier one schedules them as River jobs, with the unique
	// states River gives a reminder job (its default), read off one of the warm-up's.
	var dueTable bool
	if err := h.pool.QueryRow(ctx, `SELECT to_regclass('booking_due_notices') IS NOT NULL`).Scan(&dueTable); err != nil {
		return "", "", err
	}
	var uniqueStates string
	if !dueTable {
		if err := h.pool.QueryRow(ctx, `SELECT unique_states::text FROM river_job WHERE kind = 'booking_reminder' AND unique_states IS NOT NULL LIMIT 1`).
			Scan(&uniqueStates); err != nil {
			return "", "", fmt.Errorf("a reminder job's unique states: %w", err)
		}
	}
	arr := func(xs []string, typ string) string { return "'{" + strings.Join(xs, ",") + "}'::" + typ + "[]" }
	resArr, siteArr := arr(ids, "uuid"), arr(sites, "uuid")
	base := fmt.Sprintf("'%d-01-01T00:00:00Z'::timestamptz", time.Now().UTC().Year()+20)
	start := base + " + make_interval(hours => :h)"
	end := base + " + make_interval(hours => :h + 1)"
	one := "ARRAY[(" + resArr + ")[:k]]"
	site := "(" + siteArr + ")[:k]"
	zone := "(" + arr(zones, "text") + ")[:k]"
	// pgbench would read ":false" in the JSON as a variable; a space after each key's
	// colon (json.Indent's spacing) keeps the same document.
	var spaced bytes.Buffer
	if err := json.Indent(&spaced, []byte(sampleBooking), "", ""); err != nil {
		return "", "", fmt.Errorf("the sample booking is not JSON: %w", err)
	}
	after := strings.ReplaceAll(spaced.String(), "'", "''")
	prod, manager := h.w.allProds[0], h.w.users["manager"]

	head := fmt.Sprintf(`SELECT nextval('drill_pgbench_slot') AS n \gset
\set k 1 + :n %% %d
\set h :n / %d
`, len(res), len(res))
	lock := fmt.Sprintf(`-- lockResources
SELECT id, site_id, active FROM resources WHERE id = ANY(%s) ORDER BY id FOR UPDATE;
`, one)
	checkFree := fmt.Sprintf(`-- checkFree
SELECT resource_id, lower(during), upper(during), CASE WHEN status = 'hold' THEN 'hold' ELSE 'booking' END
	FROM bookings
	WHERE resource_id = ANY(%[1]s) AND during && tstzrange(%[2]s, %[3]s) AND group_id <> '00000000-0000-0000-0000-000000000000'
	  AND (status IN ('confirmed', 'completed') OR (true AND status = 'hold'))
	UNION ALL
	SELECT resource_id, lower(during), upper(during), 'block'
	FROM resource_blocks WHERE resource_id = ANY(%[1]s) AND during && tstzrange(%[2]s, %[3]s)
	ORDER BY 2, 1 LIMIT 20;
`, one, start, end)
	bookings := fmt.Sprintf(`-- its resource row
INSERT INTO bookings (group_id, resource_id, production_id, status, during, hold_seq)
	VALUES (:gid, (%s)[:k], '%s', 'confirmed', tstzrange(%s, %s), NULL);
`, resArr, prod, start, end)
	auditRow := fmt.Sprintf(`-- the audit row, with a booking as posthub records it
INSERT INTO audit_log (at, actor_id, actor_role, organisation_id, action, object_type, object_id, before, after, request_id, remote_addr)
	VALUES (now(), '%s', 'manager', '%s', 'booking.created', 'booking', :gid, NULL, '%s'::jsonb, 'pgbench', '127.0.0.1');
`, manager, hubOrg, after)

	core = "-- posthub-drill: the core statements of a confirmed booking's insert transaction\n" +
		"-- (internal/postgres/booking.go, DB.Book), on a distinct one-hour slot per transaction.\n" + head + "BEGIN;\n" + lock + checkFree +
		fmt.Sprintf(`-- the group
INSERT INTO booking_groups (production_id, site_id, status, start_at, end_at, hold_seq, hold_expires_at, note, created_by, created_at, updated_at)
	VALUES ('%s', %s, 'confirmed', %s, %s, NULL, NULL, nullif('', ''), '%s', now(), now()) RETURNING id AS gid \gset
`, prod, site, start, end, manager) + bookings + auditRow + "COMMIT;\n"

	hash := fmt.Sprintf(`'\x%x'::bytea`, auth.HashToken(h.tokens["manager"]))
	full = "-- posthub-drill: a confirmed booking's whole insert transaction, statement for statement as\n" +
		"-- DB.Book issues it (internal/postgres/booking.go), after the API's token check.\n" + head +
		fmt.Sprintf(`-- AuthenticateToken (before the transaction)
WITH touch AS (
	UPDATE api_tokens SET last_used_at = now()
	WHERE hash = %[1]s AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
	  AND (last_used_at IS NULL OR last_used_at <= now() - interval '1 minute'))
SELECT u.id, u.organisation_id, u.role, u.email, u.locale,
	coalesce((SELECT array_agg(site_id ORDER BY site_id) FROM user_sites WHERE user_id = u.id), '{}'), t.id
	FROM api_tokens t JOIN users u ON u.id = t.user_id
	WHERE t.hash = %[1]s AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.disabled_at IS NULL;
BEGIN;
`, hash) + lock + fmt.Sprintf(`-- the production (in the checks' batch)
SELECT organisation_id FROM productions WHERE id = '%s';
`, prod) + fmt.Sprintf(`-- siteRules
SELECT s.time_zone, s.country, p.confirm_needs_approval, p.hold_lifetime_seconds, p.challenge_window_seconds,
	p.min_notice_seconds, p.reminder_offsets_seconds, p.overtime
	FROM sites s JOIN site_policies p ON p.site_id = s.id WHERE s.id = %[1]s;
-- checkWorkingTime: the site's calendar (one batch in posthub)
SELECT time_zone FROM sites WHERE id = %[1]s;
SELECT weekday, from_min, to_min FROM site_week_spans WHERE site_id = %[1]s ORDER BY weekday, from_min;
SELECT id, name, from_date, to_date, spans FROM calendar_overrides WHERE site_id = %[1]s ORDER BY from_date, created_at;
SELECT id, coalesce(country, ''), site_id, date, name, provisional FROM holidays
	WHERE country = (SELECT country FROM sites WHERE id = %[1]s) OR site_id = %[1]s ORDER BY date, name;
`, site) + checkFree + fmt.Sprintf(`-- recurringBusy
SELECT b.resource_id, lower(b.during), upper(b.during), b.rrule, b.until, s.time_zone
	FROM resource_blocks b JOIN resources r ON r.id = b.resource_id JOIN sites s ON s.id = r.site_id
	WHERE b.resource_id = ANY(%[1]s) AND b.rrule IS NOT NULL AND lower(b.during) < %[3]s AND (b.until IS NULL OR b.until > %[2]s);
-- checkRingFences: the kinds booked, the site's fences on them
SELECT kind, count(*)::int FROM resources WHERE id = ANY(%[1]s) GROUP BY kind ORDER BY kind;
SELECT id, site_id, kind, programme, countries, share_pct::float8, (share_pct * 100)::bigint, period, release_days, created_at
	FROM ring_fences WHERE site_id = %[4]s AND kind = ANY(ARRAY[(%[5]s)[:k]]) ORDER BY id;
-- the group, with its site-local times
INSERT INTO booking_groups (production_id, site_id, status, start_at, end_at, hold_seq,
		hold_expires_at, note, created_by, created_at, updated_at, time_zone, local_start, local_end, tz_version, overtime)
	VALUES ('%[6]s', %[4]s, 'confirmed', %[2]s, %[3]s, NULL, NULL, nullif('', ''), '%[7]s', now(), now(),
		%[8]s, (%[2]s) AT TIME ZONE %[8]s, (%[3]s) AT TIME ZONE %[8]s, '2026f', false) RETURNING id AS gid \gset
`, one, start, end, site, arr(kinds, "text"), prod, manager, zone) + bookings +
		"-- finish: the booking read back for the answer (FindBooking's query)\n" +
		strings.TrimSpace(postgres.BookingSelect) + " WHERE g.id = :gid AND (NULL::uuid IS NULL OR p.organisation_id = NULL::uuid);\n" +
		auditRow + `-- emit: the booking's state for its follow-ups
SELECT g.id, g.status, g.start_at, g.end_at, g.hold_expires_at,
		(SELECT c.deadline FROM challenges c WHERE c.challenger_id = g.id AND c.status = 'open'),
		p.reminder_offsets_seconds
	FROM booking_groups g JOIN site_policies p ON p.site_id = g.site_id WHERE g.id = ANY(ARRAY[:gid::uuid]);
`
	notice := `(jsonb_build_object('event_id', gen_random_uuid(), 'event', 'confirmed', 'booking_id', :gid::uuid, 'at', now()), now(), 'booking_notice', 25, '{}', 1,
		'notifications', now(), 'available', '{}', NULL, NULL)`
	if dueTable {
		full += fmt.Sprintf(`-- the two reminders, as due notices
INSERT INTO booking_due_notices (booking_id, kind, ref_at, before_ns, due_at)
	SELECT * FROM unnest(ARRAY[:gid::uuid, :gid::uuid], '{reminder,reminder}'::text[], ARRAY[%[1]s, %[1]s],
		'{259200000000000,86400000000000}'::bigint[], ARRAY[(%[1]s) - interval '72 hours', (%[1]s) - interval '24 hours']);
-- the Sink: the confirmation notice, as River's JobInsertFastMany writes it
INSERT INTO river_job (args, created_at, kind, max_attempts, metadata, priority, queue, scheduled_at, state, tags, unique_key, unique_states)
	VALUES
	%[2]s
	ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND unique_states IS NOT NULL AND river_job_state_in_bitmask(unique_states, state)
	DO UPDATE SET kind = river_job.kind
	RETURNING id, (xmax != 0);
COMMIT;
`, start, notice)
		return core, full, nil
	}
	full += fmt.Sprintf(`-- the Sink: the confirmation notice and the two reminders, as River's JobInsertFastMany writes them
INSERT INTO river_job (args, created_at, kind, max_attempts, metadata, priority, queue, scheduled_at, state, tags, unique_key, unique_states)
	VALUES
	%[3]s,
	(jsonb_build_object('booking_id', :gid::uuid, 'start', %[1]s, 'before', 259200000000000), now(), 'booking_reminder', 25, '{}', 1,
		'reminders', (%[1]s) - interval '72 hours', 'scheduled', '{}', sha256(convert_to(:gid::text || '72h', 'UTF8')), B'%[2]s'),
	(jsonb_build_object('booking_id', :gid::uuid, 'start', %[1]s, 'before', 86400000000000), now(), 'booking_reminder', 25, '{}', 1,
		'reminders', (%[1]s) - interval '24 hours', 'scheduled', '{}', sha256(convert_to(:gid::text || '24h', 'UTF8')), B'%[2]s')
	ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND unique_states IS NOT NULL AND river_job_state_in_bitmask(unique_states, state)
	DO UPDATE SET kind = river_job.kind
	RETURNING id, (xmax != 0);
COMMIT;
`, start, uniqueStates, notice)
	return core, full, nil
}

// pgBinDir is where the PostgreSQL client binaries are: beside pg_ctl.
func pgBinDir() (string, error) {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(matches) == 0 {
		return "", errors.New("no pgbench found (Debian: apt-get install postgresql-contrib or postgresql); pass -pgbench")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// reminderRun is the reminder lateness run: K confirmed Casablanca slots starting
// soon with a one-minute reminder offset, whose reminder emails are timed against
// when they were due. The slots fall whenever the bench runs, working hours or not,
// so they are booked as overtime (by managers, who need no approval for it).
type reminderRun struct {
	booked            map[uuid.UUID]bool
	firstDue, lastDue time.Time
}

// scheduleReminders books the reminder run's slots: their reminders fall due 20 to
// 20 + K/2 seconds from now.
func scheduleReminders(ctx context.Context, h *harness, api *apiClient, addr string, tr *tokenRing, o benchOpts) (*reminderRun, error) {
	const offset = time.Minute
	casablanca := h.w.sites["casablanca"]
	if status, body, err := api.call(ctx, "PUT", "http://"+addr+"/api/v1/sites/"+casablanca.String()+"/policy", h.tokens["manager"],
		map[string]any{"confirm_needs_approval": false, "hold_lifetime": "168h", "challenge_window": "48h", "min_notice": "0s",
			"reminder_offsets": []string{offset.String()}}, nil); err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("setting the Casablanca policy: %d %v %s", status, err, truncate(body, 200))
	}
	res := h.w.resources["casablanca"]
	base := time.Now().Add(offset + 20*time.Second).Truncate(time.Second).Add(time.Second)
	run := &reminderRun{booked: map[uuid.UUID]bool{}, firstDue: base.Add(-offset)}
	var lastStart time.Time
	for i := range o.reminders {
		// Two a second, each on its own resource: due times spread over K/2 seconds.
		start := base.Add(time.Duration(i/2) * time.Second)
		r := res[i%len(res)]
		var b bookingResp
		status, body, err := api.call(ctx, "POST", "http://"+addr+"/api/v1/bookings", tr.get(),
			bookingReq{ProductionID: h.w.allProds[i%len(h.w.allProds)], ResourceIDs: []uuid.UUID{r}, Start: rfc(start), End: rfc(start.Add(2 * time.Second)), Status: "confirmed", Overtime: true}, &b)
		if err != nil || status != http.StatusCreated {
			return nil, fmt.Errorf("booking reminder slot %d: %d %v %s", i, status, err, truncate(body, 200))
		}
		run.booked[b.ID] = true
		lastStart = start
	}
	run.lastDue = lastStart.Add(-offset)
	h.log.printf("(c) lateness: %d bookings, reminders due %s to %s", o.reminders, run.firstDue.Format("15:04:05"), run.lastDue.Format("15:04:05"))
	return run, nil
}

// measure waits for the last reminder and times each one's email.
func (run *reminderRun) measure(ctx context.Context, h *harness, f *benchFigures) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(run.lastDue.Add(20 * time.Second))):
	}
	exp, err := reminderExpectations(ctx, h.pool)
	if err != nil {
		return err
	}
	var lateness []time.Duration
	for _, e := range exp {
		if !run.booked[e.booking] {
			continue
		}
		m, ok := h.sink.get(e.key.messageID())
		if !ok {
			f.lateMissing++
			continue
		}
		lateness = append(lateness, m.first.Sub(e.due))
	}
	f.lateN = len(lateness)
	f.lateP50, f.lateP99, f.lateMax = percentile(lateness, 50), percentile(lateness, 99), percentile(lateness, 100)
	h.log.printf("(c) lateness: %d reminder emails: p50 %s p99 %s max %s, %d missing", f.lateN, fmtMS(f.lateP50), fmtMS(f.lateP99), fmtMS(f.lateMax), f.lateMissing)
	if f.lateMissing > 0 {
		return fmt.Errorf("%d reminder emails never reached the sink", f.lateMissing)
	}
	return nil
}

// pipeline measures how fast the notification pipeline delivers against the booking
// peak: with the notifications queue paused (River's queue pause, which the serve
// process's workers hear), N confirmed bookings are made as fast as the clients can;
// then the queue is resumed and the confirmation emails are timed from the resume to
// the last one in the sink. The emails a second of that drain are what the pipeline
// sustains with a backlog — the booking peak's, or a larger one.
func pipeline(ctx context.Context, h *harness, o benchOpts, f *benchFigures, pid int, book func(ctx context.Context, limit int) (ok, errs int, ids []uuid.UUID)) error {
	rc, err := river.NewClient(riverpgxv5.New(h.pool), &river.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	if err := rc.QueuePause(ctx, jobs.QueueNotifications, nil); err != nil {
		return fmt.Errorf("pausing the notifications queue: %w", err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = rc.QueueResume(context.WithoutCancel(ctx), jobs.QueueNotifications, nil)
		}
	}()
	time.Sleep(time.Second) // the pause reaches the serve process's producer
	h.log.printf("(c) pipeline: notifications paused; %d confirmed bookings by %d clients", o.pipeline, o.clients)
	t0 := time.Now()
	ok, errs, ids := book(ctx, o.pipeline)
	f.pipeCreate = time.Since(t0)
	if errs > 0 || ok != o.pipeline {
		return fmt.Errorf("pipeline run: %d of %d bookings created, %d errors", ok, o.pipeline, errs)
	}
	f.pipeBookRate = float64(ok) / f.pipeCreate.Seconds()
	want, err := confirmationEmails(ctx, h, ids)
	if err != nil {
		return err
	}
	f.pipeMails = len(want)
	for _, id := range want {
		if _, ok := h.sink.get(id); ok {
			f.pipeEarly++ // sent before the pause took hold
		}
	}
	c0 := h.sampleCPU(pid)
	t1 := time.Now()
	if err := rc.QueueResume(ctx, jobs.QueueNotifications, nil); err != nil {
		return fmt.Errorf("resuming the notifications queue: %w", err)
	}
	resumed = true
	last, missing := waitReceived(ctx, h.sink, want, 3*time.Minute)
	if len(missing) > 0 {
		return fmt.Errorf("pipeline run: %d of %d confirmation emails never reached the sink (e.g. %s)", len(missing), len(want), missing[0])
	}
	f.pipeCPU = c0.until(h.sampleCPU(pid))
	f.pipeDrain = last.Sub(t1)
	f.pipeRate = float64(len(want)-f.pipeEarly) / f.pipeDrain.Seconds()
	h.log.printf("(c) pipeline: %d bookings in %s (%.1f/s); %d confirmation emails (%d sent before the pause held) delivered in %s after the resume = %.1f emails/s; %s",
		ok, f.pipeCreate.Round(time.Millisecond), f.pipeBookRate, len(want), f.pipeEarly, f.pipeDrain.Round(time.Millisecond), f.pipeRate, f.pipeCPU.perOp(len(want)-f.pipeEarly))
	return nil
}

func benchSummary(out io.Writer, h *harness, o benchOpts, f *benchFigures) error {
	fmt.Fprintf(out, "\n== posthub-drill bench: 1 serve process (POSTHUB_WORKERS=%d), %d clients, %s runs, %d CPUs ==\n",
		h.flags.workers, o.clients, o.duration, runtime.NumCPU())
	fmt.Fprintf(out, "%s\n", h.header())
	var missed []string
	target := func(name string, ok bool, line string) {
		mark := "MET    "
		if !ok {
			mark = "NOT MET"
			missed = append(missed, name)
		}
		fmt.Fprintf(out, "  %s %s\n", mark, line)
	}
	ratioA := f.httpPeak / f.pgbenchFull.tps
	fmt.Fprintf(out, "(a) one client, 200 in a row:               p50 %s, p99 %s\n", fmtMS(f.seqP50), fmtMS(f.seqP99))
	fmt.Fprintf(out, "    HTTP booking writes, peak:   %8.1f /s  (%d in %s, p50 %s, p99 %s, %d errors)\n", f.httpPeak, f.peakN, o.duration, fmtMS(f.httpPeakP50), fmtMS(f.httpPeakP99), f.httpErrors)
	fmt.Fprintf(out, "                                 %s\n", f.peakCPU.perOp(f.peakN))
	for _, r := range []struct {
		name string
		run  pgbenchRun
	}{{"whole transaction", f.pgbenchFull}, {"its core only", f.pgbenchCore}} {
		fmt.Fprintf(out, "    pgbench, %-17s  %8.1f tx/s (latency average %s, %d failed); HTTP/pgbench %.2f\n", r.name+":", r.run.tps, r.run.latency, r.run.failed, f.httpPeak/r.run.tps)
		fmt.Fprintf(out, "                                 %s\n", r.run.cpu.perOp(int(r.run.tps*o.duration.Seconds())))
	}
	for _, pr := range f.paced {
		fmt.Fprintf(out, "    paced at %3.0f%% of the peak:    %8.1f /s  p50 %s, p99 %s, max %s (from when each request was due; service time p99 %s), %d errors\n",
			100*pr.frac, pr.rate, fmtMS(pr.p50), fmtMS(pr.p99), fmtMS(pr.max), fmtMS(pr.serviceP99), pr.errors)
		fmt.Fprintf(out, "                                 %s\n", pr.cpu.perOp(pr.n))
	}
	target("a-ratio", ratioA >= 0.5, fmt.Sprintf("HTTP/pgbench ratio %.2f, against the whole transaction (target ≥ 0.5)", ratioA))
	target("a-p99", f.paced[0].p99 < 25*time.Millisecond, fmt.Sprintf("p99 at half the peak %s (target < 25 ms)", fmtMS(f.paced[0].p99)))
	fmt.Fprintf(out, "(c) notification pipeline: %8.1f emails/s  (%d confirmation emails of %d bookings made at %.1f /s with notifications paused, delivered in %s after the resume; %d sent before the pause held)\n",
		f.pipeRate, f.pipeMails, o.pipeline, f.pipeBookRate, f.pipeDrain.Round(time.Millisecond), f.pipeEarly)
	fmt.Fprintf(out, "                                 %s (per email)\n", f.pipeCPU.perOp(f.pipeMails-f.pipeEarly))
	fmt.Fprintf(out, "    reminder lateness (received − due, %d emails, due while the pipeline runs and after): p50 %s, p99 %s, max %s\n", f.lateN, fmtMS(f.lateP50), fmtMS(f.lateP99), fmtMS(f.lateMax))
	target("c-pipeline", f.pipeRate >= 2*f.httpPeak, fmt.Sprintf("emails/s %.1f against 2 × the booking peak %.1f /s = %.1f (ratio %.2f; target ≥ 1)", f.pipeRate, f.httpPeak, 2*f.httpPeak, f.pipeRate/(2*f.httpPeak)))
	target("c-lateness", f.lateP99 < 2*time.Second, fmt.Sprintf("reminder lateness p99 %s (target < 2 s)", fmtMS(f.lateP99)))
	fmt.Fprintf(out, "(d) serve peak RSS (VmHWM):       %8.1f MB\n", float64(f.hwm)/(1<<20))
	target("d-rss", f.hwm < 150<<20, fmt.Sprintf("peak RSS %.1f MB (target < 150 MB)", float64(f.hwm)/(1<<20)))
	keep := " (removed with the temporary directory; -keep keeps it)"
	if h.flags.keep {
		keep = ""
	}
	fmt.Fprintf(out, "pgbench scripts: %s, %s%s\npgbench command: %s\n", f.pgbenchFull.script, f.pgbenchCore.script, keep, f.pgbenchFull.cmd)
	if len(missed) > 0 && o.strict {
		return &targetMiss{invariantError{names: missed}}
	}
	return nil
}

// pacedResult is one open-loop run at a fixed rate.
type pacedResult struct {
	frac, rate                float64
	n, errors                 int
	p50, p99, max, serviceP99 time.Duration
	cpu                       cpuUse
}

// paced sends bookings at rate per second for d, each on its own goroutine at its due
// time (open loop), and measures latency from the due time.
func paced(ctx context.Context, h *harness, book func(context.Context) (int, uuid.UUID, time.Duration), rate float64, d time.Duration, pid int) (pacedResult, error) {
	var r pacedResult
	interval := time.Duration(float64(time.Second) / rate)
	var lat, service []time.Duration
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	c0 := h.sampleCPU(pid)
	start := time.Now()
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.After(start.Add(d)) {
			break
		}
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		if ctx.Err() != nil {
			wg.Wait()
			return r, ctx.Err()
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			status, _, s := book(ctx)
			total := time.Since(due)
			mu.Lock()
			defer mu.Unlock()
			if status != http.StatusCreated {
				r.errors++
				return
			}
			lat = append(lat, total)
			service = append(service, s)
		})
	}
	wg.Wait()
	r.cpu = c0.until(h.sampleCPU(pid))
	r.n = len(lat)
	r.rate = float64(len(lat)) / time.Since(start).Seconds()
	r.p50, r.p99, r.max = percentile(lat, 50), percentile(lat, 99), percentile(lat, 100)
	r.serviceP99 = percentile(service, 99)
	return r, nil
}
