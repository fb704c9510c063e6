package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/posthub/posthub/internal/booking"
)

// weekForm is Casablanca's demo week as the week form posts it, with changes.
func weekForm(csrf string, changes map[string]string) url.Values {
	v := url.Values{"csrf_token": {csrf}, "back": {"/manage/calendar?site=casablanca"}}
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday"} {
		v.Set(d, "09:00–13:00, 14:00–19:00")
	}
	v.Set("saturday", "09:00–13:00")
	v.Set("sunday", "")
	for k, x := range changes {
		v.Set(k, x)
	}
	return v
}

// TestCalendarFormsRefuseInWords posts the calendar's forms as a browser would and
// checks each refusal: the page comes back (never a JSON problem) with the status of
// the refusal, the error in the page's language beside its field, what was typed kept,
// and nothing changed.
func TestCalendarFormsRefuseInWords(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	casa := a.sites["casablanca"]
	before, err := a.db.SiteCalendar(ctx, casa.ID)
	if err != nil {
		t.Fatal(err)
	}
	week := "/manage/sites/" + casa.ID.String() + "/week"
	for _, lang := range []string{"en", "fr"} {
		c := a.client(t, lang)
		csrf := c.login(t, "manager")
		cases := []struct {
			name, path string
			form       url.Values
			status     int
			want       map[string]string // language → text on the page
		}{
			{"spans that do not read", week, weekForm(csrf, map[string]string{"tuesday": "9 to noon"}), 422,
				map[string]string{"en": "Write the hours as 09:00–13:00", "fr": "Écrivez les heures ainsi : 09:00–13:00"}},
			{"overlapping spans", week, weekForm(csrf, map[string]string{"monday": "09:00-13:00, 12:00-18:00"}), 422,
				map[string]string{"en": "spans must not overlap", "fr": "ne doivent pas se chevaucher"}},
			{"a day missing from the form", week, func() url.Values { v := weekForm(csrf, nil); v.Del("monday"); return v }(), 422,
				map[string]string{"en": "The form could not be read", "fr": "Le formulaire"}},
			{"a period with no name and a date out of bounds", "/manage/sites/" + casa.ID.String() + "/periods",
				weekForm(csrf, map[string]string{"name": "", "from": "1999-12-31", "to": "2028-02-01"}), 422,
				map[string]string{"en": "Give the period a name.", "fr": "Donnez un nom à la période."}},
			{"a holiday on no date", "/manage/sites/" + casa.ID.String() + "/holidays",
				url.Values{"csrf_token": {csrf}, "name": {"Fête"}, "date": {"2027-02-30"}, "scope": {"site"}}, 422,
				map[string]string{"en": "Give a date from 2000-01-01 to 2199-12-31.", "fr": "Donnez une date du 2000-01-01 au 2199-12-31."}},
			{"a block with no resource and a rule by the hour", "/manage/sites/" + casa.ID.String() + "/blocks",
				url.Values{"csrf_token": {csrf}, "kind": {"leave"}, "start_local": {"2027-01-08T09:00"}, "end_local": {"2027-01-08T19:00"},
					"repeat": {"none"}, "rrule": {"FREQ=HOURLY"}}, 422,
				map[string]string{"en": "Blocks repeat daily, weekly, monthly or yearly.", "fr": "Un blocage se répète chaque jour, semaine, mois ou année."}},
			{"a block ending before it starts", "/manage/sites/" + casa.ID.String() + "/blocks",
				url.Values{"csrf_token": {csrf}, "resource": {a.resource(t, "Mix Stage A").String()}, "kind": {"maintenance"},
					"start_local": {"2027-01-08T09:00"}, "end_local": {"2027-01-08T08:00"}, "repeat": {"none"}}, 422,
				map[string]string{"en": "The end must be after the start", "fr": "La fin doit suivre le début"}},
		}
		for _, tc := range cases {
			res, body := c.do(t, "POST", tc.path, tc.form)
			if res.StatusCode != tc.status {
				t.Errorf("%s (%s): %d, want %d", tc.name, lang, res.StatusCode, tc.status)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("%s (%s): answered %s", tc.name, lang, ct)
			}
			if !strings.Contains(body, tc.want[lang]) {
				t.Errorf("%s (%s): the page lacks %q", tc.name, lang, tc.want[lang])
			}
			if !strings.Contains(body, `aria-invalid="true"`) && !strings.Contains(body, `class="error form-alert"`) {
				t.Errorf("%s (%s): no field marked", tc.name, lang)
			}
			if m := rawKey.FindString(stripURLs(body)); m != "" {
				t.Errorf("%s (%s): untranslated key %q", tc.name, lang, m)
			}
			checkFormsAndLabels(t, tc.name, body)
		}
	}
	after, err := a.db.SiteCalendar(ctx, casa.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Week) != len(before.Week) || len(after.Week["monday"]) != 2 || len(after.Overrides) != len(before.Overrides) || len(after.Holidays) != len(before.Holidays) {
		t.Fatalf("a refused form changed the calendar: %+v", after)
	}

	// A refused form keeps what was typed.
	c := a.client(t, "en")
	csrf := c.login(t, "manager")
	_, body := c.do(t, "POST", week, weekForm(csrf, map[string]string{"tuesday": "9 to noon", "saturday": ""}))
	if !strings.Contains(body, `value="9 to noon"`) || !strings.Contains(body, `id="week-tuesday-error"`) {
		t.Error("the refused week does not show what was typed with its error")
	}

	// Leave for a person of another site than the form's is refused as a field.
	dakarPerson := ""
	for _, r := range mustResources(t, a, a.sites["dakar"]) {
		dakarPerson = r.ID.String()
		break
	}
	res, body := c.do(t, "POST", "/manage/sites/"+casa.ID.String()+"/blocks", url.Values{"csrf_token": {csrf}, "resource": {dakarPerson},
		"kind": {"leave"}, "start_local": {"2027-01-08T09:00"}, "end_local": {"2027-01-08T12:00"}, "repeat": {"none"}})
	if res.StatusCode != 422 || !strings.Contains(body, "Choose a resource of this site.") {
		t.Errorf("a resource of another site: %d", res.StatusCode)
	}

	// Producers and operators may not post them at all.
	for _, who := range []string{"producer", "operator"} {
		c := a.client(t, "en")
		csrf := c.login(t, who)
		if res, _ := c.do(t, "POST", week, weekForm(csrf, map[string]string{"saturday": ""})); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s posting the week: %d", who, res.StatusCode)
		}
	}

	// Without the CSRF token nothing changes.
	c2 := a.client(t, "en")
	c2.login(t, "manager")
	if res, _ := c2.do(t, "POST", week, weekForm("", map[string]string{"saturday": ""})); res.StatusCode != http.StatusForbidden {
		t.Errorf("the week without its token: %d", res.StatusCode)
	}
	if sc, _ := a.db.SiteCalendar(ctx, casa.ID); len(sc.Week["saturday"]) != 1 {
		t.Fatalf("Saturday closed without a token: %+v", sc.Week)
	}

	// An admin may edit; a change that touches a booking says so.
	day := a.workday(t, "casablanca", 7, 1)
	a.book(t, "admin", a.production(t, "Layali Derb Sultan"), a.resource(t, "Grading Suite 2 — Anfa"), a.at(t, "casablanca", day, 9), a.at(t, "casablanca", day, 19), booking.StatusConfirmed)
	ad := a.client(t, "en")
	csrf = ad.login(t, "admin")
	res, _ = ad.do(t, "POST", "/manage/sites/"+casa.ID.String()+"/holidays", url.Values{"csrf_token": {csrf}, "name": {"Site closed"},
		"date": {day.String()}, "scope": {"site"}, "back": {"/manage/calendar?site=casablanca"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/manage/calendar?site=casablanca" {
		t.Fatalf("adding a holiday: %d → %s", res.StatusCode, res.Header.Get("Location"))
	}
	_, body, _ = ad.get(t, "/manage/calendar?site=casablanca")
	if !strings.Contains(body, "Holiday “Site closed” added on") || !strings.Contains(body, "1 booking's working time changed") {
		t.Errorf("the flash does not tell of the booking touched")
	}
}

// mustResources lists a site's resources.
func mustResources(t *testing.T, a *app, s booking.Site) []booking.Resource {
	t.Helper()
	rs, err := a.db.ListResources(context.Background(), booking.ResourceFilter{SiteID: &s.ID})
	if err != nil || len(rs) == 0 {
		t.Fatalf("resources of %s: %v", s.Slug, err)
	}
	return rs
}

// TestProductionFormsRender renders the production forms for each role that may use
// them, in both languages, and checks another organisation's production is not found.
func TestProductionFormsRender(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	baobab := a.production(t, "Le Souffle du Baobab") // Téranga Lumière's
	for _, who := range []string{"producer", "manager", "admin"} {
		for _, lang := range []string{"en", "fr-FR,fr;q=0.9"} {
			c := a.client(t, lang)
			c.login(t, who)
			for _, p := range []string{"/productions", "/productions/new", "/productions/" + baobab.String() + "/edit"} {
				st, body, _ := c.get(t, p)
				if st != http.StatusOK {
					t.Errorf("%s %s (%s): %d", who, p, lang, st)
					continue
				}
				if m := rawKey.FindString(stripURLs(body)); m != "" {
					t.Errorf("%s %s (%s): untranslated key %q", who, p, lang, m)
				}
				if strings.Contains(body, `class="error`) {
					t.Errorf("%s %s (%s): an error on the page", who, p, lang)
				}
				checkFormsAndLabels(t, who+" "+p, body)
			}
			// Managers and admins choose the company; producers create for theirs.
			_, body, _ := c.get(t, "/productions/new")
			if has := strings.Contains(body, `id="production-organisation"`); has != (who != "producer") {
				t.Errorf("%s: company chooser shown %v", who, has)
			}
		}
	}
	c := a.client(t, "en")
	c.login(t, "producer_other")
	if st, _, _ := c.get(t, "/productions/"+baobab.String()+"/edit"); st != http.StatusNotFound {
		t.Errorf("another company's production: %d", st)
	}
	op := a.client(t, "en")
	op.login(t, "operator")
	if st, _, _ := op.get(t, "/productions/new"); st != http.StatusForbidden {
		t.Errorf("an operator's production form: %d", st)
	}
	// A manager must name the company, and creates for it what it grants.
	m := a.client(t, "fr")
	csrf := m.login(t, "manager")
	form := url.Values{"csrf_token": {csrf}, "title": {"Nuit de Tanger"}, "format": {"feature"}, "runtime_minutes": {"102"},
		"origin_country": {"MA", "", "", ""}, "origin_share": {"", "", "", ""}, "programme": {"Fonds Atlas"}, "emerging": {"on"}}
	res, body := m.do(t, "POST", "/productions", form)
	if res.StatusCode != 422 || !strings.Contains(body, "Choisissez la société de production.") {
		t.Fatalf("without a company: %d", res.StatusCode)
	}
	var dar string
	orgs, _ := a.db.ListOrganisations(context.Background(), a.actors["manager"])
	for _, o := range orgs {
		if o.Slug == "dar-nour" {
			dar = o.ID.String()
		}
	}
	form.Set("organisation", dar)
	if res, _ := m.do(t, "POST", "/productions", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("creating as a manager: %d", res.StatusCode)
	}
	p, err := a.db.FindProduction(context.Background(), booking.System, a.production(t, "Nuit de Tanger"))
	if err != nil || !p.Emerging || p.Programme != "Fonds Atlas" || len(p.Origins) != 1 || p.Origins[0] != (booking.Origin{Country: "MA", SharePct: 100}) {
		t.Fatalf("the manager's production %+v (%v)", p, err)
	}
	// An edit made meanwhile is not overwritten: the form comes back as it is now.
	m2 := a.client(t, "en")
	csrf2 := m2.login(t, "manager")
	edit := url.Values{"csrf_token": {csrf2}, "version": {"1"}, "title": {"Nuit de Tanger"}, "format": {"feature"}, "runtime_minutes": {"99"},
		"origin_country": {"MA", "", "", ""}, "origin_share": {"100", "", "", ""}}
	first := p.Version
	edit.Set("version", strconv.Itoa(first))
	if res, _ := m2.do(t, "POST", "/productions/"+p.ID.String()+"/edit", edit); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("first edit: %d", res.StatusCode)
	}
	edit.Set("runtime_minutes", "97")
	res, body = m2.do(t, "POST", "/productions/"+p.ID.String()+"/edit", edit)
	if res.StatusCode != http.StatusPreconditionFailed || !strings.Contains(body, "Someone changed this production meanwhile") || !strings.Contains(body, `value="99"`) {
		t.Fatalf("a stale edit: %d", res.StatusCode)
	}
}

