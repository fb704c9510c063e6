package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/config"
	"github.com/posthub/posthub/internal/httpapi"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/metrics"
	"github.com/posthub/posthub/internal/notify"
	"github.com/posthub/posthub/internal/postgres"
	"github.com/posthub/posthub/internal/version"
	"github.com/posthub/posthub/internal/web"
)

// app is one running posthub process: storage, the River client and the HTTP server,
// wired by hand.
type app struct {
	cfg      *config.Config
	log      *slog.Logger
	db       *postgres.DB
	river    *river.Client[pgx.Tx]
	http     *http.Server
	listener net.Listener
	metrics  *metrics.Metrics
	smtp     *notify.SMTPMailer // its kept sessions are closed at shutdown
	// stopSweep stops the due-notice sweeper and waits for it (nil: none runs).
	stopSweep func()
}

// eventKinds are the booking events, for the metrics to export each from the start.
var eventKinds = func() []string {
	out := make([]string, len(booking.EventKinds))
	for i, k := range booking.EventKinds {
		out[i] = string(k)
	}
	return out
}()

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// listen binds the HTTP address first, so a port in use fails before anything starts.
func listen(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Err != nil {
			return nil, fmt.Errorf("cannot listen on %s: %v", addr, opErr.Err)
		}
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return l, nil
}

// start builds the River client (working jobs when workers > 0) and, when l is not nil,
// the HTTP server, and starts both.
func (a *app) start(ctx context.Context, l net.Listener, workers int) error {
	var mailer notify.Mailer = notify.LogMailer{Logger: a.log}
	if a.cfg.SMTPURL != "" {
		cfg, err := notify.ParseSMTPURL(a.cfg.SMTPURL, a.cfg.MailFrom)
		if err != nil {
			return err
		}
		m, err := notify.NewSMTPMailer(cfg)
		if err != nil {
			return err
		}
		a.smtp, mailer = m, m
	}
	deps := &jobs.Deps{Store: a.db, Mailer: mailer, Webhooks: notify.WebhookSender{AllowPrivate: a.cfg.WebhookAllowPrivate},
		Logger: a.log, BaseURL: a.cfg.BaseURL()}
	rc, err := jobs.NewClient(a.db.Pool, jobs.Options{Logger: a.log, MaxWorkers: workers, Deps: deps, Digests: a.db.ManagerDigests,
		Passwords: a.db})
	if err != nil {
		return err
	}
	a.river = rc
	a.metrics = metrics.New(calendar.TZVersion(), metrics.Known{Queues: jobs.Queues, Events: eventKinds, RetryReasons: postgres.RetryReasons})
	deps.Metrics = a.metrics
	sink := jobs.Sink(rc)
	a.db.OnEvents = func(ctx context.Context, tx pgx.Tx, events []booking.Event) error {
		for _, e := range events {
			a.metrics.Transition(string(e.Kind))
		}
		return sink(ctx, tx, events)
	}
	a.db.OnPasswordLink = jobs.PasswordLinkSink(rc)
	a.db.OnRetry = a.metrics.TxRetry
	a.metrics.RefreshEvery(ctx, a.db.Pool, a.db, 30*time.Second, a.log)
	if workers > 0 {
		if err := rc.Start(ctx); err != nil {
			return fmt.Errorf("starting job workers: %w", err)
		}
		// The reminders and expiry warnings due are enqueued by every process that
		// works jobs (jobs.RunDueSweeper).
		sweepCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			jobs.RunDueSweeper(sweepCtx, deps, rc, jobs.DueSweepInterval)
		}()
		a.stopSweep = func() { cancel(); <-done }
	}
	if l == nil {
		return nil
	}
	ui := &web.UI{Auth: a.db, Catalogue: a.db, Bookings: a.db, Blocks: a.db, Calendars: a.db, Notifications: a.db,
		Utilisation: a.db, Plans: a.db, Logger: a.log, Version: version.String()}
	ops, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: riverui.NewEndpoints(rc, nil), Logger: a.log, Prefix: "/ops/jobs"})
	if err != nil {
		return fmt.Errorf("job queue UI: %w", err)
	}
	if err := ops.Start(ctx); err != nil {
		return fmt.Errorf("job queue UI: %w", err)
	}
	api := &httpapi.Server{
		Catalogue:      a.db,
		Auth:           a.db,
		Audit:          a.db,
		Bookings:       a.db,
		Blocks:         a.db,
		Idempotency:    a.db,
		Calendars:      a.db,
		Plans:          a.db,
		Replans:        a.db,
		Notifications:  a.db,
		Utilisation:    a.db,
		Coproduction:   a.db,
		Changes:        a.db,
		PublicURL:      a.cfg.BaseURL(),
		OpsJobs:        ops,
		Metrics:        a.metrics,
		TrustedProxies: a.cfg.TrustedProxies,
		Ready:          a.db.Ready,
		Logger:         a.log,
		Version:        version.String(),
		TZVersion:      calendar.TZVersion(),
		SecureCookies:  strings.HasPrefix(a.cfg.PublicURL, "https://"),
		Limits:         httpapi.Limits{PerCredential: a.cfg.RatePerToken, PerUser: a.cfg.RatePerUser},
		Mount:          []func(*httpapi.Router){ui.Register},
	}
	a.listener = l
	a.http = &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.http.RegisterOnShutdown(api.CloseStreams)
	go func() {
		if err := a.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// shutdown drains HTTP, then stops River within the configured deadline: jobs in flight
// get the time to finish, and are cancelled (and retried later) after it.
func (a *app) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if a.http != nil {
		if err := a.http.Shutdown(ctx); err != nil {
			a.log.Warn("http shutdown", "err", err)
		}
	}
	if a.stopSweep != nil {
		a.stopSweep()
	}
	if a.river != nil {
		if err := a.river.Stop(ctx); err != nil {
			hard, cancelHard := context.WithTimeout(context.Background(), 5*time.Second)
			_ = a.river.StopAndCancel(hard)
			cancelHard()
		}
	}
	if a.smtp != nil {
		_ = a.smtp.Close()
	}
	if a.db != nil {
		a.db.Close()
	}
}
