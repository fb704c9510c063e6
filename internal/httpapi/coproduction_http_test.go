package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/auth"
	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/demo"
)

var casablanca = calendar.MustLoadLocation("Africa/Casablanca")

func (b *testBundle) id(t *testing.T, query, arg string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := b.db.Pool.QueryRow(context.Background(), query, arg).Scan(&id); err != nil {
		t.Fatalf("%s %q: %v", query, arg, err)
	}
	return id
}

func (b *testBundle) resource(t *testing.T, name string) uuid.UUID {
	return b.id(t, `SELECT id FROM resources WHERE name = $1`, name)
}

func (b *testBundle) production(t *testing.T, title string) uuid.UUID {
	return b.id(t, `SELECT id FROM productions WHERE title = $1`, title)
}

func (b *testBundle) site(t *testing.T, slug string) uuid.UUID {
	return b.id(t, `SELECT id FROM sites WHERE slug = $1`, slug)
}

func ts(t time.Time) string { return t.In(casablanca).Format(time.RFC3339) }

// aDay is a site-local day about two months ahead at hour h, a Wednesday.
func aDay(h int) time.Time {
	d := time.Now().In(casablanca).AddDate(0, 2, 0)
	for d.Weekday() != time.Wednesday {
		d = d.AddDate(0, 0, 1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), h, 0, 0, 0, casablanca)
}

func (b *testBundle) hold(t *testing.T, token string, prod uuid.UUID, res []uuid.UUID, start, end time.Time, status string, trainees int) booking.Booking {
	t.Helper()
	return decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", token, map[string]any{"production_id": prod, "resource_ids": res,
		"start": ts(start), "end": ts(end), "status": status, "trainees": trainees}), 201)
}

type createdFeed struct {
	booking.ICalFeed
	URL   string `json:"url"`
	Token string `json:"token"`
}

// fetchFeed reads a feed's URL without credentials and parses it.
func fetchFeed(t *testing.T, rawURL string) (*ics.Calendar, string, int) {
	t.Helper()
	res := getChecked(t, rawURL)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return nil, string(body), res.StatusCode
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("feed does not parse: %v\n%s", err, body)
	}
	return cal, string(body), 200
}

// feedEvent is an event as a test compares it.
type feedEvent struct {
	Summary, Status string
	Start, End      time.Time
	Description     string
}

// feedEvents reads a feed's events, whose times must be UTC: no TZID, no VTIMEZONE, so
// a client's own (possibly stale) tz data never decides when a booking is.
func feedEvents(t *testing.T, cal *ics.Calendar) map[string]feedEvent {
	t.Helper()
	if len(cal.Timezones()) != 0 {
		t.Fatalf("the feed has %d VTIMEZONEs", len(cal.Timezones()))
	}
	out := map[string]feedEvent{}
	for _, e := range cal.Events() {
		v := feedEvent{}
		if p := e.GetProperty(ics.ComponentPropertySummary); p != nil {
			v.Summary = p.Value
		}
		if p := e.GetProperty(ics.ComponentPropertyStatus); p != nil {
			v.Status = p.Value
		}
		if p := e.GetProperty(ics.ComponentPropertyDescription); p != nil {
			v.Description = p.Value
		}
		for _, which := range []ics.ComponentProperty{ics.ComponentPropertyDtStart, ics.ComponentPropertyDtEnd} {
			p := e.GetProperty(which)
			if tzid, ok := p.ICalParameters["TZID"]; ok {
				t.Fatalf("%s of %s has TZID %v, want UTC", which, e.Id(), tzid)
			}
			at, err := time.Parse("20060102T150405Z", p.Value)
			if err != nil {
				t.Fatalf("%s of %s: %v", which, e.Id(), err)
			}
			if which == ics.ComponentPropertyDtStart {
				v.Start = at
			} else {
				v.End = at
			}
		}
		out[strings.TrimSuffix(e.Id(), "@posthub")] = v
	}
	return out
}

