package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

var planLocation = regexp.MustCompile(`^/plans/([0-9a-f-]{36})$`)

// propose posts the plan form and returns the new plan's id.
func (c *client) propose(t *testing.T, form url.Values) uuid.UUID {
	t.Helper()
	res, body := c.do(t, "POST", "/plans", form)
	m := planLocation.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("proposing a plan: %d → %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	return uuid.MustParse(m[1])
}

func TestPlanFormHasLabelledFieldsAndRefusesBadRequests(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	c := a.client(t, "en")
	csrf := c.login(t, "producer")
	st, body, token := c.get(t, "/plans/new")
	if st != http.StatusOK || token == "" {
		t.Fatalf("plan form: %d, token %q", st, token)
	}
	checkFormsAndLabels(t, "/plans/new", body)
	for _, want := range []string{
		`<form method="post" action="/plans" id="plan-form" data-busy="Planning… a large plan can take a few seconds.">`,
		`<label for="plan-production">Production</label>`, `<label for="plan-site">Site</label>`, `<label for="plan-template">Pipeline</label>`,
		`<label for="skip-offline_edit">Offline edit</label>`, `<label for="skip-picture_lock">Picture lock screening</label>`,
		`<label for="plan-earliest">Picture lock (earliest start)</label>`, `id="plan-earliest" name="earliest" type="date" required`,
		`<label for="plan-deadline">Delivery deadline (optional)</label>`, `<label for="plan-hdr">Grade in an HDR suite</label>`,
		`<label for="plan-colourist-lang">Colourist's language</label>`, `<option value="wo">Wolof</option>`,
		`<option value="feature" selected>Feature</option>`, `<option value="series_episode">Series episode</option>`,
		"Le Souffle du Baobab — Feature, 98 min", `data-zone="Africa/Dakar"`,
		// The nav link, current on this page.
		`<a href="/plans/new" aria-current="page">Request a plan</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("plan form lacks %q", want)
		}
	}
	// Only the producer's own productions.
	if strings.Contains(body, "Sable et Sel") || strings.Contains(body, "Layali Derb Sultan") {
		t.Error("the plan form offers another organisation's production")
	}
	fr := a.client(t, "fr")
	fr.login(t, "producer")
	_, body, _ = fr.get(t, "/plans/new")
	for _, want := range []string{`<label for="plan-earliest">Image verrouillée le (début au plus tôt)</label>`, "Demander un plan", "Long métrage, 98 min", "Montage offline"} {
		if !strings.Contains(body, want) {
			t.Errorf("French plan form lacks %q", want)
		}
	}

	site := a.sites["casablanca"]
	baobab := a.production(t, "Le Souffle du Baobab")
	base := url.Values{"csrf_token": {csrf}, "production": {baobab.String()}, "site": {site.ID.String()}, "template": {"feature"},
		"skip": {"offline_edit"}, "earliest": {"2027-03-01"}, "deadline": {"2027-04-26"}, "colourist_lang": {"ar"}}
	for _, c2 := range []struct {
		change url.Values
		want   string
	}{
		{url.Values{"production": {""}}, "Choose a production."},
		{url.Values{"earliest": {""}}, "Give the picture-lock date."},
		{url.Values{"deadline": {"2027-02-20"}}, "The deadline must be on or after the picture-lock date."},
		{url.Values{"template": {"opera"}}, "Choose a pipeline."},
	} {
		form := url.Values{}
		for k, v := range base {
			form[k] = v
		}
		for k, v := range c2.change {
			form[k] = v
		}
		res, body := c.do(t, "POST", "/plans", form)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c2.want) {
			t.Errorf("%v: %d, want 422 with %q", c2.change, res.StatusCode, c2.want)
		}
		// What was typed is kept.
		if !strings.Contains(body, `id="skip-offline_edit" name="skip" value="offline_edit" aria-describedby="plan-skip-help" checked`) ||
			!strings.Contains(body, `<option value="ar" selected>`) {
			t.Errorf("%v: the form lost what was typed", c2.change)
		}
	}
	// Without the token, nothing is planned.
	if res, _ := c.do(t, "POST", "/plans", url.Values{"production": {baobab.String()}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("plan without csrf_token: %d", res.StatusCode)
	}

	// A feature cannot be finished in Dakar (edit suites only): the page says why and
	// offers nothing to accept.
	dakar := base
	dakar.Set("site", a.sites["dakar"].ID.String())
	id := c.propose(t, dakar)
	st, body, _ = c.get(t, "/plans/"+id.String())
	if st != 200 || !strings.Contains(body, "This plan cannot place every stage") || !strings.Contains(body, `id="unmet"`) ||
		strings.Contains(body, "/accept") || strings.Contains(body, `id="plan-timeline"`) {
		t.Fatalf("an infeasible plan's page: %d\n%s", st, body)
	}

	// Operators do not plan.
	o := a.client(t, "en")
	o.login(t, "operator")
	if st, body, _ := o.get(t, "/plans/new"); st != http.StatusForbidden || strings.Contains(body, `href="/plans/new"`) {
		t.Errorf("operator /plans/new: %d", st)
	}
	if _, body, _ := o.get(t, "/"); strings.Contains(body, `href="/plans/new"`) {
		t.Error("the operator's navigation offers the planner")
	}
}

func TestPlanProposeShowAndAccept(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	c := a.client(t, "en")
	csrf := c.login(t, "producer")
	site := a.sites["casablanca"]
	baobab := a.production(t, "Le Souffle du Baobab")
	// Picture locked on Monday 1 March 2027; delivery eight weeks later.
	id := c.propose(t, url.Values{"csrf_token": {csrf}, "production": {baobab.String()}, "site": {site.ID.String()}, "template": {"feature"},
		"skip": {"offline_edit", "picture_lock"}, "earliest": {"2027-03-01"}, "deadline": {"2027-04-26"}, "hdr": {"1"}, "colourist_lang": {"fr"}})
	p, err := a.db.FindPlan(ctx, a.actors["producer"], id)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := calendar.LoadLocation(site.TimeZone)
	if !p.EarliestStart.Equal(time.Date(2027, 3, 1, 9, 0, 0, 0, loc)) || p.Deadline == nil || !p.Deadline.Equal(time.Date(2027, 4, 27, 0, 0, 0, 0, loc)) {
		t.Fatalf("the dates were not read as Casablanca's: %s, %v", p.EarliestStart, p.Deadline)
	}
	if !p.Placed || len(p.Stages) != 6 || p.Status != "proposed" || p.Currency != "MAD" {
		t.Fatalf("plan: %+v", p)
	}
	for _, s := range p.Stages {
		if s.ID == "grade" && s.Resources[0].Name != "Grading Suite 1 — Zellige" {
			t.Errorf("the grade is not in the HDR suite: %+v", s.Resources)
		}
		if s.ID == "offline_edit" || s.ID == "picture_lock" {
			t.Errorf("stage %s was to be skipped", s.ID)
		}
	}

	st, body, _ := c.get(t, "/plans/"+id.String())
	if st != http.StatusOK {
		t.Fatalf("plan page: %d", st)
	}
	checkFormsAndLabels(t, "plan page", body)
	if m := rawKey.FindString(stripURLs(body)); m != "" {
		t.Errorf("plan page: untranslated key %q", m)
	}
	if n := strings.Count(body, `<g class="stage" data-stage=`); n != 6 {
		t.Errorf("the timeline has %d stage rows", n)
	}
	if n := strings.Count(body, `<tr id="stage-`); n != 6 {
		t.Errorf("the table has %d stages", n)
	}
	quote := regexp.MustCompile(`id="quote-total">([0-9\x{202f}]+\.[0-9]{2})\x{a0}MAD<`).FindStringSubmatch(body)
	if quote == nil {
		t.Fatal("no quote in MAD with two decimals")
	}
	if got := strings.NewReplacer("\u202f", "", ".", "").Replace(quote[1]); got != strconv.FormatInt(p.QuoteMinor, 10) {
		t.Errorf("quote %s MAD, the plan says %d centimes", quote[1], p.QuoteMinor)
	}
	for _, want := range []string{
		`<svg xmlns="http://www.w3.org/2000/svg" id="plan-timeline"`, "Mon 1", "Mar 2027",
		"Conform", "Colour grade", "Sound editing", "Mix", "DCP mastering", "QC screening", "Grading Suite 1 — Zellige",
		"Times in Africa/Casablanca, UTC+00:00", "Mon 1 Mar 2027, 09:00", "before the deadline (", " of working time).", "end of Mon 26 Apr 2027",
		`action="/plans/` + id.String() + `/accept"`, "Accept and place holds",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("plan page lacks %q", want)
		}
	}
	fr := a.client(t, "fr")
	fr.login(t, "producer")
	_, body, _ = fr.get(t, "/plans/"+id.String())
	for _, want := range []string{"Étalonnage", "Mixage", "avant la date de livraison", "Accepter et poser les options", "lun. 1 mars 2027, 09:00"} {
		if !strings.Contains(body, want) {
			t.Errorf("French plan page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`[0-9]+,[0-9]{2}\x{a0}MAD`).MatchString(body) {
		t.Error("French plan page does not write the quote the French way")
	}

	// Another organisation's producer neither sees nor accepts it.
	o := a.client(t, "en")
	ocsrf := o.login(t, "producer_other")
	if st, body, _ := o.get(t, "/plans/"+id.String()); st != http.StatusNotFound || strings.Contains(body, "Le Souffle du Baobab") {
		t.Errorf("another producer's plan page: %d", st)
	}
	if res, _ := o.do(t, "POST", "/plans/"+id.String()+"/accept", url.Values{"csrf_token": {ocsrf}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("another producer accepting: %d", res.StatusCode)
	}
	// The manager may see it.
	m := a.client(t, "en")
	m.login(t, "manager")
	if st, _, _ := m.get(t, "/plans/"+id.String()); st != http.StatusOK {
		t.Errorf("manager's plan page: %d", st)
	}

	// Accepting places a hold per stage and says so on my bookings.
	if res, _ := c.do(t, "POST", "/plans/"+id.String()+"/accept", url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("accept without csrf_token: %d", res.StatusCode)
	}
	res, _ := c.do(t, "POST", "/plans/"+id.String()+"/accept", url.Values{"csrf_token": {csrf}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/bookings" {
		t.Fatalf("accept: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body, _ = c.get(t, "/bookings")
	if !strings.Contains(body, "6 holds were placed for Le Souffle du Baobab") {
		t.Errorf("no flash after accepting")
	}
	holds, _, _, err := a.db.ListBookings(ctx, a.actors["producer"], booking.BookingFilter{ProductionID: &baobab, Status: []booking.Status{booking.StatusHold}})
	if err != nil {
		t.Fatal(err)
	}
	if len(holds) != 6 {
		t.Fatalf("%d holds after accepting", len(holds))
	}
	for _, h := range holds {
		if !strings.Contains(body, `id="b-`+h.ID.String()+`"`) {
			t.Errorf("my bookings lacks hold %s", h.ID)
		}
	}
	_, body, _ = c.get(t, "/plans/"+id.String())
	if !strings.Contains(body, `data-status="accepted"`) || strings.Contains(body, "/accept") || !strings.Contains(body, `href="/bookings#b-`+holds[0].ID.String()+`"`) {
		t.Error("the accepted plan's page does not say so or link its holds")
	}
}

func TestPlanAcceptAfterCapacityMovedShowsTheNewPlan(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	c := a.client(t, "en")
	csrf := c.login(t, "producer")
	id := c.propose(t, url.Values{"csrf_token": {csrf}, "production": {a.production(t, "Xaritu Ndox").String()},
		"site": {a.sites["casablanca"].ID.String()}, "template": {"short"}, "earliest": {"2027-03-15"}})
	p, err := a.db.FindPlan(ctx, a.actors["producer"], id)
	if err != nil || !p.Placed {
		t.Fatalf("plan: %v %+v", err, p)
	}
	// Meanwhile the studio confirms another film on the first stage's room and time.
	first := p.Stages[0]
	a.book(t, "admin", a.production(t, "Layali Derb Sultan"), first.Resources[0].ID, first.Start, first.End, booking.StatusConfirmed)
	res, _ := c.do(t, "POST", "/plans/"+id.String()+"/accept", url.Values{"csrf_token": {csrf}})
	m := planLocation.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil || m[1] == id.String() {
		t.Fatalf("accept after capacity moved: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body, _ := c.get(t, res.Header.Get("Location"))
	for _, want := range []string{"Capacity changed since that plan was made, so nothing was booked.", `data-changed="1"`,
		`<span class="badge changed">Changed</span>`, `<g class="stage changed"`, `class="previous"`, "Was ", "Accept and place holds"} {
		if !strings.Contains(body, want) {
			t.Errorf("the new plan's page lacks %q", want)
		}
	}
	holds, _, _, _ := a.db.ListBookings(ctx, a.actors["producer"], booking.BookingFilter{Status: []booking.Status{booking.StatusHold}})
	if len(holds) != 0 {
		t.Errorf("a refused acceptance left %d holds", len(holds))
	}
	_, body, _ = c.get(t, "/plans/"+id.String())
	if !strings.Contains(body, `data-status="superseded"`) || strings.Contains(body, "/accept") {
		t.Error("the old plan does not say it was replaced")
	}
	// The new plan can be accepted.
	res, _ = c.do(t, "POST", "/plans/"+m[1]+"/accept", url.Values{"csrf_token": {csrf}})
	if res.Header.Get("Location") != "/bookings" {
		t.Fatalf("accepting the new plan: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
}
