package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posthub/posthub/internal/planner"
)

// defaultPSPLIBSet is the subset of PSPLIB J30 the repository carries, so
// `posthub bench psplib` run from the repository's root works out of the box.
// The published figures need the full sets, named with --set.
const defaultPSPLIBSet = "internal/planner/testdata/psplib/j30"

// runBench measures the planner on a benchmark set. Only PSPLIB is supported:
// `posthub bench psplib [--set DIR] --schedules N`.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "psplib" {
		return usageError{"want 'bench psplib [--set DIR] [--schedules N] [--seed S] [--limit K] [--workers W]'"}
	}
	fs := flag.NewFlagSet("bench psplib", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("set", defaultPSPLIBSet, "directory of PSPLIB .sm files with their optimum.csv")
	schedules := fs.Int("schedules", 5000, "schedules generated per instance")
	seed := fs.Uint64("seed", 1, "search seed")
	limit := fs.Int("limit", 0, "run only this many instances, spread evenly over the set (0 = all)")
	workers := fs.Int("workers", 1, "instances solved in parallel, each on one goroutine")
	verbose := fs.Bool("v", false, "print one line per instance")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *dir == "" || *schedules <= 0 || *workers <= 0 || *limit < 0 {
		return usageError{"--set must name a folder; --schedules and --workers must be positive"}
	}
	files, err := filepath.Glob(filepath.Join(*dir, "*.sm"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		if *dir == defaultPSPLIBSet {
			return fmt.Errorf("no .sm files in %s: run from the repository's root, or name a set with --set DIR", *dir)
		}
		return fmt.Errorf("no .sm files in %s", *dir)
	}
	slices.SortFunc(files, naturalCompare)
	if *limit > 0 && *limit < len(files) {
		picked := make([]string, *limit)
		for i := range picked {
			picked[i] = files[i*len(files) / *limit]
		}
		files = picked
	}
	bounds, err := planner.ReadOptimum(filepath.Join(*dir, "optimum.csv"))
	if err != nil {
		return err
	}

	type result struct {
		name          string
		makespan, cpl int
		bound         planner.Bound
		hasBound      bool
		elapsed       time.Duration
		schedules     int
		err           error
	}
	results := make([]result, len(files))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range *workers {
		wg.Go(func() {
			for i := range jobs {
				r := &results[i]
				r.name = filepath.Base(files[i])
				inst, err := planner.ReadSMFile(files[i])
				if err != nil {
					r.err = err
					continue
				}
				r.bound, r.hasBound = bounds[r.name]
				r.cpl = inst.CriticalPathLB()
				p := inst.Problem()
				start := time.Now()
				plan, err := planner.Solve(ctx, p, planner.Options{Seed: *seed, Budget: planner.Budget{Schedules: *schedules}})
				r.elapsed = time.Since(start)
				if err == nil && !plan.Feasible {
					err = fmt.Errorf("no feasible plan: %v", plan.Unmet)
				}
				r.err = err
				r.makespan = inst.Makespan(plan)
				r.schedules = plan.Schedules
			}
		})
	}
	for i := range files {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}

	var (
		n, atBest, withOpt, withBound int
		devOpt, devCP, devUB          float64
		times                         []time.Duration
		total                         time.Duration
		totalSchedules                int
	)
	allOptimal := true
	for _, r := range results {
		if r.err != nil {
			return fmt.Errorf("%s: %w", r.name, r.err)
		}
		n++
		devCP += 100 * float64(r.makespan-r.cpl) / float64(r.cpl)
		if !r.hasBound || !r.bound.Optimal() {
			allOptimal = false
		}
		if r.hasBound {
			withBound++
			devUB += 100 * float64(r.makespan-r.bound.Upper) / float64(r.bound.Upper)
			if r.bound.Optimal() {
				withOpt++
				devOpt += 100 * float64(r.makespan-r.bound.Upper) / float64(r.bound.Upper)
			}
			if r.makespan <= r.bound.Upper {
				atBest++
			}
		}
		times = append(times, r.elapsed)
		total += r.elapsed
		totalSchedules += r.schedules
		if *verbose {
			fmt.Fprintf(stdout, "%-14s makespan %4d  cp-lb %4d  best-known %4d  %v\n", r.name, r.makespan, r.cpl, r.bound.Upper, r.elapsed.Round(time.Millisecond))
		}
	}
	slices.Sort(times)
	p95 := times[min(len(times)-1, (len(times)*95+99)/100-1)]
	fmt.Fprintf(stdout, "set %s: %d instances, %d schedules each, seed %d, %d worker(s), GOMAXPROCS %d\n",
		*dir, n, *schedules, *seed, *workers, runtime.GOMAXPROCS(0))
	if allOptimal {
		fmt.Fprintf(stdout, "mean deviation from optimum:             %.3f %%\n", devOpt/float64(n))
	} else {
		fmt.Fprintf(stdout, "mean deviation from critical-path bound: %.2f %%\n", devCP/float64(n))
		if withOpt > 0 {
			fmt.Fprintf(stdout, "mean deviation from optimum (%d instances with a proven optimum): %.3f %%\n", withOpt, devOpt/float64(withOpt))
		}
	}
	if withBound > 0 {
		fmt.Fprintf(stdout, "mean deviation from best known makespan: %.3f %%\n", devUB/float64(withBound))
		fmt.Fprintf(stdout, "at best known value:                     %d of %d (%.1f %%)\n", atBest, withBound, 100*float64(atBest)/float64(withBound))
	}
	if allOptimal {
		fmt.Fprintf(stdout, "mean deviation from critical-path bound: %.2f %%\n", devCP/float64(n))
	}
	fmt.Fprintf(stdout, "time per instance:                       mean %.1f ms, p95 %.1f ms\n",
		ms(total)/float64(n), ms(p95))
	fmt.Fprintf(stdout, "schedules per second:                    %.0f (per worker)\n", float64(totalSchedules)/total.Seconds())
	return nil
}

// ms converts a duration to fractional milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// naturalCompare orders file names with embedded numbers numerically
// (j302_1 before j3010_1 and j301_2 before j301_10), which is the order
// PSPLIB's parameter sets are usually listed in.
func naturalCompare(a, b string) int {
	a, b = filepath.Base(a), filepath.Base(b)
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da > 0 && db > 0 {
			x, _ := strconv.Atoi(a[:da])
			y, _ := strconv.Atoi(b[:db])
			if x != y {
				return x - y
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

// digitPrefix returns the length of the run of ASCII digits starting s.
func digitPrefix(s string) int {
	return len(s) - len(strings.TrimLeft(s, "0123456789"))
}
