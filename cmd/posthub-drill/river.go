package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// riverRaw measures River's raw job throughput on the drill's database: with the River
// CLI's own `river bench` when it can be fetched and run, else with an in-process
// equivalent that follows the CLI's benchmark (cmd/river/riverbench of River v0.51.2):
// the same client settings (2,000 workers on the default queue, FetchCooldown 2 ms,
// FetchPollInterval 20 ms), a no-op worker, jobs inserted in batches of 5,000 whenever
// fewer than 75,000 are waiting, and completions counted from the subscription.
func riverRaw(ctx context.Context, h *harness, o benchOpts, f *benchFigures) error {
	if o.riverCLI {
		rate, how, err := riverCLIBench(ctx, h, o)
		if err == nil {
			f.riverRate, f.riverHow = rate, how
			return nil
		}
		h.log.printf("(c) River CLI unavailable: %v", err)
		f.riverHow = "River CLI unavailable (" + oneLine(err.Error(), 160) + "); "
	} else {
		f.riverHow = "River CLI not tried (-river-cli=false); "
	}
	rate, err := riverBenchInProcess(ctx, h, o.duration)
	if err != nil {
		return err
	}
	f.riverRate = rate
	f.riverHow += fmt.Sprintf("in-process equivalent of `river bench --duration %s` with River v0.51.2, same settings", o.duration)
	return nil
}

var riverOverall = regexp.MustCompile(`overall job/sec \[\s*([0-9.]+)\s*\]`)

// riverCLIBench runs `go run github.com/riverqueue/river/cmd/river@v0.51.2 bench`.
func riverCLIBench(ctx context.Context, h *harness, o benchOpts) (float64, string, error) {
	ctx, cancel := context.WithTimeout(ctx, o.riverCLITimeout)
	defer cancel()
	args := []string{"run", "github.com/riverqueue/river/cmd/river@v0.51.2", "bench", "--database-url", h.dbURL,
		"--duration", o.duration.String()}
	h.log.printf("(c) trying go %s", "run github.com/riverqueue/river/cmd/river@v0.51.2 bench --database-url <DATABASE_URL> --duration "+o.duration.String())
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = h.tmp
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	if m := riverOverall.FindSubmatch(buf.Bytes()); m != nil {
		rate, _ := strconv.ParseFloat(string(m[1]), 64)
		return rate, "`river bench --duration " + o.duration.String() + "` (River CLI v0.51.2)", nil
	}
	if err == nil {
		err = fmt.Errorf("no overall job/sec line")
	}
	return 0, "", fmt.Errorf("%w: %s", err, lastLines(buf.String(), 3))
}

func oneLine(s string, n int) string {
	s = regexp.MustCompile(`\s+`).ReplaceAllString(s, " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// benchArgs are the in-process benchmark's jobs (the CLI's BenchmarkArgs).
type benchArgs struct {
	Num int `json:"num"`
}

func (benchArgs) Kind() string { return "benchmark" }

type benchWorker struct {
	river.WorkerDefaults[benchArgs]
}

func (*benchWorker) Work(context.Context, *river.Job[benchArgs]) error { return nil }

func riverBenchInProcess(ctx context.Context, h *harness, duration time.Duration) (float64, error) {
	const insertBatch, minJobs = 5_000, 75_000
	cfg, err := pgxpool.ParseConfig(h.dbURL)
	if err != nil {
		return 0, err
	}
	cfg.MaxConns = 20
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	// As the CLI does: start from an empty, compacted job table. Only on the drill's
	// own database; posthub is stopped by now and its checks are done.
	if h.pg != nil {
		if _, err := pool.Exec(ctx, `TRUNCATE river_job`); err != nil {
			return 0, err
		}
		if _, err := pool.Exec(ctx, `VACUUM FULL river_job`); err != nil {
			return 0, err
		}
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &benchWorker{})
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		FetchCooldown:     2 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2_000}},
		Workers:           workers,
	})
	if err != nil {
		return 0, err
	}
	events, unsubscribe := client.SubscribeConfig(&river.SubscribeConfig{ChanSize: minJobs,
		Kinds: []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled}})
	defer unsubscribe()
	var left, worked, inserted atomic.Int64
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			select {
			case <-bctx.Done():
				return
			case e := <-events:
				if e == nil {
					return
				}
				left.Add(-1)
				if e.Kind == river.EventKindJobCompleted {
					worked.Add(1)
				}
			}
		}
	}()
	params := make([]river.InsertManyParams, insertBatch)
	num := 0
	fill := func() error {
		for left.Load() < minJobs && bctx.Err() == nil {
			for i := range params {
				num++
				params[i] = river.InsertManyParams{Args: benchArgs{Num: num}}
			}
			if _, err := client.InsertMany(bctx, params); err != nil {
				return err
			}
			left.Add(insertBatch)
			inserted.Add(insertBatch)
		}
		return nil
	}
	if err := fill(); err != nil {
		return 0, err
	}
	insertErr := make(chan error, 1)
	go func() {
		for bctx.Err() == nil {
			time.Sleep(250 * time.Millisecond)
			if err := fill(); err != nil && bctx.Err() == nil {
				insertErr <- err
				return
			}
		}
	}()
	h.log.printf("(c) River in-process bench: %d jobs waiting, working for %s", left.Load(), duration)
	if err := client.Start(ctx); err != nil {
		return 0, err
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case err := <-insertErr:
		return 0, err
	case <-time.After(duration):
	}
	n, el := worked.Load(), time.Since(start)
	cancel() // stops inserting and counting
	stopCtx, stopCancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer stopCancel()
	_ = client.Stop(stopCtx)
	rate := float64(n) / el.Seconds()
	h.log.printf("(c) River in-process bench: %d jobs worked in %s = %.1f jobs/s (%d inserted)", n, el.Round(time.Millisecond), rate, inserted.Load())
	return rate, nil
}
