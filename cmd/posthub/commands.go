package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/config"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/devpg"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/postgres"
	"github.com/posthub/posthub/internal/version"
)

// demoTokenKeys are the demo users whose tokens `dev` writes to demo-tokens.json.
var demoTokenKeys = []string{"admin", "manager", "operator", "producer", "producer_other"}

// runDev runs the whole hub in one process: a local PostgreSQL it owns (unless
// DATABASE_URL is set), migrations, demo data, API, UI and job workers.
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load("dev", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	l, err := listen(cfg.Addr)
	if err != nil {
		return err
	}
	defer l.Close()

	pgDir := filepath.Join(cfg.DataDir, "pg")
	if cfg.Fresh {
		if err := freshStart(ctx, cfg.DataDir, pgDir); err != nil {
			return err
		}
	}
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		pg, err := devpg.Start(ctx, devpg.Options{Dir: pgDir, Logf: func(f string, a ...any) {
			log.Info(fmt.Sprintf(f, a...))
		}})
		if err != nil {
			return err
		}
		defer func() {
			if err := pg.Stop(context.Background()); err != nil {
				log.Error("stopping PostgreSQL", "err", err)
			} else {
				log.Info("PostgreSQL stopped")
			}
		}()
		if err := ensureDatabase(ctx, pg.URL("postgres"), "posthub"); err != nil {
			return err
		}
		dbURL = pg.URL("posthub")
	}
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	a := &app{cfg: cfg, log: log, db: db}
	defer a.shutdown()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	tokens, err := ensureDemo(ctx, db, cfg.DataDir, log, true)
	if err != nil {
		return err
	}
	if err := a.start(ctx, l, cfg.Workers); err != nil {
		return err
	}
	base := cfg.BaseURL()
	if cfg.Addr != l.Addr().String() {
		base = "http://" + l.Addr().String()
	}
	fmt.Fprintf(stdout, "posthub %s is running (tz %s)\n", version.String(), calendar.TZVersion())
	fmt.Fprintf(stdout, "  UI:        %s/\n  API:       %s/api/v1/\n  health:    %s/readyz\n", base, base, base)
	fmt.Fprintf(stdout, "  API tokens of the demo users: %s\n", tokens)
	fmt.Fprintf(stdout, "Press Ctrl-C to stop.\n")
	log.Info("posthub dev started", "config", cfg)
	<-ctx.Done()
	log.Info("shutting down")
	return nil
}

// freshStart stops a server still running on the data directory and deletes it.
func freshStart(ctx context.Context, dataDir, pgDir string) error {
	if _, err := os.Stat(filepath.Join(pgDir, "data", "PG_VERSION")); err == nil {
		if pg, err := devpg.Start(ctx, devpg.Options{Dir: pgDir}); err == nil {
			_ = pg.Stop(ctx)
		}
	}
	return os.RemoveAll(dataDir)
}

// ensureDatabase creates database name on the server if it does not exist yet.
func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connecting to the local PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// ensureDemo loads the demo data if it is not there, then (withActivity: `make run`,
// not `seed demo`, whose database drills and scripts want as the seed leaves it) the
// demo activity around today if the hub has none, and makes sure <dataDir>/demo-tokens.json holds a working
// token for every demo user. Tokens that still work are kept, so scripts that read the
// file keep working across restarts.
func ensureDemo(ctx context.Context, db *postgres.DB, dataDir string, log *slog.Logger, withActivity bool) (string, error) {
	var users demo.Users
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		users, err = demo.Seed(ctx, tx)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("loading demo data: %w", err)
	}
	if withActivity {
		loadDemoActivity(ctx, db, log)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dataDir, "demo-tokens.json")
	tokens := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &tokens)
	}
	changed := false
	for _, k := range demoTokenKeys {
		id, ok := users[k]
		if !ok {
			continue
		}
		if t := tokens[k]; t != "" {
			if a, err := db.AuthenticateToken(ctx, t); err == nil && a.UserID == id {
				continue
			}
		}
		_, t, err := db.CreateToken(ctx, booking.System, id, "demo", 0)
		if err != nil {
			return "", err
		}
		tokens[k], changed = t, true
	}
	if changed {
		b, _ := json.MarshalIndent(tokens, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
			return "", err
		}
	}
	return path, nil
}

