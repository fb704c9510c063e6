package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/httpapi"
)

// The input layer's tests (input.go, decode.go): every value a request carries is
// bounded, and what breaks a bound is refused with 400 before anything is written.

// tableRows counts a table's rows.
func tableRows(t *testing.T, b *testBundle, table string) int {
	t.Helper()
	var n int
	if err := b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// writesNothing runs f and fails if it changed the number of rows of any table named.
func writesNothing(t *testing.T, b *testBundle, f func(), tables ...string) {
	t.Helper()
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = tableRows(t, b, tb)
	}
	f()
	for _, tb := range tables {
		if n := tableRows(t, b, tb); n != before[tb] {
			t.Errorf("refused input wrote %d rows to %s", n-before[tb], tb)
		}
	}
}

// inputSetup is a test bundle with the Casablanca site, its HDR grading suite and a
// colourist, and the producer's productions.
func inputSetup(t *testing.T) (b *testBundle, site, suite, colourist uuid.UUID, prods []booking.Production) {
	t.Helper()
	b = setup(t, nil)
	site, suite, colourist = siteAndResources(t, b)
	prods = decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	return
}

// production is a valid new production's body with k set to v.
func production(k string, v any) map[string]any {
	m := map[string]any{"title": "Ndox", "format": "short", "runtime_minutes": 12, "origins": []map[string]any{{"country": "SN", "share_pct": 100}}}
	m[k] = v
	return m
}

// noServerErrors fails if any request of the test was answered 5xx.
func noServerErrors(t *testing.T, b *testBundle) {
	t.Helper()
	if logs := b.logs.String(); strings.Contains(logs, `"status":5`) {
		t.Errorf("a request was answered 5xx: %s", logs)
	}
}

