package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/notify"
)

// mailbox is a Mailer that keeps every message, for tests to read their mail.
type mailbox struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (m *mailbox) Send(_ context.Context, msg notify.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

// waitFor is the first message to an address whose subject holds subject, waiting for
// the job queue to send it.
func (m *mailbox) waitFor(t *testing.T, to, subject string) notify.Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m.mu.Lock()
		for _, msg := range m.msgs {
			if msg.To == to && strings.Contains(msg.Subject, subject) {
				m.mu.Unlock()
				return msg
			}
		}
		m.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no mail %q to %s", subject, to)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// withMail runs the job workers on the app's database with a mailbox as the mailer,
// and queues password links' mails (and bookings' notices) to them, as posthub serve
// does. Use it on an app started without workers.
func (a *app) withMail(t *testing.T) *mailbox {
	t.Helper()
	mb := &mailbox{}
	log := slog.New(slog.DiscardHandler)
	deps := &jobs.Deps{Store: a.db, Mailer: mb, Logger: log, BaseURL: a.srv.URL}
	rc, err := jobs.NewClient(a.db.Pool, jobs.Options{Logger: log, MaxWorkers: 2, Deps: deps, Passwords: a.db})
	if err != nil {
		t.Fatal(err)
	}
	a.db.OnPasswordLink = jobs.PasswordLinkSink(rc)
	a.db.OnEvents = jobs.Sink(rc)
	if err := rc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rc.Stop(stop)
	})
	return mb
}

// passwordLink is the path of the link to set a password in a mail.
var passwordLink = regexp.MustCompile(`/password/([A-Za-z0-9_-]{20,})`)

func linkIn(t *testing.T, msg notify.Message) string {
	t.Helper()
	m := passwordLink.FindString(msg.Text)
	if m == "" {
		t.Fatalf("no password link in the mail:\n%s", msg.Text)
	}
	return m
}

// rawAdminKey matches a message key of the administration that leaked untranslated.
var rawAdminKey = regexp.MustCompile(`\b(admin|nav|error|errorpage|role|kind)\.[a-z][a-z0-9_]*\b`)

// fieldError is the reason shown beside a field (by its id), or "".
func fieldError(body, id string) string {
	m := regexp.MustCompile(`<p class="field-error" id="` + regexp.QuoteMeta(id) + `-error">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// inputValue is the value a text field (by its id) shows.
func inputValue(body, id string) string {
	m := regexp.MustCompile(`<input id="` + regexp.QuoteMeta(id) + `"[^>]*\bvalue="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		return "<no field " + id + ">"
	}
	return m[1]
}

