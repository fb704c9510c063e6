package devpg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// clusterDir makes a directory for a cluster that the postgres user can reach (when the
// tests run as root, initdb and pg_ctl run as postgres; t.TempDir's parent is 0700), and
// removes it when the test ends, after stopping any server still running in it.
func clusterDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "devpg-test-*")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s := &Server{opts: Options{Dir: dir}}
			var err error
			if s.bin, err = FindBinaries(); err == nil {
				if os.Geteuid() == 0 {
					s.runAs, err = postgresCredential()
				}
			}
			if err == nil {
				err = s.Stop(ctx)
			}
			if err != nil {
				t.Errorf("stopping the server left in %s: %v", dir, err)
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}

func connect(t *testing.T, ctx context.Context, s *Server) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		t.Fatalf("connecting to %s: %v", s.URL("postgres"), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// assertStopped checks that no server runs in dir any more and nothing answers on port.
func assertStopped(t *testing.T, dir string, port int) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid after Stop: stat err = %v, want it gone", err)
	}
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second)
	if err == nil {
		c.Close()
		t.Errorf("port %d still accepts connections after Stop", port)
	}
}

func TestStopKeepsDataForTheNextStart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := clusterDir(t)

	s, err := Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if !s.started {
		t.Errorf("first Start on an empty directory adopted a server instead of starting one")
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err != nil {
		t.Errorf("no cluster initialised in %s/data: %v", dir, err)
	}
	conn := connect(t, ctx, s)
	if _, err := conn.Exec(ctx, `CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO notes VALUES (1, 'grading suite booked')`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	port := s.Port()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertStopped(t, dir, port)

	s2, err := Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatalf("second Start: %v", err)
	}
	if !s2.started {
		t.Errorf("Start after Stop adopted a server instead of starting one")
	}
	var body string
	if err := connect(t, ctx, s2).QueryRow(ctx, `SELECT body FROM notes WHERE id = 1`).Scan(&body); err != nil {
		t.Fatalf("reading the row back after a restart: %v", err)
	}
	if body != "grading suite booked" {
		t.Errorf("row after restart = %q, want %q", body, "grading suite booked")
	}
	if err := s2.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	assertStopped(t, dir, s2.Port())
}

func TestStartAdoptsRunningServer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := clusterDir(t)

	first, err := Start(ctx, Options{Dir: dir, Fast: true})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	var mu sync.Mutex
	var logged []string
	second, err := Start(ctx, Options{Dir: dir, Fast: true, Logf: func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, fmt.Sprintf(f, a...))
	}})
	if err != nil {
		t.Fatalf("second Start on a running server: %v", err)
	}
	if second.Port() != first.Port() {
		t.Errorf("adopted server's port = %d, want the running server's %d", second.Port(), first.Port())
	}
	if second.started {
		t.Errorf("second Start started a server; want it to adopt the running one")
	}
	mu.Lock()
	if !strings.Contains(strings.Join(logged, "\n"), fmt.Sprintf("adopting PostgreSQL already running on port %d", first.Port())) {
		t.Errorf("second Start did not report the adoption; logged %q", logged)
	}
	mu.Unlock()
	var one int
	if err := connect(t, ctx, second).QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("query through the adopted server: %d, %v", one, err)
	}

	// One Stop, through either handle, stops the one server.
	if err := second.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertStopped(t, dir, first.Port())
}

