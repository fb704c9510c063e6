package main

import (
	"strings"
	"testing"
)

// TestBenchPSPLIBOutOfTheBox runs `posthub bench psplib` with no --set from the
// repository's root, as the README tells a newcomer to: it must find the subset
// the repository carries and report on it.
func TestBenchPSPLIBOutOfTheBox(t *testing.T) {
	t.Chdir("../..")
	r := runPosthub(t, nil, "bench", "psplib", "--schedules", "50", "--limit", "3")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"set " + defaultPSPLIBSet + ": 3 instances, 50 schedules each", "mean deviation from optimum:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestBenchPSPLIBEmptySet names the folder and the way out when no instances are found.
func TestBenchPSPLIBEmptySet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := runPosthub(t, nil, "bench", "psplib", "--set", dir)
	if r.code == 0 || !strings.Contains(r.stderr, "no .sm files in "+dir) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}
