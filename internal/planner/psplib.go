package planner

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// RCPSP is a single-mode resource-constrained project scheduling instance as
// published in PSPLIB (Kolisch & Sprecher, 1996), the standard benchmark on
// which the planner's search is measured. Jobs are numbered from 0 here; job 0
// and job Jobs-1 are PSPLIB's dummy source and sink.
type RCPSP struct {
	// Jobs is the number of jobs including the dummy source and sink.
	Jobs int
	// Horizon is PSPLIB's upper bound on the makespan (the sum of durations).
	Horizon int
	// Durations in periods, per job.
	Durations []int
	// Successors lists each job's immediate successors (0-based).
	Successors [][]int
	// Requests[j][k] is job j's demand on resource type k per period.
	Requests [][]int
	// Capacities[k] is the number of units of resource type k.
	Capacities []int
}

// PSPLIBPeriod is the length given to one PSPLIB period when an instance is
// converted to a Problem. Minutes keep the numbers readable and the
// continuous engine's integer grid small.
const PSPLIBPeriod = time.Minute

// PSPLIBRelease is the release date of converted PSPLIB instances; any
// instant would do in continuous time, a fixed one keeps plans comparable.
var PSPLIBRelease = time.Date(2026, time.January, 5, 0, 0, 0, 0, time.UTC)

