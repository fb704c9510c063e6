package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/devpg"
)

// raceEnabled is set by race_test.go when the tests run with -race; the binary is then
// built with -race too, which reuses the packages the test build already compiled.
var raceEnabled bool

// TestDevTwoCommands is the promise of the README: `make run` (posthub dev) brings up the
// whole hub on a PostgreSQL it starts itself, with demo data and working demo tokens;
// SIGTERM stops it cleanly, PostgreSQL included; the next start keeps the data and the
// tokens; --fresh starts over; after a crash, the next start adopts the PostgreSQL left
// running.
func TestDevTwoCommands(t *testing.T) {
	t.Parallel()
	work := postgresReachableDir(t)
	bin := buildPosthub(t, work)
	dataDir := filepath.Join(work, "data")
	pgData := filepath.Join(dataDir, "pg", "data")

	// First start: a new cluster, migrated and seeded.
	p := startDev(t, bin, work, dataDir)
	p.waitReady(t)
	tokens := readTokens(t, dataDir)
	var health map[string]string
	if code := p.get(t, "/healthz", "", &health); code != http.StatusOK || health["tz_version"] == "" {
		t.Errorf("GET /healthz: %d %v, want 200 with a tz_version", code, health)
	}
	mine := p.productions(t, tokens["producer"])
	theirs := p.productions(t, tokens["producer_other"])
	assertOneOrganisation(t, "producer", mine)
	assertOneOrganisation(t, "producer_other", theirs)
	if mine[0].OrganisationID == theirs[0].OrganisationID {
		t.Errorf("both producers see organisation %s; want their own", mine[0].OrganisationID)
	}
	for id := range ids(mine) {
		if ids(theirs)[id] {
			t.Errorf("production %s is visible to both producers of different companies", id)
		}
	}
	counts := p.countRows(t)
	if counts["productions"] == 0 || counts["users"] == 0 {
		t.Fatalf("no demo data after the first start: %v", counts)
	}
	activity := p.countRows(t, activityTables...)
	if activity["booking_groups"] == 0 || activity["resource_blocks"] == 0 || activity["plans"] == 0 {
		t.Errorf("no demo activity after the first start: %v", activity)
	}
	pgPort := p.pgPort(t)
	p.stop(t)
	assertPostgresStopped(t, pgData, pgPort)

	// Second start: same cluster, same data, same tokens, nothing seeded twice.
	p = startDev(t, bin, work, dataDir)
	p.waitReady(t)
	if again := readTokens(t, dataDir); !maps.Equal(again, tokens) {
		t.Errorf("demo-tokens.json changed across a restart:\n before %v\n after  %v", tokens, again)
	}
	wantRoles := map[string]string{"admin": "admin", "manager": "manager", "operator": "operator", "producer": "producer", "producer_other": "producer"}
	for k, tok := range tokens {
		var me struct {
			Role string `json:"role"`
		}
		if code := p.get(t, "/api/v1/me", tok, &me); code != http.StatusOK {
			t.Errorf("GET /api/v1/me with the %s token kept from the first run: %d, want 200", k, code)
		} else if me.Role != wantRoles[k] {
			t.Errorf("the %s token authenticates as role %q, want %q", k, me.Role, wantRoles[k])
		}
	}
	if got := p.productions(t, tokens["producer"]); !maps.Equal(ids(got), ids(mine)) {
		t.Errorf("producer's productions changed across a restart:\n before %v\n after  %v", ids(mine), ids(got))
	}
	if got := p.productions(t, tokens["producer_other"]); !maps.Equal(ids(got), ids(theirs)) {
		t.Errorf("producer_other's productions changed across a restart:\n before %v\n after  %v", ids(theirs), ids(got))
	}
	if again := p.countRows(t); !maps.Equal(again, counts) {
		t.Errorf("row counts changed across a restart (seeded twice?):\n before %v\n after  %v", counts, again)
	}
	if again := p.countRows(t, activityTables...); !maps.Equal(again, activity) {
		t.Errorf("demo activity changed across a restart (loaded twice?):\n before %v\n after  %v", activity, again)
	}
	pgPort = p.pgPort(t)
	p.stop(t)
	assertPostgresStopped(t, pgData, pgPort)

	// --fresh: everything starts over.
	p = startDev(t, bin, work, dataDir, "--fresh")
	p.waitReady(t)
	fresh := readTokens(t, dataDir)
	for k, tok := range fresh {
		if tok == tokens[k] {
			t.Errorf("--fresh kept the %s token", k)
		}
	}
	if code := p.get(t, "/api/v1/me", tokens["producer"], nil); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me with a token from before --fresh: %d, want 401", code)
	}
	freshMine := p.productions(t, fresh["producer"])
	assertOneOrganisation(t, "producer after --fresh", freshMine)
	if len(freshMine) != len(mine) {
		t.Errorf("producer sees %d productions after --fresh, want the %d of the demo data", len(freshMine), len(mine))
	}
	for id := range ids(freshMine) {
		if ids(mine)[id] {
			t.Errorf("production %s survived --fresh", id)
		}
	}
	if again := p.countRows(t); !maps.Equal(again, counts) {
		t.Errorf("row counts after --fresh = %v, want those of one seeding %v", again, counts)
	}
	if again := p.countRows(t, activityTables...); again["booking_groups"] == 0 {
		t.Errorf("no demo activity after --fresh: %v", again)
	}
	pgPort = p.pgPort(t)

	// A crash of posthub leaves its PostgreSQL running; the next start adopts it.
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	if got := p.pgPort(t); got != pgPort {
		t.Fatalf("PostgreSQL port after the crash = %d, want %d", got, pgPort)
	}
	p = startDev(t, bin, work, dataDir)
	p.waitReady(t)
	if got := p.pgPort(t); got != pgPort {
		t.Errorf("PostgreSQL port after the restart = %d; want the running server (port %d) adopted", got, pgPort)
	}
	if !strings.Contains(p.stderr.String(), "adopting PostgreSQL already running") {
		t.Errorf("posthub dev did not report adopting the running PostgreSQL")
	}
	if code := p.get(t, "/api/v1/me", fresh["producer"], nil); code != http.StatusOK {
		t.Errorf("GET /api/v1/me after the crash and restart: %d, want 200", code)
	}
	p.stop(t)
	assertPostgresStopped(t, pgData, pgPort)
}

