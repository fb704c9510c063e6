package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/httpapi"
)

// BenchmarkEventFanout holds 500 event streams open on one process and makes one
// booking change per iteration (run with -benchtime=20x for a change a second's
// worth), timing each change from its commit to its arrival on every stream. It
// reports the fan-out latency p50/p99 and the heap per open stream (server and client
// halves, both in this process).
//
//	go test ./internal/httpapi/ -run '^$' -bench EventFanout -benchtime 20x
func BenchmarkEventFanout(b *testing.B) {
	const streams = 500
	ctx := context.Background()
	db := dbtest.New(b)
	var users demo.Users
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		users, err = demo.Seed(ctx, tx)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	_, token, err := db.CreateToken(ctx, booking.System, users["manager"], "bench", 0)
	if err != nil {
		b.Fatal(err)
	}
	manager, err := db.AuthenticateToken(ctx, token)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer((&httpapi.Server{Catalogue: db, Auth: db, Audit: db, Bookings: db, Changes: db, Ready: db.Ready,
		Logger: slog.New(slog.DiscardHandler), Limits: httpapi.Limits{PerCredential: 1 << 30, PerUser: 1 << 30}}).Handler())
	defer srv.Close()
	var prod, suite uuid.UUID
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM productions ORDER BY title LIMIT 1`).Scan(&prod); err != nil {
		b.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM resources WHERE kind = 'grading_suite' ORDER BY name LIMIT 1`).Scan(&suite); err != nil {
		b.Fatal(err)
	}

	var mu sync.Mutex
	arrived := map[uuid.UUID][]time.Time{}
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: streams}}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var ready sync.WaitGroup
	for range streams {
		ready.Add(1)
		go func() {
			req, _ := http.NewRequestWithContext(sctx, "GET", srv.URL+"/api/v1/events", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := client.Do(req)
			ready.Done()
			if err != nil {
				return
			}
			defer res.Body.Close()
			sc := bufio.NewScanner(res.Body)
			for sc.Scan() {
				line := sc.Text()
				if !strings.HasPrefix(line, "data: ") {
					continue
				}
				var c booking.Change
				if json.Unmarshal([]byte(line[6:]), &c) == nil {
					now := time.Now()
					mu.Lock()
					arrived[c.BookingID] = append(arrived[c.BookingID], now)
					mu.Unlock()
				}
			}
		}()
	}
	ready.Wait()
	time.Sleep(500 * time.Millisecond) // every stream subscribed
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	var lat []time.Duration
	start := time.Date(2027, 6, 14, 9, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		bk, err := db.Book(ctx, manager, booking.BookingInput{ProductionID: prod, ResourceIDs: []uuid.UUID{suite},
			Start: start.Add(time.Duration(i) * 24 * time.Hour), End: start.Add(time.Duration(i)*24*time.Hour + time.Hour), Status: booking.StatusHold, Overtime: true})
		if err != nil {
			b.Fatal(err)
		}
		committed := time.Now()
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			got := slices.Clone(arrived[bk.ID])
			mu.Unlock()
			if len(got) >= streams {
				for _, at := range got {
					lat = append(lat, at.Sub(committed))
				}
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("change %d reached %d of %d streams in 10 s", i, len(got), streams)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if rest := time.Second - time.Since(t0); rest > 0 && b.N > 1 {
			time.Sleep(rest) // one change a second
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/streams/1024, "heap-KiB/stream")
	b.ReportMetric(float64(runtime.NumGoroutine())/streams, "goroutines/stream")
	fmt.Fprintf(b.Output(), "%d streams, %d changes, %d deliveries\n", streams, b.N, len(lat))
}
