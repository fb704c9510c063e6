package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runResult is what one in-process run of posthub produced.
type runResult struct {
	code           int
	stdout, stderr string
}

// runPosthub runs the program in process with env as its whole environment.
func runPosthub(t *testing.T, env map[string]string, args ...string) runResult {
	t.Helper()
	// A bound on the run: the commands tested here must fail before they would wait for
	// a signal.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, func(k string) string { return env[k] }, &stdout, &stderr)
	return runResult{code, stdout.String(), stderr.String()}
}

// assertOneLine checks s is exactly one newline-terminated line with no stack trace.
func assertOneLine(t *testing.T, what, s string) {
	t.Helper()
	if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 {
		t.Errorf("%s is not exactly one line: %q", what, s)
	}
	assertNoStackTrace(t, what, s)
}

func assertNoStackTrace(t *testing.T, what, s string) {
	t.Helper()
	for _, bad := range []string{"goroutine ", "panic", ".go:"} {
		if strings.Contains(s, bad) {
			t.Errorf("%s looks like a stack trace (has %q): %q", what, bad, s)
		}
	}
}

func TestRunWithoutArgumentsPrintsUsage(t *testing.T) {
	t.Parallel()
	r := runPosthub(t, nil)
	if r.code != 2 {
		t.Errorf("exit code = %d, want 2", r.code)
	}
	for _, want := range []string{"Usage:", "posthub dev", "posthub serve", "posthub migrate up|status", "posthub version"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("usage on stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
}

func TestRunHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"help", "-h", "--help"} {
		r := runPosthub(t, nil, arg)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("posthub %s: exit %d, stdout %q; want 0 and the usage", arg, r.code, r.stdout)
		}
	}
}

func TestRunUnknownCommand(t *testing.T) {
	t.Parallel()
	r := runPosthub(t, nil, "frobnicate", "--now")
	if r.code != 2 {
		t.Errorf("exit code = %d, want 2", r.code)
	}
	assertOneLine(t, "stderr", r.stderr)
	if !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Errorf("stderr = %q, want it to name the unknown command", r.stderr)
	}
}

func TestRunVersion(t *testing.T) {
	t.Parallel()
	r := runPosthub(t, nil, "version")
	if r.code != 0 {
		t.Errorf("exit code = %d, want 0; stderr %q", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "posthub ") || !strings.Contains(r.stdout, "(tz ") {
		t.Errorf("stdout = %q, want \"posthub <version> (tz <tz version>)\"", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("stderr = %q, want nothing", r.stderr)
	}
}

func TestRunWithoutDatabaseURL(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"serve"},
		{"worker"},
		{"migrate", "up"},
		{"migrate", "status"},
		{"seed", "demo"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			r := runPosthub(t, nil, append(args, "--addr", "127.0.0.1:0")...)
			if r.code != 1 {
				t.Errorf("exit code = %d, want 1", r.code)
			}
			assertOneLine(t, "stderr", r.stderr)
			if !strings.Contains(r.stderr, "DATABASE_URL") {
				t.Errorf("stderr = %q, want it to mention DATABASE_URL", r.stderr)
			}
		})
	}
}

func TestRunDevPortInUse(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().String()
	dataDir := filepath.Join(t.TempDir(), "data")

	r := runPosthub(t, nil, "dev", "--addr", addr, "--data-dir", dataDir)
	if r.code != 1 {
		t.Errorf("exit code = %d, want 1", r.code)
	}
	assertOneLine(t, "stderr", r.stderr)
	if !strings.Contains(r.stderr, "cannot listen") || !strings.Contains(r.stderr, addr) {
		t.Errorf("stderr = %q, want \"cannot listen\" and the address %s", r.stderr, addr)
	}
	// The port is checked before anything starts: no PostgreSQL, no data directory.
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dev created %s although it could not listen (stat: %v)", dataDir, err)
	}
}

func TestRunDevUnknownFlag(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	r := runPosthub(t, nil, "dev", "--no-such-flag", "--data-dir", dataDir)
	if r.code == 0 {
		t.Errorf("exit code = 0, want non-zero")
	}
	assertNoStackTrace(t, "stderr", r.stderr)
	if !strings.Contains(r.stderr, "flag provided but not defined: -no-such-flag") {
		t.Errorf("stderr = %q, want it to name the unknown flag", r.stderr)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dev created %s despite the bad flag (stat: %v)", dataDir, err)
	}
}

func TestRunDevHelp(t *testing.T) {
	t.Parallel()
	r := runPosthub(t, nil, "dev", "-h")
	if r.code != 0 {
		t.Errorf("exit code = %d, want 0", r.code)
	}
	for _, f := range []string{"-addr", "-data-dir", "-fresh"} {
		if !strings.Contains(r.stderr, f) {
			t.Errorf("dev -h does not list %s:\n%s", f, r.stderr)
		}
	}
}

func TestRunMalformedDatabaseURL(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": "postgres://u:s3cret@host:notaport/db"}
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0"},
		{"worker"},
		{"migrate", "up"},
		{"seed", "demo"},
		{"dev", "--addr", "127.0.0.1:0"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			if args[0] == "dev" {
				args = append(args, "--data-dir", filepath.Join(t.TempDir(), "data"))
			}
			r := runPosthub(t, env, args...)
			if r.code != 1 {
				t.Errorf("exit code = %d, want 1", r.code)
			}
			assertOneLine(t, "stderr", r.stderr)
			if !strings.Contains(r.stderr, "DATABASE_URL is malformed") {
				t.Errorf("stderr = %q, want it to say DATABASE_URL is malformed", r.stderr)
			}
			if strings.Contains(r.stderr+r.stdout, "s3cret") {
				t.Errorf("output leaks the password: stdout %q, stderr %q", r.stdout, r.stderr)
			}
		})
	}
}

func TestRunMissingSubcommand(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate"}, "want 'migrate up' or 'migrate status'"},
		{[]string{"migrate", "sideways"}, "want 'migrate up' or 'migrate status'"},
		{[]string{"seed"}, "want 'seed demo'"},
	} {
		r := runPosthub(t, nil, tt.args...)
		if r.code != 2 {
			t.Errorf("posthub %s: exit code = %d, want 2", strings.Join(tt.args, " "), r.code)
		}
		assertOneLine(t, "stderr", r.stderr)
		if !strings.Contains(r.stderr, tt.want) {
			t.Errorf("posthub %s: stderr = %q, want %q", strings.Join(tt.args, " "), r.stderr, tt.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	t.Parallel()
	if got := oneLine("a\nb\r\nc"); got != "a b  c" {
		t.Errorf("oneLine = %q, want %q", got, "a b  c")
	}
}
