package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/booking"
)

// seedBookings gives the pages something to show in Casablanca next week: a confirmed
// grade, a queue of two holds on the mix stage and a hold awaiting approval.
func seedBookings(t *testing.T, a *app) (confirmed, first, second booking.Booking) {
	t.Helper()
	suite := a.resource(t, "Grading Suite 2 — Anfa")
	mix := a.resource(t, "Mix Stage A")
	day := a.workday(t, "casablanca", 7, 1)
	confirmed = a.book(t, "admin", a.production(t, "Layali Derb Sultan"), suite, a.at(t, "casablanca", day, 9), a.at(t, "casablanca", day, 13), booking.StatusConfirmed)
	first = a.book(t, "producer_other", a.production(t, "Sable et Sel"), mix, a.at(t, "casablanca", day, 10), a.at(t, "casablanca", day, 16), booking.StatusHold)
	second = a.book(t, "producer", a.production(t, "Le Souffle du Baobab"), mix, a.at(t, "casablanca", day, 14), a.at(t, "casablanca", day, 18), booking.StatusHold)
	return
}

// rawKey matches a message key that leaked into a page untranslated.
var rawKey = regexp.MustCompile(`\b(app|login|nav|role|status|error|day|dayname|month|table|kind|format|block|jobstate|home|productions|bookings|new|notifications|flash|queue|timeline|calendar|policy|ops|plan|stage)\.[a-z][a-z0-9_]*\b`)

func TestPagesRenderForEveryRoleInBothLanguages(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	seedBookings(t, a)
	pages := map[string][]string{
		"producer": {"/", "/productions", "/bookings", "/bookings?show=past", "/bookings/new", "/plans/new", "/notifications"},
		"manager":  {"/", "/productions", "/bookings", "/plans/new", "/manage/queue", "/manage/timeline", "/manage/timeline?days=28&site=dakar", "/manage/calendar", "/manage/calendar?site=dakar", "/notifications"},
		"operator": {"/", "/productions", "/ops", "/ops?site=dakar", "/notifications"},
		"admin":    {"/", "/bookings", "/bookings/new", "/plans/new", "/manage/queue", "/manage/timeline", "/manage/calendar", "/ops"},
	}
	for who, paths := range pages {
		for _, lang := range []string{"en", "fr-FR,fr;q=0.9"} {
			c := a.client(t, lang)
			c.login(t, who)
			for _, p := range paths {
				st, body, _ := c.get(t, p)
				if st != http.StatusOK {
					t.Errorf("%s %s (%s): status %d", who, p, lang, st)
					continue
				}
				if m := rawKey.FindString(stripURLs(body)); m != "" {
					t.Errorf("%s %s (%s): untranslated key %q", who, p, lang, m)
				}
				if strings.Contains(body, "An internal error") || strings.Contains(body, `class="error"`) {
					t.Errorf("%s %s (%s): an error on the page", who, p, lang)
				}
				checkFormsAndLabels(t, who+" "+p, body)
				wantLang := `<html lang="en">`
				if lang != "en" {
					wantLang = `<html lang="fr">`
				}
				if !strings.Contains(body, wantLang) {
					t.Errorf("%s %s: not in %s", who, p, wantLang)
				}
			}
		}
	}
	// Producers may not see the operators' figures, nor managers' pages.
	c := a.client(t, "en")
	c.login(t, "producer")
	for _, p := range []string{"/ops", "/ops/utilisation.csv", "/manage/queue", "/manage/timeline", "/manage/calendar"} {
		if st, _, _ := c.get(t, p); st != http.StatusForbidden {
			t.Errorf("producer %s: %d, want 403", p, st)
		}
	}
}

var (
	postForm = regexp.MustCompile(`(?s)<form[^>]*method="post"[^>]*>.*?</form>`)
	field    = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	fieldID  = regexp.MustCompile(`\bid="([^"]+)"`)
	hidden   = regexp.MustCompile(`type="(hidden|submit)"`)
)

