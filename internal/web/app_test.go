package web_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/httpapi"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/notify"
	"github.com/posthub/posthub/internal/postgres"
	"github.com/posthub/posthub/internal/web"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// syncBuffer collects log output from concurrent handlers and workers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// app is the whole hub on its own database with the demo data: API, pages and, when
// asked, the job workers that deliver notifications.
type app struct {
	db     *postgres.DB
	srv    *httptest.Server
	users  demo.Users
	emails map[string]string
	actors map[string]booking.Actor
	sites  map[string]booking.Site
	logs   *syncBuffer
	// before, when set, sees each request before the hub does (a test makes the hub
	// slow with it).
	before atomic.Pointer[func(*http.Request)]
}

func startApp(t *testing.T, withWorkers bool) *app {
	t.Helper()
	ctx := context.Background()
	db := dbtest.New(t)
	a := &app{db: db, emails: demo.Emails(), actors: map[string]booking.Actor{}, sites: map[string]booking.Site{}, logs: &syncBuffer{}}
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		a.users, err = demo.Seed(ctx, tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for k, id := range a.users {
		_, tok, err := db.CreateToken(ctx, booking.System, id, "test", 0)
		if err != nil {
			t.Fatal(err)
		}
		if a.actors[k], err = db.AuthenticateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	sites, err := db.ListSites(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sites {
		a.sites[s.Slug] = s
	}
	log := slog.New(slog.NewJSONHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ui := &web.UI{Auth: db, Catalogue: db, Bookings: db, Blocks: db, Calendars: db, Notifications: db, Utilisation: db,
		Plans: db, Logger: log, Version: "test"}
	api := &httpapi.Server{Catalogue: db, Auth: db, Audit: db, Bookings: db, Blocks: db, Idempotency: db, Calendars: db, Changes: db,
		Notifications: db, Utilisation: db, Coproduction: db, Ready: db.Ready, Logger: log, Version: "test", TZVersion: calendar.TZVersion(),
		Mount: []func(*httpapi.Router){ui.Register}}
	h := api.Handler()
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := a.before.Load(); f != nil {
			(*f)(r)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(a.srv.Close)
	if withWorkers {
		deps := &jobs.Deps{Store: db, Mailer: notify.LogMailer{Logger: log}, Logger: log, BaseURL: a.srv.URL}
		rc, err := jobs.NewClient(db.Pool, jobs.Options{Logger: log, MaxWorkers: 2, Deps: deps})
		if err != nil {
			t.Fatal(err)
		}
		db.OnEvents = jobs.Sink(rc)
		if err := rc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = rc.Stop(stop)
		})
	}
	return a
}

// resource finds a demo resource by name.
func (a *app) resource(t *testing.T, name string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := a.db.Pool.QueryRow(context.Background(), `SELECT id FROM resources WHERE name = $1`, name).Scan(&id); err != nil {
		t.Fatalf("resource %q: %v", name, err)
	}
	return id
}

// production finds a demo production by title.
func (a *app) production(t *testing.T, title string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := a.db.Pool.QueryRow(context.Background(), `SELECT id FROM productions WHERE title = $1`, title).Scan(&id); err != nil {
		t.Fatalf("production %q: %v", title, err)
	}
	return id
}

// siteDay is a Casablanca-local date some days from today.
func (a *app) siteDay(t *testing.T, site string, days int) calendar.Date {
	t.Helper()
	loc, err := calendar.LoadLocation(a.sites[site].TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	return calendar.DateOf(time.Now().In(loc)).AddDays(days)
}

// workday is the first site-local date at least days from today that begins n working
// days in a row: Monday to Friday, no holiday (provisional or not), the site at work
// from 09:00 (in its ordinary hours or an override's, such as Ramadan's 09:00 to 15:00),
// so that the tests' bookings from 09:00 on hold working time whatever day they run.
func (a *app) workday(t *testing.T, site string, days, n int) calendar.Date {
	t.Helper()
	cal := dbtest.SiteCalendar(t, a.db, a.sites[site].ID)
	works := func(d calendar.Date) bool {
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			return false
		}
		nine := d.At(calendar.Clock{Hour: 9}, cal.Location)
		return cal.WorkingTime(calendar.Interval{Start: nine, End: nine.Add(time.Hour)}, calendar.Options{AvoidProvisional: true}).Duration() == time.Hour
	}
	first := a.siteDay(t, site, days)
	for d, run := first, 0; d.Before(first.AddDays(366)); d = d.AddDays(1) {
		if !works(d) {
			run = 0
			continue
		}
		if run++; run == n {
			return d.AddDays(1 - n)
		}
	}
	t.Fatalf("no %d working days in a row at %s within a year of %s", n, site, first)
	return first
}

// at is a site-local wall-clock time on a date, as an instant.
func (a *app) at(t *testing.T, site string, d calendar.Date, hour int) time.Time {
	t.Helper()
	loc, err := calendar.LoadLocation(a.sites[site].TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	return d.At(calendar.Clock{Hour: hour}, loc).UTC()
}

// book makes a booking as the admin (confirmed) or as a producer (a hold).
func (a *app) book(t *testing.T, who string, prod, res uuid.UUID, start, end time.Time, st booking.Status) booking.Booking {
	t.Helper()
	b, err := a.db.Book(context.Background(), a.actors[who], booking.BookingInput{ProductionID: prod, ResourceIDs: []uuid.UUID{res},
		Start: start, End: end, Status: st})
	if err != nil {
		t.Fatalf("booking for %s: %v", who, err)
	}
	return b
}

// client is a person's browser without a real browser: a cookie jar, no redirects
// followed.
type client struct {
	a    *app
	http *http.Client
	lang string
}

func (a *app) client(t *testing.T, lang string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{a: a, lang: lang, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (c *client) do(t *testing.T, method, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.a.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, html.UnescapeString(string(raw))
}

// get fetches a page and returns its status, body and CSRF token.
func (c *client) get(t *testing.T, path string) (int, string, string) {
	t.Helper()
	res, body := c.do(t, "GET", path, nil)
	token := ""
	if m := csrfField.FindStringSubmatch(body); m != nil {
		token = m[1]
	}
	return res.StatusCode, body, token
}

func (c *client) login(t *testing.T, who string) string {
	t.Helper()
	_, _, token := c.get(t, "/login")
	res, _ := c.do(t, "POST", "/login", url.Values{"email": {c.a.emails[who]}, "password": {demo.Password}, "csrf_token": {token}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: %d", who, res.StatusCode)
	}
	_, _, csrf := c.get(t, "/")
	if csrf == "" {
		t.Fatalf("no CSRF token after login as %s", who)
	}
	return csrf
}