// postgresReachableDir makes a temporary directory the postgres user can reach (dev
// runs PostgreSQL as postgres when run as root; t.TempDir is 0700 under a 0700 parent).
// When the test ends, a PostgreSQL left running in its data/pg is stopped and the
// directory removed.
func postgresReachableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "posthub-dev-test-*")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pgDir := filepath.Join(dir, "data", "pg")
		if _, err := os.Stat(filepath.Join(pgDir, "data", "postmaster.pid")); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// Start adopts the server still running on the directory; Stop stops it.
			if pg, err := devpg.Start(ctx, devpg.Options{Dir: pgDir}); err != nil {
				t.Errorf("adopting the PostgreSQL left in %s: %v", pgDir, err)
			} else if err := pg.Stop(ctx); err != nil {
				t.Errorf("stopping the PostgreSQL left in %s: %v", pgDir, err)
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}

// buildPosthub builds this command into dir.
func buildPosthub(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "posthub")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// lockedBuffer collects a subprocess's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// devProcess is one running `posthub dev`.
type devProcess struct {
	cmd            *exec.Cmd
	base           string
	dataDir        string
	stdout, stderr *lockedBuffer
	done           chan struct{} // closed when the process has exited
}

// startDev starts `posthub dev` on a free port. If the test ends with it still running,
// it is stopped; if the test failed, its output is logged.
func startDev(t *testing.T, bin, workDir, dataDir string, extra ...string) *devProcess {
	t.Helper()
	addr := freeAddr(t)
	p := &devProcess{
		base:    "http://" + addr,
		dataDir: dataDir,
		stdout:  &lockedBuffer{},
		stderr:  &lockedBuffer{},
		done:    make(chan struct{}),
	}
	p.cmd = exec.Command(bin, append([]string{"dev", "--addr", addr, "--data-dir", dataDir}, extra...)...)
	p.cmd.Dir = workDir
	p.cmd.Env = devEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting posthub dev: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(60 * time.Second):
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("posthub dev %s\n--- stdout:\n%s--- stderr:\n%s", strings.Join(extra, " "), p.stdout, p.stderr)
		}
	})
	return p
}