// A time past year 9999 in UTC ("9999-12-31T20:00:00-05:00" is 10000-01-01T01:00Z)
// used to be stored and then break every answer that printed it; every instant is now
// held to [MinInstant, MaxInstant].
func TestFarTimesAreRefusedEverywhere(t *testing.T) {
	t.Parallel()
	b, site, suite, colourist, prods := inputSetup(t)
	const far, far2, early = "9999-12-31T20:00:00-05:00", "9999-12-31T22:00:00-05:00", "1999-12-31T09:00:00Z"
	// A body's field is named in details.field, a query parameter in details.parameter.
	names := func(key string) func(httpapi.Problem, string) {
		return func(p httpapi.Problem, want string) {
			t.Helper()
			if got, _ := p.Details[key].(string); got != want {
				t.Errorf("problem names %v, want %s %q: %+v", p.Details, key, want, p)
			}
		}
	}
	field, param := names("field"), names("parameter")
	writesNothing(t, b, func() {
		for _, c := range []struct{ start, end, field string }{{far, far2, "start"}, {"2027-03-16T10:00:00Z", far, "end"}, {early, "2027-03-16T13:00:00Z", "start"},
			{"2200-01-01T00:00:01Z", "2200-01-01T03:00:00Z", "start"}} {
			field(problem(t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
				"production_id": prods[0].ID, "resource_id": suite, "start": c.start, "end": c.end}), 400, booking.EINVALID), c.field)
		}
		// Wall-clock times at the site are held to the same years.
		field(problem(t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
			"production_id": prods[0].ID, "resource_id": suite, "start_local": "9999-12-31T10:00:00", "end_local": "9999-12-31T12:00:00"}), 400, booking.EINVALID), "start_local")
	}, "booking_groups", "bookings")
	writesNothing(t, b, func() {
		field(problem(t, b.do(t, "POST", "/api/v1/blocks", b.tokens["manager"], map[string]any{
			"resource_id": colourist, "start": far, "end": far2, "kind": "leave"}), 400, booking.EINVALID), "start")
		field(problem(t, b.do(t, "POST", "/api/v1/blocks", b.tokens["manager"], map[string]any{
			"resource_id": colourist, "start": "2027-03-01T09:00:00Z", "end": "2027-03-01T14:00:00Z", "kind": "leave",
			"rrule": "FREQ=WEEKLY;BYDAY=MO", "until": far}), 400, booking.EINVALID), "until")
	}, "resource_blocks")
	writesNothing(t, b, func() {
		field(problem(t, b.do(t, "POST", "/api/v1/exchange-rates", b.tokens["manager"], map[string]any{
			"base": "EUR", "quote": "MAD", "rate": "11", "effective_at": far}), 400, booking.EINVALID), "effective_at")
	}, "exchange_rates")
	writesNothing(t, b, func() {
		for _, k := range []string{"earliest_start", "deadline"} {
			req := map[string]any{"production_id": prods[0].ID, "site_id": site, "template": "feature", "seed": 1,
				"earliest_start": "2027-03-01T09:00:00Z", "deadline": "2027-04-30T17:00:00Z"}
			req[k] = far
			field(problem(t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], req), 400, booking.EINVALID), k)
		}
		field(problem(t, b.do(t, "POST", "/api/v1/replans", b.tokens["manager"], map[string]any{
			"site_id": site, "from": "2027-03-01T00:00:00Z", "to": far}), 400, booking.EINVALID), "to")
	}, "plans", "replans")
	writesNothing(t, b, func() {
		field(problem(t, b.do(t, "POST", "/api/v1/holidays", b.tokens["manager"], map[string]any{
			"country": "MA", "date": "9999-12-31", "name": "Far"}), 400, booking.EINVALID), "date")
		field(problem(t, b.do(t, "POST", "/api/v1/sites/"+site.String()+"/calendar/overrides", b.tokens["manager"], map[string]any{
			"name": "Far", "from": "2027-03-01", "to": "2300-03-01", "week": map[string]any{}}), 400, booking.EINVALID), "to")
	}, "holidays", "calendar_overrides")
	// Queries: working time, availability, listings, utilisation.
	wt := "/api/v1/working-time?site_id=" + site.String() + "&hours=1&from="
	param(problem(t, b.do(t, "GET", wt+url.QueryEscape(far), b.tokens["producer"], nil), 400, booking.EINVALID), "from")
	param(problem(t, b.do(t, "GET", wt+url.QueryEscape(early), b.tokens["producer"], nil), 400, booking.EINVALID), "from")
	decode[map[string]any](t, b.do(t, "GET", wt+url.QueryEscape("2199-12-01T09:00:00Z"), b.tokens["producer"], nil), 200)
	param(problem(t, b.do(t, "GET", "/api/v1/availability?site_id="+site.String()+"&demand=grading_suite&hours=1&from=2027-03-15T00:00:00Z&to="+
		url.QueryEscape(far), b.tokens["producer"], nil), 400, booking.EINVALID), "to")
	param(problem(t, b.do(t, "GET", "/api/v1/bookings?to="+url.QueryEscape(far), b.tokens["producer"], nil), 400, booking.EINVALID), "to")
	param(problem(t, b.do(t, "GET", "/api/v1/audit?from="+url.QueryEscape(far), b.tokens["admin"], nil), 400, booking.EINVALID), "from")
	param(problem(t, b.do(t, "GET", "/api/v1/utilisation?site_id="+site.String()+"&from=2027-03-01&to=9999-12-31", b.tokens["operator"], nil), 400, booking.EINVALID), "to")
	noServerErrors(t, b)
}

