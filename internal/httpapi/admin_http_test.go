package httpapi_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/auth"
	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/httpapi"
)

// Catalogue administration (issue 17): sites, resources, organisations, users,
// productions' own fields and password links, through the API.

// adCount counts rows, for "nothing was written" checks.
func adCount(t *testing.T, f *bhFixture, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Pool.QueryRow(f.ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// adAudit lists the audit actions recorded for an object, newest first, but for
// sign-ins (auth.*), as a manager reads them.
func adAudit(t *testing.T, f *bhFixture, id uuid.UUID) []string {
	t.Helper()
	entries := bhJSON[listOf[booking.AuditEntry]](t, f.bhDo(t, "GET", "/api/v1/audit?object_id="+id.String(), f.tokens["manager"], nil, nil), 200).Items
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Action, "auth.") {
			out = append(out, e.Action)
		}
	}
	return out
}

func adField(t *testing.T, p httpapi.Problem, field string) {
	t.Helper()
	if p.Details["field"] != field {
		t.Fatalf("problem %+v: want details.field %q", p, field)
	}
}

func adReason(t *testing.T, p httpapi.Problem, reason string) {
	t.Helper()
	if p.Details["reason"] != reason {
		t.Fatalf("problem %+v: want details.reason %q", p, reason)
	}
}

func ifMatchHdr(version int) map[string]string {
	return map[string]string{"If-Match": `"` + strconv.Itoa(version) + `"`}
}