// checkFormsAndLabels checks every form that changes something carries the CSRF token
// and every field a person fills in has a label.
func checkFormsAndLabels(t *testing.T, where, body string) {
	t.Helper()
	for _, f := range postForm.FindAllString(body, -1) {
		if !regexp.MustCompile(`name="csrf_token" value="[^"]+"`).MatchString(f) {
			t.Errorf("%s: a form without its CSRF token: %.120s", where, f)
		}
	}
	for _, f := range field.FindAllString(body, -1) {
		if hidden.MatchString(f) || strings.Contains(f, "aria-label=") {
			continue
		}
		m := fieldID.FindStringSubmatch(f)
		if m == nil || !strings.Contains(body, `for="`+m[1]+`"`) {
			t.Errorf("%s: a field without a label: %s", where, f)
		}
	}
}

// stripURLs drops attribute values that may legitimately look like keys (host names).
func stripURLs(body string) string {
	return regexp.MustCompile(`(href|src|action)="[^"]*"|[a-z0-9.-]+@[a-z0-9.-]+`).ReplaceAllString(body, "")
}

func TestBookingPagesShowLocalTimesWithTheZone(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	confirmed, _, second := seedBookings(t, a)
	c := a.client(t, "en")
	c.login(t, "producer")
	_, body, _ := c.get(t, "/bookings")
	// The producer sees their own hold (rank 2 behind the other company's), never the
	// other company's bookings.
	if !strings.Contains(body, `id="b-`+second.ID.String()+`"`) || !strings.Contains(body, `data-rank="2"`) {
		t.Fatalf("my bookings lacks the hold with its rank")
	}
	if strings.Contains(body, confirmed.ID.String()) || strings.Contains(body, "Sable et Sel") {
		t.Fatalf("my bookings shows another organisation's booking")
	}
	start, _ := time.Parse("2006-01-02T15:04:05-07:00", second.StartLocal)
	want := start.Format("15:04") + "–18:00 (Africa/Casablanca, UTC+00:00)"
	if !strings.Contains(body, want) {
		t.Fatalf("my bookings does not show %q", want)
	}
	fr := a.client(t, "fr")
	fr.login(t, "producer")
	_, body, _ = fr.get(t, "/bookings")
	if !strings.Contains(body, "Rang 2") || !strings.Contains(body, "Option") || !strings.Contains(body, "(Africa/Casablanca, UTC+00:00)") {
		t.Fatalf("French bookings page lacks its words")
	}
}