// NUL and other control characters, and invalid UTF-8, used to reach PostgreSQL
// (500) from JSON strings, query parameters and forms.
func TestControlCharactersAndBadUTF8AreRefused(t *testing.T) {
	t.Parallel()
	b, site, suite, _, prods := inputSetup(t)
	named := func(p httpapi.Problem, key, want string) {
		t.Helper()
		if got, _ := p.Details[key].(string); got != want {
			t.Errorf("problem names %s %q, want %q: %+v", key, got, want, p)
		}
	}
	writesNothing(t, b, func() {
		named(problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], production("title", "Nd\x00ox")), 400, booking.EINVALID), "field", "title")
		named(problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], production("title", "Nd\nox")), 400, booking.EINVALID), "field", "title")
		named(problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], production("programme", "a\x7fb")), 400, booking.EINVALID), "field", "programme")
		named(problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], production("title", "Nd\u0085ox")), 400, booking.EINVALID), "field", "title")
		named(problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"],
			production("origins", []map[string]any{{"country": "S\x00", "share_pct": 100}})), 400, booking.EINVALID), "field", "origins[0].country")
		// Escaped in the JSON text, and as a key of a field the request does not have.
		named(problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], `{"title":"Nd\u0000ox","format":"short"}`), 400, booking.EINVALID), "field", "title")
		problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], `{"ti\u0000tle":"Ndox"}`), 400, booking.EINVALID)
		// Invalid UTF-8 bytes in a body.
		problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], []byte("{\"title\":\"Nd\xc3\x28ox\",\"format\":\"short\"}")), 400, booking.EINVALID)
	}, "productions")
	writesNothing(t, b, func() {
		named(problem(t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
			"production_id": prods[0].ID, "resource_id": suite, "start": "2027-03-16T10:00:00Z", "end": "2027-03-16T13:00:00Z", "note": "a\x00b"}), 400, booking.EINVALID), "field", "note")
	}, "booking_groups")
	// A note and a reason may hold line breaks; nothing else may.
	bk := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
		"production_id": prods[0].ID, "resource_id": suite, "start": "2027-03-16T10:00:00Z", "end": "2027-03-16T13:00:00Z", "note": "line one\r\n\tline two"}), 201)
	named(problem(t, b.do(t, "POST", "/api/v1/bookings/"+bk.ID.String()+"/release", b.tokens["producer"], map[string]any{"reason": "gone\x00"}), 400, booking.EINVALID), "field", "reason")
	if got := decode[booking.Booking](t, b.do(t, "GET", "/api/v1/bookings/"+bk.ID.String(), b.tokens["producer"], nil), 200); got.Status != booking.StatusHold {
		t.Fatalf("a refused release changed the booking: %s", got.Status)
	}
	// Query parameters.
	for _, c := range []struct{ path, token, param string }{
		{"/api/v1/resources?kind=%00", "producer", "kind"},
		{"/api/v1/resources?kind=%ff", "producer", "kind"},
		{"/api/v1/resources?capability=hdr%0a", "producer", "capability"},
		{"/api/v1/audit?action=%00", "admin", "action"},
		{"/api/v1/audit?object_type=x%1by", "manager", "object_type"},
		{"/api/v1/bookings?cursor=%00", "producer", "cursor"},
		{"/api/v1/availability?site_id=" + site.String() + "&demand=%00&hours=1&from=2027-03-15T00:00:00Z&to=2027-03-27T00:00:00Z", "producer", "demand"},
		{"/api/v1/availability?site_id=" + site.String() + "&demand=grading_suite:%c3%28&hours=1&from=2027-03-15T00:00:00Z&to=2027-03-27T00:00:00Z", "producer", "demand"},
	} {
		named(problem(t, b.do(t, "GET", c.path, b.tokens[c.token], nil), 400, booking.EINVALID), "parameter", c.param)
	}
	problem(t, b.do(t, "GET", "/api/v1/resources?kind=%zz", b.tokens["producer"], nil), 400, booking.EINVALID)
	// The path and the headers the API reads as text.
	problem(t, b.do(t, "GET", "/ical/%00.ics", "", nil), 400, booking.EINVALID)
	req, _ := http.NewRequest("POST", b.srv.URL+"/api/v1/tokens", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Authorization", "Bearer "+b.tokens["producer"])
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "key-\xff")
	res := doChecked(t, http.DefaultClient, req)
	defer res.Body.Close()
	problem(t, res, 400, booking.EINVALID)
	req, _ = http.NewRequest("GET", b.srv.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer ph_\xff\xfe")
	res2 := doChecked(t, http.DefaultClient, req)
	defer res2.Body.Close()
	if res2.StatusCode != 400 && res2.StatusCode != 401 {
		t.Fatalf("a token of invalid UTF-8: %d", res2.StatusCode)
	}
	// Forms: the login form's email.
	c := newBrowser(t, b)
	_, _, token := c.get(t, "/login")
	for _, email := range []string{"admin@atlas-post.example\x00", "admin\xff@atlas-post.example", strings.Repeat("a", 250) + "@x.example"} {
		if st := c.post(t, "/login", url.Values{"email": {email}, "password": {"x"}, "csrf_token": {token}}, nil).StatusCode; st != 400 {
			t.Errorf("login with email %.20q…: %d, want 400", email, st)
		}
	}
	noServerErrors(t, b)
}

