package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// clockTick is Linux's USER_HZ, the unit of the CPU times in /proc/<pid>/stat.
const clockTick = 100

// procCPU reads a process's CPU time (user + system; with its reaped children's when
// children is set) and its parent's pid from /proc.
func procCPU(pid int, children bool) (cpu time.Duration, ppid int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	s := string(b)
	// The command name is in parentheses and may hold spaces; the fields follow it.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so field n is f[n-3]: ppid is field 4, utime 14,
	// stime 15, cutime 16, cstime 17.
	if len(f) < 15 {
		return 0, 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ppid, _ = strconv.Atoi(f[1])
	var ticks int64
	last := 13
	if children {
		last = 15
	}
	for k := 11; k < last; k++ {
		v, _ := strconv.ParseInt(f[k], 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTick, ppid, nil
}

// cpuSample is the CPU time used so far by posthub, PostgreSQL and the drill itself.
type cpuSample struct {
	at                      time.Time
	posthub, postgres, self time.Duration
}

// sampleCPU reads the CPU time of the serve process, of PostgreSQL (the postmaster with
// its exited children, plus its live children) and of the drill (with pgbench, once
// reaped). PostgreSQL is counted only when the drill started it.
func (h *harness) sampleCPU(servePID int) cpuSample {
	s := cpuSample{at: time.Now()}
	s.posthub, _, _ = procCPU(servePID, false)
	s.self, _, _ = procCPU(os.Getpid(), true)
	if h.pg == nil {
		return s
	}
	pm := postmasterPID(filepath.Join(h.pgOpts.Dir, "data", "postmaster.pid"))
	if pm == 0 {
		return s
	}
	s.postgres, _, _ = procCPU(pm, true)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pm {
			continue
		}
		if c, ppid, err := procCPU(pid, false); err == nil && ppid == pm {
			s.postgres += c
		}
	}
	return s
}

func postmasterPID(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if sc.Scan() {
		pid, _ := strconv.Atoi(strings.TrimSpace(sc.Text()))
		return pid
	}
	return 0
}

// cpuUse is the CPU used between two samples.
type cpuUse struct {
	wall                    time.Duration
	posthub, postgres, self time.Duration
}

func (a cpuSample) until(b cpuSample) cpuUse {
	return cpuUse{wall: b.at.Sub(a.at), posthub: b.posthub - a.posthub, postgres: b.postgres - a.postgres, self: b.self - a.self}
}

// perOp formats the CPU milliseconds per operation of each party.
func (u cpuUse) perOp(n int) string {
	if n == 0 {
		return "-"
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(n) }
	return fmt.Sprintf("CPU per op: posthub %.2f ms, PostgreSQL %.2f ms, drill/pgbench client %.2f ms (busy %.0f%% of %d cores)",
		per(u.posthub), per(u.postgres), per(u.self),
		100*float64(u.posthub+u.postgres+u.self)/float64(u.wall)/float64(numCPU()), numCPU())
}

func numCPU() int { return runtime.NumCPU() }

// machine describes where the drill ran: CPUs and their model as /proc/cpuinfo names it.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s)", runtime.NumCPU(), model)
}
