// Command posthub is the booking and capacity scheduler of a post-production hub: one
// binary whose subcommands run the API and UI, the job workers, migrations and the
// embedded development hub.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

const usage = `posthub — booking and capacity scheduler for a post-production hub

Usage:
  posthub dev [flags]        run the whole hub on a local PostgreSQL it starts itself
  posthub serve [flags]      run the API, UI and job workers on DATABASE_URL
  posthub worker [flags]     run only the job workers on DATABASE_URL
  posthub migrate up|status  apply or show the database migrations
  posthub seed demo          load the demo data and print the demo users' API tokens
  posthub org add [flags]    create an organisation (--slug --name --country [--kind production_company|hub])
  posthub user add [flags]   create a user (--email --name --role --org [--site] [--password-stdin])
  posthub catalogue export [-o FILE]
                             write the hub's set-up (sites, calendars, resources, rate
                             cards, organisations, users) as one YAML file
  posthub catalogue apply FILE [--dry-run] [--prune]
                             make the database match the file, printing what changes
  posthub token create|revoke [flags]
                             issue a user's API token (--email --name [--ttl]) or revoke one (--id)
  posthub bench psplib [--set DIR] [--schedules N] [--seed S] [--limit K] [--workers W]
                             measure the planner on a PSPLIB benchmark set
  posthub version            print the version

Run 'posthub <command> -h' for a command's flags.
`

func main() {
	setGCPercent(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// defaultGCPercent is the garbage collector's target unless GOGC is set: a serve
// process's heap is mostly each request's and job's short-lived garbage over a small
// live set (65 MB peak RSS at the booking peak), and at Go's default of 100 the
// collector took about a fifth of posthub's CPU there; at 200 posthub spends about a
// tenth less CPU per booking and per email for about 12 MB more peak RSS
// (docs/BENCHMARKS.md, "Cost of a booking").
const defaultGCPercent = 200

// setGCPercent applies defaultGCPercent unless the operator chose GOGC.
func setGCPercent(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// run is the whole program, with its environment passed in so tests can drive it.
// It returns the exit code: 0 on success, 1 on failure, 2 on a usage error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return runWithStdin(ctx, args, getenv, os.Stdin, stdout, stderr)
}

// runWithStdin is run with standard input passed in too (for --password-stdin).
func runWithStdin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "dev":
		err = runDev(ctx, rest, getenv, stdout, stderr)
	case "serve":
		err = runServe(ctx, rest, getenv, stdout, stderr)
	case "worker":
		err = runWorker(ctx, rest, getenv, stderr)
	case "migrate":
		err = runMigrate(ctx, rest, getenv, stdout, stderr)
	case "seed":
		err = runSeed(ctx, rest, getenv, stdout, stderr)
	case "org":
		err = runOrg(ctx, rest, getenv, stdout, stderr)
	case "user":
		err = runUser(ctx, rest, getenv, stdin, stdout, stderr)
	case "token":
		err = runToken(ctx, rest, getenv, stdout, stderr)
	case "catalogue":
		err = runCatalogue(ctx, rest, getenv, stdin, stdout, stderr)
	case "bench":
		err = runBench(ctx, rest, stdout, stderr)
	case "version":
		err = runVersion(stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "posthub: unknown command %q (see 'posthub help')\n", cmd)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "posthub %s: %v\n", cmd, err)
		return 2
	default:
		fmt.Fprintf(stderr, "posthub %s: %s\n", cmd, oneLine(err.Error()))
		return 1
	}
}

// usageError marks a mistake in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// oneLine folds a multi-line error so the person sees one line, never a stack trace.
func oneLine(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\n' || r == '\r' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