func TestSiteAdministration(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, nil)
	admin, manager, producer := f.tokens["admin"], f.tokens["manager"], f.tokens["producer"]
	var casablanca uuid.UUID
	_ = f.db.Pool.QueryRow(f.ctx, `SELECT id FROM sites WHERE slug = 'casablanca'`).Scan(&casablanca)

	rabat := map[string]any{"slug": "rabat", "name": "Atlas Post Rabat", "country": "MA", "time_zone": "Africa/Casablanca", "currency": "MAD"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for x, y := range rabat {
			m[x] = y
		}
		m[k] = v
		return m
	}
	sites := func() int { return adCount(t, f, `SELECT count(*) FROM sites`) }
	before := sites()

	// Bad input: refused with a stable code naming the field, nothing written.
	for _, c := range []struct {
		body         map[string]any
		status       int
		code, field  string
		tzVersionToo bool
	}{
		{with("time_zone", "Africa/Atlantis"), 400, booking.EINVALID, "time_zone", true},
		{with("time_zone", "Local"), 400, booking.EINVALID, "time_zone", true},
		{with("time_zone", "africa/casablanca"), 400, booking.EINVALID, "time_zone", true},
		{with("currency", "XYZ"), 400, booking.EINVALID, "currency", false},
		{with("currency", "mad"), 400, booking.EINVALID, "currency", false},
		{with("currency", "HRK"), 400, booking.EINVALID, "currency", false}, // withdrawn in 2023
		{with("country", "ma"), 400, booking.EINVALID, "country", false},
		{with("slug", "Rabat"), 400, booking.EINVALID, "slug", false},
		{with("name", "   "), 400, booking.EINVALID, "name", false},
	} {
		p := bhProblem(t, f.bhDo(t, "POST", "/api/v1/sites", admin, c.body, nil), c.status, c.code)
		adField(t, p, c.field)
		if c.tzVersionToo && p.Details["tz_version"] == nil {
			t.Errorf("an unknown zone's problem does not name the tz release: %+v", p)
		}
	}
	if n := sites(); n != before {
		t.Fatalf("refused sites were written: %d → %d", before, n)
	}
	// Only admins create sites.
	bhProblem(t, f.bhDo(t, "POST", "/api/v1/sites", manager, rabat, nil), 403, booking.EFORBIDDEN)
	bhProblem(t, f.bhDo(t, "POST", "/api/v1/sites", producer, rabat, nil), 403, booking.EFORBIDDEN)

	r := f.bhDo(t, "POST", "/api/v1/sites", admin, rabat, nil)
	site := bhJSON[booking.Site](t, r, 201)
	if !site.Active || site.Version != 1 || site.TimeZone != "Africa/Casablanca" || site.Currency != "MAD" || r.Header.Get("ETag") != `"1"` ||
		r.Header.Get("Location") != "/api/v1/sites/"+site.ID.String() {
		t.Fatalf("created site %+v, headers %v", site, r.Header)
	}
	if p := bhProblem(t, f.bhDo(t, "POST", "/api/v1/sites", admin, rabat, nil), 409, booking.ECONFLICT); p.Details["field"] != "slug" {
		t.Fatalf("a taken slug: %+v", p)
	}
	got := f.bhDo(t, "GET", "/api/v1/sites/"+site.ID.String(), producer, nil, nil)
	if got.Status != 200 || got.Header.Get("ETag") != `"1"` {
		t.Fatalf("GET the new site: %v", got)
	}
	// It has the default policy.
	bhJSON[map[string]any](t, f.bhDo(t, "GET", "/api/v1/sites/"+site.ID.String()+"/policy", admin, nil, nil), 200)

	// Changes: If-Match must name the current version.
	path := "/api/v1/sites/" + site.ID.String()
	r = f.bhDo(t, "PATCH", path, admin, map[string]any{"name": "Atlas Post Rabat-Salé", "time_zone": "Africa/Dakar", "currency": "XOF"}, ifMatchHdr(1))
	site = bhJSON[booking.Site](t, r, 200)
	if site.Name != "Atlas Post Rabat-Salé" || site.TimeZone != "Africa/Dakar" || site.Currency != "XOF" || site.Version != 2 || r.Header.Get("ETag") != `"2"` {
		t.Fatalf("patched site %+v %v", site, r.Header)
	}
	p := bhProblem(t, f.bhDo(t, "PATCH", path, admin, map[string]any{"name": "Stale"}, ifMatchHdr(1)), 412, booking.EPRECONDITION)
	if p.Details["version"] != float64(2) {
		t.Fatalf("412 without the current version: %+v", p)
	}
	adField(t, bhProblem(t, f.bhDo(t, "PATCH", path, admin, map[string]any{"time_zone": "Mars/Olympus"}, nil), 400, booking.EINVALID), "time_zone")
	// An empty change writes nothing.
	audits := len(adAudit(t, f, site.ID))
	if s := bhJSON[booking.Site](t, f.bhDo(t, "PATCH", path, admin, map[string]any{}, nil), 200); s.Version != 2 {
		t.Fatalf("an empty PATCH changed the version: %+v", s)
	}
	if got := adAudit(t, f, site.ID); len(got) != audits || got[0] != "site.updated" || got[len(got)-1] != "site.created" {
		t.Fatalf("audit of the site: %v (had %d)", got, audits)
	}

	// A manager may rename a site they manage, and nothing else of it.
	cpath := "/api/v1/sites/" + casablanca.String()
	if s := bhJSON[booking.Site](t, f.bhDo(t, "PATCH", cpath, manager, map[string]any{"name": "Atlas Post Casablanca — Anfa"}, nil), 200); s.Name != "Atlas Post Casablanca — Anfa" {
		t.Fatalf("manager's rename: %+v", s)
	}
	adField(t, bhProblem(t, f.bhDo(t, "PATCH", cpath, manager, map[string]any{"currency": "EUR"}, nil), 403, booking.EFORBIDDEN), "currency")
	bhProblem(t, f.bhDo(t, "PATCH", path, manager, map[string]any{"name": "Not mine"}, nil), 403, booking.EFORBIDDEN) // Rabat: not theirs
	bhProblem(t, f.bhDo(t, "PATCH", cpath, producer, map[string]any{"name": "x"}, nil), 403, booking.EFORBIDDEN)
	bhProblem(t, f.bhDo(t, "PATCH", "/api/v1/sites/"+uuid.NewString(), admin, map[string]any{"name": "x"}, nil), 404, booking.ENOTFOUND)

	// Casablanca has rate cards and bookings made in its zone and currency, and
	// resources in service.
	adReason(t, bhProblem(t, f.bhDo(t, "PATCH", cpath, admin, map[string]any{"currency": "EUR"}, nil), 409, booking.ECONFLICT), booking.ReasonSiteInUse)
	adReason(t, bhProblem(t, f.bhDo(t, "PATCH", cpath, admin, map[string]any{"active": false}, nil), 409, booking.ECONFLICT), booking.ReasonSiteHasActiveResources)

	// Rabat has none: it goes out of service, and stays listed, marked so.
	if s := bhJSON[booking.Site](t, f.bhDo(t, "PATCH", path, admin, map[string]any{"active": false}, nil), 200); s.Active {
		t.Fatalf("deactivated site %+v", s)
	}
	all := bhJSON[listOf[booking.Site]](t, f.bhDo(t, "GET", "/api/v1/sites", producer, nil, nil), 200).Items
	found := false
	for _, s := range all {
		found = found || (s.ID == site.ID && !s.Active)
	}
	if !found {
		t.Fatalf("the site out of service is not listed as such: %+v", all)
	}
	// No resource can be put in service there.
	res := map[string]any{"site_id": site.ID, "name": "Suite 1", "category": "room", "kind": "grading_suite"}
	adReason(t, bhProblem(t, f.bhDo(t, "POST", "/api/v1/resources", admin, res, nil), 409, booking.ECONFLICT), booking.ReasonSiteInactive)
	res["active"] = false
	bhJSON[booking.Resource](t, f.bhDo(t, "POST", "/api/v1/resources", admin, res, nil), 201)
}