func TestICalFeeds(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	gs1, gs2 := b.resource(t, "Grading Suite 1 — Zellige"), b.resource(t, "Grading Suite 2 — Anfa")
	souffle, sable, layali := b.production(t, "Le Souffle du Baobab"), b.production(t, "Sable et Sel"), b.production(t, "Layali Derb Sultan")
	mine := b.hold(t, b.tokens["producer"], souffle, []uuid.UUID{gs1}, aDay(9), aDay(17), "hold", 2)
	theirs := b.hold(t, b.tokens["producer_other"], sable, []uuid.UUID{gs1}, aDay(13), aDay(18), "hold", 0)
	confirmed := b.hold(t, b.tokens["manager"], layali, []uuid.UUID{gs2}, aDay(9), aDay(12), "confirmed", 0)
	if mine.Rank != 1 || theirs.Rank != 2 {
		t.Fatalf("ranks %d %d", mine.Rank, theirs.Rank)
	}

	mk := func(token string, kind booking.FeedKind, id uuid.UUID) createdFeed {
		t.Helper()
		return decode[createdFeed](t, b.do(t, "POST", "/api/v1/ical-feeds", token, map[string]any{"kind": kind, "id": id}), 201)
	}
	prodFeed := mk(b.tokens["producer"], booking.FeedProduction, souffle)
	if !strings.HasPrefix(prodFeed.URL, b.srv.URL+"/ical/phcal_") || !strings.HasSuffix(prodFeed.URL, prodFeed.Token+".ics") || !strings.HasPrefix(prodFeed.Token, prodFeed.Prefix) {
		t.Fatalf("feed %+v", prodFeed)
	}
	cal, _, st := fetchFeed(t, prodFeed.URL)
	if st != 200 {
		t.Fatalf("feed: %d", st)
	}
	evs := feedEvents(t, cal)
	e, ok := evs[mine.ID.String()]
	if len(evs) != 1 || !ok {
		t.Fatalf("production feed events %v", evs)
	}
	// The site's wall-clock is in the description, by the embedded tz data.
	siteTime := "Site time: " + mine.Start.In(casablanca).Format("Mon 2 Jan 2006, 15:04–") + mine.End.In(casablanca).Format("15:04 UTC")
	if e.Status != "TENTATIVE" || !strings.Contains(e.Description, siteTime) || !strings.Contains(e.Description, "(Africa/Casablanca).") ||
		!e.Start.Equal(mine.Start) || !e.End.Equal(mine.End) ||
		!strings.HasPrefix(e.Summary, "Hold #1: Le Souffle du Baobab") || !strings.Contains(e.Description, "rank 1") || !strings.Contains(e.Description, "Trainees: 2") {
		t.Fatalf("hold event %+v", e)
	}

	// A producer's own feed shows their company's bookings only.
	userFeed := mk(b.tokens["producer"], booking.FeedUser, b.users["producer"])
	cal, body, _ := fetchFeed(t, userFeed.URL)
	if evs := feedEvents(t, cal); len(evs) != 1 || evs[mine.ID.String()].Status != "TENTATIVE" {
		t.Fatalf("user feed events %v", evs)
	}
	for _, secret := range []string{"Sable et Sel", "Quai Bleu", "Layali", theirs.ID.String(), confirmed.ID.String()} {
		if strings.Contains(body, secret) {
			t.Errorf("a producer's feed shows %q", secret)
		}
	}

	// What producers may not make.
	problem(t, b.do(t, "POST", "/api/v1/ical-feeds", b.tokens["producer"], map[string]any{"kind": "resource", "id": gs1}), 403, booking.EFORBIDDEN)
	problem(t, b.do(t, "POST", "/api/v1/ical-feeds", b.tokens["producer"], map[string]any{"kind": "production", "id": sable}), 404, booking.ENOTFOUND)
	problem(t, b.do(t, "POST", "/api/v1/ical-feeds", b.tokens["producer"], map[string]any{"kind": "user", "id": b.users["producer_other"]}), 403, booking.EFORBIDDEN)
	problem(t, b.do(t, "POST", "/api/v1/ical-feeds", b.tokens["producer"], map[string]any{"kind": "site", "id": gs1}), 400, booking.EINVALID)

	// A manager's resource feed shows the whole queue, titles and ranks.
	resFeed := mk(b.tokens["manager"], booking.FeedResource, gs1)
	cal, _, _ = fetchFeed(t, resFeed.URL)
	evs = feedEvents(t, cal)
	if len(evs) != 2 || !strings.HasPrefix(evs[mine.ID.String()].Summary, "Hold #1: Le Souffle") || !strings.HasPrefix(evs[theirs.ID.String()].Summary, "Hold #2: Sable et Sel") {
		t.Fatalf("resource feed %v", evs)
	}
	cal, _, _ = fetchFeed(t, mk(b.tokens["manager"], booking.FeedResource, gs2).URL)
	if evs := feedEvents(t, cal); evs[confirmed.ID.String()].Status != "CONFIRMED" || !evs[confirmed.ID.String()].Start.Equal(confirmed.Start) {
		t.Fatalf("confirmed event %v", evs)
	}

	// Were a producer to own a resource feed, others' bookings on it would be "Busy".
	tok := "phcal_" + strings.Repeat("b", 32)
	if _, err := b.db.Pool.Exec(context.Background(), `INSERT INTO ical_feeds (user_id, kind, object_id, prefix, hash, created_at)
		VALUES ($1, 'resource', $2, 'phcal_bbbbbb', $3, now())`, b.users["producer"], gs1, auth.HashToken(tok)); err != nil {
		t.Fatal(err)
	}
	// (A producer manages no site, so the feed answers 404 rather than leak.)
	if _, _, st := fetchFeed(t, b.srv.URL+"/ical/"+tok+".ics"); st != 404 {
		t.Fatalf("a producer's resource feed: %d", st)
	}

	// Listing shows the feeds without their secrets; revoking one makes it 404.
	list := decode[listOf[booking.ICalFeed]](t, b.do(t, "GET", "/api/v1/ical-feeds", b.tokens["producer"], nil), 200).Items
	if len(list) != 3 {
		t.Fatalf("producer's feeds %+v", list)
	}
	raw, _ := io.ReadAll(b.do(t, "GET", "/api/v1/ical-feeds", b.tokens["producer"], nil).Body)
	if bytes.Contains(raw, []byte(prodFeed.Token)) || bytes.Contains(raw, []byte(userFeed.Token)) {
		t.Fatal("the list shows a token")
	}
	problem(t, b.do(t, "DELETE", "/api/v1/ical-feeds/"+prodFeed.ID.String(), b.tokens["producer_other"], nil), 404, booking.ENOTFOUND)
	if res := b.do(t, "DELETE", "/api/v1/ical-feeds/"+prodFeed.ID.String(), b.tokens["producer"], nil); res.StatusCode != 204 {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	if _, body, st := fetchFeed(t, prodFeed.URL); st != 404 || !strings.Contains(body, `"code":"not_found"`) {
		t.Fatalf("revoked feed: %d %s", st, body)
	}
	if _, _, st := fetchFeed(t, userFeed.URL); st != 200 {
		t.Fatalf("the other feed after a revocation: %d", st)
	}
	for _, bad := range []string{"/ical/nope.ics", "/ical/phcal_" + strings.Repeat("a", 32) + ".ics"} {
		if _, _, st := fetchFeed(t, b.srv.URL+bad); st != 404 {
			t.Fatalf("%s: %d", bad, st)
		}
	}
	var stored int
	if err := b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM ical_feeds WHERE hash = sha256($1::bytea)`, []byte(userFeed.Token)).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("the token should be stored only as its SHA-256: %d %v", stored, err)
	}
	// The request log names the feed route, never the token.
	logs := b.logs.String()
	if !strings.Contains(logs, `"path":"/ical/[redacted].ics"`) {
		t.Fatal("feed requests are not logged")
	}
	for _, s := range []string{prodFeed.Token, userFeed.Token, resFeed.Token, tok} {
		if strings.Contains(logs, s) {
			t.Errorf("a feed token (%.12s…) reached the logs", s)
		}
	}
}

func TestQuotesAndExchangeRates(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	gs1, yasmine := b.resource(t, "Grading Suite 1 — Zellige"), b.resource(t, "Yasmine El Alami")
	souffle := b.production(t, "Le Souffle du Baobab")
	start := aDay(9)
	bk := b.hold(t, b.tokens["producer"], souffle, []uuid.UUID{gs1, yasmine}, start, start.Add(7*time.Hour+30*time.Minute), "hold", 0)
	res := b.do(t, "POST", "/api/v1/quotes", b.tokens["producer"], map[string]any{"booking_id": bk.ID})
	q := decode[booking.Quote](t, res, 201)
	if res.Header.Get("Location") != "/api/v1/quotes/"+q.ID.String() {
		t.Fatalf("Location %q", res.Header.Get("Location"))
	}
	// The working hours of the 7.5 h (a Wednesday's lunch hour, or Ramadan's
	// afternoon, is not sold) × (1 650.00 + 700.00) MAD, before the suite's July card.
	_, cal := siteCalendarFor(t, b, bk.SiteID)
	worked := cal.WorkingHoursBetween(start, start.Add(7*time.Hour+30*time.Minute), calendar.Options{})
	if worked <= 0 || worked >= 7*time.Hour+30*time.Minute {
		t.Fatalf("%s holds %v of working time", start, worked)
	}
	suiteRate := int64(165000)
	if start.Month() >= time.July && start.Year() == 2027 || start.Year() > 2027 {
		suiteRate = 175000
	}
	wantTotal := (suiteRate + 70000) * int64(worked/time.Minute) / 60
	if q.TotalMinor != wantTotal || len(q.Lines) != 2 || len(q.Conversions) != 2 {
		t.Fatalf("quote %+v", q)
	}
	before := map[string]int64{}
	for _, c := range q.Conversions {
		before[c.Currency] = c.TotalMinor
	}
	problem(t, b.do(t, "GET", "/api/v1/quotes/"+q.ID.String(), b.tokens["producer_other"], nil), 404, booking.ENOTFOUND)
	problem(t, b.do(t, "POST", "/api/v1/quotes", b.tokens["producer_other"], map[string]any{"booking_id": bk.ID}), 404, booking.ENOTFOUND)
	problem(t, b.do(t, "POST", "/api/v1/quotes", b.tokens["producer"], map[string]any{}), 400, booking.EINVALID)

	// Managers enter rates, as a string or a number; producers may not.
	problem(t, b.do(t, "POST", "/api/v1/exchange-rates", b.tokens["producer"], map[string]any{"base": "EUR", "quote": "MAD", "rate": "11"}), 403, booking.EFORBIDDEN)
	problem(t, b.do(t, "POST", "/api/v1/exchange-rates", b.tokens["manager"], map[string]any{"base": "EUR", "quote": "MAD", "rate": "-1"}), 400, booking.EINVALID)
	r1 := decode[booking.ExchangeRate](t, b.do(t, "POST", "/api/v1/exchange-rates", b.tokens["manager"], `{"base":"EUR","quote":"MAD","rate":11.20}`), 201)
	if r1.Rate != "11.2" {
		t.Fatalf("rate %q", r1.Rate)
	}
	decode[booking.ExchangeRate](t, b.do(t, "POST", "/api/v1/exchange-rates", b.tokens["admin"], map[string]any{"base": "EUR", "quote": "XOF", "rate": "655.957"}), 201)
	again := decode[booking.Quote](t, b.do(t, "GET", "/api/v1/quotes/"+q.ID.String(), b.tokens["producer"], nil), 200)
	for _, c := range again.Conversions {
		if before[c.Currency] != c.TotalMinor {
			t.Fatalf("the stored quote moved with the rate: %s %d → %d", c.Currency, before[c.Currency], c.TotalMinor)
		}
	}
	newer := decode[booking.Quote](t, b.do(t, "POST", "/api/v1/quotes", b.tokens["producer"], map[string]any{"booking_id": bk.ID}), 201)
	for _, c := range newer.Conversions {
		if c.Currency == "EUR" && c.TotalMinor == before["EUR"] {
			t.Fatal("a new quote ignored the new rate")
		}
	}
	list := decode[listOf[booking.Quote]](t, b.do(t, "GET", "/api/v1/quotes?booking_id="+bk.ID.String(), b.tokens["producer"], nil), 200).Items
	if len(list) != 2 {
		t.Fatalf("%d quotes", len(list))
	}

	// The printable page, for the producer (a page takes a bearer token too).
	page := b.do(t, "GET", "/quotes/"+q.ID.String(), b.tokens["producer"], nil)
	html, _ := io.ReadAll(page.Body)
	if page.StatusCode != 200 || !bytes.Contains(html, []byte(`id="quote-total"`)) || !bytes.Contains(html, []byte("/static/coproduction.css")) ||
		!bytes.Contains(html, []byte("Le Souffle du Baobab")) || !bytes.Contains(html, []byte("XOF")) {
		t.Fatalf("quote page %d: %s", page.StatusCode, html)
	}
	if b.do(t, "GET", "/quotes/"+q.ID.String(), b.tokens["producer_other"], nil).StatusCode != 404 {
		t.Fatal("another producer's quote page")
	}
	css := b.do(t, "GET", "/static/coproduction.css", "", nil)
	cssBody, _ := io.ReadAll(css.Body)
	if css.StatusCode != 200 || !bytes.Contains(cssBody, []byte("@media print")) {
		t.Fatal("no print style sheet")
	}

	// From a booking card, a form makes the quote and shows it.
	c := newBrowser(t, b)
	if st := c.login(t, "aminata.diop@teranga-lumiere.example", demo.Password); st != 303 {
		t.Fatalf("login %d", st)
	}
	_, body, csrf := c.get(t, "/bookings")
	if !strings.Contains(body, `action="/bookings/`+bk.ID.String()+`/quote"`) {
		t.Fatal("the booking card has no quote form")
	}
	made := c.post(t, "/bookings/"+bk.ID.String()+"/quote", url.Values{"csrf_token": {csrf}}, nil)
	if made.StatusCode != 303 || !strings.HasPrefix(made.Header.Get("Location"), "/quotes/") {
		t.Fatalf("quote form: %d %s", made.StatusCode, made.Header.Get("Location"))
	}
}

func TestTraineesOnBookings(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	gs1 := b.resource(t, "Grading Suite 1 — Zellige") // seats 3
	souffle := b.production(t, "Le Souffle du Baobab")
	body := map[string]any{"production_id": souffle, "resource_id": gs1, "start": ts(aDay(9)), "end": ts(aDay(12)), "trainees": 4}
	p := problem(t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], body), 422, booking.EUNPROCESSABLE)
	if p.Details["field"] != "trainees" || p.Details["trainee_capacity"] != float64(3) {
		t.Fatalf("details %v", p.Details)
	}
	body["trainees"] = -1
	problem(t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], body), 400, booking.EINVALID)
	body["trainees"] = 3
	bk := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], body), 201)
	got := decode[map[string]any](t, b.do(t, "GET", "/api/v1/bookings/"+bk.ID.String(), b.tokens["producer"], nil), 200)
	if got["trainees"] != float64(3) {
		t.Fatalf("trainees %v", got["trainees"])
	}
}

func TestTreatyReportAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site := b.site(t, "casablanca")
	pirogues := b.production(t, "Les Pirogues de Guet Ndar") // SN 50, MA 30, FR 20, emerging
	bk := b.hold(t, b.tokens["manager"], pirogues, []uuid.UUID{b.resource(t, "Mix Stage A")}, aDay(9), aDay(13), "confirmed", 4)
	from := time.Date(bk.Start.Year(), bk.Start.Month(), 1, 0, 0, 0, 0, casablanca)
	to := from.AddDate(0, 1, 0)
	q := url.Values{"site_id": {site.String()}, "from": {from.Format("2006-01-02")}, "to": {to.Format("2006-01-02")}}
	problem(t, b.do(t, "GET", "/api/v1/reports/treaty?"+q.Encode(), b.tokens["producer"], nil), 403, booking.EFORBIDDEN)
	problem(t, b.do(t, "GET", "/api/v1/reports/treaty?site_id="+site.String(), b.tokens["operator"], nil), 400, booking.EINVALID)
	rep := decode[booking.TreatyReport](t, b.do(t, "GET", "/api/v1/reports/treaty?"+q.Encode(), b.tokens["operator"], nil), 200)
	// 4 h of a mix stage at 1 500.00 MAD/h, four trainees: 16 trainee hours.
	if rep.Totals.SessionHours != 4 || rep.Totals.ValueMinor != 600000 || rep.Totals.TraineeHours != 16 || rep.Totals.EmergingSessionHours != 4 ||
		rep.EmergingHoursShare != 1 || len(rep.Countries) != 3 {
		t.Fatalf("report %+v", rep)
	}
	for _, c := range rep.Countries {
		want := map[string]int64{"SN": 300000, "MA": 180000, "FR": 120000}[c.Country]
		if c.ValueMinor != want {
			t.Errorf("%s: %d, want %d", c.Country, c.ValueMinor, want)
		}
	}
	q.Set("format", "csv")
	res := b.do(t, "GET", "/api/v1/reports/treaty?"+q.Encode(), b.tokens["manager"], nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil || len(rows) != 5 || rows[4][4] != "TOTAL" || rows[4][9] != "6000.00" || rows[0][13] != "emerging_session_hours" {
		t.Fatalf("csv rows %v (%v)", rows, err)
	}
	// The page and its CSV (dates both included on the page).
	page := url.Values{"site": {site.String()}, "from": {from.Format("2006-01-02")}, "to": {to.AddDate(0, 0, -1).Format("2006-01-02")}}
	html, _ := io.ReadAll(b.do(t, "GET", "/reports/treaty?"+page.Encode(), b.tokens["manager"], nil).Body)
	if !bytes.Contains(html, []byte(`id="treaty-table"`)) || !bytes.Contains(html, []byte("/reports/treaty.csv?")) {
		t.Fatalf("treaty page: %s", html)
	}
	res = b.do(t, "GET", "/reports/treaty.csv?"+page.Encode(), b.tokens["operator"], nil)
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.Contains(raw, []byte("TOTAL")) {
		t.Fatalf("treaty csv page: %d %s", res.StatusCode, raw)
	}
	if b.do(t, "GET", "/reports/treaty", b.tokens["producer"], nil).StatusCode != 403 {
		t.Fatal("a producer sees the treaty page")
	}
}

func TestRingFenceAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site := b.site(t, "casablanca")
	suites := []uuid.UUID{b.resource(t, "Grading Suite 1 — Zellige"), b.resource(t, "Grading Suite 2 — Anfa"), b.resource(t, "Grading Suite 3 — Oasis")}
	sable := b.production(t, "Sable et Sel") // quai-bleu: outside the programme
	xaritu := b.production(t, "Xaritu Ndox") // teranga, SN, emerging-filmmakers
	// A quarter well beyond the demo fence's 30-day release horizon: 20 % of its
	// grading suite hours are the programme's.
	q := booking.PeriodAt(booking.PeriodQuarter, time.Now().AddDate(0, 0, 150), casablanca)
	b.hold(t, b.tokens["producer_other"], sable, suites[:1], q.Start, q.End, "hold", 0)
	b.hold(t, b.tokens["producer_other"], sable, suites[1:2], q.Start, q.End, "hold", 0)
	p := problem(t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer_other"], map[string]any{"production_id": sable,
		"resource_id": suites[2], "start": ts(q.Start), "end": ts(q.End)}), 409, booking.ECONFLICT)
	rf, ok := p.Details["ring_fence"].(map[string]any)
	if !ok || rf["period"] != q.Label || rf["programme"] != "emerging-filmmakers" || !strings.Contains(p.Detail, "reserved") {
		t.Fatalf("problem %+v", p)
	}

	// The availability search for 300 h in the quarter: the third suite is free, but
	// productions outside the programme have less than that left.
	search := func(prod uuid.UUID) int {
		v := url.Values{"site_id": {site.String()}, "demand": {"grading_suite"}, "hours": {"300"}, "from": {ts(q.Start)}, "to": {ts(q.End)}}
		if prod != uuid.Nil {
			v.Set("production_id", prod.String())
		}
		return len(decode[map[string][]booking.Slot](t, b.do(t, "GET", "/api/v1/availability?"+v.Encode(), b.tokens["manager"], nil), 200)["items"])
	}
	if n := search(sable); n != 0 {
		t.Fatalf("outside the programme: %d slots", n)
	}
	if search(xaritu) == 0 || search(uuid.Nil) == 0 {
		t.Fatal("the programme's production (or an unnamed one) finds no slot")
	}
	problem(t, b.do(t, "GET", "/api/v1/availability?site_id="+site.String()+"&demand=grading_suite&hours=1&from="+url.QueryEscape(ts(q.Start))+
		"&to="+url.QueryEscape(ts(q.End))+"&production_id="+sable.String(), b.tokens["producer"], nil), 404, booking.ENOTFOUND)
	// The programme's production takes the reserved share.
	b.hold(t, b.tokens["producer"], xaritu, suites[2:], q.Start, q.End, "hold", 0)

	fences := decode[listOf[booking.RingFence]](t, b.do(t, "GET", "/api/v1/ring-fences?site_id="+site.String()+"&at="+url.QueryEscape(ts(q.Start.Add(time.Hour))), b.tokens["producer"], nil), 200).Items
	if len(fences) != 1 || fences[0].Current == nil || fences[0].Current.Period != q.Label || fences[0].Current.RemainingHours <= 0 {
		t.Fatalf("fences %+v", fences)
	}
	// Managers add and remove fences.
	problem(t, b.do(t, "POST", "/api/v1/ring-fences", b.tokens["manager"], map[string]any{"site_id": site, "kind": "mix_stage", "programme": "x", "share_pct": 120}), 400, booking.EINVALID)
	f := decode[booking.RingFence](t, b.do(t, "POST", "/api/v1/ring-fences", b.tokens["manager"], map[string]any{"site_id": site, "kind": "mix_stage",
		"programme": "emerging-filmmakers", "countries": []string{"SN"}, "share_pct": 25, "period": "month"}), 201)
	if f.ReleaseDays != 30 || f.SharePct != 25 || f.Period != "month" {
		t.Fatalf("fence %+v", f)
	}
	if res := b.do(t, "DELETE", "/api/v1/ring-fences/"+f.ID.String(), b.tokens["manager"], nil); res.StatusCode != 204 {
		t.Fatalf("delete: %d", res.StatusCode)
	}
}

func TestRateCardsAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	dakar := b.site(t, "dakar")
	cards := decode[listOf[booking.RateCard]](t, b.do(t, "GET", "/api/v1/rate-cards?site_id="+dakar.String(), b.tokens["producer"], nil), 200).Items
	if len(cards) == 0 || cards[0].Currency != "XOF" {
		t.Fatalf("cards %+v", cards)
	}
	problem(t, b.do(t, "POST", "/api/v1/rate-cards", b.tokens["producer"], map[string]any{"site_id": dakar, "kind": "edit_suite", "unit": "hour", "amount_minor": 1}), 403, booking.EFORBIDDEN)
	problem(t, b.do(t, "POST", "/api/v1/rate-cards", b.tokens["manager"], map[string]any{"site_id": dakar, "kind": "edit_suite", "unit": "week", "amount_minor": 1}), 400, booking.EINVALID)
	problem(t, b.do(t, "POST", "/api/v1/rate-cards", b.tokens["manager"], map[string]any{"site_id": dakar, "resource_id": b.resource(t, "Mix Stage A"), "unit": "hour", "amount_minor": 1}), 400, booking.EINVALID)
	c := decode[booking.RateCard](t, b.do(t, "POST", "/api/v1/rate-cards", b.tokens["manager"], map[string]any{"site_id": dakar, "kind": "edit_suite",
		"unit": "day", "amount_minor": 150000, "effective_from": "2027-01-01", "effective_to": "2027-12-31"}), 201)
	if c.Currency != "XOF" || c.Amount != "150000" || c.EffectiveTo != "2027-12-31" {
		t.Fatalf("card %+v", c)
	}
	if res := b.do(t, "DELETE", "/api/v1/rate-cards/"+c.ID.String(), b.tokens["manager"], nil); res.StatusCode != 204 {
		t.Fatalf("delete: %d", res.StatusCode)
	}
}
