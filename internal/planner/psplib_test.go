package planner

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// psplibDir holds the PSPLIB instances the tests read: a subset of the standard
// sets carried in the repository (see its README), so a clone alone passes.
const psplibDir = "testdata/psplib"

// TestReadSM checks the reader on a real file against values visible in it.
func TestReadSM(t *testing.T) {
	t.Parallel()
	inst, err := ReadSMFile(psplibDir + "/j30/j301_1.sm")
	if err != nil {
		t.Fatal(err)
	}
	if inst.Jobs != 32 || inst.Horizon != 158 {
		t.Fatalf("jobs %d horizon %d", inst.Jobs, inst.Horizon)
	}
	if !slices.Equal(inst.Capacities, []int{12, 13, 4, 12}) {
		t.Fatalf("capacities %v", inst.Capacities)
	}
	// Job 2: duration 8, 4 units of R1; job 1 (the source) precedes 2, 3, 4.
	if inst.Durations[1] != 8 || !slices.Equal(inst.Requests[1], []int{4, 0, 0, 0}) {
		t.Fatalf("job 2: %d %v", inst.Durations[1], inst.Requests[1])
	}
	if !slices.Equal(inst.Successors[0], []int{1, 2, 3}) || len(inst.Successors[31]) != 0 {
		t.Fatalf("successors %v / %v", inst.Successors[0], inst.Successors[31])
	}
	if got := inst.CriticalPathLB(); got != 38 { // the file's MPM-Time
		t.Fatalf("critical path %d, want 38", got)
	}
	p := inst.Problem()
	if len(p.Stages) != 30 || len(p.Resources) != 12+13+4+12 {
		t.Fatalf("%d stages, %d resources", len(p.Stages), len(p.Resources))
	}
	if s := p.Stages[0]; s.ID != "J2" || s.Duration != 8*PSPLIBPeriod || !reflect.DeepEqual(s.Demands, []Demand{{Kind: "R1", Count: 4}}) || len(s.Predecessors) != 0 {
		t.Fatalf("stage J2: %+v", s)
	}
	// J120 files have the same layout with 122 jobs.
	big, err := ReadSMFile(psplibDir + "/j120/j1201_1.sm")
	if err != nil {
		t.Fatal(err)
	}
	if big.Jobs != 122 || len(big.Capacities) != 4 {
		t.Fatalf("j1201_1: %d jobs, %d resources", big.Jobs, len(big.Capacities))
	}
}