func TestStartOnGivenPort(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := clusterDir(t)
	s, err := Start(ctx, Options{Dir: dir, Port: port, Fast: true})
	if err != nil {
		t.Fatalf("Start on port %d: %v", port, err)
	}
	defer func() {
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}()
	if s.Port() != port {
		t.Errorf("Port() = %d, want %d", s.Port(), port)
	}
	if !strings.Contains(s.URL("posthub"), fmt.Sprintf("127.0.0.1:%d/posthub", port)) {
		t.Errorf("URL = %q, want it on 127.0.0.1:%d, database posthub", s.URL("posthub"), port)
	}
	if err := s.WaitReady(10 * time.Second); err != nil {
		t.Errorf("WaitReady: %v", err)
	}
	var got string
	if err := connect(t, ctx, s).QueryRow(ctx, `SELECT current_setting('port')`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != fmt.Sprint(port) {
		t.Errorf("server's port setting = %s, want %d", got, port)
	}
}

func TestStartRefusesDirectoryThePostgresUserCannotReach(t *testing.T) {
	t.Parallel()
	// os.MkdirTemp makes a 0700 directory, as t.TempDir does.
	parent, err := os.MkdirTemp("", "devpg-private-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Dir: filepath.Join(parent, "pg"), Fast: true})
	if os.Geteuid() != 0 {
		// Not root: PostgreSQL runs as this user, who owns the directory.
		if err != nil {
			t.Fatalf("Start in a private directory as a normal user: %v", err)
		}
		if err := s.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		return
	}
	if err == nil {
		_ = s.Stop(ctx)
		t.Fatalf("Start as root in %s (0700) succeeded; want an error saying postgres cannot reach it", parent)
	}
	msg := err.Error()
	if !strings.Contains(msg, "cannot reach") || !strings.Contains(msg, parent) || !strings.Contains(msg, "--data-dir") {
		t.Errorf("error = %q, want it to name %s, say the postgres user cannot reach it and suggest --data-dir", msg, parent)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	if _, err := os.Stat(filepath.Join(parent, "pg", "data", "PG_VERSION")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a cluster was initialised despite the error (stat: %v)", err)
	}
}

// withSearchGlob points FindBinaries' fallback at glob for the test.
func withSearchGlob(t *testing.T, glob string) {
	old := searchGlob
	searchGlob = glob
	t.Cleanup(func() { searchGlob = old })
}

// fakeBinaries creates dir/<name> for each name as an empty executable file.
func fakeBinaries(t *testing.T, dir string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// Not parallel: it changes PATH and the package's search glob.
func TestNoBinaries(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	withSearchGlob(t, filepath.Join(t.TempDir(), "nonexistent", "*", "bin", "pg_ctl"))

	if dir, err := FindBinaries(); !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("FindBinaries() = %q, %v; want ErrNoBinaries", dir, err)
	}
	dir := t.TempDir()
	s, err := Start(context.Background(), Options{Dir: filepath.Join(dir, "pg")})
	if !errors.Is(err, ErrNoBinaries) {
		if s != nil {
			_ = s.Stop(context.Background())
		}
		t.Fatalf("Start without binaries: err = %v, want ErrNoBinaries", err)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("message is not one line: %q", msg)
	}
	for _, want := range []string{"apt-get install postgresql", "DATABASE_URL"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not mention %q", msg, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Start without binaries created %s/pg (stat: %v)", dir, err)
	}
}

// Not parallel: it changes PATH and the package's search glob.
func TestFindBinaries(t *testing.T) {
	root := t.TempDir()
	withSearchGlob(t, filepath.Join(root, "lib", "*", "bin", "pg_ctl"))
	fakeBinaries(t, filepath.Join(root, "lib", "13", "bin"), "pg_ctl", "initdb")
	fakeBinaries(t, filepath.Join(root, "lib", "15", "bin"), "pg_ctl", "initdb")
	fakeBinaries(t, filepath.Join(root, "lib", "16", "bin"), "pg_ctl", "initdb")
	fakeBinaries(t, filepath.Join(root, "lib", "17", "bin"), "pg_ctl") // no initdb: unusable
	fakeBinaries(t, filepath.Join(root, "path-pgctl-only"), "pg_ctl")
	fakeBinaries(t, filepath.Join(root, "path-both"), "pg_ctl", "initdb")

	t.Run("newest complete version of at least 14 when PATH has none", func(t *testing.T) {
		t.Setenv("PATH", filepath.Join(root, "empty"))
		got, err := FindBinaries()
		if want := filepath.Join(root, "lib", "16", "bin"); err != nil || got != want {
			t.Errorf("FindBinaries() = %q, %v; want %q", got, err, want)
		}
	})
	t.Run("PATH with pg_ctl but no initdb is passed over", func(t *testing.T) {
		t.Setenv("PATH", filepath.Join(root, "path-pgctl-only"))
		got, err := FindBinaries()
		if want := filepath.Join(root, "lib", "16", "bin"); err != nil || got != want {
			t.Errorf("FindBinaries() = %q, %v; want %q", got, err, want)
		}
	})
	t.Run("PATH holding both wins over the glob", func(t *testing.T) {
		t.Setenv("PATH", filepath.Join(root, "empty")+string(os.PathListSeparator)+filepath.Join(root, "path-both"))
		got, err := FindBinaries()
		if want := filepath.Join(root, "path-both"); err != nil || got != want {
			t.Errorf("FindBinaries() = %q, %v; want %q", got, err, want)
		}
	})
	t.Run("versions before 14 are not used", func(t *testing.T) {
		t.Setenv("PATH", filepath.Join(root, "empty"))
		withSearchGlob(t, filepath.Join(root, "lib", "1[3]", "bin", "pg_ctl"))
		if got, err := FindBinaries(); !errors.Is(err, ErrNoBinaries) {
			t.Errorf("FindBinaries() with only version 13 = %q, %v; want ErrNoBinaries", got, err)
		}
	})
}

func TestStandbyStreamsAndTakesOverWhenThePrimaryIsKilled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pdir, sdir := clusterDir(t), clusterDir(t)

	primary, err := Start(ctx, Options{Dir: pdir, Fast: true})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	pconn := connect(t, ctx, primary)
	if _, err := pconn.Exec(ctx, `CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pconn.Exec(ctx, `INSERT INTO notes VALUES (1, 'before the backup')`); err != nil {
		t.Fatal(err)
	}
	if _, err := StartStandby(ctx, primary, "Bad-Name", Options{Dir: filepath.Join(sdir, "unused")}); err == nil {
		t.Errorf("StartStandby accepted a name that cannot name a replication slot")
	}
	standby, err := StartStandby(ctx, primary, "standby1", Options{Dir: sdir, Fast: true})
	if err != nil {
		t.Fatalf("StartStandby: %v", err)
	}
	if standby.Port() == primary.Port() {
		t.Fatalf("standby on the primary's port %d", standby.Port())
	}
	// Synchronous replication names the standby by its application_name; the backup
	// left its replication slot on the primary.
	if _, err := pconn.Exec(ctx, `ALTER SYSTEM SET synchronous_standby_names = 'standby1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := pconn.Exec(ctx, `SELECT pg_reload_conf()`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var state, sync string
		err := pconn.QueryRow(ctx, `SELECT r.state, r.sync_state FROM pg_stat_replication r
			JOIN pg_replication_slots s ON s.active_pid = r.pid
			WHERE r.application_name = 'standby1' AND s.slot_name = 'standby1'`).Scan(&state, &sync)
		if err == nil && state == "streaming" && sync == "sync" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("standby not streaming synchronously through its slot after 1 min: %s/%s %v", state, sync, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A commit acknowledged by the primary is on the synchronous standby. (Fast runs
	// the server with synchronous_commit off, which waits for no standby either; the
	// session setting wins over the command line's.)
	if _, err := pconn.Exec(ctx, `SET synchronous_commit = on`); err != nil {
		t.Fatal(err)
	}
	if _, err := pconn.Exec(ctx, `INSERT INTO notes VALUES (2, 'after the backup')`); err != nil {
		t.Fatal(err)
	}
	sconn := connect(t, ctx, standby)
	var inRecovery bool
	if err := sconn.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&inRecovery); err != nil || !inRecovery {
		t.Fatalf("standby pg_is_in_recovery() = %v, %v; want true", inRecovery, err)
	}
	if _, err := sconn.Exec(ctx, `INSERT INTO notes VALUES (3, 'on the standby')`); err == nil {
		t.Errorf("the standby accepted a write")
	}
	sconn.Close(ctx)

	pid, kids, err := primary.Kill(ctx)
	if err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if kids == 0 {
		t.Errorf("Kill found no child processes of postmaster %d (backends, WAL sender)", pid)
	}
	if alive(pid) {
		t.Errorf("postmaster %d alive after Kill", pid)
	}
	if _, err := pconn.Exec(ctx, `SELECT 1`); err == nil {
		t.Errorf("a session on the killed primary still answers")
	}
	// A lost machine leaves its postmaster.pid; the test's cleanup would try pg_ctl stop.
	if err := os.Remove(filepath.Join(pdir, "data", "postmaster.pid")); err != nil {
		t.Errorf("postmaster.pid after Kill: %v", err)
	}

	if err := standby.Promote(ctx); err != nil {
		t.Fatalf("Promote: %v", err)
	}
	conn := connect(t, ctx, standby)
	if err := conn.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&inRecovery); err != nil || inRecovery {
		t.Fatalf("after Promote pg_is_in_recovery() = %v, %v; want false", inRecovery, err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM notes WHERE id IN (1, 2)`).Scan(&n); err != nil || n != 2 {
		t.Errorf("rows 1 and 2 on the promoted standby: %d, %v; want both", n, err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO notes VALUES (3, 'after the failover')`); err != nil {
		t.Errorf("writing to the promoted standby: %v", err)
	}
	conn.Close(ctx)
	if err := standby.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertStopped(t, sdir, standby.Port())
}
