package postgres_test

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/posthub/posthub/internal/dbtest"
)

// Ids go to PostgreSQL as binary uuids and come back the same: alone, in arrays,
// through pointers (nil as NULL), and as text.
func TestUUIDRoundTrip(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	a, b := uuid.New(), uuid.New()
	var gotA uuid.UUID
	var gotArr []uuid.UUID
	var text string
	var nilPtr, ptr *uuid.UUID
	if err := db.Pool.QueryRow(ctx, `SELECT $1::uuid, $2::uuid[], $1::uuid::text, $3::uuid, $4::uuid`, a, []uuid.UUID{a, b}, (*uuid.UUID)(nil), &b).
		Scan(&gotA, &gotArr, &text, &nilPtr, &ptr); err != nil {
		t.Fatal(err)
	}
	if gotA != a || !slices.Equal(gotArr, []uuid.UUID{a, b}) || text != a.String() || nilPtr != nil || ptr == nil || *ptr != b {
		t.Fatalf("round trip: %s %v %s %v %v", gotA, gotArr, text, nilPtr, ptr)
	}
	// Encoded in binary directly, not through uuid.UUID's driver.Valuer (which pgx
	// can only send as text, after a failed binary attempt).
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	bin, err := conn.Conn().TypeMap().Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, a, nil)
	if err != nil || !bytes.Equal(bin, a[:]) {
		t.Fatalf("binary encoding of a uuid.UUID: %x %v", bin, err)
	}

	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM unnest($1::uuid[]) u WHERE u = $2`, []uuid.UUID{a, b, a}, a).Scan(&n); err != nil || n != 2 {
		t.Fatalf("matching in SQL: %d %v", n, err)
	}
}

// Encoding an id allocates at most the wrapper's two small values, where the
// driver.Valuer path formats a string, builds an error, scans the text back and
// encodes again. (Not parallel: AllocsPerRun refuses to run beside other tests.)
func TestUUIDEncodingDoesNotGoThroughText(t *testing.T) {
	db := dbtest.New(t)
	ctx := context.Background()
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	m := conn.Conn().TypeMap()
	a := uuid.New()
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, a, buf[:0])
	})
	if allocs > 2 {
		t.Errorf("%.0f allocations per uuid encoded, want at most 2", allocs)
	}
}