func TestResourceAdministration(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, nil)
	admin, manager, producer := f.tokens["admin"], f.tokens["manager"], f.tokens["producer"]
	var casablanca, dakar uuid.UUID
	_ = f.db.Pool.QueryRow(f.ctx, `SELECT id FROM sites WHERE slug = 'casablanca'`).Scan(&casablanca)
	_ = f.db.Pool.QueryRow(f.ctx, `SELECT id FROM sites WHERE slug = 'dakar'`).Scan(&dakar)
	count := func() int { return adCount(t, f, `SELECT count(*) FROM resources`) }
	before := count()

	suite := map[string]any{"site_id": casablanca, "name": "Grading Suite 4 — Majorelle", "category": "room", "kind": "hdr_suite",
		"capabilities": []string{"hdr", "dolby_vision"}, "rate_minor": 160000, "trainee_capacity": 3}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for x, y := range suite {
			m[x] = y
		}
		m[k] = v
		return m
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{with("category", "studio"), "category"},
		{with("kind", "Grading Suite"), "kind"},
		{with("capabilities", []string{"HDR"}), "capabilities"},
		{with("capabilities", []string{"hdr", "hdr"}), "capabilities"},
		{with("rate_minor", -1), "rate_minor"},
		{with("rate_unit", "week"), "rate_unit"},
		{with("trainee_capacity", 101), "trainee_capacity"},
		{with("site_id", uuid.Nil), "site_id"},
	} {
		adField(t, bhProblem(t, f.bhDo(t, "POST", "/api/v1/resources", admin, c.body, nil), 400, booking.EINVALID), c.field)
	}
	bhProblem(t, f.bhDo(t, "POST", "/api/v1/resources", admin, with("site_id", uuid.New()), nil), 404, booking.ENOTFOUND)
	bhProblem(t, f.bhDo(t, "POST", "/api/v1/resources", producer, suite, nil), 403, booking.EFORBIDDEN)
	if n := count(); n != before {
		t.Fatalf("refused resources were written: %d → %d", before, n)
	}

	// The manager manages both demo sites; made to manage Dakar only, they may no
	// longer add to Casablanca.
	mgr := f.users["manager"]
	bhJSON[booking.User](t, f.bhDo(t, "PATCH", "/api/v1/users/"+mgr.String(), admin, map[string]any{"site_ids": []uuid.UUID{dakar}}, nil), 200)
	bhProblem(t, f.bhDo(t, "POST", "/api/v1/resources", manager, suite, nil), 403, booking.EFORBIDDEN)
	bhJSON[booking.User](t, f.bhDo(t, "PATCH", "/api/v1/users/"+mgr.String(), admin, map[string]any{"site_ids": []uuid.UUID{casablanca, dakar}}, nil), 200)

	r := f.bhDo(t, "POST", "/api/v1/resources", manager, suite, nil)
	res := bhJSON[booking.Resource](t, r, 201)
	if !res.Active || res.RateUnit != "hour" || res.TraineeCapacity != 3 || len(res.Capabilities) != 2 || r.Header.Get("ETag") != `"1"` {
		t.Fatalf("created resource %+v %v", res, r.Header)
	}
	adField(t, bhProblem(t, f.bhDo(t, "POST", "/api/v1/resources", admin, suite, nil), 409, booking.ECONFLICT), "name")
	path := "/api/v1/resources/" + res.ID.String()
	r = f.bhDo(t, "PATCH", path, manager, map[string]any{"capabilities": []string{"hdr", "dolby_vision", "lang:fr"}, "rate_minor": 170000, "rate_unit": "day"}, ifMatchHdr(1))
	res = bhJSON[booking.Resource](t, r, 200)
	if res.RateMinor != 170000 || res.RateUnit != "day" || len(res.Capabilities) != 3 || res.Version != 2 || r.Header.Get("ETag") != `"2"` {
		t.Fatalf("patched resource %+v", res)
	}
	bhProblem(t, f.bhDo(t, "PATCH", path, admin, map[string]any{"rate_minor": 1}, ifMatchHdr(1)), 412, booking.EPRECONDITION)
	bhProblem(t, f.bhDo(t, "PATCH", path, producer, map[string]any{"rate_minor": 1}, nil), 403, booking.EFORBIDDEN)
	bhProblem(t, f.bhDo(t, "PATCH", path, admin, map[string]any{"site_id": dakar}, nil), 400, booking.EINVALID) // it stays at its site
	if got := f.bhDo(t, "GET", path, producer, nil, nil); got.Header.Get("ETag") != `"2"` {
		t.Fatalf("GET the resource: %v", got)
	}

	// It is offered and bookable while in service.
	slots := f.workingSlots(t, time.Now().UTC().AddDate(0, 0, 60), 2*time.Hour, 3)
	avail := func() int {
		q := "/api/v1/availability?site_id=" + casablanca.String() + "&demand=hdr_suite&hours=2&from=" + url.QueryEscape(bhTS(slots[0])) +
			"&to=" + url.QueryEscape(bhTS(slots[0].AddDate(0, 0, 14)))
		return len(bhJSON[struct {
			Items []json.RawMessage `json:"items"`
		}](t, f.bhDo(t, "GET", q, producer, nil, nil), 200).Items)
	}
	if avail() == 0 {
		t.Fatal("the new resource is not offered")
	}
	hold := f.book(t, producer, f.prod["producer"], []uuid.UUID{res.ID}, slots[0], slots[0].Add(2*time.Hour), booking.StatusHold)

	// A resource with a hold still to end is not taken out of service.
	adReason(t, bhProblem(t, f.bhDo(t, "PATCH", path, admin, map[string]any{"active": false}, nil), 409, booking.ECONFLICT), booking.ReasonResourceHasBookings)
	if r := f.act(t, producer, hold.ID, booking.ActionRelease, time.Time{}, time.Time{}); r.Status != 200 {
		t.Fatalf("release: %v", r)
	}
	res = bhJSON[booking.Resource](t, f.bhDo(t, "PATCH", path, manager, map[string]any{"active": false}, nil), 200)
	if res.Active {
		t.Fatalf("deactivated resource %+v", res)
	}
	// Out of service: not bookable, not offered, not listed (but for include_inactive).
	body := map[string]any{"production_id": f.prod["producer"], "resource_ids": []uuid.UUID{res.ID}, "start": bhTS(slots[1]), "end": bhTS(slots[1].Add(2 * time.Hour))}
	bhProblem(t, f.bhDo(t, "POST", "/api/v1/bookings", producer, body, nil), 422, booking.EUNPROCESSABLE)
	if n := avail(); n != 0 {
		t.Fatalf("a resource out of service is offered: %d slots", n)
	}
	listed := func(q string) bool {
		for _, x := range bhJSON[listOf[booking.Resource]](t, f.bhDo(t, "GET", "/api/v1/resources?site_id="+casablanca.String()+q, producer, nil, nil), 200).Items {
			if x.ID == res.ID {
				return true
			}
		}
		return false
	}
	if listed("") || !listed("&include_inactive=true") {
		t.Fatalf("listing: without include_inactive %v, with %v", listed(""), listed("&include_inactive=true"))
	}
	// The planner does not place work on it either: a plan of one stage of the
	// resource's kind finds nothing to place it on. (Asked of the storage: the API's
	// answer to an unplaceable plan has stages null, which openapi.json does not allow;
	// that is the plans' own matter.)
	plan, err := f.db.ProposePlan(f.ctx, booking.System, booking.PlanRequest{ProductionID: f.prod["producer"], SiteID: casablanca,
		EarliestStart: slots[0], Stages: []booking.StageSpec{{ID: "grade", Name: "Grade", Hours: 2,
			Demands: []booking.Demand{{Kind: "hdr_suite", Capabilities: []string{}}}}}})
	if err == nil && (plan.Placed || len(plan.Unmet) == 0) {
		t.Fatalf("a plan placed work on a resource out of service: %+v", plan)
	}
	// Back in service.
	if res = bhJSON[booking.Resource](t, f.bhDo(t, "PATCH", path, admin, map[string]any{"active": true}, nil), 200); !res.Active {
		t.Fatalf("reactivated %+v", res)
	}
	f.book(t, producer, f.prod["producer"], []uuid.UUID{res.ID}, slots[2], slots[2].Add(2*time.Hour), booking.StatusHold)
	want := []string{"resource.updated", "resource.updated", "resource.updated", "resource.created"}
	if got := adAudit(t, f, res.ID); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("audit %v, want %v", got, want)
	}
}

