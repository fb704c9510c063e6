package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/postgres"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// demoDB creates a migrated database with the demo data for t, and returns its
// connection string and a handle on it, closed when the test ends.
func demoDB(t *testing.T) (string, *postgres.DB) {
	t.Helper()
	ctx := context.Background()
	url := dbtest.NewURL(t)
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error { _, err := demo.Seed(ctx, tx); return err }); err != nil {
		t.Fatal(err)
	}
	return url, db
}

// TestUserAndTokenCommands bootstraps a real installation from the command line: add
// a manager with a password read from standard input, issue a token (shown once),
// use it, revoke it.
func TestUserAndTokenCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, db := demoDB(t)
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return url
		}
		return ""
	}
	runIt := func(stdin string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := runWithStdin(ctx, args, getenv, strings.NewReader(stdin), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, errOut := runIt("a-long-password\n", "user", "add", "--email", "salma@atlas-post.example", "--name", "Salma Idrissi",
		"--role", "manager", "--org", "atlas-post", "--site", "casablanca", "--password-stdin")
	if code != 0 || !strings.Contains(out, "created") {
		t.Fatalf("user add: %d %q %q", code, out, errOut)
	}
	if _, _, err := db.Login(ctx, "salma@atlas-post.example", "a-long-password", 3600e9); err != nil {
		t.Fatalf("the new manager cannot log in: %v", err)
	}
	if code, _, errOut := runIt("", "user", "add", "--email", "x@y.example", "--name", "X", "--role", "wizard", "--org", "atlas-post"); code == 0 || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("a bad role: %d %q", code, errOut)
	}
	code, out, errOut = runIt("", "token", "create", "--email", "salma@atlas-post.example", "--name", "ci", "--ttl", "720h")
	token := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(token, "ph_") || !strings.Contains(errOut, "shown once") {
		t.Fatalf("token create: %d %q %q", code, out, errOut)
	}
	a, err := db.AuthenticateToken(ctx, token)
	if err != nil || a.Email != "salma@atlas-post.example" || len(a.SiteIDs) != 1 {
		t.Fatalf("the token does not authenticate the manager: %+v %v", a, err)
	}
	id := strings.Fields(errOut)[1] // "token <id> (<prefix>) created for …"
	if code, out, errOut := runIt("", "token", "revoke", "--id", id); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("token revoke %s: %d %q %q", id, code, out, errOut)
	}
	if _, err := db.AuthenticateToken(ctx, token); err == nil {
		t.Fatal("a revoked token still authenticates")
	}
}

// TestOrgCommand creates an organisation from the command line and puts its first
// producer in it with `user add --org`.
func TestOrgCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, db := demoDB(t)
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return url
		}
		return ""
	}
	runIt := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := runWithStdin(ctx, args, getenv, strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, errOut := runIt("org", "add", "--slug", "sahel-films", "--name", "Sahel Films", "--country", "SN")
	if code != 0 || !strings.Contains(out, "sahel-films (production_company)") {
		t.Fatalf("org add: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runIt("user", "add", "--email", "awa@sahel.example", "--name", "Awa Ndiaye", "--role", "producer", "--org", "sahel-films"); code != 0 {
		t.Fatalf("user add to the new organisation: %d %q %q", code, out, errOut)
	}
	u, err := db.FindUserByEmail(ctx, booking.System, "awa@sahel.example")
	if err != nil {
		t.Fatal(err)
	}
	org, err := db.IDBySlug(ctx, "organisations", "sahel-films")
	if err != nil || u.OrganisationID != org {
		t.Fatalf("the user is in %s, not sahel-films (%s, %v)", u.OrganisationID, org, err)
	}
	// A taken slug, a bad country, a missing flag.
	if code, _, errOut := runIt("org", "add", "--slug", "sahel-films", "--name", "Again", "--country", "SN"); code != 1 || !strings.Contains(errOut, "slug is already taken") {
		t.Fatalf("a taken slug: %d %q", code, errOut)
	}
	if code, _, errOut := runIt("org", "add", "--slug", "mali-films", "--name", "Mali Films", "--country", "mli"); code != 1 || !strings.Contains(errOut, "country") {
		t.Fatalf("a bad country: %d %q", code, errOut)
	}
	if code, _, _ := runIt("org", "add", "--slug", "x-films"); code != 2 {
		t.Fatalf("missing flags: %d, want 2", code)
	}
	if code, _, _ := runIt("org"); code != 2 {
		t.Fatalf("no subcommand: %d, want 2", code)
	}
}
