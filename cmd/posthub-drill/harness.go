package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/devpg"
	"github.com/posthub/posthub/internal/postgres"
)

// harness is one drill's world: a temporary directory, a PostgreSQL (its own, or
// DATABASE_URL's), the posthub binary, the SMTP sink, the drill's own connections for
// checks, and the posthub processes it started.
type harness struct {
	log     *progress
	flags   commonFlags
	tmp     string
	pgOpts  devpg.Options
	pg      *devpg.Server // nil when DATABASE_URL was given
	dbURL   string
	bin     string
	sink    *mailSink
	pool    *pgxpool.Pool
	tokens  map[string]string // the demo users' tokens, by key
	w       *world
	failed  bool // keep the directory for a post-mortem
	mu      sync.Mutex
	procs   []*serveProc
	smtpURL string
	version string // what `posthub version` printed
	onClose func() // stops what setupWith's startDB started, after the processes
}

// header is the first line of a drill's summary: what ran where.
func (h *harness) header() string {
	fsync := "fsync on"
	if h.flags.fast {
		fsync = "fsync off"
	}
	if h.pg == nil {
		fsync = "DATABASE_URL"
	}
	return fmt.Sprintf("%s; %s; PostgreSQL %s", h.version, machine(), fsync)
}

// setup prepares everything a drill needs. On error it cleans up what it started.
func setup(ctx context.Context, cf commonFlags, log *progress) (h *harness, err error) {
	return setupWith(ctx, cf, log, nil)
}

// setupWith is setup with the database started by startDB (which sets h.dbURL and
// whatever else it owns, and stops it from h.onClose) instead of DATABASE_URL or one
// devpg server.
func setupWith(ctx context.Context, cf commonFlags, log *progress, startDB func(ctx context.Context, h *harness) error) (h *harness, err error) {
	h = &harness{log: log, flags: cf}
	defer func() {
		if err != nil {
			h.failed = true
			h.close()
		}
	}()
	if h.tmp, err = os.MkdirTemp("", "posthub-drill-*"); err != nil {
		return h, err
	}
	// As root, PostgreSQL runs as the postgres user, who must reach the directory.
	if err = os.Chmod(h.tmp, 0o755); err != nil {
		return h, err
	}
	log.printf("working directory %s", h.tmp)

	built := make(chan error, 1)
	go func() { built <- h.locateBinary(ctx) }()

	if startDB != nil {
		if err = startDB(ctx, h); err != nil {
			<-built
			return h, err
		}
	} else if url := os.Getenv("DATABASE_URL"); url != "" {
		h.dbURL = url
		log.printf("using DATABASE_URL (%s)", redact(url))
	} else {
		h.pgOpts = devpg.Options{Dir: filepath.Join(h.tmp, "pg"), Fast: cf.fast}
		h.pg, err = devpg.Start(ctx, h.pgOpts)
		if err != nil {
			<-built
			return h, fmt.Errorf("starting PostgreSQL: %w", err)
		}
		h.pgOpts.Port = h.pg.Port()
		if err = createDatabase(ctx, h.pg.URL("postgres"), "posthub"); err != nil {
			<-built
			return h, err
		}
		h.dbURL = h.pg.URL("posthub")
		log.printf("PostgreSQL started on 127.0.0.1:%d (fsync %s)", h.pg.Port(), map[bool]string{true: "off", false: "on"}[cf.fast])
	}
	if err = <-built; err != nil {
		return h, err
	}
	if v, err := h.posthub(ctx, "version"); err == nil {
		h.version = strings.TrimSpace(string(v))
	}
	if _, err = h.posthub(ctx, "migrate", "up"); err != nil {
		return h, err
	}
	out, err := h.posthub(ctx, "seed", "demo")
	if err != nil {
		return h, err
	}
	if err = json.Unmarshal(out, &h.tokens); err != nil {
		return h, fmt.Errorf("posthub seed demo printed no demo-tokens JSON: %w: %s", err, out)
	}
	for _, k := range []string{"admin", "manager", "producer", "producer_other"} {
		if h.tokens[k] == "" {
			return h, fmt.Errorf("posthub seed demo printed no %s token", k)
		}
	}
	log.printf("migrated and seeded the demo data")

	cfg, err := pgxpool.ParseConfig(h.dbURL)
	if err != nil {
		return h, err
	}
	cfg.MaxConns = 8
	cfg.ConnConfig.RuntimeParams["application_name"] = "posthub-drill"
	if h.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return h, err
	}
	if cf.pgss && h.pg != nil {
		if _, err = h.pool.Exec(ctx, `ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'`); err != nil {
			return h, err
		}
		if _, _, err = h.restartPostgres(ctx); err != nil {
			return h, err
		}
		h.pool.Reset()
		if _, err = h.pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
			return h, err
		}
		log.printf("pg_stat_statements loaded")
	}
	if cf.pgSlow > 0 && h.pg != nil {
		for _, q := range []string{
			fmt.Sprintf("ALTER SYSTEM SET log_min_duration_statement = %d", cf.pgSlow.Milliseconds()),
			"ALTER SYSTEM SET log_lock_waits = on",
			fmt.Sprintf("ALTER SYSTEM SET deadlock_timeout = %d", max(cf.pgSlow.Milliseconds(), 1)),
			"ALTER SYSTEM SET log_checkpoints = on",
			"SELECT pg_reload_conf()",
		} {
			if _, err = h.pool.Exec(ctx, q); err != nil {
				return h, err
			}
		}
		log.printf("PostgreSQL logs statements slower than %s and lock waits (deadlock_timeout lowered to match)", cf.pgSlow)
	}
	if h.w, err = loadWorld(ctx, h.pool); err != nil {
		return h, err
	}
	if h.sink, err = newMailSink(); err != nil {
		return h, err
	}
	h.smtpURL = "smtp://" + h.sink.addr + "?tls=none"
	log.printf("SMTP sink on %s", h.sink.addr)
	return h, nil
}

