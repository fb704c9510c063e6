package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// What may be set through the API is bounded (issue 16): exchange rates by currency,
// size, date and who enters them; a site's reminders by count; If-Match compares
// strongly.

// dakarManagerToken adds a manager of the Dakar site only and returns a token of theirs.
func (f *bhFixture) dakarManagerToken(t *testing.T) string {
	t.Helper()
	var hub, dakar uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT (SELECT id FROM organisations WHERE slug = 'atlas-post'),
		(SELECT id FROM sites WHERE slug = 'dakar')`).Scan(&hub, &dakar); err != nil {
		t.Fatal(err)
	}
	u, err := f.db.CreateUser(f.ctx, booking.System, booking.UserInput{OrganisationID: hub, Email: "awa.ndiaye@atlas-post.example",
		Name: "Awa Ndiaye", Role: booking.RoleManager, Locale: "fr", SiteIDs: []uuid.UUID{dakar}})
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := f.db.CreateToken(f.ctx, booking.System, u.ID, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestExchangeRateInputIsBounded(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, nil)
	manager := f.tokens["manager"]
	const path = "/api/v1/exchange-rates"
	for _, c := range []struct {
		body   string
		status int
		code   string
		field  string
	}{
		// Codes are exact ISO 4217 capitals: eur was once taken for EUR.
		{`{"base":"eur","quote":"XOF","rate":"655.957"}`, 400, booking.EINVALID, "base"},
		{`{"base":"EUR","quote":"xof","rate":"655.957"}`, 400, booking.EINVALID, "quote"},
		{`{"base":"XYZ","quote":"XOF","rate":"1"}`, 400, booking.EINVALID, "base"},
		// A rate of about 10^18 overflowed every quote converted through it.
		{`{"base":"MAD","quote":"XOF","rate":"999999999999999999"}`, 422, booking.EUNPROCESSABLE, "rate"},
		{`{"base":"MAD","quote":"XOF","rate":0.0000001}`, 422, booking.EUNPROCESSABLE, "rate"},
	} {
		p := bhProblem(t, f.bhDo(t, "POST", path, manager, c.body, nil), c.status, c.code)
		if p.Details["field"] != c.field {
			t.Errorf("%s: details %v, want field %s", c.body, p.Details, c.field)
		}
	}
	// The zero time was silently taken for now. The input layer bounds every instant
	// (400, details.parameter) before the service would (422, details.field).
	for _, at := range []string{"0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2999-01-01T00:00:00Z"} {
		r := f.bhDo(t, "POST", path, manager, `{"base":"EUR","quote":"XOF","rate":"655.957","effective_at":"`+at+`"}`, nil)
		p, err := bhCheckProblem(r, http.StatusBadRequest, booking.EINVALID)
		if err != nil {
			p = bhProblem(t, r, http.StatusUnprocessableEntity, booking.EUNPROCESSABLE)
		}
		if p.Details["field"] != "effective_at" && p.Details["parameter"] != "effective_at" {
			t.Errorf("effective_at %s: details %v", at, p.Details)
		}
	}
	if rates := bhJSON[listOf[booking.ExchangeRate]](t, f.bhDo(t, "GET", path, manager, nil, nil), http.StatusOK).Items; len(rates) != 2 {
		t.Fatalf("refused rates were stored: %+v", rates) // the demo's two
	}

	// A Dakar-only manager enters the franc's rates, not the dirham's.
	dakar := f.dakarManagerToken(t)
	for _, body := range []string{`{"base":"EUR","quote":"MAD","rate":"10.9"}`, `{"base":"MAD","quote":"XOF","rate":"60.4"}`} {
		p := bhProblem(t, f.bhDo(t, "POST", path, dakar, body, nil), http.StatusForbidden, booking.EFORBIDDEN)
		if p.Details["currency"] != "MAD" {
			t.Errorf("%s: details %v, want currency MAD", body, p.Details)
		}
	}
	r := bhJSON[booking.ExchangeRate](t, f.bhDo(t, "POST", path, dakar, `{"base":"EUR","quote":"XOF","rate":"655.957","effective_at":"2027-01-01T00:00:00Z"}`, nil), http.StatusCreated)
	if r.Rate != "655.957" || !r.EffectiveAt.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("the Dakar manager's rate: %+v", r)
	}

	// None of the refused rates stands in the way of a quote or the treaty report.
	start := bhWeekday(2027, time.October, 2, 9)
	b := f.book(t, manager, f.prod["producer"], []uuid.UUID{f.res[bhSuite1]}, start, start.Add(3*time.Hour), booking.StatusConfirmed)
	q := bhJSON[booking.Quote](t, f.bhDo(t, "POST", "/api/v1/quotes", f.tokens["producer"], map[string]any{"booking_id": b.ID}, nil), http.StatusCreated)
	if q.TotalMinor == 0 || len(q.Conversions) != 2 {
		t.Fatalf("quote %+v", q)
	}
	rep := bhJSON[booking.TreatyReport](t, f.bhDo(t, "GET", "/api/v1/reports/treaty?site_id="+b.SiteID.String()+"&from=2027-10-01T00:00:00Z&to=2027-11-01T00:00:00Z",
		manager, nil, nil), http.StatusOK)
	if rep.Totals.ValueMinor == 0 || len(rep.Totals.Converted) != 2 {
		t.Fatalf("treaty report %+v", rep.Totals)
	}
}

func TestSitePolicyRemindersAreBounded(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, nil)
	var site uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT id FROM sites WHERE slug = 'casablanca'`).Scan(&site); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/sites/" + site.String() + "/policy"
	pol := bhJSON[map[string]any](t, f.bhDo(t, "GET", path, f.tokens["manager"], nil, nil), http.StatusOK)
	delete(pol, "site_id")
	pol["reminder_offsets"] = []string{"1h", "2h", "3h", "4h", "5h", "6h"}
	p := bhProblem(t, f.bhDo(t, "PUT", path, f.tokens["manager"], pol, nil), http.StatusUnprocessableEntity, booking.EUNPROCESSABLE)
	if p.Details["field"] != "reminder_offsets" {
		t.Fatalf("six reminders: details %v", p.Details)
	}
	pol["reminder_offsets"] = []string{"1h", "2h", "3h", "4h", "5h", "5h", "1h"}
	got := bhJSON[booking.SitePolicy](t, f.bhDo(t, "PUT", path, f.tokens["manager"], pol, nil), http.StatusOK)
	if len(got.ReminderOffsets) != 5 {
		t.Fatalf("five reminders, two repeated: %v", got.ReminderOffsets)
	}
}

