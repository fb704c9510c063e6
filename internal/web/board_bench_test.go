package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/httpapi"
	"github.com/posthub/posthub/internal/web"
)

// BenchmarkBoardData times GET /manage/board for a manager over a month of a site with
// 40 resources and 2,000 bookings in its first four weeks (up to four a working day on
// each bookable resource, one in five a hold): the server's time per request, from
// the request reaching the handler to the last byte of the page written, reported as
// p50, p90 and p99, with the page's size and the Go process's CPU time per request.
//
//	go test ./internal/web/ -run '^$' -bench BoardData -benchtime 200x
func BenchmarkBoardData(b *testing.B) {
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
	sites, err := db.ListSites(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var site booking.Site
	for _, s := range sites {
		if s.Slug == "casablanca" {
			site = s
		}
	}
	// Forty resources at the site: the demo's and edit suites enough to make up the
	// number.
	var have int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM resources WHERE site_id = $1 AND active`, site.ID).Scan(&have); err != nil {
		b.Fatal(err)
	}
	for i := have; i < 40; i++ {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO resources (site_id, name, category, kind, capabilities, rate_minor, rate_unit)
			VALUES ($1, $2, 'room', 'edit_suite', '{avid}', 30000, 'hour')`, site.ID, fmt.Sprintf("Bench Suite %02d", i)); err != nil {
			b.Fatal(err)
		}
	}
	// The bookings go on the resources the grading ring-fence leaves alone.
	rows, _ := db.Pool.Query(ctx, `SELECT id FROM resources WHERE site_id = $1 AND active AND kind <> 'grading_suite' ORDER BY name`, site.ID)
	bookable, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		b.Fatal(err)
	}
	rows, _ = db.Pool.Query(ctx, `SELECT id FROM productions ORDER BY title`)
	prods, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		b.Fatal(err)
	}
	actor := func(who string) booking.Actor {
		_, tok, err := db.CreateToken(ctx, booking.System, users[who], "bench", 0)
		if err != nil {
			b.Fatal(err)
		}
		a, err := db.AuthenticateToken(ctx, tok)
		if err != nil {
			b.Fatal(err)
		}
		return a
	}
	admin := actor("admin")
	cal := dbtest.SiteCalendar(b, db, site.ID)
	loc := cal.Location
	// The first month that starts at least five weeks from now.
	now := time.Now().In(loc)
	first := time.Date(now.Year(), now.Month()+2, 1, 0, 0, 0, 0, loc)
	if first.Sub(now) < 35*24*time.Hour {
		first = first.AddDate(0, 1, 0)
	}
	month := calendar.DateOf(first)
	slots := [][2]int{{9, 11}, {11, 13}, {14, 16}, {16, 19}}
	var made int
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(bookable))
	for ri, res := range bookable {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for d := 0; d < 28; d++ {
				day := month.AddDays(d)
				for si, s := range slots {
					start, end := day.At(calendar.Clock{Hour: s[0]}, loc), day.At(calendar.Clock{Hour: s[1]}, loc)
					if cal.WorkingTime(calendar.Interval{Start: start, End: end}, calendar.Options{}).Duration() == 0 {
						continue
					}
					mu.Lock()
					if made >= 2000 {
						mu.Unlock()
						return
					}
					made++
					mu.Unlock()
					st := booking.StatusConfirmed
					if (d+si+ri)%5 == 0 {
						st = booking.StatusHold
					}
					n++
					if _, err := db.Book(ctx, admin, booking.BookingInput{ProductionID: prods[(ri+d+si)%len(prods)], ResourceIDs: []uuid.UUID{res},
						Start: start.UTC(), End: end.UTC(), Status: st}); err != nil {
						errs <- fmt.Errorf("booking %s on %s: %w", start, res, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if made < 2000 {
		b.Fatalf("only %d bookings fit in four weeks on %d resources", made, len(bookable))
	}

	// A live database has its statistics; a fresh one gets them now.
	if _, err := db.Pool.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ui := &web.UI{Auth: db, Catalogue: db, Bookings: db, Blocks: db, Calendars: db, Notifications: db, Utilisation: db, Plans: db, Logger: log}
	api := &httpapi.Server{Catalogue: db, Auth: db, Audit: db, Bookings: db, Blocks: db, Idempotency: db, Calendars: db, Changes: db,
		Notifications: db, Utilisation: db, Coproduction: db, Ready: db.Ready, Logger: log, TZVersion: calendar.TZVersion(),
		Limits: httpapi.Limits{PerCredential: 1 << 30, PerUser: 1 << 30}, Mount: []func(*httpapi.Router){ui.Register}}
	h := api.Handler()
	var times []time.Duration
	var timing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		h.ServeHTTP(w, r)
		if timing.Load() && r.URL.Path == "/manage/board" {
			mu.Lock()
			times = append(times, time.Since(t0))
			mu.Unlock()
		}
	}))
	defer srv.Close()

	// The manager signs in like a browser.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string) {
		res, err := c.Get(srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(raw)
	}
	_, page := get("/login")
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	res, err := c.PostForm(srv.URL+"/login", url.Values{"email": {demo.Emails()["manager"]}, "password": {demo.Password}, "csrf_token": {token[1]}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		b.Fatalf("login: %v %v", res, err)
	}
	res.Body.Close()
	path := "/manage/board?site=casablanca&zoom=month&date=" + month.String()
	st, body := get(path)
	if st != http.StatusOK {
		b.Fatalf("board: %d", st)
	}
	if n := strings.Count(body, `"production_id"`); n < 2000 {
		b.Fatalf("the board carries %d bookings", n)
	}
	if n := strings.Count(body, `class="board-row"`); n != 40 {
		b.Fatalf("the board has %d rows", n)
	}

	timing.Store(true)
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for b.Loop() {
		if st, _ := get(path); st != http.StatusOK {
			b.Fatalf("board: %d", st)
		}
	}
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	timing.Store(false)
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) / time.Duration(max(len(times), 1))
	slices.Sort(times)
	q := func(p float64) float64 {
		return float64(times[min(len(times)-1, int(p*float64(len(times))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.90), "p90-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(len(body))/1024, "page-KiB")
	// The Go process's CPU per request (server and client halves; PostgreSQL's is
	// its own), which a busy machine stretches less than the wall-clock figures.
	b.ReportMetric(float64(cpu.Microseconds())/1000, "cpu-ms")
}