// locateBinary uses -posthub, or builds ./cmd/posthub of the module the drill runs in.
func (h *harness) locateBinary(ctx context.Context) error {
	if h.flags.posthub != "" {
		p, err := filepath.Abs(h.flags.posthub)
		if err != nil {
			return err
		}
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("-posthub: %w", err)
		}
		h.bin = p
		return nil
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("finding the posthub module (go env GOMOD): %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	mod, err := os.ReadFile(gomod)
	if err != nil || !bytes.Contains(mod, []byte("module github.com/posthub/posthub\n")) {
		return fmt.Errorf("run posthub-drill from the posthub repository (or pass -posthub): go.mod is %q", gomod)
	}
	h.bin = filepath.Join(h.tmp, "posthub")
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", h.bin, "./cmd/posthub")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build -o %s ./cmd/posthub: %w\n%s", h.bin, err, out)
	}
	h.log.printf("built %s in %s", h.bin, time.Since(start).Round(time.Millisecond))
	return nil
}

// baseEnv is the environment of posthub subprocesses: the drill's, without any posthub
// settings it may carry, plus the database.
func (h *harness) baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "POSTHUB_") || strings.HasPrefix(kv, "DATABASE_URL") {
			continue
		}
		env = append(env, kv)
	}
	// The drills measure posthub under load, not its rate limiter.
	return append(env, "DATABASE_URL="+h.dbURL, "POSTHUB_DATA_DIR="+filepath.Join(h.tmp, "data"),
		"POSTHUB_RATE_PER_TOKEN=100000000", "POSTHUB_RATE_PER_USER=100000000")
}

// posthub runs a short posthub command and returns its standard output.
func (h *harness) posthub(ctx context.Context, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Env = h.baseEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("posthub %s: %w: %s", strings.Join(args, " "), err, lastLines(stderr.String(), 5))
	}
	return stdout.Bytes(), nil
}

// close stops every process the drill started, its PostgreSQL too, and removes the
// temporary directory unless asked to keep it or the drill failed.
func (h *harness) close() {
	h.mu.Lock()
	procs := append([]*serveProc(nil), h.procs...)
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { p.stop(25 * time.Second) })
	}
	wg.Wait()
	if h.sink != nil {
		h.sink.close()
	}
	if h.pool != nil {
		h.pool.Close()
	}
	if h.pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		if err := h.pg.Stop(ctx); err != nil {
			h.log.printf("stopping PostgreSQL: %v", err)
		}
		cancel()
	}
	if h.onClose != nil {
		h.onClose()
	}
	if h.tmp == "" {
		return
	}
	if h.flags.keep || h.failed {
		h.log.printf("kept %s (process logs: serve-*.log, PostgreSQL: pg*/postgres.log)", h.tmp)
		return
	}
	_ = os.RemoveAll(h.tmp)
}

