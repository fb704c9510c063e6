package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posthub/posthub/internal/dbtest"
)

// TestCatalogueCommands sets a hub up from a file: export the demo hub, apply it
// unchanged (no changes), edit it and look at the dry run, apply it, apply it again;
// apply it to an empty database; refuse a bad file naming each problem.
func TestCatalogueCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, _ := demoDB(t)
	emptyURL := dbtest.NewURL(t)
	runOn := func(dbURL, stdin string, args ...string) (int, string, string) {
		getenv := func(k string) string {
			if k == "DATABASE_URL" {
				return dbURL
			}
			return ""
		}
		var out, errOut bytes.Buffer
		code := runWithStdin(ctx, args, getenv, strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	runIt := func(args ...string) (int, string, string) { return runOn(url, "", args...) }
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.yaml")

	code, out, errOut := runIt("catalogue", "export", "-o", path)
	if code != 0 || out != "" || !strings.Contains(errOut, "hub.yaml written: 2 sites, 5 organisations, 7 users") {
		t.Fatalf("export -o: %d %q %q", code, out, errOut)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runIt("catalogue", "export"); code != 0 || out != string(file) {
		t.Fatalf("export to standard output differs from -o's file: %d", code)
	}
	if code, out, errOut := runIt("catalogue", "apply", path, "--dry-run"); code != 0 || out != "no changes: the database matches the file (dry run: nothing written)\n" {
		t.Fatalf("apply --dry-run of the hub's own export: %d %q %q", code, out, errOut)
	}

	edited := strings.Replace(string(file), "      - name: Mix Stage B\n", "      - name: Mix Stage B — Studio Bleu\n        renamed_from: Mix Stage B\n", 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "~ resource casablanca/Mix Stage B — Studio Bleu: name \"Mix Stage B\" → \"Mix Stage B — Studio Bleu\"\n"
	code, out, errOut = runIt("catalogue", "apply", "--dry-run", path)
	if code != 0 || out != want+"dry run: would make 0 created, 1 updated, 0 taken out of service, 0 removed; nothing written\n" {
		t.Fatalf("apply --dry-run: %d %q %q", code, out, errOut)
	}
	t.Logf("posthub catalogue apply --dry-run %s:\n%s", path, out)
	if code, out, errOut := runIt("catalogue", "apply", path); code != 0 || out != want+"applied: 0 created, 1 updated, 0 taken out of service, 0 removed\n" {
		t.Fatalf("apply: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runOn(url, edited, "catalogue", "apply", "-"); code != 0 || out != "no changes: the database matches the file\n" {
		t.Fatalf("apply from standard input, again: %d %q %q", code, out, errOut)
	}

	// The demo's export sets up an empty database.
	code, out, errOut = runOn(emptyURL, "", "catalogue", "apply", path)
	if code != 0 || !strings.Contains(out, "+ site casablanca (Atlas Post Casablanca, MA, Africa/Casablanca, MAD)\n") ||
		!strings.Contains(out, "new users have no password") || !strings.Contains(out, "applied: ") {
		t.Fatalf("apply to an empty database: %d %q %q", code, out, errOut)
	}
	t.Logf("posthub catalogue apply %s on an empty database:\n%s", path, out)
	if code, again, _ := runOn(emptyURL, "", "catalogue", "export"); code != 0 || again != strings.Replace(edited, "        renamed_from: Mix Stage B\n", "", 1) {
		t.Errorf("the empty database's export differs from the file it was set up from")
	}

	// A bad file: each problem on a line of its own, naming its path; nothing written.
	bad := filepath.Join(dir, "bad.yaml")
	badSrc := strings.Replace(strings.Replace(edited, "time_zone: Africa/Dakar", "time_zone: Africa/Atlantis", 1),
		"        kind: dcp_mastering\n", "        kind: dcp_mastering\n        colour: blue\n", 1)
	if err := os.WriteFile(bad, []byte(badSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runIt("catalogue", "apply", bad)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if code != 1 || out != "" || len(lines) != 2 || !strings.Contains(lines[0], bad+": sites[0].resources[0].colour: unknown field (line") ||
		!strings.HasSuffix(lines[1], "bad.yaml: 1 problem; nothing written") {
		t.Fatalf("apply of an unknown field: %d %q %q", code, out, errOut)
	}
	badSrc = strings.Replace(badSrc, "        colour: blue\n", "", 1)
	badSrc = strings.Replace(badSrc, "currency: MAD", "currency: MAX", 1)
	if err := os.WriteFile(bad, []byte(badSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runIt("catalogue", "apply", bad)
	if code != 1 || !strings.Contains(errOut, bad+": sites[0].currency: must be an ISO 4217 currency") ||
		!strings.Contains(errOut, bad+": sites[1].time_zone: must be an IANA zone") || !strings.Contains(errOut, "2 problems; nothing written") {
		t.Fatalf("apply of a bad zone and currency: %d %q", code, errOut)
	}

	for _, args := range [][]string{{"catalogue"}, {"catalogue", "import"}, {"catalogue", "apply"}, {"catalogue", "apply", "a.yaml", "b.yaml"},
		{"catalogue", "export", "extra"}, {"catalogue", "apply", "--force", path}} {
		if code, _, _ := runIt(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
