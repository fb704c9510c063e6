package devpg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// This file holds what a failover drill needs beyond one server: a streaming standby
// made from a running server with pg_basebackup, promoting it, and killing a server
// the way a lost machine stops (SIGKILL to the postmaster and every process it
// started, no shutdown).

// StartStandby makes a streaming standby of primary in opts.Dir and starts it:
// pg_basebackup through the physical replication slot `name` (created by the backup),
// then standby.signal and a primary_conninfo whose application_name is name, so
// synchronous_standby_names on the primary can name it. opts.Dir must hold no cluster
// yet. The primary needs wal_level replica or higher and a pg_hba.conf that lets
// postgres replicate from 127.0.0.1 (initdb's defaults, as Start makes them, do).
func StartStandby(ctx context.Context, primary *Server, name string, opts Options) (*Server, error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if !validName(name) {
		return nil, fmt.Errorf("standby name %q: want lower-case letters, digits and _ (it names a replication slot)", name)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	s := &Server{opts: opts, bin: primary.bin, runAs: primary.runAs}
	if err := s.prepareDir(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(s.dataDir(), "PG_VERSION")); err == nil {
		return nil, fmt.Errorf("%s already holds a cluster: a standby needs an empty directory", s.dataDir())
	}
	opts.Logf("taking a base backup of the server on port %d into %s (slot %s)", primary.port, s.dataDir(), name)
	args := []string{"-D", s.dataDir(), "-h", "127.0.0.1", "-p", strconv.Itoa(primary.port), "-U", "postgres",
		"-X", "stream", "-C", "-S", name, "-c", "fast", "--no-password"}
	if opts.Fast {
		args = append(args, "--no-sync")
	}
	if out, err := s.run(ctx, "pg_basebackup", args...); err != nil {
		return nil, fmt.Errorf("pg_basebackup: %w: %s", err, lastLine(out))
	}
	conninfo := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres application_name=%s", primary.port, name)
	if err := s.appendConf(fmt.Sprintf("\n# devpg.StartStandby\nprimary_conninfo = '%s'\nprimary_slot_name = '%s'\n", conninfo, name)); err != nil {
		return nil, err
	}
	if err := s.writeOwned(filepath.Join(s.dataDir(), "standby.signal"), nil); err != nil {
		return nil, err
	}
	return Start(ctx, opts)
}

func validName(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// appendConf appends text to the cluster's postgresql.auto.conf (read at start, after
// postgresql.conf, so its settings win).
func (s *Server) appendConf(text string) error {
	f, err := os.OpenFile(filepath.Join(s.dataDir(), "postgresql.auto.conf"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return s.chown(filepath.Join(s.dataDir(), "postgresql.auto.conf"))
}

// writeOwned writes a file in the cluster owned by the user the server runs as.
func (s *Server) writeOwned(path string, b []byte) error {
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	return s.chown(path)
}

func (s *Server) chown(path string) error {
	if s.runAs == nil {
		return nil
	}
	return os.Chown(path, int(s.runAs.Uid), int(s.runAs.Gid))
}

// Promote ends a standby's recovery (pg_ctl promote) and waits until it accepts
// writes.
func (s *Server) Promote(ctx context.Context) error {
	out, err := s.run(ctx, "pg_ctl", "-D", s.dataDir(), "-w", "-t", "60", "promote")
	if err != nil {
		return fmt.Errorf("promoting the standby (log: %s): %w: %s", s.logFile(), err, lastLine(out))
	}
	return nil
}

// PID is the postmaster's process id, read from postmaster.pid.
func (s *Server) PID() (int, error) {
	b, err := os.ReadFile(filepath.Join(s.dataDir(), "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("postmaster.pid: no process id in %q", line)
	}
	return pid, nil
}

// Kill stops the server as a lost machine would: SIGKILL to the postmaster, then to
// every process it had started (backends, WAL writer, WAL senders), so none of them
// writes, acknowledges or replicates anything more. Nothing is shut down cleanly:
// postmaster.pid stays behind, and the data directory needs crash recovery to start
// again. Kill returns the postmaster's pid and how many of its children it killed,
// once every one of them is gone.
func (s *Server) Kill(ctx context.Context) (pid, children int, err error) {
	if pid, err = s.PID(); err != nil {
		return 0, 0, err
	}
	// The children are listed first: once the postmaster is gone they belong to init.
	kids := childProcesses(pid)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return pid, 0, fmt.Errorf("kill -9 %d: %w", pid, err)
	}
	for _, k := range kids {
		_ = syscall.Kill(k, syscall.SIGKILL)
	}
	// Children forked in the instant between the listing and the kill.
	for _, k := range childProcesses(pid) {
		_ = syscall.Kill(k, syscall.SIGKILL)
		kids = append(kids, k)
	}
	for _, p := range append([]int{pid}, kids...) {
		for alive(p) {
			select {
			case <-ctx.Done():
				return pid, len(kids), fmt.Errorf("process %d still alive after SIGKILL: %w", p, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return pid, len(kids), nil
}

// childProcesses lists the processes whose parent is pid, from /proc.
func childProcesses(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := procStat(p); ok && ppid == pid {
			out = append(out, p)
		}
	}
	return out
}

// procStat reads a process's parent and state from /proc/<pid>/stat.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid …; comm may hold spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0][0], err == nil
}

// alive reports whether pid runs (a zombie, killed and awaiting its parent, does not).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	_, state, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

// toolPath is a PostgreSQL program of the installation in bin. A bin on PATH may hold
// only links to a few programs (initdb, pg_ctl); the others are then looked for beside
// the file pg_ctl links to.
func toolPath(bin, name string) string {
	p := filepath.Join(bin, name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if real, err := filepath.EvalSymlinks(filepath.Join(bin, "pg_ctl")); err == nil {
		if q := filepath.Join(filepath.Dir(real), name); q != p {
			if _, err := os.Stat(q); err == nil {
				return q
			}
		}
	}
	return p
}