// TestAdminPagesRenderInBothLanguages opens every administration page a role may see,
// in English and French: each answers 200 in its language, with no key left
// untranslated, no error, its forms carrying their CSRF token and every field
// labelled.
func TestAdminPagesRenderInBothLanguages(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	casa := a.sites["casablanca"]
	suite := a.resource(t, "Grading Suite 2 — Anfa")
	orgs, err := a.db.ListOrganisations(ctx, a.actors["admin"])
	if err != nil {
		t.Fatal(err)
	}
	// Something in each list: a rate card, a ring-fence, a rate, a webhook.
	if _, err := a.db.CreateRateCard(ctx, a.actors["admin"], booking.RateCardInput{SiteID: casa.ID, Kind: "grading_suite", Unit: "hour", AmountMinor: 150000}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.CreateRingFence(ctx, a.actors["admin"], booking.RingFenceInput{SiteID: casa.ID, Kind: "grading_suite", Programme: "Fonds Sud",
		SharePct: 20, Period: booking.PeriodQuarter, ReleaseDays: 14}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.CreateExchangeRate(ctx, a.actors["admin"], booking.ExchangeRateInput{Base: "EUR", Quote: "MAD", Rate: "10.85"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.db.CreateWebhook(ctx, a.actors["producer"], "https://teranga.example/hooks"); err != nil {
		t.Fatal(err)
	}
	res := "/admin/resources/" + suite.String()
	site := "/admin/sites/" + casa.ID.String()
	pages := map[string][]string{
		"admin": {"/admin", "/admin/sites", site, res, "/admin/organisations", "/admin/organisations/" + orgs[0].ID.String(), "/admin/users",
			"/admin/users/" + a.users["producer"].String(), "/admin/rate-cards", "/admin/rate-cards?site=dakar", "/admin/exchange-rates",
			"/admin/ring-fences", "/webhooks", "/account/tokens"},
		"manager":  {"/admin", "/admin/sites", site, res, "/admin/rate-cards", "/admin/exchange-rates", "/admin/ring-fences", "/account/tokens"},
		"producer": {"/account/tokens", "/webhooks"},
		"operator": {"/account/tokens"},
	}
	words := map[string][2]string{
		"/admin/sites": {"Add a site", "Ajouter un site"}, site: {"Add a resource", "Ajouter une ressource"},
		"/admin/users": {"Mail them an invitation", "Lui envoyer une invitation"}, "/account/tokens": {"Create a token", "Créer un jeton"},
		"/admin/ring-fences": {"Fonds Sud", "Fonds Sud"}, "/admin/exchange-rates": {"1 EUR = 10.85 MAD", "1 EUR = 10,85 MAD"},
	}
	for who, paths := range pages {
		for i, lang := range []string{"en", "fr-FR,fr;q=0.9"} {
			c := a.client(t, lang)
			c.login(t, who)
			for _, p := range paths {
				st, body, _ := c.get(t, p)
				if st != http.StatusOK {
					t.Errorf("%s %s (%s): status %d", who, p, lang, st)
					continue
				}
				if m := rawAdminKey.FindString(stripURLs(body)); m != "" {
					t.Errorf("%s %s (%s): untranslated key %q", who, p, lang, m)
				}
				if m := rawKey.FindString(stripURLs(body)); m != "" {
					t.Errorf("%s %s (%s): untranslated key %q", who, p, lang, m)
				}
				if strings.Contains(body, `class="error`) || strings.Contains(body, `class="field-error`) {
					t.Errorf("%s %s (%s): an error on the page", who, p, lang)
				}
				checkFormsAndLabels(t, who+" "+p, body)
				wantLang := map[int]string{0: `<html lang="en">`, 1: `<html lang="fr">`}[i]
				if !strings.Contains(body, wantLang) {
					t.Errorf("%s %s: not in %s", who, p, wantLang)
				}
				if w, ok := words[p]; ok && (who == "admin" || p != "/admin/sites") && !strings.Contains(body, w[i]) {
					t.Errorf("%s %s (%s): no %q", who, p, lang, w[i])
				}
			}
		}
	}
	// The menu: Administration for admins and managers, Webhooks for producers, the
	// tokens for everyone; a manager's administration leaves out people and companies.
	for who, want := range map[string][]string{"admin": {`href="/admin"`, `href="/account/tokens"`}, "manager": {`href="/admin"`},
		"producer": {`href="/webhooks"`, `href="/account/tokens"`}, "operator": {`href="/account/tokens"`}} {
		c := a.client(t, "en")
		c.login(t, who)
		_, body, _ := c.get(t, "/")
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s's menu lacks %s", who, w)
			}
		}
		if (who == "producer" || who == "operator") && strings.Contains(body, `href="/admin"`) {
			t.Errorf("%s's menu offers the administration", who)
		}
	}
	c := a.client(t, "en")
	c.login(t, "manager")
	_, body, _ := c.get(t, "/admin")
	if strings.Contains(body, `href="/admin/users"`) || strings.Contains(body, `href="/admin/organisations"`) || !strings.Contains(body, `href="/admin/rate-cards"`) {
		t.Errorf("a manager's administration: %s", body)
	}
	// The sign-in page offers "forgot your password?" in both languages.
	for lang, want := range map[string]string{"en": "Forgot your password?", "fr": "Mot de passe oublié ?"} {
		_, body, _ := a.client(t, lang).get(t, "/login")
		if !strings.Contains(body, want) || !strings.Contains(body, `action="/login/reset"`) {
			t.Errorf("/login (%s) has no %q form", lang, want)
		}
		checkFormsAndLabels(t, "/login "+lang, body)
	}
}

// title403 is the 403 page's title by language.
var title403 = map[string]string{"en": "Not allowed", "fr": "Non autorisé"}

// TestAdminPagesRefuseOtherRoles: a producer or an operator gets the 403 page on the
// administration, a manager on people, companies and a site they do not manage, and
// nothing changes.
func TestAdminPagesRefuseOtherRoles(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	other, err := a.db.CreateSite(ctx, a.actors["admin"], booking.SiteInput{Slug: "lagos", Name: "Lagos", Country: "NG", TimeZone: "Africa/Lagos", Currency: "NGN"})
	if err != nil {
		t.Fatal(err)
	}
	casa := a.sites["casablanca"]
	for who, paths := range map[string][]string{
		"producer": {"/admin", "/admin/sites", "/admin/sites/" + casa.ID.String(), "/admin/organisations", "/admin/users", "/admin/rate-cards",
			"/admin/exchange-rates", "/admin/ring-fences"},
		"operator": {"/admin", "/admin/sites", "/admin/users", "/webhooks"},
		"manager":  {"/admin/organisations", "/admin/users", "/admin/users/" + a.users["producer"].String(), "/admin/sites/" + other.ID.String(), "/webhooks"},
	} {
		for _, lang := range []string{"en", "fr"} {
			c := a.client(t, lang)
			c.login(t, who)
			for _, p := range paths {
				res, body := c.browse(t, "GET", p, nil)
				if res.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="error-page"`) || !strings.Contains(body, `data-status="403"`) {
					t.Errorf("%s GET %s (%s): %d, want the 403 page", who, p, lang, res.StatusCode)
				}
				if !strings.Contains(body, `<html lang="`+lang+`">`) || !strings.Contains(body, title403[lang]) {
					t.Errorf("%s GET %s: the 403 page is not in %s", who, p, lang)
				}
			}
		}
	}
	// Forms posted by the wrong role change nothing.
	c := a.client(t, "en")
	csrf := c.login(t, "producer")
	res, _ := c.browse(t, "POST", "/admin/sites", url.Values{"csrf_token": {csrf}, "name": {"Abuja"}, "country": {"NG"}, "time_zone": {"Africa/Lagos"}, "currency": {"NGN"}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a producer adding a site: %d", res.StatusCode)
	}
	m := a.client(t, "en")
	csrf = m.login(t, "manager")
	for path, form := range map[string]url.Values{
		"/admin/sites": {"name": {"Abuja"}, "country": {"NG"}, "time_zone": {"Africa/Lagos"}, "currency": {"NGN"}},
		"/admin/users": {"name": {"X"}, "email": {"x@example.com"}, "role": {"producer"}},
		"/admin/sites/" + casa.ID.String() + "/active": {"active": {"false"}},
		"/admin/sites/" + other.ID.String():            {"name": {"Lagos Island"}},
	} {
		form.Set("csrf_token", csrf)
		if res, _ := m.browse(t, "POST", path, form); res.StatusCode != http.StatusForbidden {
			t.Errorf("manager POST %s: %d, want 403", path, res.StatusCode)
		}
	}
	sites, _ := a.db.ListSites(ctx)
	for _, s := range sites {
		if s.Name == "Abuja" || s.Name == "Lagos Island" || !s.Active {
			t.Errorf("a refused form changed the sites: %+v", s)
		}
	}
}

// TestAdminFormsRefuseInWords: each refusal of the domain comes back as the form, as
// typed, with the reason beside its field in the page's language: a duplicate email,
// a zone not in the tz database, a slug taken, a resource with bookings ahead, the last
// admin, a stale version, a rate card for both a kind and a resource, a rate of a
// currency into itself, a ring-fence of a kind the site lacks, a token without a name,
// a webhook that is no URL.
func TestAdminFormsRefuseInWords(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	casa := a.sites["casablanca"]
	admin := a.client(t, "en")
	csrf := admin.login(t, "admin")
	fr := a.client(t, "fr")
	csrfFR := fr.login(t, "admin")
	orgs, _ := a.db.ListOrganisations(ctx, a.actors["admin"])
	var company uuid.UUID
	for _, o := range orgs {
		if o.Kind == booking.OrgProductionCompany {
			company = o.ID
		}
	}

	// A duplicate email: 409, beside the email, the form as typed.
	form := url.Values{"csrf_token": {csrf}, "name": {"Someone Else"}, "email": {a.emails["producer"]}, "role": {"producer"},
		"organisation": {company.String()}, "locale": {"en"}}
	res, body := admin.browse(t, "POST", "/admin/users", form)
	if res.StatusCode != http.StatusConflict || fieldError(body, "user-email") != "A user already has this email." {
		t.Fatalf("duplicate email: %d %q", res.StatusCode, fieldError(body, "user-email"))
	}
	if inputValue(body, "user-name") != "Someone Else" || !strings.Contains(body, `id="user-error"`) {
		t.Errorf("the refused user form lost what was typed")
	}
	form.Set("csrf_token", csrfFR)
	res, body = fr.browse(t, "POST", "/admin/users", form)
	if res.StatusCode != http.StatusConflict || fieldError(body, "user-email") != "Un utilisateur a déjà cet e-mail." {
		t.Fatalf("duplicate email in French: %d %q", res.StatusCode, fieldError(body, "user-email"))
	}
	// A malformed email is refused before the domain.
	form.Set("email", "not-an-email")
	res, body = fr.browse(t, "POST", "/admin/users", form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(body, "user-email"), "adresse e-mail") {
		t.Errorf("a malformed email: %d %q", res.StatusCode, fieldError(body, "user-email"))
	}

	// A zone not in the tz database: 422 beside the zone, naming the release.
	site := url.Values{"csrf_token": {csrf}, "name": {"Lagos"}, "country": {"NG"}, "time_zone": {"Africa/Atlantis"}, "currency": {"NGN"}}
	res, body = admin.browse(t, "POST", "/admin/sites", site)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(fieldError(body, "site-zone"), "Not a zone of the tz database (release 20") {
		t.Fatalf("bad zone: %d %q", res.StatusCode, fieldError(body, "site-zone"))
	}
	if inputValue(body, "site-zone") != "Africa/Atlantis" || !strings.Contains(body, `<option value="NGN" selected>`) {
		t.Error("the refused site form lost what was typed")
	}
	site.Set("csrf_token", csrfFR)
	res, body = fr.browse(t, "POST", "/admin/sites", site)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(fieldError(body, "site-zone"), "Ce n’est pas un fuseau de la base tz") {
		t.Fatalf("bad zone in French: %d %q", res.StatusCode, fieldError(body, "site-zone"))
	}
	// A currency not in the table, and a slug taken.
	site.Set("time_zone", "Africa/Lagos")
	site.Set("currency", "NGX")
	if res, body = fr.browse(t, "POST", "/admin/sites", site); res.StatusCode != http.StatusUnprocessableEntity || fieldError(body, "site-currency") != "Choisissez une devise de la liste." {
		t.Errorf("bad currency: %d %q", res.StatusCode, fieldError(body, "site-currency"))
	}
	site.Set("currency", "NGN")
	site.Set("slug", "casablanca")
	site.Set("csrf_token", csrf)
	if res, body = admin.browse(t, "POST", "/admin/sites", site); res.StatusCode != http.StatusConflict || fieldError(body, "site-slug") != "This short name is taken: choose another." {
		t.Errorf("slug taken: %d %q", res.StatusCode, fieldError(body, "site-slug"))
	}
	// The same, right: the slug comes from the name.
	site.Del("slug")
	res, _ = admin.browse(t, "POST", "/admin/sites", site)
	lagos, err := a.db.ListSites(ctx)
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding Lagos: %d %v", res.StatusCode, err)
	}
	var lagosID uuid.UUID
	for _, s := range lagos {
		if s.Slug == "lagos" {
			lagosID = s.ID
		}
	}
	if lagosID == uuid.Nil || res.Header.Get("Location") != "/admin/sites/"+lagosID.String() {
		t.Fatalf("no site lagos, or sent to %q", res.Header.Get("Location"))
	}

	// A resource with a booking ahead stays in service: 409, beside the button.
	suite := a.resource(t, "Grading Suite 2 — Anfa")
	day := a.workday(t, "casablanca", 7, 1)
	a.book(t, "admin", a.production(t, "Layali Derb Sultan"), suite, a.at(t, "casablanca", day, 9), a.at(t, "casablanca", day, 13), booking.StatusConfirmed)
	r, _ := a.db.FindResource(ctx, suite)
	for _, c := range []struct {
		cl          *client
		csrf, words string
	}{{admin, csrf, "It has holds or confirmed bookings still to come"}, {fr, csrfFR, "Elle a encore des options ou des réservations confirmées à venir"}} {
		res, body = c.cl.browse(t, "POST", "/admin/resources/"+suite.String()+"/active", url.Values{"csrf_token": {c.csrf}, "active": {"false"},
			"version": {itoa(r.Version)}})
		if res.StatusCode != http.StatusConflict || !strings.Contains(body, `id="service-error"`) || !strings.Contains(body, c.words) ||
			!strings.Contains(body, `id="service-busy"`) {
			t.Errorf("taking a booked resource out of service: %d", res.StatusCode)
		}
	}
	if r2, _ := a.db.FindResource(ctx, suite); !r2.Active {
		t.Fatal("the booked resource went out of service")
	}
	// A site with resources in service stays in service.
	res, body = admin.browse(t, "POST", "/admin/sites/"+casa.ID.String()+"/active", url.Values{"csrf_token": {csrf}, "active": {"false"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "Some of its resources are still in service") {
		t.Errorf("taking Casablanca out of service: %d", res.StatusCode)
	}
	// A stale version: 412, the form as the site is now.
	res, body = admin.browse(t, "POST", "/admin/sites/"+casa.ID.String(), url.Values{"csrf_token": {csrf}, "name": {"Casa"}, "slug": {casa.Slug},
		"country": {"MA"}, "time_zone": {casa.TimeZone}, "currency": {casa.Currency}, "version": {itoa(casa.Version + 7)}})
	if res.StatusCode != http.StatusPreconditionFailed || !strings.Contains(body, "Someone changed it while you were editing") || inputValue(body, "edit-name") != casa.Name {
		t.Errorf("a stale site form: %d %q", res.StatusCode, inputValue(body, "edit-name"))
	}
	// A new resource with a bad kind and a rate with too many decimals.
	res, body = admin.browse(t, "POST", "/admin/sites/"+lagosID.String()+"/resources", url.Values{"csrf_token": {csrf}, "name": {"Suite 1"},
		"category": {"room"}, "kind": {"Grading Suite"}, "rate": {"12.345"}, "rate_unit": {"hour"}, "trainee_capacity": {"2"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(body, "res-rate"), "NGN") {
		t.Errorf("a bad rate: %d %q", res.StatusCode, fieldError(body, "res-rate"))
	}
	res, body = admin.browse(t, "POST", "/admin/sites/"+lagosID.String()+"/resources", url.Values{"csrf_token": {csrf}, "name": {"Suite 1"},
		"category": {"room"}, "kind": {"Grading Suite"}, "rate": {"45 000,50"}, "rate_unit": {"hour"}, "trainee_capacity": {"2"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(fieldError(body, "res-kind"), "Lower-case letters, digits and underscores") {
		t.Errorf("a bad kind: %d %q", res.StatusCode, fieldError(body, "res-kind"))
	}
	res, _ = admin.browse(t, "POST", "/admin/sites/"+lagosID.String()+"/resources", url.Values{"csrf_token": {csrf}, "name": {"Suite 1"},
		"category": {"room"}, "kind": {"grading_suite"}, "capabilities": {"HDR, dolby_vision"}, "rate": {"45 000,50"}, "rate_unit": {"hour"}, "trainee_capacity": {"2"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding a resource: %d", res.StatusCode)
	}
	lr, _ := a.db.ListResources(ctx, booking.ResourceFilter{SiteID: &lagosID})
	if len(lr) != 1 || lr[0].RateMinor != 4500050 || strings.Join(lr[0].Capabilities, ",") != "hdr,dolby_vision" || lr[0].TraineeCapacity != 2 {
		t.Fatalf("the resource added: %+v", lr)
	}
	// Its name again at the same site.
	res, body = fr.browse(t, "POST", "/admin/sites/"+lagosID.String()+"/resources", url.Values{"csrf_token": {csrfFR}, "name": {"Suite 1"},
		"category": {"room"}, "kind": {"grading_suite"}, "rate": {"1"}, "rate_unit": {"day"}})
	if res.StatusCode != http.StatusConflict || fieldError(body, "res-name") != "Le site a déjà une ressource de ce nom." {
		t.Errorf("a resource's name twice: %d %q", res.StatusCode, fieldError(body, "res-name"))
	}

	// The last active admin keeps that role.
	me := a.users["admin"]
	u, _ := a.db.FindUserByEmail(ctx, a.actors["admin"], a.emails["admin"])
	res, body = admin.browse(t, "POST", "/admin/users/"+me.String(), url.Values{"csrf_token": {csrf}, "name": {u.Name}, "role": {"producer"},
		"organisation": {u.OrganisationID.String()}, "locale": {"en"}, "active": {"on"}, "version": {itoa(u.Version)}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "This is the last active administrator") {
		t.Errorf("demoting the last admin: %d", res.StatusCode)
	}

	// Rate cards, exchange rates and ring-fences.
	res, body = admin.browse(t, "POST", "/admin/rate-cards", url.Values{"csrf_token": {csrf}, "site": {casa.ID.String()}, "kind": {"grading_suite"},
		"resource": {suite.String()}, "unit": {"hour"}, "amount": {"1500"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(body, "rate-kind") != "Choose a kind or one resource, not both." {
		t.Errorf("a rate card for both: %d %q", res.StatusCode, fieldError(body, "rate-kind"))
	}
	res, body = admin.browse(t, "POST", "/admin/rate-cards", url.Values{"csrf_token": {csrf}, "site": {casa.ID.String()}, "kind": {"grading_suite"},
		"unit": {"hour"}, "amount": {"1500"}, "effective_from": {"2027-06-01"}, "effective_to": {"2027-01-01"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(body, "rate-to") != "A date on or after the first." {
		t.Errorf("a rate card ending before it starts: %d %q", res.StatusCode, fieldError(body, "rate-to"))
	}
	res, body = fr.browse(t, "POST", "/admin/exchange-rates", url.Values{"csrf_token": {csrfFR}, "base": {"EUR"}, "quote": {"EUR"}, "rate": {"1"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(body, "exchange-quote") != "Choisissez une devise de la liste, autre que la première." {
		t.Errorf("a rate of a currency into itself: %d %q", res.StatusCode, fieldError(body, "exchange-quote"))
	}
	res, body = admin.browse(t, "POST", "/admin/exchange-rates", url.Values{"csrf_token": {csrf}, "base": {"EUR"}, "quote": {"NGN"}, "rate": {"5000000"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(fieldError(body, "exchange-rate"), "A positive decimal") {
		t.Errorf("a rate out of bounds: %d %q", res.StatusCode, fieldError(body, "exchange-rate"))
	}
	res, body = admin.browse(t, "POST", "/admin/ring-fences", url.Values{"csrf_token": {csrf}, "site": {lagosID.String()}, "kind": {"mix_stage"},
		"programme": {"Fonds Sud"}, "share": {"20"}, "period": {"quarter"}, "release_days": {"14"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(body, "fence-kind") != "Choose a kind of resource the site has in service." {
		t.Errorf("a ring-fence of a kind the site lacks: %d %q", res.StatusCode, fieldError(body, "fence-kind"))
	}
	res, body = admin.browse(t, "POST", "/admin/ring-fences", url.Values{"csrf_token": {csrf}, "site": {casa.ID.String()}, "kind": {"grading_suite"},
		"programme": {"Fonds Sud"}, "share": {"0"}, "period": {"quarter"}, "release_days": {"14"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(body, "fence-share") != "A percentage above 0 and at most 100." {
		t.Errorf("a ring-fence of nothing: %d %q", res.StatusCode, fieldError(body, "fence-share"))
	}

	// Tokens and webhooks.
	p := a.client(t, "fr")
	pcsrf := p.login(t, "producer")
	res, body = p.browse(t, "POST", "/account/tokens", url.Values{"csrf_token": {pcsrf}, "name": {""}, "ttl": {"90"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(body, "token-name") != "Donnez un nom au jeton (200 caractères au plus)." {
		t.Errorf("a token without a name: %d %q", res.StatusCode, fieldError(body, "token-name"))
	}
	res, body = p.browse(t, "POST", "/webhooks", url.Values{"csrf_token": {pcsrf}, "url": {"ftp://teranga.example/"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(fieldError(body, "webhook-url"), "Une adresse http ou https") {
		t.Errorf("a webhook that is no URL: %d %q", res.StatusCode, fieldError(body, "webhook-url"))
	}
	// Deleting what is not there (or another company's) is said at the page's top.
	res, _ = p.browse(t, "POST", "/webhooks/"+uuid.NewString()+"/delete", url.Values{"csrf_token": {pcsrf}})
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("deleting no webhook: %d", res.StatusCode)
	}
	if _, body, _ = p.get(t, "/webhooks"); !strings.Contains(body, "flash-error") {
		t.Error("no refusal shown for deleting no webhook")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestAdminFormsDoTheirWork: an admin adds an organisation and a manager, edits a
// resource and takes one out of service and back; a manager renames their site (the
// rest is an admin's) and adds a rate card, an exchange rate and a ring-fence that
// lists its standing; a producer makes a token (shown once) and revokes it, and a
// webhook (its secret shown once) and deletes it.
func TestAdminFormsDoTheirWork(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	mail := a.withMail(t)
	ctx := context.Background()
	casa := a.sites["casablanca"]
	admin := a.client(t, "en")
	csrf := admin.login(t, "admin")

	res, _ := admin.browse(t, "POST", "/admin/organisations", url.Values{"csrf_token": {csrf}, "name": {"Ébène Films"}, "country": {"ci"}, "kind": {"production_company"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding an organisation: %d", res.StatusCode)
	}
	orgs, _ := a.db.ListOrganisations(ctx, a.actors["admin"])
	var ebene booking.Organisation
	for _, o := range orgs {
		if o.Name == "Ébène Films" {
			ebene = o
		}
	}
	if ebene.Slug != "ebene-films" || ebene.Country != "CI" {
		t.Fatalf("the organisation added: %+v", ebene)
	}
	res, _ = admin.browse(t, "POST", "/admin/organisations/"+ebene.ID.String(), url.Values{"csrf_token": {csrf}, "name": {"Ébène Films Abidjan"},
		"slug": {"ebene"}, "country": {"CI"}, "version": {itoa(ebene.Version)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("renaming the organisation: %d", res.StatusCode)
	}

	// A manager of Dakar, invited: the mail goes in French, and its link sets the
	// password.
	hub := a.actors["manager"].OrganisationID
	res, _ = admin.browse(t, "POST", "/admin/users", url.Values{"csrf_token": {csrf}, "name": {"Awa Ndiaye"}, "email": {"awa@atlas-post.example"},
		"role": {"manager"}, "organisation": {hub.String()}, "locale": {"fr"}, "sites": {a.sites["dakar"].ID.String()}, "invite": {"on"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding a manager: %d", res.StatusCode)
	}
	awa, err := a.db.FindUserByEmail(ctx, a.actors["admin"], "awa@atlas-post.example")
	if err != nil || awa.Role != booking.RoleManager || len(awa.SiteIDs) != 1 || awa.SiteIDs[0] != a.sites["dakar"].ID || awa.HasPassword {
		t.Fatalf("the manager added: %+v %v", awa, err)
	}
	if _, body, _ := admin.get(t, "/admin/users"); !strings.Contains(body, "An invitation is on its way to awa@atlas-post.example.") {
		t.Error("no word of the invitation")
	}
	msg := mail.waitFor(t, "awa@atlas-post.example", "mot de passe")
	link := linkIn(t, msg)
	anon := a.client(t, "fr")
	st, body, _ := anon.get(t, link)
	if st != http.StatusOK || !strings.Contains(body, "Bienvenue sur posthub, Awa Ndiaye.") {
		t.Fatalf("the invitation's page: %d", st)
	}
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)[1]
	res, body = anon.browse(t, "POST", link, url.Values{"csrf_token": {token}, "password": {"court"}, "confirm": {"court"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(body, "new-password") != "Au moins 10 caractères." {
		t.Fatalf("a short password: %d %q", res.StatusCode, fieldError(body, "new-password"))
	}
	token = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)[1]
	res, body = anon.browse(t, "POST", link, url.Values{"csrf_token": {token}, "password": {"la teranga de Dakar"}, "confirm": {"la teranga de Dakar!"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(body, "confirm-password") != "Les deux mots de passe diffèrent." {
		t.Fatalf("passwords that differ: %d %q", res.StatusCode, fieldError(body, "confirm-password"))
	}
	token = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)[1]
	if res, _ = anon.browse(t, "POST", link, url.Values{"csrf_token": {"forged"}, "password": {"la teranga de Dakar"}, "confirm": {"la teranga de Dakar"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a forged password form: %d", res.StatusCode)
	}
	res, _ = anon.browse(t, "POST", link, url.Values{"csrf_token": {token}, "password": {"la teranga de Dakar"}, "confirm": {"la teranga de Dakar"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("setting the password: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, body, _ = anon.get(t, "/login"); !strings.Contains(body, "Votre mot de passe est enregistré") {
		t.Error("the sign-in page does not say the password is set")
	}
	if _, _, err := a.db.Login(ctx, "awa@atlas-post.example", "la teranga de Dakar", time.Hour); err != nil {
		t.Fatalf("signing in with the new password: %v", err)
	}
	// The link again: used, said kindly with a 410.
	res, body = anon.browse(t, "GET", link, nil)
	if res.StatusCode != http.StatusGone || !strings.Contains(body, "Ce lien a déjà servi") || !strings.Contains(body, `href="/login#forgot"`) {
		t.Fatalf("the used link: %d", res.StatusCode)
	}
	if res, body = anon.browse(t, "GET", "/password/"+strings.Repeat("x", 43), nil); res.StatusCode != http.StatusNotFound || !strings.Contains(body, "Ce lien n’est pas valable") {
		t.Errorf("an unknown link: %d", res.StatusCode)
	}
	// "Forgot your password?": the same answer for a known and an unknown email, and a
	// mail only for the known one.
	for _, email := range []string{"awa@atlas-post.example", "nobody@nowhere.example"} {
		c := a.client(t, "en")
		_, _, lt := c.get(t, "/login")
		res, body := c.browse(t, "POST", "/login/reset", url.Values{"csrf_token": {lt}, "email": {email}})
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "If an account uses that email, a link to choose a new password is on its way.") {
			t.Errorf("reset for %s: %d", email, res.StatusCode)
		}
	}
	reset := mail.waitFor(t, "awa@atlas-post.example", "réinitialisez")
	// The link's page speaks the user's language, as the mail did, unless the page's
	// language is chosen.
	if _, body, _ := a.client(t, "en").get(t, linkIn(t, reset)); !strings.Contains(body, "Awa Ndiaye, choisissez un nouveau mot de passe") {
		t.Error("the reset link's page is not in the user's language")
	}
	if _, body, _ := a.client(t, "fr").get(t, linkIn(t, reset)+"?lang=en"); !strings.Contains(body, "Awa Ndiaye, choose a new password") {
		t.Error("the reset link's page is not in the language chosen")
	}
	if res, _ := a.client(t, "en").browse(t, "POST", "/login/reset", url.Values{"csrf_token": {"forged"}, "email": {"awa@atlas-post.example"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a forged reset form: %d", res.StatusCode)
	}

	// An admin edits a resource, and takes one without bookings out of service and
	// back.
	edit := a.resource(t, "Edit Suite 1")
	r, _ := a.db.FindResource(ctx, edit)
	res, _ = admin.browse(t, "POST", "/admin/resources/"+edit.String(), url.Values{"csrf_token": {csrf}, "name": {"Edit Suite 1"}, "category": {"room"},
		"kind": {"edit_suite"}, "capabilities": {"avid, 4k"}, "rate": {"420.5"}, "rate_unit": {"day"}, "trainee_capacity": {"3"}, "version": {itoa(r.Version)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("editing a resource: %d", res.StatusCode)
	}
	r, _ = a.db.FindResource(ctx, edit)
	if r.RateMinor != 42050 || r.RateUnit != "day" || r.TraineeCapacity != 3 || strings.Join(r.Capabilities, ",") != "avid,4k" {
		t.Fatalf("the resource edited: %+v", r)
	}
	for _, active := range []string{"false", "true"} {
		r, _ = a.db.FindResource(ctx, edit)
		res, _ = admin.browse(t, "POST", "/admin/resources/"+edit.String()+"/active", url.Values{"csrf_token": {csrf}, "active": {active}, "version": {itoa(r.Version)}})
		if r2, _ := a.db.FindResource(ctx, edit); res.StatusCode != http.StatusSeeOther || (active == "true") != r2.Active {
			t.Fatalf("setting the resource's service to %s: %d", active, res.StatusCode)
		}
	}
	// The list of sites shows an inactive site, and the pickers elsewhere leave it out.
	empty, err := a.db.CreateSite(ctx, a.actors["admin"], booking.SiteInput{Slug: "kano", Name: "Kano", Country: "NG", TimeZone: "Africa/Lagos", Currency: "NGN"})
	if err != nil {
		t.Fatal(err)
	}
	res, _ = admin.browse(t, "POST", "/admin/sites/"+empty.ID.String()+"/active", url.Values{"csrf_token": {csrf}, "active": {"false"}, "version": {itoa(empty.Version)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("taking an empty site out of service: %d", res.StatusCode)
	}
	if _, body, _ := admin.get(t, "/admin/sites"); !strings.Contains(body, `data-slug="kano" class="inactive"`) {
		t.Error("the sites list does not show Kano out of service")
	}
	for _, p := range []string{"/manage/timeline", "/manage/calendar", "/ops", "/bookings/new", "/plans/new", "/reports/treaty", "/admin/rate-cards"} {
		if _, body, _ := admin.get(t, p); strings.Contains(body, `value="`+empty.ID.String()+`"`) {
			t.Errorf("%s offers the site out of service", p)
		}
	}

	// A manager renames Casablanca; its zone is not theirs to change.
	m := a.client(t, "en")
	mcsrf := m.login(t, "manager")
	_, body, _ = m.get(t, "/admin/sites/"+casa.ID.String())
	if !strings.Contains(body, `id="edit-zone" name="time_zone"`) || !regexp.MustCompile(`id="edit-zone"[^>]*disabled`).MatchString(body) {
		t.Error("the manager's zone field is not disabled")
	}
	res, _ = m.browse(t, "POST", "/admin/sites/"+casa.ID.String(), url.Values{"csrf_token": {mcsrf}, "name": {"Casablanca — Anfa"}, "time_zone": {"Europe/Paris"},
		"version": {itoa(casa.Version)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the manager renaming the site: %d", res.StatusCode)
	}
	if s, _ := a.db.FindSite(ctx, casa.ID); s.Name != "Casablanca — Anfa" || s.TimeZone != casa.TimeZone {
		t.Fatalf("after the manager's change: %+v", s)
	}
	// A rate card, an exchange rate and a ring-fence with its standing.
	before, _ := a.db.ListRateCards(ctx, &casa.ID)
	res, _ = m.browse(t, "POST", "/admin/rate-cards", url.Values{"csrf_token": {mcsrf}, "site": {casa.ID.String()}, "kind": {"mix_stage"},
		"unit": {"hour"}, "amount": {"1 250,00"}, "overtime": {"1,75"}, "effective_from": {"2027-01-01"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding a rate card: %d", res.StatusCode)
	}
	_, body, _ = m.get(t, "/admin/rate-cards?site="+casa.ID.String())
	if !strings.Contains(body, "1\u202f250.00\u00a0MAD / hour") || !strings.Contains(body, "×1.75") {
		t.Errorf("the rate card is not listed as entered")
	}
	cards, _ := a.db.ListRateCards(ctx, &casa.ID)
	var added booking.RateCard
	for _, c := range cards {
		if c.Kind == "mix_stage" && c.EffectiveFrom == "2027-01-01" && c.AmountMinor == 125000 {
			added = c
		}
	}
	if len(cards) != len(before)+1 || added.OvertimeMultiplierBP != 17500 {
		t.Fatalf("rate cards: %+v", cards)
	}
	res, _ = m.browse(t, "POST", "/admin/rate-cards/"+added.ID.String()+"/delete", url.Values{"csrf_token": {mcsrf}})
	if cards, _ = a.db.ListRateCards(ctx, &casa.ID); res.StatusCode != http.StatusSeeOther || len(cards) != len(before) {
		t.Fatalf("deleting the rate card: %d, %d left", res.StatusCode, len(cards))
	}
	res, _ = m.browse(t, "POST", "/admin/exchange-rates", url.Values{"csrf_token": {mcsrf}, "base": {"EUR"}, "quote": {"MAD"}, "rate": {"10,9"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("entering an exchange rate: %d", res.StatusCode)
	}
	res, _ = m.browse(t, "POST", "/admin/ring-fences", url.Values{"csrf_token": {mcsrf}, "site": {casa.ID.String()}, "kind": {"grading_suite"},
		"programme": {"Fonds Jeune Création"}, "countries": {"ma, sn"}, "share": {"25"}, "period": {"month"}, "release_days": {"10"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding a ring-fence: %d", res.StatusCode)
	}
	_, body, _ = m.get(t, "/admin/ring-fences?site=casablanca")
	if !strings.Contains(body, "Fonds Jeune Création") || !strings.Contains(body, "(MA, SN)") || !strings.Contains(body, " reserved; others used ") {
		t.Errorf("the ring-fence is not listed with its standing")
	}

	// A producer's token, shown once, then revoked; a webhook, its secret shown once.
	p := a.client(t, "en")
	pcsrf := p.login(t, "producer")
	res, body = p.browse(t, "POST", "/account/tokens", url.Values{"csrf_token": {pcsrf}, "name": {"sync script"}, "ttl": {"30"}})
	secret := regexp.MustCompile(`id="secret-value" class="secret-value" readonly value="([^"]+)"`).FindStringSubmatch(body)
	if res.StatusCode != http.StatusCreated || secret == nil || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("making a token: %d", res.StatusCode)
	}
	who, err := a.db.AuthenticateToken(ctx, secret[1])
	if err != nil || who.UserID != a.users["producer"] {
		t.Fatalf("the token shown does not work: %v", err)
	}
	if _, body, _ = p.get(t, "/account/tokens"); strings.Contains(body, secret[1]) || !strings.Contains(body, "sync script") {
		t.Fatal("the token is shown again, or not listed")
	}
	tokens, _ := a.db.ListTokens(ctx, who)
	var id string
	for _, tk := range tokens {
		if tk.Name == "sync script" {
			id = tk.ID.String()
		}
	}
	if res, _ = p.browse(t, "POST", "/account/tokens/"+id+"/revoke", url.Values{"csrf_token": {pcsrf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoking: %d", res.StatusCode)
	}
	if _, err := a.db.AuthenticateToken(ctx, secret[1]); err == nil {
		t.Fatal("the revoked token still works")
	}
	res, body = p.browse(t, "POST", "/webhooks", url.Values{"csrf_token": {pcsrf}, "url": {"https://teranga.example/posthub"}})
	whsec := regexp.MustCompile(`readonly value="(whsec_[^"]+)"`).FindStringSubmatch(body)
	if res.StatusCode != http.StatusCreated || whsec == nil {
		t.Fatalf("adding a webhook: %d", res.StatusCode)
	}
	hooks, _ := a.db.ListWebhooks(ctx, a.actors["producer"])
	if len(hooks) != 1 || hooks[0].URL != "https://teranga.example/posthub" {
		t.Fatalf("webhooks: %+v", hooks)
	}
	if _, body, _ = p.get(t, "/webhooks"); strings.Contains(body, whsec[1]) {
		t.Fatal("the webhook's secret is shown again")
	}
	if res, _ = p.browse(t, "POST", "/webhooks/"+hooks[0].ID.String()+"/delete", url.Values{"csrf_token": {pcsrf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("deleting the webhook: %d", res.StatusCode)
	}
	if hooks, _ = a.db.ListWebhooks(ctx, a.actors["producer"]); len(hooks) != 0 {
		t.Fatal("the webhook is still there")
	}
}