func TestOrganisationAdministration(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, nil)
	admin := f.tokens["admin"]
	orgs := func(token string) []booking.Organisation {
		return bhJSON[listOf[booking.Organisation]](t, f.bhDo(t, "GET", "/api/v1/organisations", token, nil, nil), 200).Items
	}
	if all := orgs(admin); len(all) != 5 {
		t.Fatalf("admin sees %d organisations, want the demo's 5", len(all))
	}
	if all := orgs(f.tokens["manager"]); len(all) != 5 {
		t.Fatalf("manager sees %d organisations", len(all))
	}
	mine := orgs(f.tokens["producer"])
	if len(mine) != 1 || mine[0].ID != f.org["producer"] {
		t.Fatalf("a producer sees %+v, want only their own", mine)
	}

	bhProblem(t, f.bhDo(t, "POST", "/api/v1/organisations", f.tokens["manager"], map[string]any{"slug": "sahel", "name": "Sahel", "country": "SN"}, nil), 403, booking.EFORBIDDEN)
	adField(t, bhProblem(t, f.bhDo(t, "POST", "/api/v1/organisations", admin, map[string]any{"slug": "sahel", "name": "Sahel", "country": "SEN"}, nil), 400, booking.EINVALID), "country")
	adField(t, bhProblem(t, f.bhDo(t, "POST", "/api/v1/organisations", admin, map[string]any{"slug": "sahel", "name": "Sahel", "country": "SN", "kind": "studio"}, nil), 400, booking.EINVALID), "kind")
	o := bhJSON[booking.Organisation](t, f.bhDo(t, "POST", "/api/v1/organisations", admin, map[string]any{"slug": "sahel-films", "name": "Sahel Films", "country": "SN"}, nil), 201)
	if o.Kind != booking.OrgProductionCompany || o.Version != 1 {
		t.Fatalf("created %+v", o)
	}
	adField(t, bhProblem(t, f.bhDo(t, "POST", "/api/v1/organisations", admin, map[string]any{"slug": "sahel-films", "name": "Other", "country": "SN"}, nil), 409, booking.ECONFLICT), "slug")

	// Its producer is added and sees its productions only.
	u := bhJSON[booking.User](t, f.bhDo(t, "POST", "/api/v1/users", admin, map[string]any{"organisation_id": o.ID, "email": "awa@sahel.example",
		"name": "Awa Ndiaye", "role": "producer", "password": "sahel-films-2027"}, nil), 201)
	if !u.Active || u.OrganisationID != o.ID {
		t.Fatalf("new producer %+v", u)
	}
	_, tok, err := f.db.CreateToken(f.ctx, booking.System, u.ID, "t", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := orgs(tok); len(got) != 1 || got[0].ID != o.ID {
		t.Fatalf("the new producer sees %+v", got)
	}
	// Its productions are created for it, and only it sees them.
	p := bhJSON[booking.Production](t, f.bhDo(t, "POST", "/api/v1/productions", tok, map[string]any{"title": "Ndeysaan", "format": "short",
		"runtime_minutes": 15, "origins": []map[string]any{{"country": "SN", "share_pct": 100}}}, nil), 201)
	if p.OrganisationID != o.ID {
		t.Fatalf("production of %s", p.OrganisationID)
	}

	path := "/api/v1/organisations/" + o.ID.String()
	r := f.bhDo(t, "PATCH", path, admin, map[string]any{"name": "Sahel Films SARL", "country": "ML"}, ifMatchHdr(1))
	if o = bhJSON[booking.Organisation](t, r, 200); o.Name != "Sahel Films SARL" || o.Country != "ML" || o.Version != 2 || r.Header.Get("ETag") != `"2"` {
		t.Fatalf("patched %+v", o)
	}
	bhProblem(t, f.bhDo(t, "PATCH", path, admin, map[string]any{"name": "x"}, ifMatchHdr(1)), 412, booking.EPRECONDITION)
	bhProblem(t, f.bhDo(t, "PATCH", path, admin, map[string]any{"kind": "hub"}, nil), 400, booking.EINVALID) // the kind stays
	bhProblem(t, f.bhDo(t, "PATCH", path, f.tokens["producer"], map[string]any{"name": "x"}, nil), 403, booking.EFORBIDDEN)
	bhProblem(t, f.bhDo(t, "PATCH", "/api/v1/organisations/"+uuid.NewString(), admin, map[string]any{"name": "x"}, nil), 404, booking.ENOTFOUND)
	if got := adAudit(t, f, o.ID); strings.Join(got, ",") != "organisation.updated,organisation.created" {
		t.Fatalf("audit %v", got)
	}
}