func TestFormsNeedTheirCSRFToken(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	_, _, second := seedBookings(t, a)
	c := a.client(t, "en")
	csrf := c.login(t, "producer")
	res, _ := c.do(t, "POST", "/bookings/"+second.ID.String()+"/release", url.Values{})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("release without csrf_token: %d", res.StatusCode)
	}
	res, _ = c.do(t, "POST", "/bookings/"+second.ID.String()+"/release", url.Values{"csrf_token": {"wrong"}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("release with a wrong csrf_token: %d", res.StatusCode)
	}
	if b, _ := a.db.FindBooking(context.Background(), booking.System, second.ID); b.Status != booking.StatusHold {
		t.Fatalf("the hold moved without a token: %s", b.Status)
	}
	res, _ = c.do(t, "POST", "/bookings/"+second.ID.String()+"/release", url.Values{"csrf_token": {csrf}, "back": {"/bookings"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/bookings" {
		t.Fatalf("release: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body, _ := c.get(t, "/bookings?show=past")
	if !strings.Contains(body, "Hold released.") || !strings.Contains(body, `data-status="released"`) {
		t.Fatalf("no flash or released booking after release")
	}
	// A foreign "back" is not followed.
	res, _ = c.do(t, "POST", "/bookings/"+second.ID.String()+"/release", url.Values{"csrf_token": {csrf}, "back": {"//evil.example/"}})
	if loc := res.Header.Get("Location"); loc != "/" {
		t.Fatalf("redirect to %q", loc)
	}
	// The refusal of a second release is a readable message, not an error page.
	_, body, _ = c.get(t, "/")
	if !strings.Contains(body, "That cannot be done as things stand.") {
		t.Fatalf("no readable refusal: %s", body)
	}
}

func TestHoldFormAndAvailabilitySearch(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	c := a.client(t, "en")
	csrf := c.login(t, "producer")
	site := a.sites["casablanca"]
	day := a.workday(t, "casablanca", 3, 1)
	q := url.Values{"search": {"1"}, "a_site": {site.ID.String()}, "a_kind1": {"grading_suite"}, "a_caps1": {"hdr"},
		"a_kind2": {"colourist"}, "a_caps2": {"lang:fr"}, "a_hours": {"4"}, "a_from": {day.String()}, "a_to": {day.AddDays(7).String()}}
	st, body, _ := c.get(t, "/bookings/new?"+q.Encode())
	if st != 200 || !strings.Contains(body, "Use this slot") || !strings.Contains(body, "Grading Suite 1 — Zellige") {
		t.Fatalf("availability search: %d\n%s", st, body)
	}
	use := regexp.MustCompile(`href="(/bookings/new\?[^"]+)" class="use-slot"`).FindStringSubmatch(body)
	if use == nil {
		t.Fatal("no slot link")
	}
	link, _ := url.Parse(strings.ReplaceAll(use[1], "&amp;", "&"))
	lq := link.Query()
	if lq.Get("start") < day.String() || !strings.HasSuffix(lq.Get("start"), "T09:00") || lq.Get("resource") == "" || lq.Get("resource2") == "" {
		t.Fatalf("slot link %s", link)
	}
	// A bad form comes back with the values kept and the reason given.
	res, body := c.do(t, "POST", "/bookings", url.Values{"csrf_token": {csrf}, "resource": {lq.Get("resource")}, "start_local": {lq.Get("start")}, "end_local": {lq.Get("end")}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose a production.") {
		t.Fatalf("hold without production: %d", res.StatusCode)
	}
	prod := a.production(t, "Xaritu Ndox")
	res, _ = c.do(t, "POST", "/bookings", url.Values{"csrf_token": {csrf}, "production": {prod.String()}, "resource": {lq.Get("resource")},
		"resource2": {lq.Get("resource2")}, "start_local": {lq.Get("start")}, "end_local": {lq.Get("end")}, "note": {"first pass"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/bookings#b-") {
		t.Fatalf("hold: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body, _ = c.get(t, "/bookings")
	if !strings.Contains(body, "Hold placed, rank 1") || !strings.Contains(body, "first pass") || !strings.Contains(body, "09:00–13:00 (Africa/Casablanca, UTC+00:00)") {
		t.Fatalf("bookings after the hold:\n%s", body)
	}
}

func TestManagerPagesActOnBookings(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	confirmed, first, second := seedBookings(t, a)
	ctx := context.Background()
	// The producer asks to confirm where the site wants approval.
	pol, _ := a.db.SitePolicy(ctx, a.sites["casablanca"].ID)
	pol.ConfirmNeedsApproval = true
	if _, err := a.db.UpdateSitePolicy(ctx, booking.System, pol); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.Act(ctx, a.actors["producer_other"], first.ID, booking.ActionConfirm, booking.ActOptions{}); err != nil {
		t.Fatal(err)
	}
	m := a.client(t, "en")
	csrf := m.login(t, "manager")
	_, body, _ := m.get(t, "/manage/queue")
	if !strings.Contains(body, `id="approvals"`) || !strings.Contains(body, first.ID.String()) {
		t.Fatalf("queue lacks the approval")
	}
	// Declining needs a reason.
	res, _ := m.do(t, "POST", "/bookings/"+first.ID.String()+"/decline", url.Values{"csrf_token": {csrf}, "back": {"/manage/queue"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatal(res.StatusCode)
	}
	_, body, _ = m.get(t, "/manage/queue")
	if !strings.Contains(body, "Give a reason for declining.") {
		t.Fatal("no message for a decline without reason")
	}
	m.do(t, "POST", "/bookings/"+first.ID.String()+"/confirm", url.Values{"csrf_token": {csrf}, "back": {"/manage/queue"}})
	if b, _ := a.db.FindBooking(ctx, booking.System, first.ID); b.Status != booking.StatusConfirmed {
		t.Fatalf("approved booking is %s", b.Status)
	}
	// The timeline draws the bookings and reschedules one in site-local time.
	_, body, _ = m.get(t, "/manage/timeline")
	if !strings.Contains(body, `<svg`) || !strings.Contains(body, `href="#b-`+confirmed.ID.String()+`"`) {
		t.Fatal("timeline lacks the confirmed booking")
	}
	start, _ := time.Parse("2006-01-02T15:04:05-07:00", confirmed.StartLocal)
	day := start.Format("2006-01-02")
	m.do(t, "POST", "/bookings/"+confirmed.ID.String()+"/reschedule", url.Values{"csrf_token": {csrf}, "back": {"/manage/timeline"},
		"start_local": {day + "T14:00"}, "end_local": {day + "T18:00"}, "reason": {"suite swap"}})
	moved, _ := a.db.FindBooking(ctx, booking.System, confirmed.ID)
	if moved.StartLocal != day+"T14:00:00+00:00" {
		t.Fatalf("rescheduled to %s", moved.StartLocal)
	}
	// Policy form.
	res, _ = m.do(t, "POST", "/manage/sites/"+a.sites["casablanca"].ID.String()+"/policy", url.Values{"csrf_token": {csrf},
		"hold_lifetime": {"72"}, "challenge_window": {"24"}, "min_notice": {"0"}, "reminder_offsets": {"48, 2.5"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatal(res.StatusCode)
	}
	pol, _ = a.db.SitePolicy(ctx, a.sites["casablanca"].ID)
	if pol.ConfirmNeedsApproval || time.Duration(pol.HoldLifetime) != 72*time.Hour || len(pol.ReminderOffsets) != 2 ||
		time.Duration(pol.ReminderOffsets[1]) != 150*time.Minute {
		t.Fatalf("policy %+v", pol)
	}
	// A provisional holiday is confirmed from the calendar page.
	var hid, hdate string
	if err := a.db.Pool.QueryRow(ctx, `SELECT id, date::text FROM holidays WHERE country = 'MA' AND provisional AND date > now() ORDER BY date LIMIT 1`).Scan(&hid, &hdate); err != nil {
		t.Fatal(err)
	}
	_, body, _ = m.get(t, "/manage/calendar")
	if !strings.Contains(body, `action="/manage/holidays/`+hid+`/confirm"`) {
		t.Fatal("calendar lacks the provisional holiday's form")
	}
	m.do(t, "POST", "/manage/holidays/"+hid+"/confirm", url.Values{"csrf_token": {csrf}, "date": {hdate}})
	var prov bool
	_ = a.db.Pool.QueryRow(ctx, `SELECT provisional FROM holidays WHERE id = $1`, hid).Scan(&prov)
	if prov {
		t.Fatal("holiday still provisional")
	}
	_ = second
}

func TestOpsDashboardAndCSV(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	seedBookings(t, a)
	c := a.client(t, "en")
	c.login(t, "operator")
	from := a.siteDay(t, "casablanca", 0)
	to := from.AddDays(20)
	q := url.Values{"site": {"casablanca"}, "from": {from.String()}, "to": {to.String()}}
	st, body, _ := c.get(t, "/ops?"+q.Encode())
	if st != 200 || strings.Count(body, `<g class="cell">`) != 24*21 {
		t.Fatalf("ops: %d, %d heatmap cells", st, strings.Count(body, `<g class="cell">`))
	}
	for _, want := range []string{"Share by origin country", `id="countries"`, `id="emerging"`, `id="kindweek"`, "Queue health"} {
		if !strings.Contains(body, want) {
			t.Errorf("ops lacks %q", want)
		}
	}
	q.Set("group_by", "resource,day")
	res, raw := c.do(t, "GET", "/ops/utilisation.csv?"+q.Encode(), nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "posthub-utilisation-casablanca-") {
		t.Fatalf("csv: %d %v", res.StatusCode, res.Header)
	}
	recs, err := csv.NewReader(strings.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+24*21+1 || recs[0][2] != "resource_id" || recs[len(recs)-1][2] != "TOTAL" {
		t.Fatalf("csv: %d records, header %v, last %v", len(recs), recs[0], recs[len(recs)-1])
	}
	var confirmed float64
	for _, r := range recs[1 : len(recs)-1] {
		if r[3] == "Grading Suite 2 — Anfa" && r[8] != "0" {
			confirmed++
		}
	}
	if confirmed != 1 {
		t.Errorf("the grade shows on %v days", confirmed)
	}
	// A range too long for the dashboard is refused with words.
	q.Set("to", from.AddDays(200).String())
	if st, body, _ := c.get(t, "/ops?"+q.Encode()); st != http.StatusBadRequest || !strings.Contains(body, "at most 92 days") {
		t.Fatalf("long range: %d", st)
	}
}