// ReadSM parses an instance in PSPLIB's single-mode ".sm" format: the header
// (number of jobs, horizon, number of renewable resources), PRECEDENCE
// RELATIONS, REQUESTS/DURATIONS and RESOURCEAVAILABILITIES. Multi-mode files
// and non-renewable resources are rejected, because the planner has no use
// for them.
func ReadSM(r io.Reader) (*RCPSP, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	inst := &RCPSP{}
	nres := -1
	section := ""
	line := 0
	seenPrec, seenReq := 0, 0
	fail := func(format string, args ...any) error {
		return fmt.Errorf("psplib: line %d: %s", line, fmt.Sprintf(format, args...))
	}
	ints := func(s string) ([]int, error) {
		f := strings.Fields(s)
		out := make([]int, len(f))
		for i, x := range f {
			v, err := strconv.Atoi(x)
			if err != nil {
				return nil, fail("bad number %q", x)
			}
			out[i] = v
		}
		return out, nil
	}
	afterColon := func(s string) (int, error) {
		_, v, ok := strings.Cut(s, ":")
		if !ok {
			return 0, fail("missing ':'")
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			return 0, fail("missing value")
		}
		n, err := strconv.Atoi(f[0])
		if err != nil {
			return 0, fail("bad number %q", f[0])
		}
		return n, nil
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		trim := strings.TrimSpace(text)
		switch {
		case trim == "" || strings.HasPrefix(trim, "***"):
			if strings.HasPrefix(trim, "***") {
				section = ""
			}
			continue
		case strings.HasPrefix(trim, "jobs (incl. supersource/sink"):
			n, err := afterColon(trim)
			if err != nil {
				return nil, err
			}
			if n < 2 {
				return nil, fail("need at least the two dummy jobs, got %d", n)
			}
			inst.Jobs = n
			inst.Durations = make([]int, n)
			inst.Successors = make([][]int, n)
			inst.Requests = make([][]int, n)
			continue
		case strings.HasPrefix(trim, "horizon"):
			n, err := afterColon(trim)
			if err != nil {
				return nil, err
			}
			inst.Horizon = n
			continue
		case strings.HasPrefix(trim, "- renewable"):
			n, err := afterColon(trim)
			if err != nil {
				return nil, err
			}
			nres = n
			continue
		case strings.HasPrefix(trim, "- nonrenewable"), strings.HasPrefix(trim, "- doubly constrained"):
			n, err := afterColon(trim)
			if err != nil {
				return nil, err
			}
			if n != 0 {
				return nil, fail("non-renewable resources are not supported")
			}
			continue
		case strings.HasPrefix(trim, "PRECEDENCE RELATIONS"):
			section = "prec"
			continue
		case strings.HasPrefix(trim, "REQUESTS/DURATIONS"):
			section = "req"
			continue
		case strings.HasPrefix(trim, "RESOURCEAVAILABILITIES"):
			section = "avail"
			continue
		case strings.HasPrefix(trim, "jobnr.") || strings.HasPrefix(trim, "---"):
			continue
		}
		if inst.Jobs == 0 && section != "" {
			return nil, fail("section before the number of jobs")
		}
		switch section {
		case "prec":
			v, err := ints(trim)
			if err != nil {
				return nil, err
			}
			if len(v) < 3 || v[0] < 1 || v[0] > inst.Jobs {
				return nil, fail("bad precedence line %q", trim)
			}
			if v[1] != 1 {
				return nil, fail("job %d has %d modes; only single-mode instances are supported", v[0], v[1])
			}
			if len(v) != 3+v[2] {
				return nil, fail("job %d announces %d successors but lists %d", v[0], v[2], len(v)-3)
			}
			j := v[0] - 1
			for _, s := range v[3:] {
				if s < 1 || s > inst.Jobs {
					return nil, fail("job %d has unknown successor %d", v[0], s)
				}
				inst.Successors[j] = append(inst.Successors[j], s-1)
			}
			seenPrec++
		case "req":
			v, err := ints(trim)
			if err != nil {
				return nil, err
			}
			if nres < 0 {
				return nil, fail("requests before the number of renewable resources")
			}
			if len(v) != 3+nres || v[0] < 1 || v[0] > inst.Jobs {
				return nil, fail("bad request line %q", trim)
			}
			j := v[0] - 1
			if v[2] < 0 {
				return nil, fail("job %d has negative duration", v[0])
			}
			inst.Durations[j] = v[2]
			inst.Requests[j] = v[3:]
			seenReq++
		case "avail":
			if strings.HasPrefix(trim, "R") {
				continue // the "R 1  R 2 ..." header
			}
			v, err := ints(trim)
			if err != nil {
				return nil, err
			}
			if len(v) != nres {
				return nil, fail("expected %d capacities, got %d", nres, len(v))
			}
			inst.Capacities = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("psplib: %w", err)
	}
	switch {
	case inst.Jobs == 0:
		return nil, errors.New("psplib: no job count found")
	case seenPrec != inst.Jobs:
		return nil, fmt.Errorf("psplib: %d precedence lines for %d jobs", seenPrec, inst.Jobs)
	case seenReq != inst.Jobs:
		return nil, fmt.Errorf("psplib: %d request lines for %d jobs", seenReq, inst.Jobs)
	case inst.Capacities == nil:
		return nil, errors.New("psplib: no resource availabilities")
	}
	for j, req := range inst.Requests {
		for k, q := range req {
			if q < 0 || q > inst.Capacities[k] {
				return nil, fmt.Errorf("psplib: job %d requests %d of resource %d (capacity %d)", j+1, q, k+1, inst.Capacities[k])
			}
		}
	}
	return inst, nil
}

// ReadSMFile reads an .sm file by path, naming the file in errors so that a
// benchmark run over hundreds of files points at the broken one.
func ReadSMFile(path string) (*RCPSP, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	inst, err := ReadSM(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return inst, nil
}

// Bound is the best knowledge about an instance's optimal makespan from
// PSPLIB's optimum.csv: a proven optimum (Lower == Upper), an interval, or
// only an upper bound (Lower 0).
type Bound struct {
	// Lower is the best proven lower bound, 0 when unknown.
	Lower int
	// Upper is the best known makespan (a heuristic's or the optimum).
	Upper int
}

// Optimal reports whether the optimum is proven, which decides whether a
// benchmark reports deviation from the optimum or from a bound.
func (b Bound) Optimal() bool { return b.Lower > 0 && b.Lower == b.Upper }

// ReadOptimum parses an optimum.csv ("problem,optimum" with values such as
// 43, 104..105 or ..103) into bounds keyed by file name, such as "j301_1.sm".
func ReadOptimum(path string) (map[string]Bound, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make(map[string]Bound, len(rows))
	for i, row := range rows {
		if len(row) != 2 {
			return nil, fmt.Errorf("%s: row %d: want 2 fields", path, i+1)
		}
		if i == 0 && row[0] == "problem" {
			continue
		}
		b, err := parseBound(strings.TrimSpace(row[1]))
		if err != nil {
			return nil, fmt.Errorf("%s: row %d: %w", path, i+1, err)
		}
		out[strings.TrimSpace(row[0])] = b
	}
	return out, nil
}

// parseBound parses "43", "104..105" or "..103".
func parseBound(s string) (Bound, error) {
	lo, hi, interval := strings.Cut(s, "..")
	if !interval {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			return Bound{}, fmt.Errorf("bad optimum %q", s)
		}
		return Bound{Lower: v, Upper: v}, nil
	}
	var b Bound
	var err error
	if lo != "" {
		if b.Lower, err = strconv.Atoi(lo); err != nil {
			return Bound{}, fmt.Errorf("bad lower bound in %q", s)
		}
	}
	if b.Upper, err = strconv.Atoi(hi); err != nil || b.Upper < b.Lower {
		return Bound{}, fmt.Errorf("bad upper bound in %q", s)
	}
	return b, nil
}

// StageID is the ID given to job j (0-based, as in RCPSP) in Problem: "J"
// and PSPLIB's 1-based job number, so plans read like the instance file.
func StageID(j int) string { return "J" + strconv.Itoa(j+1) }

// ResourceKind is the kind given to resource type k (0-based): "R" and
// PSPLIB's 1-based number, matching the file's column headers.
func ResourceKind(k int) string { return "R" + strconv.Itoa(k+1) }

// Problem converts the instance to the planner's model, so that PSPLIB is
// solved by the same engine as the hub: each resource type of capacity c
// becomes c unit resources of one kind ("R1#1", "R1#2", ...), each non-dummy
// job a stage of Durations[j] periods (PSPLIBPeriod each) demanding
// Requests[j][k] units of each kind, and each precedence between non-dummy
// jobs a link without lags. The dummy source and sink carry no information
// and are left out. There is no calendar: time is continuous.
func (r *RCPSP) Problem() Problem {
	p := Problem{Release: PSPLIBRelease}
	for k, capacity := range r.Capacities {
		for u := range capacity {
			p.Resources = append(p.Resources, Resource{
				ID:   ResourceKind(k) + "#" + strconv.Itoa(u+1),
				Kind: ResourceKind(k),
			})
		}
	}
	preds := make([][]int, r.Jobs)
	for j, succ := range r.Successors {
		for _, s := range succ {
			preds[s] = append(preds[s], j)
		}
	}
	for j := 1; j < r.Jobs-1; j++ {
		st := Stage{ID: StageID(j), Duration: time.Duration(r.Durations[j]) * PSPLIBPeriod}
		for k, q := range r.Requests[j] {
			if q > 0 {
				st.Demands = append(st.Demands, Demand{Kind: ResourceKind(k), Count: q})
			}
		}
		for _, i := range preds[j] {
			if i != 0 && i != r.Jobs-1 {
				st.Predecessors = append(st.Predecessors, Link{From: StageID(i)})
			}
		}
		p.Stages = append(p.Stages, st)
	}
	return p
}

// CriticalPathLB returns the length of the longest path through the
// precedence graph, ignoring resources: the classic lower bound against which
// J60 and J120 results are reported.
func (r *RCPSP) CriticalPathLB() int {
	// Jobs in PSPLIB are numbered topologically, but do not rely on it.
	indeg := make([]int, r.Jobs)
	for _, succ := range r.Successors {
		for _, s := range succ {
			indeg[s]++
		}
	}
	var queue []int
	for j, d := range indeg {
		if d == 0 {
			queue = append(queue, j)
		}
	}
	finish := make([]int, r.Jobs)
	start := make([]int, r.Jobs)
	best := 0
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		finish[j] = start[j] + r.Durations[j]
		best = max(best, finish[j])
		for _, s := range r.Successors[j] {
			start[s] = max(start[s], finish[j])
			if indeg[s]--; indeg[s] == 0 {
				queue = append(queue, s)
			}
		}
	}
	return best
}

// Makespan converts a Plan of the converted instance back to periods, the
// unit in which PSPLIB's optima and bounds are given.
func (r *RCPSP) Makespan(p Plan) int {
	return int(p.Makespan / PSPLIBPeriod)
}