// devEnv is this process's environment without anything that would point posthub at
// another database or address.
func devEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "DATABASE_URL" || k == "DATABASE_URL_FILE" || strings.HasPrefix(k, "POSTHUB_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitReady polls /readyz until it answers 200, for up to 90 seconds.
func (p *devProcess) waitReady(t *testing.T) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	last := "no answer"
	for {
		select {
		case <-p.done:
			t.Fatalf("posthub dev exited (%v) before /readyz answered 200", p.cmd.ProcessState)
		default:
		}
		resp, err := client.Get(p.base + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 within 90s; last: %s", last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// get does GET path with token as bearer (if any), decodes a 200 answer into into (if
// not nil) and returns the status.
func (p *devProcess) get(t *testing.T, path, token string, into any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	if resp.StatusCode == http.StatusOK && into != nil {
		if err := json.Unmarshal(body, into); err != nil {
			t.Fatalf("GET %s: decoding %s: %v", path, body, err)
		}
	}
	return resp.StatusCode
}

type production struct {
	ID             string `json:"id"`
	OrganisationID string `json:"organisation_id"`
}

// productions lists the productions token's user may see.
func (p *devProcess) productions(t *testing.T, token string) []production {
	t.Helper()
	if token == "" {
		t.Fatal("no token")
	}
	var page struct {
		Items []production `json:"items"`
	}
	if code := p.get(t, "/api/v1/productions", token, &page); code != http.StatusOK {
		t.Fatalf("GET /api/v1/productions: %d, want 200", code)
	}
	return page.Items
}

// pgPort is the port of the PostgreSQL dev runs, from its postmaster.pid.
func (p *devProcess) pgPort(t *testing.T) int {
	t.Helper()
	f, err := os.Open(filepath.Join(p.dataDir, "pg", "data", "postmaster.pid"))
	if err != nil {
		t.Fatalf("PostgreSQL of posthub dev: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 1; sc.Scan(); i++ {
		if i == 4 {
			port, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
			if err != nil {
				t.Fatalf("postmaster.pid port line %q: %v", sc.Text(), err)
			}
			return port
		}
	}
	t.Fatal("postmaster.pid has no port line")
	return 0
}

// activityTables hold the demo activity (demo.Activity).
var activityTables = []string{"booking_groups", "resource_blocks", "plans", "challenges"}

// countRows counts the rows of tables (by default the demo data's) straight in the
// database dev runs on.
func (p *devProcess) countRows(t *testing.T, tables ...string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/posthub?sslmode=disable", p.pgPort(t)))
	if err != nil {
		t.Fatalf("connecting to the dev database: %v", err)
	}
	defer conn.Close(ctx)
	counts := map[string]int{}
	if len(tables) == 0 {
		tables = []string{"organisations", "sites", "resources", "productions", "users", "api_tokens"}
	}
	for _, table := range tables {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("counting %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// stop sends SIGTERM and waits up to 60 seconds for exit code 0.
func (p *devProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatal("posthub dev still running 60s after SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("posthub dev exited with %d after SIGTERM, want 0", code)
	}
}

func assertPostgresStopped(t *testing.T, pgData string, port int) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgData, "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("postmaster.pid still in %s after posthub dev exited (stat: %v)", pgData, err)
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second); err == nil {
		c.Close()
		t.Fatalf("PostgreSQL port %d still accepts connections after posthub dev exited", port)
	}
}

// readTokens reads <dataDir>/demo-tokens.json and checks it has every demo user.
func readTokens(t *testing.T, dataDir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "demo-tokens.json"))
	if err != nil {
		t.Fatalf("demo tokens: %v", err)
	}
	var tokens map[string]string
	if err := json.Unmarshal(b, &tokens); err != nil {
		t.Fatalf("demo-tokens.json: %v\n%s", err, b)
	}
	want := []string{"admin", "manager", "operator", "producer", "producer_other"}
	var got []string
	for k, v := range tokens {
		if v == "" {
			t.Errorf("demo-tokens.json: empty token for %s", k)
		}
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("demo-tokens.json has keys %v, want %v", got, want)
	}
	return tokens
}

func assertOneOrganisation(t *testing.T, who string, ps []production) {
	t.Helper()
	if len(ps) == 0 {
		t.Fatalf("%s sees no productions", who)
	}
	for _, p := range ps {
		if p.OrganisationID != ps[0].OrganisationID {
			t.Errorf("%s sees productions of organisations %s and %s; want only its own", who, ps[0].OrganisationID, p.OrganisationID)
		}
	}
}

func ids(ps []production) map[string]bool {
	m := map[string]bool{}
	for _, p := range ps {
		m[p.ID] = true
	}
	return m
}
