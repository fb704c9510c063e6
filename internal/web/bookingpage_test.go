package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// browserAccept is what a browser sends when it navigates or submits a form.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

// browse is c.do as a browser does it: with Accept: text/html.
func (c *client) browse(t *testing.T, method, path string, form url.Values) (*http.Response, string) {
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
	req.Header.Set("Accept", browserAccept)
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

// userName and orgName read the demo's people and companies as the pages name them.
func (a *app) userName(t *testing.T, who string) string {
	t.Helper()
	var name string
	if err := a.db.Pool.QueryRow(context.Background(), `SELECT name FROM users WHERE email = $1`, a.emails[who]).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

func (a *app) orgName(t *testing.T, who string) string {
	t.Helper()
	var name string
	if err := a.db.Pool.QueryRow(context.Background(), `SELECT o.name FROM users u JOIN organisations o ON o.id = u.organisation_id WHERE u.email = $1`,
		a.emails[who]).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestBookingPage: a booking's own page, where notices link, for its producer and a
// manager, in English and French; another company's producer gets the HTML 404 page.
func TestBookingPage(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	_, first, second := seedBookings(t, a)
	href := "/bookings/" + second.ID.String()

	c := a.client(t, "en")
	c.login(t, "producer")
	st, body, _ := c.get(t, href)
	if st != http.StatusOK {
		t.Fatalf("the producer's booking page: %d\n%s", st, body)
	}
	checkFormsAndLabels(t, href, body)
	start, _ := time.Parse("2006-01-02T15:04:05-07:00", second.StartLocal)
	for _, want := range []string{
		"<h1 id=\"booking-title\">Le Souffle du Baobab</h1>", `data-status="hold"`, `data-rank="2"`,
		start.Format("15:04") + "–18:00 (Africa/Casablanca, UTC+00:00)", // site-local, zone and offset
		"Mix Stage A", "of working time", "Your place in the queue",
		a.orgName(t, "producer"),
		"Hold placed, rank 2", // the history, from the audit log
		`action="/bookings/` + second.ID.String() + `/confirm"`, `action="/bookings/` + second.ID.String() + `/release"`,
		`name="back" value="` + href + `"`, "Not part of a plan.", `id="quote-total"`, "MAD",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the producer's booking page lacks %q", want)
		}
	}
	if strings.Contains(body, "/decline") || strings.Contains(body, "Sable et Sel") {
		t.Error("the producer's page offers to decline, or names another company's booking")
	}
	if m := rawKey.FindString(stripURLs(body)); m != "" {
		t.Errorf("untranslated key %q", m)
	}
	// My bookings link to it.
	if _, list, _ := c.get(t, "/bookings"); !strings.Contains(list, `href="`+href+`"`) {
		t.Error("my bookings do not link the booking's page")
	}
	fr := a.client(t, "fr")
	fr.login(t, "producer")
	_, body, _ = fr.get(t, href)
	for _, want := range []string{"<html lang=\"fr\">", "Option posée, rang 2", "Historique", "Ce que vous pouvez faire", "(Africa/Casablanca, UTC+00:00)", "Votre place dans la file"} {
		if !strings.Contains(body, want) {
			t.Errorf("the French booking page lacks %q", want)
		}
	}

	// Another company's booking is not there for this producer: the HTML 404 page in
	// their language, which does not name it; the API still answers problem+json.
	res, body := fr.browse(t, "GET", "/bookings/"+first.ID.String(), nil)
	if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, `id="error-page"`) || !strings.Contains(body, "Réservation") || strings.Contains(body, "Sable et Sel") {
		t.Errorf("another company's booking: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if st, _, _ := c.get(t, "/bookings/"+uuid.NewString()); st != http.StatusNotFound {
		t.Errorf("a booking that does not exist: %d", st)
	}

	// The manager sees the company, neutral words, and may decline; the decline comes
	// back to the page and shows in its history with who did it.
	m := a.client(t, "en")
	csrf := m.login(t, "manager")
	mhref := "/bookings/" + first.ID.String()
	st, body, _ = m.get(t, mhref)
	if st != http.StatusOK {
		t.Fatalf("the manager's booking page: %d", st)
	}
	checkFormsAndLabels(t, mhref, body)
	for _, want := range []string{"Sable et Sel", a.orgName(t, "producer_other"), "This hold's place in the queue", `action="/bookings/` + first.ID.String() + `/decline"`, `id="reschedule-form"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the manager's booking page lacks %q", want)
		}
	}
	if strings.Contains(body, "Your place") || strings.Contains(body, "Your challenge") || strings.Contains(body, "Back to my bookings") {
		t.Error("the manager's booking page speaks as to the producer")
	}
	res, _ = m.do(t, "POST", mhref+"/decline", url.Values{"csrf_token": {csrf}, "back": {mhref}, "reason": {"suite under repair"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != mhref {
		t.Fatalf("decline from the page: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body, _ = m.get(t, mhref)
	manager := a.userName(t, "manager")
	if !strings.Contains(body, "Declined.") || !strings.Contains(body, `data-status="declined"`) ||
		!regexp.MustCompile(`<strong>Declined</strong> — reason: suite under repair<br><small class="muted">[^<]+ · `+regexp.QuoteMeta(manager)+` \(studio manager\)</small>`).MatchString(body) {
		t.Errorf("the declined booking's page:\n%s", body)
	}
	// Its producer is told the role, not the manager's name.
	o := a.client(t, "en")
	o.login(t, "producer_other")
	_, body, _ = o.get(t, mhref)
	if !strings.Contains(body, "<strong>Declined</strong>") || strings.Contains(body, manager) {
		t.Error("the producer's history of the decline")
	}
	if b, _ := a.db.FindBooking(ctx, booking.System, first.ID); b.Status != booking.StatusDeclined {
		t.Fatalf("after the decline the booking is %s", b.Status)
	}
	// Operators do not see bookings.
	op := a.client(t, "en")
	op.login(t, "operator")
	if st, _, _ := op.get(t, href); st != http.StatusForbidden {
		t.Errorf("operator on a booking page: %d", st)
	}
}

// TestErrorPagesForBrowsers: a browser gets 404, 403 and 405 as pages in its language,
// with the right status; API clients, and requests not asking for HTML, still get
// problem+json.
func TestErrorPagesForBrowsers(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	for _, lang := range []struct {
		accept                               string
		html                                 string
		notFound, forbidden, notHere, noPlan string
	}{
		{"en", `<html lang="en">`, "Page not found", "Not allowed", "Not possible here", "Post-production plan"},
		{"fr-FR,fr;q=0.9", `<html lang="fr">`, "Page introuvable", "Non autorisé", "Impossible ici", "Plan de post-production"},
	} {
		c := a.client(t, lang.accept)
		isPage := func(what string, res *http.Response, body string, status int, title string) {
			t.Helper()
			if res.StatusCode != status || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(body, lang.html) || !strings.Contains(body, `<h1 id="error-title">`+title+`</h1>`) ||
				!strings.Contains(body, `href="/" id="error-home"`) {
				t.Errorf("%s (%s): %d %s\n%s", what, lang.accept, res.StatusCode, res.Header.Get("Content-Type"), body)
			}
		}
		isProblem := func(what string, res *http.Response, status int) {
			t.Helper()
			if res.StatusCode != status || res.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s (%s): %d %s, want %d problem+json", what, lang.accept, res.StatusCode, res.Header.Get("Content-Type"), status)
			}
		}
		// Signed out: an unknown page, with the way to sign in.
		res, body := c.browse(t, "GET", "/no-such-page", nil)
		isPage("unknown page, signed out", res, body, http.StatusNotFound, lang.notFound)
		if !strings.Contains(body, `href="/login?next=%2Fno-such-page"`) {
			t.Errorf("the signed-out 404 page does not offer to sign in")
		}
		csrf := c.login(t, "producer")
		res, body = c.browse(t, "GET", "/no-such-page?x=1", nil)
		isPage("unknown page", res, body, http.StatusNotFound, lang.notFound)
		if !strings.Contains(body, `<nav class="menu"`) || strings.Contains(body, "/login?next") {
			t.Error("the 404 page of a signed-in producer has no menu")
		}
		res, body = c.browse(t, "GET", "/manage/queue", nil)
		isPage("a manager's page", res, body, http.StatusForbidden, lang.forbidden)
		if !strings.Contains(body, `href="/bookings"`) {
			t.Error("the 403 page does not show the producer where they may go")
		}
		res, body = c.browse(t, "GET", "/logout", nil)
		isPage("GET on a form's address", res, body, http.StatusMethodNotAllowed, lang.notHere)
		res, body = c.browse(t, "POST", "/notifications/read", url.Values{"all": {"1"}})
		isPage("a form without its token", res, body, http.StatusForbidden, lang.forbidden)
		res, body = c.browse(t, "GET", "/plans/"+uuid.NewString(), nil)
		isPage("a plan that is not there", res, body, http.StatusNotFound, lang.noPlan)
		// The API keeps problem+json whatever the client accepts.
		res, _ = c.browse(t, "GET", "/api/v1/no-such-thing", nil)
		isProblem("unknown API path", res, http.StatusNotFound)
		res, _ = c.browse(t, "DELETE", "/api/v1/me", nil)
		isProblem("a method the API route does not take", res, http.StatusMethodNotAllowed)
		res, _ = c.browse(t, "GET", "/api/v1/utilisation", nil)
		isProblem("an API route the role may not call", res, http.StatusForbidden)
		// And so do clients that do not ask for HTML.
		res, _ = c.do(t, "GET", "/no-such-page", nil)
		isProblem("unknown page without Accept", res, http.StatusNotFound)
		res, _ = c.do(t, "GET", "/manage/queue", nil)
		isProblem("a manager's page without Accept", res, http.StatusForbidden)
		_ = csrf
	}
}

var stageRow = regexp.MustCompile(`<tr id="stage-([a-z_]+)" data-stage="[a-z_]+" data-booking-status="([a-z]+)"`)

// TestPlansListConfirmAllAndLive: the lists of plans, a plan read live after a
// manager declined a stage's hold, and confirming every stage at once — approval
// requested where the site wants it, a challenge where a hold is ahead, and then a
// manager's confirmation of the rest.
func TestPlansListConfirmAllAndLive(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	c := a.client(t, "en")
	csrf := c.login(t, "producer")
	site := a.sites["casablanca"]
	baobab := a.production(t, "Le Souffle du Baobab")
	id := c.propose(t, url.Values{"csrf_token": {csrf}, "production": {baobab.String()}, "site": {site.ID.String()}, "template": {"feature"},
		"skip": {"offline_edit", "picture_lock"}, "earliest": {"2027-03-01"}, "deadline": {"2027-04-26"}})
	p, err := a.db.FindPlan(ctx, a.actors["producer"], id)
	if err != nil || len(p.Stages) != 6 {
		t.Fatalf("plan: %v, %d stages", err, len(p.Stages))
	}
	// Another company holds the first stage's room and time first: the plan's hold
	// will be second in line there.
	s0 := p.Stages[0]
	ahead := a.book(t, "producer_other", a.production(t, "Sable et Sel"), s0.Resources[0].ID, s0.Start, s0.End, booking.StatusHold)

	// The plan is listed, with the viewer's others and under its production.
	_, body, _ := c.get(t, "/plans")
	checkFormsAndLabels(t, "/plans", body)
	if m := rawKey.FindString(stripURLs(body)); m != "" || strings.Contains(body, "plans.") {
		t.Errorf("/plans: untranslated key %q", m)
	}
	if !strings.Contains(body, `href="/plans/`+id.String()+`"`) || !strings.Contains(body, `data-status="proposed"`) || !strings.Contains(body, "Le Souffle du Baobab") {
		t.Fatalf("/plans lacks the plan:\n%s", body)
	}
	if res, _ := c.browse(t, "GET", "/plans", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("/plans from a browser: %d", res.StatusCode)
	}
	res, _ := c.do(t, "POST", "/plans/"+id.String()+"/accept", url.Values{"csrf_token": {csrf}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/bookings" {
		t.Fatalf("accept: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body, _ = c.get(t, "/productions/"+baobab.String()+"/plans")
	if !strings.Contains(body, "Plans for Le Souffle du Baobab") || !strings.Contains(body, `data-status="accepted"`) || !strings.Contains(body, "6 holds") {
		t.Fatalf("the production's plans:\n%s", body)
	}
	if _, body, _ := c.get(t, "/productions"); !strings.Contains(body, `href="/productions/`+baobab.String()+`/plans"`) {
		t.Error("the productions list does not link a production's plans")
	}
	o := a.client(t, "en")
	ocsrf := o.login(t, "producer_other")
	if st, _, _ := o.get(t, "/productions/"+baobab.String()+"/plans"); st != http.StatusNotFound {
		t.Errorf("another company's production's plans: %d", st)
	}
	if _, body, _ := o.get(t, "/plans"); strings.Contains(body, id.String()) {
		t.Error("another company's producer sees the plan in /plans")
	}

	p, _ = a.db.FindPlan(ctx, a.actors["producer"], id)
	last := p.Stages[len(p.Stages)-1]
	_, body, _ = c.get(t, "/plans/"+id.String())
	if !strings.Contains(body, "Every stage has its hold.") || !strings.Contains(body, `action="/plans/`+id.String()+`/confirm"`) ||
		!strings.Contains(body, "Confirm all 6 holds") || !strings.Contains(body, `href="/bookings/`+last.BookingID.String()+`"`) {
		t.Fatalf("the accepted plan's page:\n%s", body)
	}
	// The stage's booking links back to its plan.
	if _, b, _ := c.get(t, "/bookings/"+last.BookingID.String()); !strings.Contains(b, `href="/plans/`+id.String()+`#stage-`+last.ID+`"`) {
		t.Error("the stage's booking page does not link its plan")
	}

	// A manager declines the last stage's hold: the plan says so, not that every
	// stage has its hold.
	if _, err := a.db.Act(ctx, a.actors["manager"], *last.BookingID, booking.ActionDecline, booking.ActOptions{Reason: "mix stage closed"}); err != nil {
		t.Fatal(err)
	}
	_, body, _ = c.get(t, "/plans/"+id.String())
	statuses := map[string]string{}
	for _, m := range stageRow.FindAllStringSubmatch(body, -1) {
		statuses[m[1]] = m[2]
	}
	if statuses[last.ID] != "declined" || statuses[s0.ID] != "hold" || len(statuses) != 6 {
		t.Errorf("stage statuses on the plan page: %v", statuses)
	}
	if strings.Contains(body, "Every stage has its hold") || !strings.Contains(body, "1 stage no longer has its booking") || !strings.Contains(body, "Confirm all 5 holds") {
		t.Errorf("the plan after a decline:\n%s", body)
	}
	checkFormsAndLabels(t, "the accepted plan", body)
	if m := rawKey.FindString(stripURLs(body)); m != "" {
		t.Errorf("the accepted plan: untranslated key %q", m)
	}
	fr := a.client(t, "fr")
	frcsrf := fr.login(t, "producer")
	if _, body, _ := fr.get(t, "/plans/"+id.String()); !strings.Contains(body, "1 étape n’a plus sa réservation") || !strings.Contains(body, ">Refusée</a>") {
		t.Error("the French plan page after a decline")
	}

	// The site wants approval: confirming the plan asks it for four stages and
	// challenges the hold ahead of the first; the declined one is left alone.
	pol, _ := a.db.SitePolicy(ctx, site.ID)
	pol.ConfirmNeedsApproval = true
	if _, err := a.db.UpdateSitePolicy(ctx, booking.System, pol); err != nil {
		t.Fatal(err)
	}
	if res, _ := c.do(t, "POST", "/plans/"+id.String()+"/confirm", url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("confirm without its token: %d", res.StatusCode)
	}
	if res, _ := o.do(t, "POST", "/plans/"+id.String()+"/confirm", url.Values{"csrf_token": {ocsrf}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("another company confirming the plan: %d", res.StatusCode)
	}
	res, _ = fr.do(t, "POST", "/plans/"+id.String()+"/confirm", url.Values{"csrf_token": {frcsrf}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/plans/"+id.String() {
		t.Fatalf("confirm all: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body, _ = fr.get(t, "/plans/"+id.String())
	for _, want := range []string{"4 attendent l’approbation d’un responsable", "1 a des options devant elle", "1 n’a plus d’option à confirmer"} {
		if !strings.Contains(body, want) {
			t.Errorf("the French flash after confirming lacks %q", want)
		}
	}
	check := func(want map[string]string) {
		t.Helper()
		for _, s := range p.Stages {
			b, err := a.db.FindBooking(ctx, booking.System, *s.BookingID)
			if err != nil {
				t.Fatal(err)
			}
			got := string(b.Status)
			switch {
			case b.Status == booking.StatusHold && b.Challenge != nil:
				got = "challenge"
			case b.Status == booking.StatusHold && b.ApprovalPending:
				got = "approval"
			}
			w := want[s.ID]
			if w == "" {
				w = want[""]
			}
			if got != w {
				t.Errorf("stage %s: %s, want %s", s.ID, got, w)
			}
		}
	}
	check(map[string]string{s0.ID: "challenge", last.ID: "declined", "": "approval"})
	if b, _ := a.db.FindBooking(ctx, booking.System, ahead.ID); len(b.ChallengedBy) != 1 {
		t.Errorf("the hold ahead is not challenged: %+v", b.ChallengedBy)
	}
	// The manager confirms the plan: the four approvals become confirmations; the
	// challenge waits for its deadline.
	m := a.client(t, "en")
	mcsrf := m.login(t, "manager")
	res, _ = m.do(t, "POST", "/plans/"+id.String()+"/confirm", url.Values{"csrf_token": {mcsrf}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the manager's confirm all: %d", res.StatusCode)
	}
	_, body, _ = m.get(t, "/plans/"+id.String())
	if !strings.Contains(body, "4 stages confirmed; 1 has holds ahead") || !strings.Contains(body, "1 has no hold left to confirm") ||
		!strings.Contains(body, "1 stage no longer has its booking") || !strings.Contains(body, "4 of 6 stages are confirmed. 1 hold is still to be confirmed") {
		t.Errorf("the manager's plan page after confirming:\n%s", body)
	}
	check(map[string]string{s0.ID: "challenge", last.ID: "declined", "": "confirmed"})
	// Each confirmation is in its booking's history, and the plan's in the audit log.
	_, body, _ = m.get(t, "/bookings/"+p.Stages[1].BookingID.String())
	if !strings.Contains(body, "Confirmation asked: awaiting a manager's approval") || !strings.Contains(body, "<strong>Confirmed</strong>") {
		t.Errorf("the stage's booking history:\n%s", body)
	}
	var n int
	if err := a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'plan.confirmed' AND object_id = $1`, id.String()).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d plan.confirmed audit rows (%v)", n, err)
	}
	// Nothing is left to confirm but the challenge: confirming again changes nothing.
	res, _ = m.do(t, "POST", "/plans/"+id.String()+"/confirm", url.Values{"csrf_token": {mcsrf}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirming again: %d", res.StatusCode)
	}
	if _, body, _ = m.get(t, "/plans/"+id.String()); !strings.Contains(body, "4 were already confirmed") {
		t.Errorf("confirming again:\n%s", body)
	}
	check(map[string]string{s0.ID: "challenge", last.ID: "declined", "": "confirmed"})
}

// TestConfirmPlanIsAllOrNothing: a stage that cannot be confirmed leaves every hold of
// the plan as it was, and the message names the stage.
func TestConfirmPlanIsAllOrNothing(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	c := a.client(t, "en")
	csrf := c.login(t, "producer")
	id := c.propose(t, url.Values{"csrf_token": {csrf}, "production": {a.production(t, "Xaritu Ndox").String()},
		"site": {a.sites["casablanca"].ID.String()}, "template": {"short"}, "earliest": {"2027-03-15"}})
	if res, _ := c.do(t, "POST", "/plans/"+id.String()+"/accept", url.Values{"csrf_token": {csrf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", res.StatusCode)
	}
	p, err := a.db.FindPlan(ctx, a.actors["producer"], id)
	if err != nil || len(p.Stages) < 2 {
		t.Fatalf("plan: %v %+v", err, p)
	}
	// The last stage's room went under maintenance over its slot (written straight
	// into the table: the service refuses a block over a booking, but a room can still
	// break down): its hold cannot be confirmed there, after the others were.
	s := p.Stages[len(p.Stages)-1]
	if _, err := a.db.Pool.Exec(ctx, `INSERT INTO resource_blocks (resource_id, during, kind, reason) VALUES ($1, tstzrange($2, $3), 'maintenance', 'lamp')`,
		s.Resources[0].ID, s.Start, s.End); err != nil {
		t.Fatal(err)
	}
	res, _ := c.do(t, "POST", "/plans/"+id.String()+"/confirm", url.Values{"csrf_token": {csrf}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm all: %d", res.StatusCode)
	}
	_, body, _ := c.get(t, "/plans/"+id.String())
	if !strings.Contains(body, "Nothing was confirmed: the stage “") || !strings.Contains(body, "In the way: "+s.Resources[0].Name+", a block (leave or maintenance), ") {
		t.Errorf("the refusal:\n%s", body)
	}
	for _, st := range p.Stages {
		if b, _ := a.db.FindBooking(ctx, booking.System, *st.BookingID); b.Status != booking.StatusHold || b.ApprovalPending {
			t.Errorf("stage %s is %s after a refused confirmation", st.ID, b.Status)
		}
	}
}

// TestManagerWordingApprovalCardsAndClashes: managers' pages speak of the holds, not
// to them; an approval card names the company and the price; a clash names the
// interval in the way; people are greeted by name.
func TestManagerWordingApprovalCardsAndClashes(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	confirmed, first, second := seedBookings(t, a)
	pol, _ := a.db.SitePolicy(ctx, a.sites["casablanca"].ID)
	pol.ConfirmNeedsApproval = true
	if _, err := a.db.UpdateSitePolicy(ctx, booking.System, pol); err != nil {
		t.Fatal(err)
	}
	// The first hold asks for approval; the second, behind it, challenges it.
	if _, err := a.db.Act(ctx, a.actors["producer_other"], first.ID, booking.ActionConfirm, booking.ActOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, err := a.db.Act(ctx, a.actors["producer"], second.ID, booking.ActionConfirm, booking.ActOptions{}); err != nil || b.Challenge == nil {
		t.Fatalf("challenge: %v %+v", err, b.Challenge)
	}
	m := a.client(t, "en")
	m.login(t, "manager")
	_, body, _ := m.get(t, "/manage/queue")
	card := regexp.MustCompile(`(?s)<article class="booking card status-hold" id="b-` + first.ID.String() + `".*?</article>`).FindString(body)
	if card == "" || !strings.Contains(card, `<dd class="company">`+a.orgName(t, "producer_other")+`</dd>`) ||
		!regexp.MustCompile(`<dd class="price">[0-9\x{202f}]+\.[0-9]{2}\x{a0}MAD</dd>`).MatchString(card) ||
		!strings.Contains(card, `href="/bookings/`+first.ID.String()+`"`) {
		t.Errorf("the approval card:\n%s", card)
	}
	if !strings.Contains(body, "then this hold is confirmed") || strings.Contains(body, "Your challenge") || strings.Contains(body, "Your place") ||
		strings.Contains(body, "behind yours") || strings.Contains(body, "then yours") {
		t.Errorf("the manager's queue speaks as to a producer")
	}
	_, body, _ = m.get(t, "/manage/timeline")
	if strings.Contains(body, "Your challenge") || strings.Contains(body, "Your place") || !strings.Contains(body, `href="/bookings/`+confirmed.ID.String()+`"`) {
		t.Error("the manager's timeline speaks as to a producer, or does not link the bookings' pages")
	}
	mfr := a.client(t, "fr")
	mfr.login(t, "manager")
	if _, body, _ := mfr.get(t, "/manage/queue"); strings.Contains(body, "Votre défi") || strings.Contains(body, "la vôtre") || !strings.Contains(body, "Société") {
		t.Error("the French queue speaks as to a producer, or lacks the company")
	}
	// The producer's own words stay theirs.
	c := a.client(t, "en")
	csrf := c.login(t, "producer")
	_, body, _ = c.get(t, "/bookings")
	if !strings.Contains(body, "Your challenge") {
		t.Error("the producer's bookings lost their wording")
	}
	// People are greeted by name.
	name := a.userName(t, "producer")
	_, body, _ = c.get(t, "/")
	if !strings.Contains(body, `<h1 id="greeting">Welcome, `+name+`</h1>`) || !strings.Contains(body, `<span class="who" title="`+a.emails["producer"]+`">`+name+` · `) {
		t.Errorf("the dashboard does not greet %s", name)
	}
	fr := a.client(t, "fr")
	fr.login(t, "producer")
	if _, body, _ := fr.get(t, "/"); !strings.Contains(body, "Bienvenue, "+name) {
		t.Error("the French dashboard does not greet by name")
	}

	// A hold over a confirmed booking: the form says what is in the way, and when, in
	// the site's wall-clock.
	suite := a.resource(t, "Grading Suite 2 — Anfa")
	start, _ := time.Parse("2006-01-02T15:04:05-07:00", confirmed.StartLocal)
	day := start.Format("2006-01-02")
	res, body := c.do(t, "POST", "/bookings", url.Values{"csrf_token": {csrf}, "production": {a.production(t, "Xaritu Ndox").String()},
		"resource": {suite.String()}, "start_local": {day + "T10:00"}, "end_local": {day + "T12:00"}})
	want := regexp.MustCompile(`In the way: Grading Suite 2 — Anfa, a confirmed booking, [A-Z][a-z]{2} ` + regexp.QuoteMeta(fmt.Sprintf("%d %s %d, %s", start.Day(),
		start.Format("Jan"), start.Year(), start.Format("15:04"))) + `–13:00 \(Africa/Casablanca, UTC\+00:00\)\.`)
	if res.StatusCode != http.StatusUnprocessableEntity || !want.MatchString(body) {
		t.Errorf("a clash: %d, want %s in\n%s", res.StatusCode, want, body)
	}
}

// TestCSVExportsForSpreadsheets: the utilisation and treaty CSVs start with a UTF-8
// byte-order mark, so a French spreadsheet reads "—" and "é", and name the site alike.
func TestCSVExportsForSpreadsheets(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	confirmed, _, _ := seedBookings(t, a)
	site := a.sites["casablanca"]
	c := a.client(t, "fr")
	c.login(t, "admin")
	from := a.siteDay(t, "casablanca", 0)
	q := url.Values{"site": {"casablanca"}, "from": {from.String()}, "to": {from.AddDays(20).String()}, "group_by": {"resource,day"}}
	res, ops := c.do(t, "GET", "/ops/utilisation.csv?"+q.Encode(), nil)
	if res.StatusCode != 200 || !strings.HasPrefix(ops, "\ufeffsite,time_zone,resource_id,") {
		t.Fatalf("utilisation CSV: %d, starts %q", res.StatusCode, ops[:min(len(ops), 40)])
	}
	start, _ := time.Parse("2006-01-02T15:04:05-07:00", confirmed.StartLocal)
	tq := url.Values{"site": {site.ID.String()}, "from": {start.AddDate(0, 0, -1).Format("2006-01-02")}, "to": {start.AddDate(0, 0, 1).Format("2006-01-02")}}
	res, treaty := c.do(t, "GET", "/reports/treaty.csv?"+tq.Encode(), nil)
	if res.StatusCode != 200 || !strings.HasPrefix(treaty, "\ufeffsite,currency,") {
		t.Fatalf("treaty CSV: %d, starts %q", res.StatusCode, treaty[:min(len(treaty), 40)])
	}
	read := func(raw string) [][]string {
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(raw, "\ufeff"))).ReadAll()
		if err != nil || len(recs) < 2 {
			t.Fatalf("CSV: %v, %d records", err, len(recs))
		}
		return recs
	}
	opsRecs, treatyRecs := read(ops), read(treaty)
	if opsRecs[1][0] != site.Name || treatyRecs[1][0] != site.Name {
		t.Errorf("the site is named %q in the utilisation CSV and %q in the treaty CSV, want %q in both", opsRecs[1][0], treatyRecs[1][0], site.Name)
	}
}

// TestOpsJobsNeverWaitSinceTheFuture: a job scheduled for later says when it runs
// next, not that it has waited since then; the job UI opens beside posthub.
func TestOpsJobsNeverWaitSinceTheFuture(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	// A reminder due in three days, as River keeps them.
	if _, err := a.db.Pool.Exec(ctx, `INSERT INTO river_job (args, kind, max_attempts, queue, state, scheduled_at, priority)
		VALUES ('{}', 'reminder', 5, 'default', 'scheduled', now() + interval '3 days', 1)`); err != nil {
		t.Fatal(err)
	}
	c := a.client(t, "en")
	c.login(t, "operator")
	_, body, _ := c.get(t, "/ops")
	row := regexp.MustCompile(`(?s)<tr[^>]*><th scope="row">default</th><td>scheduled</td><td>1</td><td>([^<]*)</td></tr>`).FindStringSubmatch(body)
	if row == nil || !strings.HasPrefix(row[1], "next run ") {
		t.Errorf("the scheduled job's row: %v", row)
	}
	if !strings.Contains(body, `<a href="/ops/jobs/" target="_blank" rel="noopener" id="jobs-link">`) {
		t.Error("the job UI link does not open beside posthub")
	}
}
