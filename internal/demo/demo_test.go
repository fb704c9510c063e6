package demo_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/postgres"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func openDB(t *testing.T) *postgres.DB { return dbtest.New(t) }

func seed(t *testing.T, db *postgres.DB) demo.Users {
	t.Helper()
	var users demo.Users
	err := pgx.BeginFunc(context.Background(), db.Pool, func(tx pgx.Tx) error {
		var err error
		users, err = demo.Seed(context.Background(), tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return users
}

type counts map[string]int

func countRows(t *testing.T, db *postgres.DB) counts {
	t.Helper()
	c := counts{}
	for _, table := range []string{"organisations", "sites", "resources", "productions", "production_origins", "users", "user_sites"} {
		var n int
		if err := db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		c[table] = n
	}
	return c
}

func TestSeed(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()

	users := seed(t, db)
	keys := []string{"admin", "manager", "operator", "producer", "producer_other"}
	seen := map[uuid.UUID]string{}
	for _, k := range keys {
		id, ok := users[k]
		if !ok || id == uuid.Nil {
			t.Fatalf("user %q: missing or nil ID in %v", k, users)
		}
		if other, dup := seen[id]; dup {
			t.Fatalf("users %q and %q share ID %s", k, other, id)
		}
		seen[id] = k
	}

	before := countRows(t, db)
	if before["sites"] != 2 {
		t.Errorf("sites = %d, want 2", before["sites"])
	}

	var casablanca int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM resources r JOIN sites s ON s.id = r.site_id
		WHERE s.slug = 'casablanca'`).Scan(&casablanca); err != nil {
		t.Fatal(err)
	}
	if casablanca < 20 {
		t.Errorf("Casablanca resources = %d, want at least 20", casablanca)
	}

	var hdrGrading bool
	if err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM resources
		WHERE kind = 'grading_suite' AND capabilities @> ARRAY['hdr'])`).Scan(&hdrGrading); err != nil {
		t.Fatal(err)
	}
	if !hdrGrading {
		t.Error("no grading suite with capability hdr")
	}

	var orgA, orgB uuid.UUID
	q := `SELECT organisation_id FROM users WHERE id = $1`
	if err := db.Pool.QueryRow(ctx, q, users["producer"]).Scan(&orgA); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, q, users["producer_other"]).Scan(&orgB); err != nil {
		t.Fatal(err)
	}
	if orgA == orgB {
		t.Error("the two producers belong to the same organisation")
	}

	var badShares, noOrigins int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT production_id FROM production_origins
		GROUP BY production_id HAVING sum(share_pct) <> 100) x`).Scan(&badShares); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM productions p
		WHERE NOT EXISTS (SELECT 1 FROM production_origins o WHERE o.production_id = p.id)`).Scan(&noOrigins); err != nil {
		t.Fatal(err)
	}
	if badShares != 0 || noOrigins != 0 {
		t.Errorf("productions with shares not adding up to 100: %d; without origins: %d", badShares, noOrigins)
	}

	var managed int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM user_sites WHERE user_id = $1`, users["manager"]).Scan(&managed); err != nil {
		t.Fatal(err)
	}
	if managed != 2 {
		t.Errorf("manager manages %d sites, want 2", managed)
	}

	again := seed(t, db)
	after := countRows(t, db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("second Seed changed %s: %d rows, then %d", table, n, after[table])
		}
	}
	if len(again) != len(users) {
		t.Errorf("second Seed returned %d users, want %d", len(again), len(users))
	}
	for k, id := range users {
		if again[k] != id {
			t.Errorf("second Seed: user %q = %s, want %s", k, again[k], id)
		}
	}
}