func TestUserAdministration(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, nil)
	admin := f.tokens["admin"]
	var dakar uuid.UUID
	_ = f.db.Pool.QueryRow(f.ctx, `SELECT id FROM sites WHERE slug = 'dakar'`).Scan(&dakar)
	other := "/api/v1/users/" + f.users["producer_other"].String()
	me := func(token string) (int, map[string]any) {
		r := f.bhDo(t, "GET", "/api/v1/me", token, nil, nil)
		var m map[string]any
		_ = json.Unmarshal(r.Body, &m)
		return r.Status, m
	}

	// Rename and French: the answer carries the version as ETag.
	r := f.bhDo(t, "PATCH", other, admin, map[string]any{"name": "Claire Morel-Diallo", "locale": "fr"}, ifMatchHdr(1))
	u := bhJSON[booking.User](t, r, 200)
	if u.Name != "Claire Morel-Diallo" || u.Locale != "fr" || u.Version != 2 || r.Header.Get("ETag") != `"2"` || !u.Active {
		t.Fatalf("patched %+v", u)
	}
	bhProblem(t, f.bhDo(t, "PATCH", other, admin, map[string]any{"name": "x"}, ifMatchHdr(1)), 412, booking.EPRECONDITION)
	adField(t, bhProblem(t, f.bhDo(t, "PATCH", other, admin, map[string]any{"role": "wizard"}, nil), 400, booking.EINVALID), "role")
	adField(t, bhProblem(t, f.bhDo(t, "PATCH", other, admin, map[string]any{"site_ids": []uuid.UUID{dakar}}, nil), 400, booking.EINVALID), "site_ids")
	adField(t, bhProblem(t, f.bhDo(t, "PATCH", other, admin, map[string]any{"organisation_id": uuid.New()}, nil), 404, booking.ENOTFOUND), "organisation_id")
	bhProblem(t, f.bhDo(t, "PATCH", other, admin, map[string]any{"email": "x@y.example"}, nil), 400, booking.EINVALID) // not changeable
	bhProblem(t, f.bhDo(t, "PATCH", other, f.tokens["manager"], map[string]any{"name": "x"}, nil), 403, booking.EFORBIDDEN)
	bhProblem(t, f.bhDo(t, "PATCH", "/api/v1/users/"+uuid.NewString(), admin, map[string]any{"name": "x"}, nil), 404, booking.ENOTFOUND)

	// Made a manager of Dakar: their own view says so at once.
	bhJSON[booking.User](t, f.bhDo(t, "PATCH", other, admin, map[string]any{"role": "manager", "site_ids": []uuid.UUID{dakar}}, nil), 200)
	if st, m := me(f.tokens["producer_other"]); st != 200 || m["role"] != "manager" || len(m["site_ids"].([]any)) != 1 || m["site_ids"].([]any)[0] != dakar.String() {
		t.Fatalf("/me after the change: %d %v", st, m)
	}
	// Given another role, the sites must go too.
	adField(t, bhProblem(t, f.bhDo(t, "PATCH", other, admin, map[string]any{"role": "producer"}, nil), 400, booking.EINVALID), "site_ids")
	bhJSON[booking.User](t, f.bhDo(t, "PATCH", other, admin, map[string]any{"role": "producer", "site_ids": []uuid.UUID{}}, nil), 200)

	// Deactivated: neither token nor password works, and the session ends.
	c := newBrowser(t, f.testBundle)
	if st := c.login(t, "claire.morel@quai-bleu.example", demo.Password); st != 303 {
		t.Fatalf("login before: %d", st)
	}
	session := c.session(t)
	u = bhJSON[booking.User](t, f.bhDo(t, "PATCH", other, admin, map[string]any{"active": false}, nil), 200)
	if u.Active {
		t.Fatalf("deactivated %+v", u)
	}
	bhProblem(t, f.bhDo(t, "GET", "/api/v1/me", f.tokens["producer_other"], nil, nil), 401, booking.EUNAUTHORIZED)
	if _, _, err := f.db.Login(f.ctx, "claire.morel@quai-bleu.example", demo.Password, time.Hour); booking.ErrorCode(err) != booking.EUNAUTHORIZED {
		t.Fatalf("a deactivated user signed in: %v", err)
	}
	if _, err := f.db.AuthenticateSession(f.ctx, session); booking.ErrorCode(err) != booking.EUNAUTHORIZED {
		t.Fatalf("a deactivated user's session still works: %v", err)
	}
	if st := newBrowser(t, f.testBundle).login(t, "claire.morel@quai-bleu.example", demo.Password); st != 401 {
		t.Fatalf("login form for a deactivated user: %d", st)
	}
	listed := bhJSON[listOf[booking.User]](t, f.bhDo(t, "GET", "/api/v1/users", admin, nil, nil), 200).Items
	for _, x := range listed {
		if x.ID == f.users["producer_other"] && x.Active {
			t.Fatal("listed as active")
		}
	}
	// Reactivated: the token works again.
	bhJSON[booking.User](t, f.bhDo(t, "PATCH", other, admin, map[string]any{"active": true}, nil), 200)
	if st, _ := me(f.tokens["producer_other"]); st != 200 {
		t.Fatalf("token after reactivation: %d", st)
	}

	// The last active admin stays one.
	self := "/api/v1/users/" + f.users["admin"].String()
	adReason(t, bhProblem(t, f.bhDo(t, "PATCH", self, admin, map[string]any{"active": false}, nil), 409, booking.ECONFLICT), booking.ReasonLastAdmin)
	adReason(t, bhProblem(t, f.bhDo(t, "PATCH", self, admin, map[string]any{"role": "operator"}, nil), 409, booking.ECONFLICT), booking.ReasonLastAdmin)
	// With a second admin, the first may step down.
	bhJSON[booking.User](t, f.bhDo(t, "PATCH", "/api/v1/users/"+f.users["operator"].String(), admin, map[string]any{"role": "admin"}, nil), 200)
	bhJSON[booking.User](t, f.bhDo(t, "PATCH", self, admin, map[string]any{"role": "operator"}, nil), 200)
	bhProblem(t, f.bhDo(t, "GET", "/api/v1/users", admin, nil, nil), 403, booking.EFORBIDDEN)

	got := adAudit(t, f, f.users["producer_other"])
	// The demo's set-up made the user (audited as posthub's, by catalogue.Apply).
	if strings.Join(got, ",") != strings.Repeat("user.updated,", 5)+"user.created" {
		t.Fatalf("audit of the user: %v", got)
	}
}