// TestWeakIfMatchIsRefused: If-Match compares strongly (RFC 9110 §13.1.1), so a weak
// ETag of the current version does not match: 412, and the booking is unchanged.
func TestWeakIfMatchIsRefused(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, nil)
	manager := f.tokens["manager"]
	start := bhWeekday(2027, time.October, 3, 9)
	b := f.book(t, manager, f.prod["producer"], []uuid.UUID{f.res[bhSuite2]}, start, start.Add(2*time.Hour), booking.StatusHold)
	path := "/api/v1/bookings/" + b.ID.String()
	current := f.bhDo(t, "GET", path, manager, nil, nil).Header.Get("ETag")
	if current != `"1"` {
		t.Fatalf("ETag %q", current)
	}
	for _, tag := range []string{"W/" + current, `w/"1"`, "1", `"01"`, `"+1"`, `"1", "2"`} {
		bhProblem(t, f.bhDo(t, "POST", path+"/release", manager, nil, map[string]string{"If-Match": tag}), http.StatusPreconditionFailed, booking.EPRECONDITION)
		bhProblem(t, f.bhDo(t, "PATCH", path, manager, map[string]any{"start": bhTS(start.Add(time.Hour)), "end": bhTS(start.Add(3 * time.Hour))},
			map[string]string{"If-Match": tag}), http.StatusPreconditionFailed, booking.EPRECONDITION)
	}
	if now := bhJSON[booking.Booking](t, f.bhDo(t, "GET", path, manager, nil, nil), http.StatusOK); now.Version != 1 || now.Status != booking.StatusHold {
		t.Fatalf("a refused If-Match changed the booking: %+v", now)
	}
	// The strong ETag as given matches.
	released := bhJSON[booking.Booking](t, f.bhDo(t, "POST", path+"/release", manager, nil, map[string]string{"If-Match": current}), http.StatusOK)
	if released.Status != booking.StatusReleased {
		t.Fatalf("release with the current ETag: %+v", released)
	}
}