// Text is bounded by one table of lengths (a 900 kB reason used to be fanned out to
// every notice), and titles and names hold more than white space.
func TestTextIsBounded(t *testing.T) {
	t.Parallel()
	b, site, suite, _, prods := inputSetup(t)
	bk := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
		"production_id": prods[0].ID, "resource_id": suite, "start": "2027-03-16T10:00:00Z", "end": "2027-03-16T13:00:00Z"}), 201)
	tooLong := func(p httpapi.Problem, field string, max int) {
		t.Helper()
		if p.Details["field"] != field && p.Details["parameter"] != field || p.Details["max"] != float64(max) {
			t.Errorf("problem %+v, want field %s at most %d", p, field, max)
		}
	}
	writesNothing(t, b, func() {
		tooLong(problem(t, b.do(t, "POST", "/api/v1/bookings/"+bk.ID.String()+"/release", b.tokens["producer"],
			map[string]any{"reason": strings.Repeat("x", 600<<10)}), 400, booking.EINVALID), "reason", 500)
		tooLong(problem(t, b.do(t, "PATCH", "/api/v1/bookings/"+bk.ID.String(), b.tokens["producer"],
			map[string]any{"start": "2027-03-17T10:00:00Z", "end": "2027-03-17T13:00:00Z", "reason": strings.Repeat("x", 501)}), 400, booking.EINVALID), "reason", 500)
	}, "notifications", "audit_log")
	if got := decode[booking.Booking](t, b.do(t, "GET", "/api/v1/bookings/"+bk.ID.String(), b.tokens["producer"], nil), 200); got.Status != booking.StatusHold {
		t.Fatalf("a refused release changed the booking: %s", got.Status)
	}
	// Exactly at the limit is taken.
	decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings/"+bk.ID.String()+"/release", b.tokens["producer"],
		map[string]any{"reason": strings.Repeat("é", 500)}), 200)

	writesNothing(t, b, func() {
		tooLong(problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], production("programme", strings.Repeat("p", 1<<19))), 400, booking.EINVALID), "programme", 200)
		tooLong(problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], production("title", strings.Repeat("t", 301))), 400, booking.EINVALID), "title", 300)
		// A field the table does not name takes the default.
		tooLong(problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], production("format", strings.Repeat("f", 1001))), 400, booking.EINVALID), "format", 1000)
		for _, blank := range []string{"   ", "\u00a0\u2003"} {
			p := problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], production("title", blank)), 400, booking.EINVALID)
			if p.Details["field"] != "title" || !strings.Contains(p.Detail, "white space") {
				t.Errorf("blank title: %+v", p)
			}
		}
		problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], production("programme", "  ")), 400, booking.EINVALID)
		// Nesting is bounded too.
		problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], `{"origins":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`), 400, booking.EINVALID)
	}, "productions")
	writesNothing(t, b, func() {
		problem(t, b.do(t, "POST", "/api/v1/tokens", b.tokens["producer"], map[string]any{"name": " \u3000 "}), 400, booking.EINVALID)
		tooLong(problem(t, b.do(t, "POST", "/api/v1/tokens", b.tokens["producer"], map[string]any{"name": strings.Repeat("n", 201)}), 400, booking.EINVALID), "name", 200)
	}, "api_tokens")
	writesNothing(t, b, func() {
		tooLong(problem(t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
			"production_id": prods[0].ID, "resource_id": suite, "start": "2027-03-18T10:00:00Z", "end": "2027-03-18T13:00:00Z",
			"note": strings.Repeat("n", 2001)}), 400, booking.EINVALID), "note", 2000)
		tooLong(problem(t, b.do(t, "POST", "/api/v1/ring-fences", b.tokens["manager"], map[string]any{
			"site_id": site, "kind": "grading_suite", "programme": strings.Repeat("p", 201), "share_pct": 20}), 400, booking.EINVALID), "programme", 200)
	}, "booking_groups", "ring_fences")
	tooLong(problem(t, b.do(t, "GET", "/api/v1/bookings?cursor="+strings.Repeat("c", 1001), b.tokens["producer"], nil), 400, booking.EINVALID), "cursor", 1000)
	tooLong(problem(t, b.do(t, "GET", "/api/v1/resources?kind="+strings.Repeat("k", 64), b.tokens["producer"], nil), 400, booking.EINVALID), "kind", 63)
	noServerErrors(t, b)
}