// TestReadSMErrors feeds the reader broken files.
func TestReadSMErrors(t *testing.T) {
	t.Parallel()
	header := "jobs (incl. supersource/sink ):  3\n  - renewable                 :  1   R\n"
	cases := map[string]string{
		"empty": "",
		"no availability": header + "PRECEDENCE RELATIONS:\n1 1 1 2\n2 1 1 3\n3 1 0\n" +
			"REQUESTS/DURATIONS:\n1 1 0 0\n2 1 3 1\n3 1 0 0\n",
		"bad successor":  header + "PRECEDENCE RELATIONS:\n1 1 1 9\n",
		"multi-mode":     header + "PRECEDENCE RELATIONS:\n1 2 1 2\n",
		"count mismatch": header + "PRECEDENCE RELATIONS:\n1 1 2 2\n",
		"over capacity": header + "PRECEDENCE RELATIONS:\n1 1 1 2\n2 1 1 3\n3 1 0\n" +
			"REQUESTS/DURATIONS:\n1 1 0 0\n2 1 3 5\n3 1 0 0\nRESOURCEAVAILABILITIES:\n  R 1\n 4\n",
		"not a number": header + "PRECEDENCE RELATIONS:\n1 1 x 2\n",
	}
	for name, text := range cases {
		if _, err := ReadSM(strings.NewReader(text)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	ok := header + "PRECEDENCE RELATIONS:\n1 1 1 2\n2 1 1 3\n3 1 0\n" +
		"REQUESTS/DURATIONS:\n1 1 0 0\n2 1 3 1\n3 1 0 0\nRESOURCEAVAILABILITIES:\n  R 1\n 4\n"
	if _, err := ReadSM(strings.NewReader(ok)); err != nil {
		t.Fatal(err)
	}
}

// TestReadOptimum checks the three forms of optimum.csv values.
func TestReadOptimum(t *testing.T) {
	t.Parallel()
	j30, err := ReadOptimum(psplibDir + "/j30/optimum.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(j30) != 48 || j30["j301_1.sm"] != (Bound{43, 43}) || !j30["j301_1.sm"].Optimal() {
		t.Fatalf("j30: %d entries, j301_1 %+v", len(j30), j30["j301_1.sm"])
	}
	j120, err := ReadOptimum(psplibDir + "/j120/optimum.csv")
	if err != nil {
		t.Fatal(err)
	}
	if b := j120["j1201_1.sm"]; b != (Bound{104, 105}) || b.Optimal() {
		t.Fatalf("j1201_1: %+v", b)
	}
	if b := j120["j12019_5.sm"]; b != (Bound{0, 103}) {
		t.Fatalf("j12019_5: %+v", b)
	}
	for _, bad := range []string{"x", "0", "5..3", "..", "1..x"} {
		if _, err := parseBound(bad); err == nil {
			t.Errorf("parseBound(%q): no error", bad)
		}
	}
}

// TestJ30Sample solves a spread of J30 instances at 1,000 schedules: every
// plan must pass the RCPSP check and the general checker, the mean deviation
// from the proven optima must be small, and a seed must reproduce its plan.
func TestJ30Sample(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(psplibDir + "/j30/*.sm")
	if err != nil || len(files) != 48 {
		t.Fatalf("want the 48 J30 instances in %s, found %d (%v)", psplibDir, len(files), err)
	}
	opt, err := ReadOptimum(psplibDir + "/j30/optimum.csv")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	var dev float64
	const sample = 10
	for i := range sample {
		path := files[i*len(files)/sample]
		inst, err := ReadSMFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p := inst.Problem()
		opts := Options{Seed: uint64(i), Budget: Budget{Schedules: 1000}}
		plan := solveChecked(t, p, opts)
		if err := checkRCPSP(inst, plan); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if plan.Schedules != 1000 {
			t.Fatalf("%s: %d schedules", path, plan.Schedules)
		}
		best := opt[filepath.Base(path)].Upper
		got := inst.Makespan(plan)
		if got < best {
			t.Fatalf("%s: makespan %d below the proven optimum %d", path, got, best)
		}
		dev += 100 * float64(got-best) / float64(best)
		if i == 0 {
			again, _ := Solve(context.Background(), p, opts)
			if !reflect.DeepEqual(plan, again) {
				t.Fatalf("%s: same seed, different plans", path)
			}
		}
	}
	dev /= sample
	t.Logf("mean deviation from optimum over %d instances: %.2f %%", sample, dev)
	if dev > 2 {
		t.Fatalf("mean deviation %.2f %% from the optimum, want under 2 %%", dev)
	}
}

// TestJ120Feasible runs a J120 instance through both checkers.
func TestJ120Feasible(t *testing.T) {
	t.Parallel()
	inst, err := ReadSMFile(psplibDir + "/j120/j12011_3.sm")
	if err != nil {
		t.Fatal(err)
	}
	p := inst.Problem()
	plan := solveChecked(t, p, Options{Seed: 9, Budget: Budget{Schedules: 300}})
	if err := checkRCPSP(inst, plan); err != nil {
		t.Fatal(err)
	}
	if lb := inst.CriticalPathLB(); inst.Makespan(plan) < lb {
		t.Fatal(fmt.Sprintf("makespan %d below the critical path %d", inst.Makespan(plan), lb))
	}
}