// TestRemovingAPeriod removes the demo's Ramadan 2027 from the calendar page's form;
// removing it again is refused in words.
func TestRemovingAPeriod(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	casa := a.sites["casablanca"]
	sc, err := a.db.SiteCalendar(ctx, casa.ID)
	if err != nil || len(sc.Overrides) != 1 {
		t.Fatalf("the demo's periods %+v (%v)", sc.Overrides, err)
	}
	id := sc.Overrides[0].ID.String()
	c := a.client(t, "fr")
	csrf := c.login(t, "manager")
	_, body, _ := c.get(t, "/manage/calendar?site=casablanca")
	if !strings.Contains(body, `action="/manage/periods/`+id+`/delete"`) {
		t.Fatal("the period has no removal form")
	}
	back := url.Values{"csrf_token": {csrf}, "back": {"/manage/calendar?site=casablanca"}}
	res, _ := c.do(t, "POST", "/manage/periods/"+id+"/delete", back)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/manage/calendar?site=casablanca" {
		t.Fatalf("removing: %d → %s", res.StatusCode, res.Header.Get("Location"))
	}
	_, body, _ = c.get(t, "/manage/calendar?site=casablanca")
	if !strings.Contains(body, "Période supprimée.") || strings.Contains(body, "Ramadan 2027") {
		t.Error("the period is still listed, or no flash")
	}
	c.do(t, "POST", "/manage/periods/"+id+"/delete", back)
	_, body, _ = c.get(t, "/manage/calendar?site=casablanca")
	if !strings.Contains(body, "Introuvable (ou vous n’y avez pas accès).") {
		t.Error("removing it again is not refused in words")
	}
}