// hours=NaN used to be taken (NaN compares false with every bound), 1e-300 hours
// made a zero duration, and Go's own number forms (1_0, hexadecimal) were taken.
func TestHoursMustBeFiniteAndAtLeastAMinute(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, _, _ := siteAndResources(t, b)
	for _, h := range []string{"NaN", "nan", "Inf", "-Inf", "1e-300", "0", "-1", "0.01", "2000.5", "1e400", "x", "", "1_0", "0x1p4", "0x10"} {
		p := problem(t, b.do(t, "GET", "/api/v1/working-time?site_id="+site.String()+"&from=2027-03-15T09:00:00Z&hours="+url.QueryEscape(h), b.tokens["producer"], nil), 400, booking.EINVALID)
		if p.Details["parameter"] != "hours" {
			t.Errorf("hours=%s: %+v", h, p)
		}
		problem(t, b.do(t, "GET", "/api/v1/availability?site_id="+site.String()+"&demand=grading_suite&from=2027-03-15T00:00:00Z&to=2027-03-27T00:00:00Z&hours="+
			url.QueryEscape(h), b.tokens["producer"], nil), 400, booking.EINVALID)
	}
	for _, h := range []string{"0.5", "2000", "1e1"} {
		decode[map[string]any](t, b.do(t, "GET", "/api/v1/working-time?site_id="+site.String()+"&from=2027-03-15T09:00:00Z&hours="+h, b.tokens["producer"], nil), 200)
	}
	noServerErrors(t, b)
}

// goisms are what a decode error must not show: Go's words for types.
var goisms = regexp.MustCompile(`Go (struct|value)|of type|\bint(64)?\b|float64|uuid\.|booking\.|httpapi\.|\[\]|map\[|json:|UnmarshalJSON`)

// Decode errors say which JSON field is wrong and what JSON it takes, in JSON's
// words; encoding/json's own messages ("cannot unmarshal number into Go struct field
// X of type string") used to be shown.
func TestDecodeErrorsNameTheFieldAndTheJSONType(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, _, _ := siteAndResources(t, b)
	cases := []struct {
		method, path, token, body, field, says string
	}{
		{"POST", "/api/v1/productions", "producer", `{"title":"x","format":"short","runtime_minutes":"five"}`, "runtime_minutes", "a whole number"},
		{"POST", "/api/v1/productions", "producer", `{"title":"x","runtime_minutes":1.5}`, "runtime_minutes", "a whole number"},
		{"POST", "/api/v1/productions", "producer", `{"title":5}`, "title", "a string"},
		{"POST", "/api/v1/productions", "producer", `{"emerging":"yes"}`, "emerging", "true or false"},
		{"POST", "/api/v1/productions", "producer", `{"origins":{}}`, "origins", "an array"},
		{"POST", "/api/v1/productions", "producer", `{"origins":[{"country":1}]}`, "origins.country", "a string"},
		{"POST", "/api/v1/productions", "producer", `{"organisation_id":5}`, "organisation_id", "a UUID"},
		{"POST", "/api/v1/productions", "producer", `{"organisation_id":"not-a-uuid"}`, "organisation_id", "a UUID"},
		{"POST", "/api/v1/productions", "producer", `{"budget":1}`, "budget", "Unknown field budget"},
		{"POST", "/api/v1/bookings", "producer", `{"resource_ids":["x"]}`, "resource_ids", "an array of UUIDs"},
		{"POST", "/api/v1/bookings", "producer", `{"trainees":1e30}`, "trainees", "a whole number"},
		{"PUT", "/api/v1/sites/" + site.String() + "/policy", "manager", `{"hold_lifetime":48}`, "hold_lifetime", "a duration"},
		{"PUT", "/api/v1/sites/" + site.String() + "/policy", "manager", `{"reminder_offsets":[1]}`, "reminder_offsets", "an array of durations"},
		{"POST", "/api/v1/exchange-rates", "manager", `{"base":"EUR","quote":"MAD","rate":true}`, "rate", "a decimal number"},
		{"POST", "/api/v1/productions", "producer", `[1,2]`, "", "must be an object"},
	}
	for _, c := range cases {
		p := problem(t, b.do(t, c.method, c.path, b.tokens[c.token], c.body), 400, booking.EINVALID)
		if goisms.MatchString(p.Detail) {
			t.Errorf("%s: the message speaks Go: %q", c.body, p.Detail)
		}
		if !strings.Contains(p.Detail, c.says) || (c.field != "" && p.Details["field"] != c.field) {
			t.Errorf("%s: %q (field %v), want it to name %q and say %q", c.body, p.Detail, p.Details["field"], c.field, c.says)
		}
	}
	// Malformed JSON of every kind is a 400 that says so, without Go's words either.
	for _, body := range []string{`{"title":`, `{"title" "x"}`, `{} {}`, `{}x`, ` `, `nul`, `{"a":1,}`, `"\ud800"x`} {
		p := problem(t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], body), 400, booking.EINVALID)
		if goisms.MatchString(p.Detail) {
			t.Errorf("%q: the message speaks Go: %q", body, p.Detail)
		}
	}
	noServerErrors(t, b)
}

