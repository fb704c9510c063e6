package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/posthub/posthub/internal/catalogue"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/postgres"
)

// runCatalogue is `posthub catalogue export|apply`: the hub's set-up as one YAML file.
func runCatalogue(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "export" && args[0] != "apply") {
		return usageError{"want 'catalogue export [-o FILE]' or 'catalogue apply FILE [--dry-run] [--prune]'"}
	}
	if args[0] == "export" {
		return runCatalogueExport(ctx, args[1:], getenv, stdout, stderr)
	}
	return runCatalogueApply(ctx, args[1:], getenv, stdin, stdout, stderr)
}

// parseInterleaved parses flags that may come before or after the positional
// arguments (`apply hub.yaml --dry-run`), which flag.Parse alone stops at.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// openCatalogueDB opens DATABASE_URL for a catalogue command.
func openCatalogueDB(ctx context.Context, name string, getenv func(string) string, stderr io.Writer) (*postgres.DB, error) {
	cfg, err := loadWithDB(name, nil, getenv, stderr)
	if err != nil {
		return nil, err
	}
	return postgres.Open(ctx, cfg.DatabaseURL)
}

func runCatalogueExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("catalogue export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the file to `FILE` rather than to standard output")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q (write to a file with -o FILE)", rest[0])}
	}
	db, err := openCatalogueDB(ctx, "catalogue export", getenv, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	f, err := catalogue.Export(ctx, db)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := catalogue.Encode(&b, f); err != nil {
		return err
	}
	if *out == "" || *out == "-" {
		_, err := stdout.Write(b.Bytes())
		return err
	}
	// Written whole or not at all: a temporary file beside it, renamed over it.
	tmp, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s written: %d sites, %d organisations, %d users\n", *out, len(f.Sites), len(f.Organisations), len(f.Users))
	return nil
}

func runCatalogueApply(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("catalogue apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opt catalogue.Options
	fs.BoolVar(&opt.DryRun, "dry-run", false, "print what would change, and write nothing")
	fs.BoolVar(&opt.Prune, "prune", false, "take the sites, resources and users the file leaves out out of service (otherwise they are left as they are)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError{"want one FILE ('-' reads standard input)"}
	}
	opt.Name = rest[0]
	var src io.Reader = stdin
	if opt.Name == "-" {
		opt.Name = "(standard input)"
	} else {
		fh, err := os.Open(opt.Name)
		if err != nil {
			return err
		}
		defer fh.Close()
		src = fh
	}
	f, err := catalogue.Parse(src, opt.Name)
	if err != nil {
		return reportInvalid(err, stderr)
	}
	cfg, err := loadWithDB("catalogue apply", nil, getenv, stderr)
	if err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	// A calendar change that moves bookings' working time notifies their producers,
	// as it would from the API: the notifications are queued in the same transaction
	// for the job workers (none need run now).
	rc, err := jobs.NewClient(db.Pool, jobs.Options{Logger: newLogger(stderr, cfg.LogLevel)})
	if err != nil {
		return err
	}
	db.OnEvents = jobs.Sink(rc)
	diff, err := catalogue.Apply(ctx, db, f, opt)
	if err != nil {
		return reportInvalid(err, stderr)
	}
	return diff.Write(stdout, opt.DryRun)
}

// reportInvalid prints each problem of an invalid file on a line of its own and
// answers one line for the exit; other errors pass as they are.
func reportInvalid(err error, stderr io.Writer) error {
	var inv *catalogue.Invalid
	if !errors.As(err, &inv) {
		return err
	}
	for _, p := range inv.Problems {
		fmt.Fprintf(stderr, "%s: %s\n", inv.Name, p)
	}
	n := len(inv.Problems)
	plural := "s"
	if n == 1 {
		plural = ""
	}
	return fmt.Errorf("%s: %d problem%s; nothing written", inv.Name, n, plural)
}