// serveProc is one `posthub serve` process; restarting it starts a new one on the same
// address.
type serveProc struct {
	name string
	addr string
	env  []string
	bin  string
	dir  string

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	runs    int
	started time.Time
}

// startServe starts `posthub serve` on a free 127.0.0.1 port.
func (h *harness) startServe(ctx context.Context, name string, extraEnv ...string) (*serveProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &serveProc{name: name, addr: "127.0.0.1:" + strconv.Itoa(port), bin: h.bin, dir: h.tmp}
	p.env = append(h.baseEnv(), "POSTHUB_ADDR="+p.addr, "POSTHUB_SMTP_URL="+h.smtpURL,
		"POSTHUB_WORKERS="+strconv.Itoa(h.flags.workers), "POSTHUB_PUBLIC_URL=http://"+p.addr)
	p.env = append(p.env, extraEnv...)
	if err := p.start(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.procs = append(h.procs, p)
	h.mu.Unlock()
	if _, err := waitReady(ctx, p.addr, 60*time.Second); err != nil {
		return nil, fmt.Errorf("%s did not become ready: %w (log %s)", name, err, p.logPath())
	}
	return p, nil
}

func (p *serveProc) logPath() string { return filepath.Join(p.dir, p.name+".log") }

// start starts a new process; the log file is appended to across restarts.
func (p *serveProc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	logf, err := os.OpenFile(p.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	p.runs++
	fmt.Fprintf(logf, "\n==== posthub-drill: run %d of %s started %s ====\n", p.runs, p.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, "serve")
	cmd.Env = p.env
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so a Ctrl-C reaches the drill, which stops it in order;
	// and killed with the drill should the drill die.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	p.cmd, p.done, p.started = cmd, done, time.Now()
	return nil
}

// pid is the current process's id.
func (p *serveProc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// kill9 kills the process with SIGKILL and waits until it is reaped.
func (p *serveProc) kill9() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// stop asks the process to shut down (SIGTERM) and kills it after timeout.
func (p *serveProc) stop(timeout time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
	}
}

// vmHWM reads the process's peak resident set size in bytes from /proc.
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				n, err := strconv.ParseInt(f[0], 10, 64)
				return n * 1024, err
			}
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

var readyClient = &http.Client{Timeout: 2 * time.Second}

// waitReady polls GET /readyz until it answers 200, and returns how long that took.
func waitReady(ctx context.Context, addr string, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		resp, err := readyClient.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
			last = fmt.Errorf("/readyz answered %d", resp.StatusCode)
		} else {
			last = err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, fmt.Errorf("not ready after %s: %v", timeout, last)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// createDatabase creates a database unless it exists.
func createDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil || exists {
		return err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// restartPostgres stops the drill's PostgreSQL (fast shutdown) and starts it again on
// the same directory and port. It returns how long the stop and the start took.
func (h *harness) restartPostgres(ctx context.Context) (stopTook, startTook time.Duration, err error) {
	if h.pg == nil {
		return 0, 0, errors.New("the drill does not own the PostgreSQL (DATABASE_URL is set)")
	}
	t0 := time.Now()
	if err := h.pg.Stop(ctx); err != nil {
		return 0, 0, err
	}
	stopTook = time.Since(t0)
	t1 := time.Now()
	pg, err := devpg.Start(ctx, h.pgOpts)
	if err != nil {
		return stopTook, 0, fmt.Errorf("starting PostgreSQL again: %w", err)
	}
	h.pg = pg
	return stopTook, time.Since(t1), nil
}

func redact(url string) string {
	if i := strings.Index(url, "@"); i > 0 {
		if j := strings.Index(url, "://"); j > 0 && j < i {
			return url[:j+3] + "…" + url[i:]
		}
	}
	return url
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// world is what the demo data holds that the drills refer to.
type world struct {
	sites      map[string]uuid.UUID    // by slug
	siteOf     map[uuid.UUID]uuid.UUID // resource → site
	resources  map[string][]uuid.UUID  // site slug → resources, by kind and name
	suites     []uuid.UUID             // Casablanca grading suites
	colourists []uuid.UUID             // Casablanca colourists
	users      map[string]uuid.UUID    // demo user key → id
	prods      map[string][]uuid.UUID  // demo producer key → their organisation's productions
	allProds   []uuid.UUID
	calendars  map[uuid.UUID]*calendar.Calendar // site → its working calendar
}

func loadWorld(ctx context.Context, pool *pgxpool.Pool) (*world, error) {
	w := &world{sites: map[string]uuid.UUID{}, siteOf: map[uuid.UUID]uuid.UUID{}, resources: map[string][]uuid.UUID{},
		users: map[string]uuid.UUID{}, prods: map[string][]uuid.UUID{}, calendars: map[uuid.UUID]*calendar.Calendar{}}
	rows, _ := pool.Query(ctx, `SELECT s.slug, s.id, r.id, r.kind FROM resources r JOIN sites s ON s.id = r.site_id
		WHERE r.active ORDER BY s.slug, r.kind, r.name`)
	var slug, kind string
	var site, res uuid.UUID
	if _, err := pgx.ForEachRow(rows, []any{&slug, &site, &res, &kind}, func() error {
		w.sites[slug] = site
		w.siteOf[res] = site
		w.resources[slug] = append(w.resources[slug], res)
		if slug == "casablanca" && kind == "grading_suite" {
			w.suites = append(w.suites, res)
		}
		if slug == "casablanca" && kind == "colourist" {
			w.colourists = append(w.colourists, res)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reading the demo resources: %w", err)
	}
	// The sites' calendars as posthub checks bookings against them.
	db := &postgres.DB{Pool: pool, Now: time.Now}
	for slug, site := range w.sites {
		sc, err := db.SiteCalendar(ctx, site)
		if err != nil {
			return nil, fmt.Errorf("the %s calendar: %w", slug, err)
		}
		if w.calendars[site], err = sc.Calendar(); err != nil {
			return nil, fmt.Errorf("the %s calendar: %w", slug, err)
		}
	}
	for key, email := range demo.Emails() {
		var id, org uuid.UUID
		if err := pool.QueryRow(ctx, `SELECT id, organisation_id FROM users WHERE lower(email) = lower($1)`, email).Scan(&id, &org); err != nil {
			return nil, fmt.Errorf("demo user %s: %w", email, err)
		}
		w.users[key] = id
		rows, _ := pool.Query(ctx, `SELECT id FROM productions WHERE organisation_id = $1 ORDER BY title`, org)
		ps, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return nil, err
		}
		if len(ps) > 0 {
			w.prods[key] = ps
		}
	}
	rows, _ = pool.Query(ctx, `SELECT id FROM productions ORDER BY title`)
	var err error
	if w.allProds, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil {
		return nil, err
	}
	if len(w.suites) < 3 || len(w.colourists) < 3 || len(w.prods["producer"]) == 0 || len(w.prods["producer_other"]) == 0 {
		return nil, errors.New("the demo data lacks the grading suites, colourists or productions the drills use")
	}
	return w, nil
}

// statementProfile prints the statements PostgreSQL ran since the last reset, most
// called first, with calls per operation (n operations ran).
func (h *harness) statementProfile(ctx context.Context, w io.Writer, n int) error {
	rows, err := h.pool.Query(ctx, `SELECT calls, total_exec_time, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		ORDER BY calls DESC LIMIT 45`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintf(w, "statements of the run (pg_stat_statements; per op = calls / %d operations):\n", n)
	var totalCalls int64
	var totalMS float64
	for rows.Next() {
		var calls, nrows int64
		var ms float64
		var q string
		if err := rows.Scan(&calls, &ms, &nrows, &q); err != nil {
			return err
		}
		totalCalls += calls
		totalMS += ms
		fmt.Fprintf(w, "  %7d calls %6.2f/op %8.1f ms total %6.3f ms/call %7.2f rows/op  %s\n", calls, float64(calls)/float64(n), ms, ms/float64(calls), float64(nrows)/float64(n), q)
	}
	fmt.Fprintf(w, "  (listed: %d calls, %.2f per op, %.1f ms execution)\n", totalCalls, float64(totalCalls)/float64(n), totalMS)
	return rows.Err()
}