// loadDemoActivity fills a new demo hub with three months of work around today
// (demo.Activity); a hub that has bookings, blocks or plans is left as it is. The
// notifications of what is made today are queued for the job workers, through an
// insert-only River client: no worker need run yet (`seed demo` runs none). A failure
// is logged, not fatal: the hub works without its demo activity.
//
// The activity is a thousand small transactions; on connections of its own that do
// not wait for each commit's flush (synchronous_commit off: a crash may lose the last
// moments of it, never its consistency), it loads in about two seconds rather than
// four.
func loadDemoActivity(ctx context.Context, db *postgres.DB, log *slog.Logger) {
	cfg := db.Pool.Config()
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	cfg.MaxConns, cfg.MinConns, cfg.MinIdleConns = 4, 0, 0
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		log.Warn("demo activity not loaded", "err", err)
		return
	}
	defer pool.Close()
	rc, err := jobs.NewClient(pool, jobs.Options{Logger: log})
	if err != nil {
		log.Warn("demo activity not loaded", "err", err)
		return
	}
	live := &postgres.DB{Pool: pool, Now: db.Now, OnEvents: jobs.Sink(rc)}
	began := time.Now()
	s, err := demo.Activity(ctx, live, db.Now())
	switch {
	case err != nil:
		log.Warn("demo activity not loaded", "err", err)
	case s.Skipped:
		log.Debug("demo activity already there")
	default:
		log.Info("demo activity loaded", "completed", s.Completed, "confirmed", s.Confirmed, "holds", s.Holds,
			"open_challenges", s.OpenChallenges, "pending_approvals", s.PendingApprovals, "accepted_plans", s.AcceptedPlans,
			"blocks", s.Blocks, "refused", s.Refused, "took", time.Since(began).Round(time.Millisecond).String())
	}
}

// runServe runs the API, UI and job workers against DATABASE_URL. It does not migrate:
// /readyz answers 503 until `posthub migrate up` has run.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadWithDB("serve", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	l, err := listen(cfg.Addr)
	if err != nil {
		return err
	}
	defer l.Close()
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	a := &app{cfg: cfg, log: log, db: db}
	defer a.shutdown()
	if err := a.start(ctx, l, cfg.Workers); err != nil {
		return err
	}
	log.Info("posthub serving", "addr", l.Addr().String(), "config", cfg)
	<-ctx.Done()
	log.Info("shutting down")
	return nil
}

// runWorker works River jobs until stopped.
func runWorker(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := loadWithDB("worker", args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	a := &app{cfg: cfg, log: log, db: db}
	defer a.shutdown()
	if err := a.start(ctx, nil, cfg.Workers); err != nil {
		return err
	}
	if cfg.MetricsAddr != "" {
		// The worker has no API; it serves its own metrics (deliveries, transitions).
		ml, err := listen(cfg.MetricsAddr)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.metrics.Handler())
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ml) }()
		defer srv.Close()
	}
	log.Info("posthub worker started", "config", cfg)
	<-ctx.Done()
	log.Info("shutting down")
	return nil
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "up" && args[0] != "status") {
		return usageError{"want 'migrate up' or 'migrate status'"}
	}
	cfg, err := loadWithDB("migrate "+args[0], args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if args[0] == "up" {
		if err := db.Migrate(ctx); err != nil {
			return err
		}
	}
	st, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "app migrations:   %d of %d\nriver migrations: %d of %d\ncurrent: %t\n",
		st.AppCurrent, st.AppLatest, st.RiverCurrent, st.RiverLatest, st.Current())
	return nil
}

// runSeed loads the demo data into DATABASE_URL and prints the demo users' tokens.
func runSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "demo" {
		return usageError{"want 'seed demo'"}
	}
	cfg, err := loadWithDB("seed demo", args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	path, err := ensureDemo(ctx, db, cfg.DataDir, newLogger(stderr, cfg.LogLevel), false)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	_, err = stdout.Write(b)
	return err
}

func runVersion(stdout io.Writer) error {
	fmt.Fprintf(stdout, "posthub %s (tz %s)\n", version.String(), calendar.TZVersion())
	return nil
}

// loadWithDB loads the configuration of a command that needs DATABASE_URL.
func loadWithDB(name string, args []string, getenv func(string) string, stderr io.Writer) (*config.Config, error) {
	cfg, err := config.Load(name, args, getenv, stderr)
	if err != nil {
		return nil, err
	}
	if cfg.DatabaseURL == "" {
		return nil, errors.New("DATABASE_URL is not set (or run 'posthub dev', which starts its own PostgreSQL)")
	}
	return cfg, nil
}
