// Package dbtest gives each test its own real PostgreSQL database. A test binary starts
// one throwaway cluster with devpg (or uses TEST_DATABASE_URL's server), migrates a
// template database once, and clones it for every test with
// CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY, which takes about a tenth of a second,
// so tests run in parallel without sharing state.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/posthub/posthub/internal/devpg"
	"github.com/posthub/posthub/internal/postgres"
)

var (
	once     sync.Once
	setupErr error
	server   *devpg.Server
	tmpDir   string
	baseURL  *url.URL // the admin connection; its path is replaced per database
	admin    *pgxpool.Pool
	template string
	prefix   string
	counter  atomic.Int64
	// createMu serialises CREATE DATABASE: PostgreSQL refuses to copy a template that
	// another session is copying at the same moment.
	createMu sync.Mutex
)

// Main runs a test binary's tests and then removes the databases and the cluster it
// made. Use it from TestMain: func TestMain(m *testing.M) { dbtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	teardown()
	os.Exit(code)
}

func setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix = "t" + hex.EncodeToString(b)
	raw := os.Getenv("TEST_DATABASE_URL")
	if raw == "" {
		dir, err := os.MkdirTemp("", "posthub-test-pg-*")
		if err != nil {
			return err
		}
		// The cluster may run as the postgres user, which must reach the directory.
		if err := os.Chmod(dir, 0o755); err != nil {
			return err
		}
		tmpDir = dir
		server, err = devpg.Start(ctx, devpg.Options{Dir: dir, Fast: true})
		if err != nil {
			return err
		}
		raw = server.URL("postgres")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("TEST_DATABASE_URL: %w", err)
	}
	baseURL = u
	admin, err = pgxpool.New(ctx, raw)
	if err != nil {
		return err
	}
	template = prefix + "_template"
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{template}.Sanitize()); err != nil {
		return fmt.Errorf("creating template database: %w", err)
	}
	db, err := postgres.Open(ctx, URL(template))
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Migrate(ctx)
}

func teardown() {
	if admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE $1`, prefix+"\\_%")
		if err == nil {
			names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
			for _, n := range names {
				_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)")
			}
		}
		admin.Close()
	}
	if server != nil {
		_ = server.Stop(context.Background())
	}
	if tmpDir != "" {
		_ = os.RemoveAll(tmpDir)
	}
}

// URL is the connection string of database name on the test server.
func URL(name string) string {
	u := *baseURL
	u.Path = "/" + name
	return u.String()
}

// NewURL creates a fresh migrated database for t and returns its connection string.
// The database is dropped when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	once.Do(func() { setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("test database: %v", setupErr)
	}
	name := fmt.Sprintf("%s_%d", prefix, counter.Add(1))
	ctx := context.Background()
	createMu.Lock()
	_, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s STRATEGY FILE_COPY",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{template}.Sanitize()))
	createMu.Unlock()
	if err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return URL(name)
}

// New returns a storage handle on a fresh migrated database for t, closed when t ends.
func New(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), NewURL(t))
	if err != nil {
		t.Fatalf("opening test database: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// ServerURL is the admin connection string of the test server (its postgres database),
// for tests that make databases of their own.
func ServerURL(t testing.TB) string {
	t.Helper()
	once.Do(func() { setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("test database: %v", setupErr)
	}
	return strings.TrimSpace(baseURL.String())
}