// The bounds hold on every route: each POST, PUT and PATCH of the API given a NUL in
// a field it reads answers 400, never 5xx.
func TestEveryBodyRouteRefusesNUL(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	n := 0
	for key, policy := range httpapi.Policies {
		method, pattern, _ := strings.Cut(key, " ")
		if (method != "POST" && method != "PUT" && method != "PATCH") || !strings.HasPrefix(pattern, "/api/") {
			continue
		}
		path := strings.ReplaceAll(pattern, "{id}", uuid.NewString())
		who := "admin"
		for _, role := range []string{"admin", "manager", "producer", "operator"} {
			if policy.Allows(booking.Role(role)) {
				who = role
				break
			}
		}
		for _, body := range []string{`{"name":"a\u0000"}`, `{"reason":"a\u0000"}`, `{"zzz":"\u0000"}`} {
			res := b.do(t, method, path, b.tokens[who], body)
			if res.StatusCode != 400 && res.StatusCode != 404 {
				t.Errorf("%s %s with %s: %d, want 400 (or 404 for a missing object)", method, path, body, res.StatusCode)
			}
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d routes with bodies walked", n)
	}
	noServerErrors(t, b)
}

// TestInputsTheDocumentRefuses: inputs the OpenAPI document calls invalid, which the
// API fuzzer found taken, are refused with nothing written: notifications' unread
// other than true or false, a webhook URL whose port is out of range, a rate card's
// overtime multiplier given as 0 (omitted or null, it takes the default).
func TestInputsTheDocumentRefuses(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, _, _ := siteAndResources(t, b)
	for _, v := range []string{"nope", "truex", "1"} {
		problem(t, b.do(t, "GET", "/api/v1/notifications?unread="+v, b.tokens["producer"], nil), 400, booking.EINVALID)
	}
	decode[map[string]any](t, b.do(t, "GET", "/api/v1/notifications?unread=false", b.tokens["producer"], nil), 200)
	writesNothing(t, b, func() {
		for _, u := range []string{"https://example.com:99999/x", "https://example.com:0/x", "https://:443/x"} {
			problem(t, b.do(t, "POST", "/api/v1/webhooks", b.tokens["admin"], map[string]any{"url": u}), 400, booking.EINVALID)
		}
		p := problem(t, b.do(t, "POST", "/api/v1/rate-cards", b.tokens["admin"], map[string]any{"site_id": site, "kind": "grading_suite",
			"unit": "hour", "amount_minor": 100000, "overtime_multiplier_bp": 0}), 422, booking.EUNPROCESSABLE)
		if p.Details["field"] != "overtime_multiplier_bp" {
			t.Errorf("multiplier 0: %+v", p)
		}
	}, "webhooks", "rate_cards")
	c := decode[booking.RateCard](t, b.do(t, "POST", "/api/v1/rate-cards", b.tokens["admin"], map[string]any{"site_id": site, "kind": "grading_suite",
		"unit": "hour", "amount_minor": 100000, "overtime_multiplier_bp": nil}), 201)
	if c.OvertimeMultiplierBP != booking.DefaultOvertimeMultiplierBP {
		t.Errorf("a null multiplier: %d", c.OvertimeMultiplierBP)
	}
}
