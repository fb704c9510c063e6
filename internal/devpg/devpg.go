// Package devpg starts and owns a local PostgreSQL server from the machine's server
// binaries. `posthub dev` uses it so a fresh clone runs with no database set up by hand,
// and the test helpers use it so tests run against a real PostgreSQL.
//
// The cluster lives in a directory of its own and is kept between runs. When the process
// runs as root, initdb and pg_ctl run as the `postgres` system user, since PostgreSQL
// refuses to run as root.
package devpg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries is returned when no PostgreSQL server binaries can be found. Its text is
// the one line a person needs to fix that.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found (initdb, pg_ctl): install them (Debian: apt-get install postgresql) or set DATABASE_URL to an existing database")

// Options says where the cluster lives and how it runs.
type Options struct {
	// Dir is the cluster's home: the data directory is Dir/data, the log Dir/postgres.log.
	Dir string
	// Port to listen on, on 127.0.0.1; 0 picks a free one.
	Port int
	// Fast trades durability for speed (fsync off): for throwaway test clusters only.
	Fast bool
	// Logf, when set, receives progress lines.
	Logf func(format string, args ...any)
}

// Server is a running PostgreSQL cluster started by this package.
type Server struct {
	opts    Options
	bin     string
	port    int
	runAs   *syscall.Credential
	started bool // false when an already-running server was adopted
}

// searchGlob is where FindBinaries looks for pg_ctl when it is not on PATH; a variable so
// tests can point it at nothing.
var searchGlob = "/usr/lib/postgresql/*/bin/pg_ctl"

// FindBinaries returns the directory holding initdb and pg_ctl: the one on PATH, or else
// the newest /usr/lib/postgresql/<version>/bin.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob(searchGlob)
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	for _, m := range matches {
		if versionOf(m) < 14 {
			continue
		}
		dir := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(pgCtlPath string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(pgCtlPath))))
	return v
}

// Start initialises the cluster if Dir holds none, and starts it unless it is already
// running (after a crash of the process that started it, the server is adopted as it is).
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	s := &Server{opts: opts, bin: bin}
	if os.Geteuid() == 0 {
		cred, err := postgresCredential()
		if err != nil {
			return nil, err
		}
		s.runAs = cred
	}
	if err := s.prepareDir(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(s.dataDir(), "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		opts.Logf("initialising PostgreSQL cluster in %s", s.dataDir())
		if err := s.initdb(ctx); err != nil {
			return nil, err
		}
	}
	if port, ok := s.runningPort(ctx); ok {
		opts.Logf("adopting PostgreSQL already running on port %d", port)
		s.port = port
		return s, nil
	}
	port := opts.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	s.port = port
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	s.started = true
	return s, nil
}

// URL is the connection string for database db on this server.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// Stop shuts the server down (fast mode: sessions are ended, committed data is kept).
func (s *Server) Stop(ctx context.Context) error {
	out, err := s.run(ctx, "pg_ctl", "-D", s.dataDir(), "-m", "fast", "-w", "-t", "60", "stop")
	if err != nil {
		return fmt.Errorf("stopping PostgreSQL: %w: %s", err, lastLine(out))
	}
	return nil
}

func (s *Server) dataDir() string { return filepath.Join(s.opts.Dir, "data") }
func (s *Server) logFile() string { return filepath.Join(s.opts.Dir, "postgres.log") }
func (s *Server) sockDir() string { return filepath.Join(s.opts.Dir, "run") }

func (s *Server) prepareDir() error {
	if err := os.MkdirAll(filepath.Dir(s.opts.Dir), 0o755); err != nil {
		return err
	}
	for _, d := range []string{s.opts.Dir, s.sockDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	if s.runAs == nil {
		return nil
	}
	// The postgres user must own its directories and be able to reach them.
	for _, d := range []string{s.opts.Dir, s.sockDir()} {
		if err := os.Chown(d, int(s.runAs.Uid), int(s.runAs.Gid)); err != nil {
			return err
		}
	}
	for p := filepath.Dir(s.opts.Dir); p != "/"; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the postgres user cannot reach %s (directory %s is not searchable by others): choose another --data-dir", s.opts.Dir, p)
		}
	}
	if f, err := os.OpenFile(s.logFile(), os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		f.Close()
		return os.Chown(s.logFile(), int(s.runAs.Uid), int(s.runAs.Gid))
	}
	return nil
}

func (s *Server) initdb(ctx context.Context) error {
	args := []string{"-D", s.dataDir(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"}
	if s.opts.Fast {
		args = append(args, "--no-sync")
	}
	out, err := s.run(ctx, "initdb", args...)
	if err != nil {
		return fmt.Errorf("initdb: %w: %s", err, lastLine(out))
	}
	return nil
}

func (s *Server) start(ctx context.Context) error {
	pgOpts := []string{
		"-p", strconv.Itoa(s.port),
		"-k", s.sockDir(),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=200",
		"-c", "timezone=UTC",
	}
	if s.opts.Fast {
		pgOpts = append(pgOpts, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	out, err := s.run(ctx, "pg_ctl", "-D", s.dataDir(), "-l", s.logFile(), "-w", "-t", "60",
		"-o", strings.Join(pgOpts, " "), "start")
	if err != nil {
		return fmt.Errorf("starting PostgreSQL (log: %s): %w: %s", s.logFile(), err, lastLine(out))
	}
	return nil
}

// runningPort reports whether a server is running on the data directory, and its port,
// read from postmaster.pid.
func (s *Server) runningPort(ctx context.Context) (int, bool) {
	if _, err := s.run(ctx, "pg_ctl", "-D", s.dataDir(), "status"); err != nil {
		return 0, false
	}
	f, err := os.Open(filepath.Join(s.dataDir(), "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 1; sc.Scan(); i++ {
		if i == 4 { // the fourth line of postmaster.pid is the port
			port, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
			return port, err == nil
		}
	}
	return 0, false
}

func (s *Server) run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, toolPath(s.bin, name), args...)
	cmd.Dir = s.opts.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "TZ=UTC")
	if s.runAs != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.runAs}
		cmd.Env = append(cmd.Env, "HOME="+s.opts.Dir)
	}
	// pg_ctl start leaves the server running with our stdout as its stdout unless we
	// give it something else; a pipe would then never close.
	out, err := os.CreateTemp("", "devpg-*.out")
	if err != nil {
		return "", err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	b, _ := os.ReadFile(out.Name())
	return string(b), err
}

func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root, but there is no `postgres` system user to run PostgreSQL as: create one or set DATABASE_URL")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// WaitReady polls until the server accepts a TCP connection or the timeout passes.
func (s *Server) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
