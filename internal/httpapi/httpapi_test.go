package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/postgres"
	"github.com/posthub/posthub/internal/web"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// syncBuffer collects log output from concurrent handlers.
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

// testBundle is a running API on its own database with the demo data and a token for
// every demo user.
type testBundle struct {
	db      *postgres.DB
	srv     *httptest.Server
	users   demo.Users
	tokens  map[string]string // demo key → token
	revoked string            // a revoked token of the producer
	logs    *syncBuffer
}

type setupOpts struct {
	limits httpapi.Limits
	secure bool
}

func setup(t *testing.T, opts *setupOpts) *testBundle {
	t.Helper()
	if opts == nil {
		opts = &setupOpts{}
	}
	ctx := context.Background()
	db := dbtest.New(t)
	var users demo.Users
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		users, err = demo.Seed(ctx, tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	b := &testBundle{db: db, users: users, tokens: map[string]string{}, logs: &syncBuffer{}}
	for _, k := range []string{"admin", "manager", "operator", "producer", "producer_other"} {
		_, tok, err := db.CreateToken(ctx, booking.System, users[k], "test", 0)
		if err != nil {
			t.Fatal(err)
		}
		b.tokens[k] = tok
	}
	info, tok, err := db.CreateToken(ctx, booking.System, users["producer"], "to revoke", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeToken(ctx, booking.System, info.ID); err != nil {
		t.Fatal(err)
	}
	b.revoked = tok
	log := slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The insert-only River client an API process has: password links queue their mail.
	rc, err := jobs.NewClient(db.Pool, jobs.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	db.OnPasswordLink = jobs.PasswordLinkSink(rc)
	ui := &web.UI{Auth: db, Catalogue: db, Bookings: db, Blocks: db, Calendars: db, Notifications: db, Utilisation: db, Plans: db, Logger: log, Version: "test"}
	api := &httpapi.Server{
		Catalogue: db, Auth: db, Audit: db, Bookings: db, Blocks: db, Idempotency: db, Calendars: db, Plans: db, Replans: db, Notifications: db, Utilisation: db, Coproduction: db, Changes: db, Ready: db.Ready, Logger: log,
		Version: "test", TZVersion: "2026f", Limits: opts.limits, SecureCookies: opts.secure,
		Mount: []func(*httpapi.Router){ui.Register},
	}
	b.srv = httptest.NewServer(api.Handler())
	t.Cleanup(b.srv.Close)
	return b
}

// do sends a request with an optional bearer token and JSON body, and checks the
// exchange against openapi.json (doChecked).
func (b *testBundle) do(t *testing.T, method, path, token string, body any) *http.Response {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	case []byte:
		rd = bytes.NewReader(v)
	default:
		j, _ := json.Marshal(v)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return doChecked(t, noRedirect, req)
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// problem reads a problem+json answer and checks its status and code.
func problem(t *testing.T, res *http.Response, status int, code string) httpapi.Problem {
	t.Helper()
	if res.StatusCode != status {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("%s %s: status %d, want %d: %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, status, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p httpapi.Problem
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.Code != code || p.Status != status {
		t.Fatalf("problem %+v, want code %q status %d", p, code, status)
	}
	return p
}

func decode[T any](t *testing.T, res *http.Response, status int) T {
	t.Helper()
	var v T
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, status, body)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return v
}

type listOf[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	h := decode[map[string]string](t, b.do(t, "GET", "/healthz", "", nil), 200)
	if h["tz_version"] != "2026f" || h["version"] != "test" || h["status"] != "ok" {
		t.Fatalf("healthz %v", h)
	}
	decode[map[string]string](t, b.do(t, "GET", "/readyz", "", nil), 200)
}

func TestReadyzUnavailableUntilMigrated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A database with nothing applied: readiness must say 503 until migrations run.
	url := dbtest.ServerURL(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := "empty_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = conn.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)") })
	db, err := postgres.Open(ctx, dbtest.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	api := &httpapi.Server{Catalogue: db, Auth: db, Audit: db, Ready: db.Ready, Logger: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	res := getChecked(t, srv.URL+"/readyz")
	problem(t, res, 503, booking.EUNAVAILABLE)
	if res.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	res = getChecked(t, srv.URL+"/readyz")
	if res.StatusCode != 200 {
		t.Fatalf("readyz after migrating: %d", res.StatusCode)
	}
}

// TestRoutePolicies walks every registered route for every role and for no, a
// malformed, an unknown and a revoked token, and checks each answer against the policy
// table: 401 (a page: a redirect to the login form) without valid credentials, 403 for
// a role the policy leaves out, neither for a role it lists.
func TestRoutePolicies(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	api := &httpapi.Server{Catalogue: b.db, Auth: b.db, Audit: b.db, Bookings: b.db, Blocks: b.db, Idempotency: b.db, Calendars: b.db, Plans: b.db, Replans: b.db, Notifications: b.db, Utilisation: b.db, Coproduction: b.db, Ready: b.db.Ready, Logger: slog.New(slog.DiscardHandler),
		Mount: []func(*httpapi.Router){(&web.UI{Auth: b.db, Logger: slog.New(slog.DiscardHandler)}).Register}}
	routes := httpapi.Routes(api.Handler())
	if len(routes) < len(httpapi.Policies) {
		t.Fatalf("%d routes registered but %d policies: every policy must name a registered route", len(routes), len(httpapi.Policies))
	}
	seen := map[string]bool{}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Pattern
		seen[key] = true
		p, ok := httpapi.Policies[key]
		if !ok {
			t.Errorf("route %s has no policy", key)
			continue
		}
		path := strings.NewReplacer("{id}", uuid.NewString(), "*", "posthub.css").Replace(rt.Pattern)
		var body any
		if rt.Method != "GET" && rt.Method != "DELETE" {
			body = "{}"
		}
		check := func(who string, token string, wantStatus func(int) bool, want string) {
			res := b.do(t, rt.Method, path, token, body)
			if !wantStatus(res.StatusCode) {
				t.Errorf("%s as %s: status %d, want %s", key, who, res.StatusCode, want)
			}
		}
		is := func(code int) func(int) bool { return func(s int) bool { return s == code } }
		authorised := func(s int) bool { return s != 401 && s != 403 && s != 429 && s < 500 }
		if p.Public {
			// A public form may still refuse a submission without its CSRF token.
			check("anonymous", "", func(s int) bool { return s != 401 && s < 500 }, "not 401")
			continue
		}
		// Without valid credentials an API route answers 401; a page sends the
		// browser to the login form.
		unauth, unauthWant := is(401), "401"
		if p.Page {
			unauth, unauthWant = is(303), "303 to /login"
		}
		check("anonymous", "", unauth, unauthWant)
		check("malformed token", "not-a-token", unauth, unauthWant)
		check("unknown token", "ph_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", unauth, unauthWant)
		check("revoked token", b.revoked, unauth, unauthWant)
		for _, role := range booking.Roles {
			key := string(role)
			if role == booking.RoleProducer {
				key = "producer"
			}
			if p.Allows(role) {
				check(string(role), b.tokens[key], authorised, "allowed")
			} else {
				check(string(role), b.tokens[key], is(403), "403")
			}
		}
	}
	for key := range httpapi.Policies {
		if !seen[key] {
			t.Errorf("policy %s names no registered route", key)
		}
	}
}

// TestRouteWithoutPolicyCannotRegister removes one route's policy and checks that the
// router refuses to build.
func TestRouteWithoutPolicyCannotRegister(t *testing.T) {
	t.Parallel()
	table := map[string]httpapi.Policy{}
	for k, v := range httpapi.Policies {
		table[k] = v
	}
	delete(table, "GET /api/v1/productions/{id}")
	defer func() {
		v := recover()
		if v == nil || !strings.Contains(v.(string), "GET /api/v1/productions/{id}") {
			t.Fatalf("recovered %v, want a panic naming the route", v)
		}
	}()
	(&httpapi.Server{Policies: table, Logger: slog.New(slog.DiscardHandler)}).Handler()
}

func TestProducersSeeOnlyTheirOwnProductions(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	mine := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	theirs := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer_other"], nil), 200).Items
	all := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["manager"], nil), 200).Items
	if len(mine) == 0 || len(theirs) == 0 {
		t.Fatalf("each producer should see some productions: %d, %d", len(mine), len(theirs))
	}
	if len(all) <= len(mine)+len(theirs)-1 {
		t.Fatalf("manager sees %d productions, producers %d and %d", len(all), len(mine), len(theirs))
	}
	me := decode[map[string]any](t, b.do(t, "GET", "/api/v1/me", b.tokens["producer"], nil), 200)
	for _, p := range mine {
		if p.OrganisationID.String() != me["organisation_id"] {
			t.Fatalf("producer sees %q of another organisation", p.Title)
		}
	}
	// Another company's production answers exactly like one that does not exist.
	other := theirs[0]
	got := problem(t, b.do(t, "GET", "/api/v1/productions/"+other.ID.String(), b.tokens["producer"], nil), 404, booking.ENOTFOUND)
	none := problem(t, b.do(t, "GET", "/api/v1/productions/"+uuid.NewString(), b.tokens["producer"], nil), 404, booking.ENOTFOUND)
	if got.Detail != none.Detail || got.Title != none.Title || len(got.Details) != len(none.Details) {
		t.Fatalf("another company's production is distinguishable from a missing one: %+v vs %+v", got, none)
	}
	for _, p := range theirs {
		for _, q := range mine {
			if p.ID == q.ID {
				t.Fatalf("production %s visible to both companies", p.ID)
			}
		}
	}
	// A producer cannot create a production for another company: the organisation is
	// always their own.
	created := decode[booking.Production](t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], map[string]any{
		"organisation_id": other.OrganisationID, "title": "Kër Yaay", "format": "short", "runtime_minutes": 20,
		"origins": []map[string]any{{"country": "SN", "share_pct": 100}},
	}), 201)
	if created.OrganisationID.String() != me["organisation_id"] {
		t.Fatalf("producer created a production in organisation %s", created.OrganisationID)
	}
	problem(t, b.do(t, "GET", "/api/v1/productions/"+created.ID.String(), b.tokens["producer_other"], nil), 404, booking.ENOTFOUND)
	// Nor read the audit log, nor revoke another's token.
	problem(t, b.do(t, "GET", "/api/v1/audit", b.tokens["producer"], nil), 403, booking.EFORBIDDEN)
	toks := decode[listOf[booking.TokenInfo]](t, b.do(t, "GET", "/api/v1/tokens", b.tokens["producer"], nil), 200).Items
	if len(toks) == 0 {
		t.Fatal("producer has no tokens listed")
	}
	problem(t, b.do(t, "DELETE", "/api/v1/tokens/"+toks[0].ID.String(), b.tokens["producer_other"], nil), 404, booking.ENOTFOUND)
	theirToks := decode[listOf[booking.TokenInfo]](t, b.do(t, "GET", "/api/v1/tokens", b.tokens["producer_other"], nil), 200).Items
	for _, tk := range theirToks {
		if tk.UserID != b.users["producer_other"] {
			t.Fatalf("token list shows another user's token %s", tk.ID)
		}
	}
}