func TestProductionUpdate(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, nil)
	mine := f.prod["producer"]
	path := "/api/v1/productions/" + mine.String()
	get := f.bhDo(t, "GET", path, f.tokens["producer"], nil, nil)
	p := bhJSON[booking.Production](t, get, 200)
	if get.Header.Get("ETag") != `"`+strconv.Itoa(p.Version)+`"` {
		t.Fatalf("GET a production: ETag %q, version %d", get.Header.Get("ETag"), p.Version)
	}
	r := f.bhDo(t, "PATCH", path, f.tokens["producer"], map[string]any{"title": "Le Souffle du Baobab (director's cut)", "runtime_minutes": 121,
		"origins": []map[string]any{{"country": "SN", "share_pct": 55}, {"country": "MA", "share_pct": 45}}}, ifMatchHdr(p.Version))
	q := bhJSON[booking.Production](t, r, 200)
	if q.Title != "Le Souffle du Baobab (director's cut)" || q.RuntimeMinutes != 121 || q.Version != p.Version+1 || len(q.Origins) != 2 ||
		q.Origins[0].SharePct != 55 || q.Format != p.Format || q.Emerging != p.Emerging {
		t.Fatalf("patched %+v (was %+v)", q, p)
	}
	bhProblem(t, f.bhDo(t, "PATCH", path, f.tokens["producer"], map[string]any{"title": "x"}, ifMatchHdr(p.Version)), 412, booking.EPRECONDITION)
	adField(t, bhProblem(t, f.bhDo(t, "PATCH", path, f.tokens["producer"], map[string]any{"origins": []map[string]any{{"country": "SN", "share_pct": 60}}}, nil), 400, booking.EINVALID), "origins")
	adField(t, bhProblem(t, f.bhDo(t, "PATCH", path, f.tokens["producer"], map[string]any{"format": "opera"}, nil), 400, booking.EINVALID), "format")
	// The programme is a manager's to grant: not through this route.
	bhProblem(t, f.bhDo(t, "PATCH", path, f.tokens["producer"], map[string]any{"programme": "x"}, nil), 400, booking.EINVALID)
	// Another organisation's production is as if it did not exist.
	theirs := "/api/v1/productions/" + f.prod["producer_other"].String()
	a := bhProblem(t, f.bhDo(t, "PATCH", theirs, f.tokens["producer"], map[string]any{"title": "Mine now"}, nil), 404, booking.ENOTFOUND)
	b := bhProblem(t, f.bhDo(t, "PATCH", "/api/v1/productions/"+uuid.NewString(), f.tokens["producer"], map[string]any{"title": "Mine now"}, nil), 404, booking.ENOTFOUND)
	if a.Detail != b.Detail {
		t.Fatalf("another's production is told apart from a missing one: %q vs %q", a.Detail, b.Detail)
	}
	bhProblem(t, f.bhDo(t, "PATCH", path, f.tokens["operator"], map[string]any{"title": "x"}, nil), 403, booking.EFORBIDDEN)
	// Managers and admins change any.
	bhJSON[booking.Production](t, f.bhDo(t, "PATCH", theirs, f.tokens["manager"], map[string]any{"format": "feature"}, nil), 200)
	if got := adAudit(t, f, mine); len(got) == 0 || got[0] != "production.updated" {
		t.Fatalf("audit %v", got)
	}
	// Nothing of the refused changes was written.
	after := bhJSON[booking.Production](t, f.bhDo(t, "GET", path, f.tokens["producer"], nil, nil), 200)
	if after.Version != q.Version || after.Title != q.Title {
		t.Fatalf("after refused changes: %+v", after)
	}
}

