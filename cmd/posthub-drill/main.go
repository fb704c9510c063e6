// Command posthub-drill runs system drills against real posthub processes: it starts
// its own PostgreSQL (or uses DATABASE_URL), builds posthub, migrates and seeds the demo
// data, runs an SMTP sink in-process and starts `posthub serve` processes on 127.0.0.1,
// then loads them, breaks things and checks the invariants afterwards.
//
//	posthub-drill scale    three serve processes on one database, ~30 s of contended booking load
//	posthub-drill faults   kill -9 the serve process five times and restart PostgreSQL once under load
//	posthub-drill bench    HTTP writes vs pgbench, end-to-end confirmations vs River, reminder lateness, RSS
//	posthub-drill failover kill -9 the PostgreSQL primary under load, promote its streaming standby (async, then sync)
//
// Every run is self-contained and bounded in time; all load goes to 127.0.0.1. It exits 0
// when every invariant held, 1 (naming the invariant) when one broke or the drill could
// not run, and 2 on a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usage = `posthub-drill — system drills for posthub

Usage:
  posthub-drill scale  [flags]   three serve processes, contended holds/confirmations/direct bookings, then invariants
  posthub-drill faults [flags]   kill -9 the serve process 5 times and restart PostgreSQL once under load, then invariants
  posthub-drill bench  [flags]   HTTP booking writes vs pgbench, notification pipeline vs the booking peak, reminder lateness, peak RSS
  posthub-drill failover [flags] a primary and a streaming standby; kill -9 the primary under load, promote the standby,
                                 then invariants: with asynchronous replication (losses reported), then synchronous (none allowed)

Common flags (see 'posthub-drill <command> -h'):
  -posthub PATH   use this posthub binary instead of building ./cmd/posthub
  -keep           keep the temporary directory (PostgreSQL data, logs)
  -fast           run the drill's PostgreSQL with fsync off

With DATABASE_URL set the drill uses that database instead of starting its own
PostgreSQL (the faults drill then skips the PostgreSQL restart; the failover drill
ignores it, as it needs a primary and a standby of its own).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// invariantError is a broken invariant: the drill ran, and the system misbehaved.
type invariantError struct{ names []string }

func (e *invariantError) Error() string {
	return fmt.Sprintf("%d invariant(s) broken: %v", len(e.names), e.names)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "scale":
		err = runScale(ctx, args[1:], stdout, stderr)
	case "faults":
		err = runFaults(ctx, args[1:], stdout, stderr)
	case "bench":
		err = runBench(ctx, args[1:], stdout, stderr)
	case "failover":
		err = runFailover(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "posthub-drill: unknown command %q\n%s", args[0], usage)
		return 2
	}
	var inv *invariantError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &inv):
		fmt.Fprintf(stderr, "\n!!!!!!!! posthub-drill %s: FAILED: %v\n", args[0], err)
		return 1
	default:
		fmt.Fprintf(stderr, "\n!!!!!!!! posthub-drill %s: could not complete the drill: %v\n", args[0], err)
		return 1
	}
}

// commonFlags are the flags every drill takes.
type commonFlags struct {
	posthub string
	keep    bool
	fast    bool
	workers int
	pgSlow  time.Duration
	pgss    bool
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.posthub, "posthub", "", "posthub binary to run (default: build ./cmd/posthub into the temporary directory)")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory (PostgreSQL data and process logs)")
	fs.BoolVar(&c.fast, "fast", false, "run the drill's PostgreSQL with fsync off (throwaway-cluster settings)")
	fs.IntVar(&c.workers, "workers", 50, "POSTHUB_WORKERS of each serve process (River jobs worked at once per queue)")
	fs.BoolVar(&c.pgss, "pg-stat-statements", false, "diagnostics: load pg_stat_statements in the drill's PostgreSQL; bench prints the statements of the peak run")
	fs.DurationVar(&c.pgSlow, "pg-log-slow", 0, "diagnostics: have the drill's PostgreSQL log lock waits and statements slower than this (with -keep: pg/postgres.log)")
}

// progress writes a timestamped progress line.
type progress struct {
	w     io.Writer
	start time.Time
}

func (p *progress) printf(format string, args ...any) {
	fmt.Fprintf(p.w, "[%6.1fs] %s\n", time.Since(p.start).Seconds(), fmt.Sprintf(format, args...))
}