func TestBadCredentialsAndBodies(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	// An expired token: issued with a one-second life, then the clock moves on.
	_, expiring, err := b.db.CreateToken(ctx, booking.System, b.users["producer"], "short-lived", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b.db.Now = func() time.Time { return time.Now().Add(time.Hour) }
	cases := []struct{ name, header string }{
		{"malformed", "Bearer nope"},
		{"wrong scheme", "Basic dXNlcjpwYXNz"},
		{"empty bearer", "Bearer "},
		{"unknown", "Bearer ph_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{"revoked", "Bearer " + b.revoked},
		{"expired", "Bearer " + expiring},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("GET", b.srv.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", c.header)
		res := doChecked(t, http.DefaultClient, req)
		problem(t, res, 401, booking.EUNAUTHORIZED)
		res.Body.Close()
	}

	valid := map[string]any{"title": "Ndox", "format": "short", "runtime_minutes": 12,
		"origins": []map[string]any{{"country": "SN", "share_pct": 100}}}
	count := func() int {
		var n int
		if err := b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM productions`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	tok := b.tokens["producer"]
	problem(t, b.do(t, "POST", "/api/v1/productions", tok, `{"title":"x","format":"short","runtime_minutes":5,"origins":[{"country":"SN","share_pct":100}],"budget":1}`), 400, booking.EINVALID)
	problem(t, b.do(t, "POST", "/api/v1/productions", tok, `{"title":"x","format":"short","runtime_minutes":"five"}`), 400, booking.EINVALID)
	problem(t, b.do(t, "POST", "/api/v1/productions", tok, []byte("{\"title\":\"\xff\xfe\",\"format\":\"short\"}")), 400, booking.EINVALID)
	problem(t, b.do(t, "POST", "/api/v1/productions", tok, `{"title":`), 400, booking.EINVALID)
	problem(t, b.do(t, "POST", "/api/v1/productions", tok, `{} {}`), 400, booking.EINVALID)
	big := `{"title":"` + strings.Repeat("a", httpapi.MaxBodyBytes) + `"}`
	problem(t, b.do(t, "POST", "/api/v1/productions", tok, big), 413, booking.ETOOLARGE)
	bad := map[string]any{"title": "Ndox", "format": "short", "runtime_minutes": 12,
		"origins": []map[string]any{{"country": "SN", "share_pct": 60}}}
	p := problem(t, b.do(t, "POST", "/api/v1/productions", tok, bad), 400, booking.EINVALID)
	if p.Details["field"] != "origins" {
		t.Fatalf("shares not adding up should name origins: %+v", p)
	}
	if n := count(); n != before {
		t.Fatalf("bad input wrote %d productions", n-before)
	}
	decode[booking.Production](t, b.do(t, "POST", "/api/v1/productions", tok, valid), 201)
	if n := count(); n != before+1 {
		t.Fatalf("a valid production was not written: %d → %d", before, n)
	}
}

func TestTokenLifecycleAndAudit(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	type created struct {
		booking.TokenInfo
		Token string `json:"token"`
	}
	c := decode[created](t, b.do(t, "POST", "/api/v1/tokens", b.tokens["producer"], map[string]any{"name": "laptop", "expires_in_days": 30}), 201)
	if !strings.HasPrefix(c.Token, "ph_") || !strings.HasPrefix(c.Token, c.Prefix) || c.ExpiresAt == nil {
		t.Fatalf("token answer %+v", c)
	}
	decode[map[string]any](t, b.do(t, "GET", "/api/v1/me", c.Token, nil), 200)
	// A producer may not mint a token for someone else.
	problem(t, b.do(t, "POST", "/api/v1/tokens", b.tokens["producer"], map[string]any{"name": "x", "user_id": b.users["admin"]}), 403, booking.EFORBIDDEN)
	res := b.do(t, "DELETE", "/api/v1/tokens/"+c.ID.String(), b.tokens["producer"], nil)
	if res.StatusCode != 204 {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	problem(t, b.do(t, "GET", "/api/v1/me", c.Token, nil), 401, booking.EUNAUTHORIZED)
	var stored int
	if err := b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM api_tokens WHERE prefix = $1 AND hash = sha256($2::bytea)`,
		c.Prefix, []byte(c.Token)).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("token should be stored only as its SHA-256: %d %v", stored, err)
	}

	entries := decode[listOf[booking.AuditEntry]](t, b.do(t, "GET", "/api/v1/audit?object_id="+c.ID.String(), b.tokens["manager"], nil), 200).Items
	if len(entries) != 2 || entries[0].Action != "token.revoked" || entries[1].Action != "token.created" {
		t.Fatalf("audit of the token: %+v", entries)
	}
	if entries[0].ActorID == nil || *entries[0].ActorID != b.users["producer"] || len(entries[0].Before) == 0 || len(entries[0].After) == 0 {
		t.Fatalf("revocation audit lacks actor or before/after: %+v", entries[0])
	}
	if strings.Contains(string(entries[1].After), c.Token) {
		t.Fatal("the audit log holds the token itself")
	}
	// Paging: one at a time, newest first, following the cursor.
	page1 := decode[listOf[booking.AuditEntry]](t, b.do(t, "GET", "/api/v1/audit?limit=1&object_id="+c.ID.String(), b.tokens["admin"], nil), 200)
	if len(page1.Items) != 1 || page1.NextCursor == "" {
		t.Fatalf("page 1: %+v", page1)
	}
	page2 := decode[listOf[booking.AuditEntry]](t, b.do(t, "GET", "/api/v1/audit?limit=1&object_id="+c.ID.String()+"&cursor="+page1.NextCursor, b.tokens["admin"], nil), 200)
	if len(page2.Items) != 1 || page2.Items[0].ID >= page1.Items[0].ID || page2.Items[0].Action != "token.created" {
		t.Fatalf("page 2: %+v", page2)
	}
	problem(t, b.do(t, "GET", "/api/v1/audit?cursor=bad!", b.tokens["admin"], nil), 400, booking.EINVALID)
	problem(t, b.do(t, "GET", "/api/v1/audit?from=2026-01-01T00:00:00", b.tokens["admin"], nil), 400, booking.EINVALID)

	// The log is append-only, even for the application's own role.
	_, err := b.db.Pool.Exec(context.Background(), `UPDATE audit_log SET action = 'token.created'`)
	if err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("updating the audit log: %v", err)
	}
	_, err = b.db.Pool.Exec(context.Background(), `DELETE FROM audit_log`)
	if err == nil {
		t.Fatal("deleting from the audit log succeeded")
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{limits: httpapi.Limits{PerCredential: 3, LoginPerEmail: 2, LoginPerIP: 100}})
	for i := 0; i < 3; i++ {
		decode[map[string]any](t, b.do(t, "GET", "/api/v1/me", b.tokens["producer"], nil), 200)
	}
	res := b.do(t, "GET", "/api/v1/me", b.tokens["producer"], nil)
	problem(t, res, 429, booking.ERATELIMITED)
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Another token has its own budget.
	decode[map[string]any](t, b.do(t, "GET", "/api/v1/me", b.tokens["manager"], nil), 200)

	// Logins: per email.
	c := newBrowser(t, b)
	for i := 0; i < 2; i++ {
		if st := c.login(t, "admin@atlas-post.example", "wrong-password"); st != 401 {
			t.Fatalf("wrong password: %d", st)
		}
	}
	if st := c.login(t, "admin@atlas-post.example", demo.Password); st != 429 {
		t.Fatalf("third login within the minute: %d, want 429", st)
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := newBrowser(t, b)
	if st := c.login(t, "aminata.diop@teranga-lumiere.example", demo.Password); st != 303 {
		t.Fatalf("login: %d", st)
	}
	type created struct {
		Token string `json:"token"`
	}
	tok := decode[created](t, b.do(t, "POST", "/api/v1/tokens", b.tokens["producer"], map[string]any{"name": "ci"}), 201).Token
	// A token in the query string is ignored, not read: the request is not the API's,
	// so only the answer is held to the document.
	req, _ := http.NewRequest("GET", b.srv.URL+"/api/v1/me?token="+tok, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	decode[map[string]any](t, doChecked(t, noRedirect, answerOnly(req)), 200)
	b.do(t, "GET", "/api/v1/me", "ph_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", nil)
	if st := newBrowser(t, b).login(t, "admin@atlas-post.example", "a-wrong-secret-password"); st != 401 {
		t.Fatalf("wrong password: %d", st)
	}
	logs := b.logs.String()
	if !strings.Contains(logs, `"route":"/api/v1/me"`) {
		t.Fatalf("requests were not logged at all: %s", logs)
	}
	secrets := []string{demo.Password, "a-wrong-secret-password", tok, b.tokens["producer"], "ph_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", c.session(t)}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("a secret (%.6s…) reached the logs", s)
		}
	}
}