func TestPasswordLinks(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, nil)
	ctx := context.Background()
	admin := f.tokens["admin"]
	now := time.Now()
	clock := now
	f.db.Now = func() time.Time { return clock }

	// A user without a password, invited.
	u := bhJSON[booking.User](t, f.bhDo(t, "POST", "/api/v1/users", admin, map[string]any{"organisation_id": f.org["producer"],
		"email": "ousmane@teranga-lumiere.example", "name": "Ousmane Sarr", "role": "producer", "locale": "fr"}, nil), 201)
	if u.HasPassword {
		t.Fatal("has a password already")
	}
	invite := "/api/v1/users/" + u.ID.String() + "/invite"
	bhProblem(t, f.bhDo(t, "POST", invite, f.tokens["manager"], nil, nil), 403, booking.EFORBIDDEN)
	bhProblem(t, f.bhDo(t, "POST", "/api/v1/users/"+uuid.NewString()+"/invite", admin, nil, nil), 404, booking.ENOTFOUND)
	l := bhJSON[booking.PasswordLink](t, f.bhDo(t, "POST", invite, admin, nil, nil), 202)
	if l.UserID != u.ID || l.Purpose != booking.LinkInvite || !l.ExpiresAt.Equal(l.CreatedAt.Add(72*time.Hour)) {
		t.Fatalf("link %+v", l)
	}
	// Stored without a secret until its mail goes; its mail job carries ids only.
	var jobArgs []byte
	if err := f.db.Pool.QueryRow(ctx, `SELECT args FROM river_job WHERE kind = 'password_mail' AND args->>'link_id' = $1`, l.ID.String()).Scan(&jobArgs); err != nil {
		t.Fatalf("no mail job for the link: %v", err)
	}
	if n := adCount(t, f, `SELECT count(*) FROM password_links WHERE id = $1 AND hash IS NULL`, l.ID); n != 1 {
		t.Fatal("a link has a secret before its mail")
	}
	// The worker makes the secret as the mail goes (internal/jobs tests send it over SMTP).
	m, err := f.db.IssuePasswordLink(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !auth.LooksLikeLinkSecret(m.Secret) || strings.Contains(string(jobArgs), m.Secret) || m.InvitedBy != "Nadia Berrada" || m.Link.Email != u.Email {
		t.Fatalf("mail %+v, job args %s", m, jobArgs)
	}
	if n := adCount(t, f, `SELECT count(*) FROM password_links WHERE id = $1 AND hash = sha256($2::bytea)`, l.ID, []byte(m.Secret)); n != 1 {
		t.Fatal("the link's secret is not stored as its SHA-256")
	}
	if got, err := f.db.CheckPasswordLink(ctx, m.Secret); err != nil || got.UserID != u.ID || got.Name != "Ousmane Sarr" || got.Locale != "fr" {
		t.Fatalf("check: %+v %v", got, err)
	}

	set := func(secret, password string) bhResult {
		return f.bhDo(t, "POST", "/api/v1/password/"+secret, "", map[string]any{"password": password}, nil)
	}
	// Too short: refused, and the link is not used up.
	adField(t, bhProblem(t, set(m.Secret, "short"), 400, booking.EINVALID), "password")
	if r := set(m.Secret, "baobab-et-fleuve"); r.Status != 204 {
		t.Fatalf("set: %v", r)
	}
	if _, _, err := f.db.Login(ctx, u.Email, "baobab-et-fleuve", time.Hour); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	// Single use.
	adReason(t, bhProblem(t, set(m.Secret, "another-password"), 410, booking.EGONE), booking.ReasonLinkUsed)
	if _, _, err := f.db.Login(ctx, u.Email, "another-password", time.Hour); err == nil {
		t.Fatal("a used link set the password again")
	}
	bhProblem(t, set(strings.Repeat("A", 43), "baobab-et-fleuve"), 404, booking.ENOTFOUND)
	bhProblem(t, set("not-a-secret", "baobab-et-fleuve"), 404, booking.ENOTFOUND)
	audit := adAudit(t, f, u.ID)
	if strings.Join(audit, ",") != "user.password_set,user.invited,user.created" {
		t.Fatalf("audit %v", audit)
	}
	var actor *uuid.UUID
	_ = f.db.Pool.QueryRow(ctx, `SELECT actor_id FROM audit_log WHERE action = 'user.password_set' AND object_id = $1`, u.ID.String()).Scan(&actor)
	if actor == nil || *actor != u.ID {
		t.Fatalf("the password change is not the user's own in the audit: %v", actor)
	}

	// Expiry: a link used after its 72 hours is gone.
	l2 := bhJSON[booking.PasswordLink](t, f.bhDo(t, "POST", invite, admin, nil, nil), 202)
	m2, err := f.db.IssuePasswordLink(ctx, l2.ID)
	if err != nil {
		t.Fatal(err)
	}
	clock = now.Add(72*time.Hour + time.Second)
	adReason(t, bhProblem(t, set(m2.Secret, "too-late-password"), 410, booking.EGONE), booking.ReasonLinkExpired)
	clock = now

	// A newer link replaces the older.
	l3 := bhJSON[booking.PasswordLink](t, f.bhDo(t, "POST", invite, admin, nil, nil), 202)
	m3, err := f.db.IssuePasswordLink(ctx, l3.ID)
	if err != nil {
		t.Fatal(err)
	}
	l4 := bhJSON[booking.PasswordLink](t, f.bhDo(t, "POST", invite, admin, nil, nil), 202)
	adReason(t, bhProblem(t, set(m3.Secret, "replaced-password"), 410, booking.EGONE), booking.ReasonLinkRevoked)
	// A link replaced before its mail went is not mailed.
	if _, err := f.db.IssuePasswordLink(ctx, l3.ID); booking.ErrorCode(err) != booking.EGONE {
		t.Fatalf("issuing a replaced link: %v", err)
	}
	// Deactivating the user withdraws their links, and they are not invited.
	m4, err := f.db.IssuePasswordLink(ctx, l4.ID)
	if err != nil {
		t.Fatal(err)
	}
	bhJSON[booking.User](t, f.bhDo(t, "PATCH", "/api/v1/users/"+u.ID.String(), admin, map[string]any{"active": false}, nil), 200)
	adReason(t, bhProblem(t, set(m4.Secret, "withdrawn-password"), 410, booking.EGONE), booking.ReasonLinkRevoked)
	adReason(t, bhProblem(t, f.bhDo(t, "POST", invite, admin, nil, nil), 409, booking.ECONFLICT), booking.ReasonUserInactive)

	// Resets: 202 whether or not the email is an active user's; only an active user's
	// makes a link (and its mail), at most one a minute.
	links := func() int { return adCount(t, f, `SELECT count(*) FROM password_links`) }
	jobs := func() int { return adCount(t, f, `SELECT count(*) FROM river_job WHERE kind = 'password_mail'`) }
	reset := func(email string) bhResult {
		return f.bhDo(t, "POST", "/api/v1/password-resets", "", map[string]any{"email": email}, nil)
	}
	l0, j0 := links(), jobs()
	for _, email := range []string{"nobody@nowhere.example", u.Email} { // unknown; deactivated
		if r := reset(email); r.Status != 202 || len(r.Body) != 0 {
			t.Fatalf("reset for %s: %v", email, r)
		}
	}
	if links() != l0 || jobs() != j0 {
		t.Fatal("a reset for an unknown or deactivated user wrote")
	}
	adField(t, bhProblem(t, reset("not-an-email"), 400, booking.EINVALID), "email")
	if r := reset("Claire.Morel@quai-bleu.example"); r.Status != 202 { // case does not matter
		t.Fatalf("reset: %v", r)
	}
	if links() != l0+1 || jobs() != j0+1 {
		t.Fatalf("a reset made %d links and %d jobs", links()-l0, jobs()-j0)
	}
	if r := reset("claire.morel@quai-bleu.example"); r.Status != 202 || links() != l0+1 {
		t.Fatalf("a second reset within the minute: %v, %d links", r, links()-l0)
	}
	var reset1 booking.PasswordLink
	if err := f.db.Pool.QueryRow(ctx, `SELECT id, purpose, created_at, expires_at FROM password_links WHERE user_id = $1`, f.users["producer_other"]).
		Scan(&reset1.ID, &reset1.Purpose, &reset1.CreatedAt, &reset1.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	if reset1.Purpose != booking.LinkReset || reset1.ExpiresAt.Sub(reset1.CreatedAt) != 2*time.Hour {
		t.Fatalf("reset link %+v", reset1)
	}
	mr, err := f.db.IssuePasswordLink(ctx, reset1.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Setting the password ends the user's sessions.
	c := newBrowser(t, f.testBundle)
	if st := c.login(t, "claire.morel@quai-bleu.example", demo.Password); st != 303 {
		t.Fatalf("login: %d", st)
	}
	session := c.session(t)
	if r := set(mr.Secret, "quai-bleu-nouveau"); r.Status != 204 {
		t.Fatalf("set after reset: %v", r)
	}
	if _, err := f.db.AuthenticateSession(ctx, session); err == nil {
		t.Fatal("a session outlived the password change")
	}
	if _, _, err := f.db.Login(ctx, "claire.morel@quai-bleu.example", demo.Password, time.Hour); err == nil {
		t.Fatal("the old password still works")
	}
	// The secrets never reach the request log.
	logs := f.logs.String()
	for _, s := range []string{m.Secret, m2.Secret, m3.Secret, m4.Secret, mr.Secret} {
		if strings.Contains(logs, s) {
			t.Errorf("a link secret (%.6s…) reached the logs", s)
		}
	}
}

func TestPasswordResetsAreRateLimited(t *testing.T) {
	t.Parallel()
	f := bhSetup(t, &setupOpts{limits: httpapi.Limits{LoginPerEmail: 2, LoginPerIP: 100}})
	for i := 0; i < 2; i++ {
		if r := f.bhDo(t, "POST", "/api/v1/password-resets", "", map[string]any{"email": "someone@example.com"}, nil); r.Status != 202 {
			t.Fatalf("reset %d: %v", i, r)
		}
	}
	r := f.bhDo(t, "POST", "/api/v1/password-resets", "", map[string]any{"email": "someone@example.com"}, nil)
	bhProblem(t, r, 429, booking.ERATELIMITED)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}
