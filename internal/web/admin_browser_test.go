package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// TestBrowserNewHubFirstHour drives a new hub's first hour in Chromium, through the
// pages alone: an admin adds a site in Lagos (Africa/Lagos, NGN), gives it a working
// week and asks for approval of confirmations, adds its five resources and a client
// company, and invites a producer; the invitation's mail comes from the job queue, and
// its link sets the producer's password in the browser; the producer signs in, adds a
// production, places a hold and asks to confirm it; the admin approves it from the
// queue, and the producer finds it confirmed. Screenshots go to test-output/web.
func TestBrowserNewHubFirstHour(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	mail := a.withMail(t)
	ctx := context.Background()
	person := browserFor(t, a)

	// The site.
	admin := person()
	admin.login(a.emails["admin"])
	admin.open("/admin")
	admin.submit(chromedp.Click(chromedp.ID("admin-sites")))
	admin.do(
		chromedp.SendKeys(chromedp.ID("site-name"), "Lagos"),
		chromedp.SendKeys(chromedp.ID("site-country"), "ng"),
		chromedp.SendKeys(chromedp.ID("site-zone"), "Africa/Lagos"),
		chromedp.SetValue(chromedp.ID("site-currency"), "NGN"),
	)
	admin.screenshot("hub-01-new-site")
	admin.submit(chromedp.Click(chromedp.CSS(`#site-form button[type="submit"]`)))
	if f := admin.text(".flash"); !strings.Contains(f, "Site Lagos added.") {
		t.Fatalf("after adding the site: %q", f)
	}
	sites, err := a.db.ListSites(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sites {
		if s.Slug == "lagos" {
			a.sites["lagos"] = s
		}
	}
	lagos := a.sites["lagos"]
	if lagos.TimeZone != "Africa/Lagos" || lagos.Currency != "NGN" || lagos.Country != "NG" || !lagos.Active {
		t.Fatalf("the site added: %+v", lagos)
	}
	if p := eval[string](admin, `location.pathname`); p != "/admin/sites/"+lagos.ID.String() {
		t.Fatalf("after adding the site at %s", p)
	}

	// Its working week, Monday to Friday, and confirmations approved by a manager.
	admin.submit(chromedp.Click(chromedp.ID("site-calendar")))
	for _, day := range []string{"monday", "tuesday", "wednesday", "thursday", "friday"} {
		admin.do(chromedp.SetValue(chromedp.ID("week-"+day), "09:00–18:00"))
	}
	admin.submit(chromedp.Click(chromedp.CSS(`#week-form button[type="submit"]`)))
	if f := admin.text(".flash"); !strings.Contains(f, "Working week saved.") {
		t.Fatalf("after saving the week: %q", f)
	}
	admin.do(chromedp.Click(chromedp.ID("confirm_needs_approval")))
	admin.submit(chromedp.Click(chromedp.CSS(`#policy-form button[type="submit"]`)))
	if pol, err := a.db.SitePolicy(ctx, lagos.ID); err != nil || !pol.ConfirmNeedsApproval {
		t.Fatalf("Lagos's policy: %+v %v", pol, err)
	}

	// Five resources.
	admin.open("/admin/sites/" + lagos.ID.String())
	if n := eval[int](admin, `document.querySelectorAll("#no-resources").length`); n != 1 {
		t.Fatal("a new site lists resources")
	}
	type res struct{ name, category, kind, caps, rate, unit, trainees string }
	for _, r := range []res{
		{"Grading Suite 1 — Ikoyi", "room", "grading_suite", "hdr, dolby_vision", "45 000", "hour", "2"},
		{"Mix Stage A", "room", "mix_stage", "dolby_atmos, 7.1.4", "60000", "hour", "0"},
		{"Edit Suite 1", "room", "edit_suite", "avid", "250000", "day", "1"},
		{"Adaeze Okafor", "person", "colourist", "lang:en, lang:yo", "30000", "hour", "0"},
		{"DCP Station", "equipment", "dcp_mastering", "", "150000", "day", "0"},
	} {
		admin.do(
			chromedp.SendKeys(chromedp.ID("res-name"), r.name),
			chromedp.SetValue(chromedp.ID("res-category"), r.category),
			chromedp.SendKeys(chromedp.ID("res-kind"), r.kind),
			chromedp.SendKeys(chromedp.ID("res-rate"), r.rate),
			chromedp.SetValue(chromedp.ID("res-unit"), r.unit),
			chromedp.SetValue(chromedp.ID("res-trainees"), r.trainees),
		)
		if r.caps != "" {
			admin.do(chromedp.SendKeys(chromedp.ID("res-capabilities"), r.caps))
		}
		admin.submit(chromedp.Click(chromedp.CSS(`#resource-form button[type="submit"]`)))
		if f := admin.text(".flash"); f != "Resource "+r.name+" added." {
			t.Fatalf("after adding %s: %q: %s", r.name, f, admin.text("main"))
		}
	}
	if n := eval[int](admin, `document.querySelectorAll("#resource-list tbody tr").length`); n != 5 {
		t.Fatalf("the site lists %d resources", n)
	}
	if row := rowWith(admin, "#resource-list", "Grading Suite 1"); !strings.Contains(row, "45 000.00 NGN / hour") || !strings.Contains(row, "hdr, dolby_vision") {
		t.Errorf("the suite's row: %q", row)
	}
	admin.screenshot("hub-02-site-resources")

	// A client company, and its producer invited.
	admin.open("/admin/organisations")
	admin.do(chromedp.SendKeys(chromedp.ID("org-name"), "Eko Pictures"), chromedp.SendKeys(chromedp.ID("org-country"), "NG"))
	admin.submit(chromedp.Click(chromedp.CSS(`#org-form button[type="submit"]`)))
	if f := admin.text(".flash"); !strings.Contains(f, "Organisation Eko Pictures added.") {
		t.Fatalf("after adding the company: %q", f)
	}
	admin.submit(chromedp.Click(chromedp.CSS(`tr[data-slug="eko-pictures"] a[href^="/admin/users"]`)))
	admin.do(
		chromedp.SendKeys(chromedp.ID("user-name"), "Chiamaka Eze"),
		chromedp.SendKeys(chromedp.ID("user-email"), "chiamaka@eko-pictures.example"),
	)
	if org := eval[string](admin, `document.getElementById("user-organisation").selectedOptions[0].textContent`); org != "Eko Pictures (NG)" {
		t.Fatalf("the user form chose %q", org)
	}
	if !eval[bool](admin, `document.getElementById("user-invite").checked`) || eval[string](admin, `document.getElementById("user-role").value`) != "producer" {
		t.Fatal("the user form does not invite a producer by default")
	}
	admin.screenshot("hub-03-invite")
	admin.submit(chromedp.Click(chromedp.CSS(`#user-form button[type="submit"]`)))
	if f := admin.text(".flash"); f != "Chiamaka Eze added. An invitation is on its way to chiamaka@eko-pictures.example." {
		t.Fatalf("after inviting: %q", f)
	}

	// The producer opens the invitation's link and sets her password.
	msg := mail.waitFor(t, "chiamaka@eko-pictures.example", "invited")
	if !strings.Contains(msg.Text, "invited you to posthub") {
		t.Errorf("the invitation says: %s", msg.Text)
	}
	producer := person()
	producer.open(linkIn(t, msg))
	if h := producer.text("#password-page .lead"); !strings.Contains(h, "Welcome to posthub, Chiamaka Eze.") {
		t.Fatalf("the invitation's page: %q", h)
	}
	const password = "Eko nights at the Shrine"
	producer.do(chromedp.SendKeys(chromedp.ID("new-password"), password), chromedp.SendKeys(chromedp.ID("confirm-password"), password))
	producer.screenshot("hub-04-set-password")
	producer.submit(chromedp.Click(chromedp.CSS(`#password-form button[type="submit"]`)))
	if p := eval[string](producer, `location.pathname`); p != "/login" {
		t.Fatalf("after setting the password at %s", p)
	}
	if f := producer.text(".flash"); !strings.Contains(f, "Your password is set") {
		t.Fatalf("the sign-in page says %q", f)
	}
	producer.do(chromedp.SendKeys(chromedp.ID("email"), "chiamaka@eko-pictures.example"), chromedp.SendKeys(chromedp.ID("password"), password))
	producer.submit(chromedp.Click(chromedp.CSS(`#login-form button[type="submit"]`)))
	if p := eval[string](producer, `location.pathname`); p != "/" {
		t.Fatalf("the producer's sign-in ended at %s", p)
	}

	// Her production, and a hold on the suite.
	producer.open("/productions/new")
	producer.do(chromedp.SendKeys(chromedp.ID("production-title"), "Eko Nights"), chromedp.SetValue(chromedp.ID("production-runtime"), "95"))
	if c := eval[string](producer, `document.getElementById("origin-country-1").value`); c != "NG" {
		t.Errorf("the first origin is %q", c)
	}
	producer.submit(chromedp.Click(chromedp.CSS(`#production-form button[type="submit"]`)))
	prod := a.production(t, "Eko Nights")
	suite := a.resource(t, "Grading Suite 1 — Ikoyi")
	day := a.workday(t, "lagos", 2, 1)
	producer.open("/bookings/new")
	producer.do(
		chromedp.SetValue(chromedp.ID("production"), prod.String()),
		chromedp.SetValue(chromedp.ID("resource"), suite.String()),
		chromedp.SetValue(chromedp.ID("start_local"), day.String()+"T10:00"),
		chromedp.SetValue(chromedp.ID("end_local"), day.String()+"T14:00"),
	)
	producer.screenshot("hub-05-hold")
	producer.submit(chromedp.Click(chromedp.CSS(`#hold-form button[type="submit"]`)))
	loc := eval[string](producer, `location.pathname + location.hash`)
	id, ok := strings.CutPrefix(loc, "/bookings#b-")
	if !ok {
		t.Fatalf("after placing the hold at %s: %s", loc, producer.text("main"))
	}
	card := "#b-" + id
	if f := producer.text(".flash"); !strings.Contains(f, "Hold placed, rank 1") {
		t.Fatalf("flash %q", f)
	}
	if w := producer.text(card + " .when"); !strings.Contains(w, "10:00–14:00 (Africa/Lagos, UTC+01:00)") {
		t.Errorf("the hold shows %q", w)
	}
	producer.submit(chromedp.Click(chromedp.CSS(card + ` form[action$="/confirm"] button`)))
	if f := producer.text(".flash"); !strings.Contains(f, "a studio manager will approve it") {
		t.Fatalf("flash after confirm %q", f)
	}

	// The admin approves it from the queue.
	admin.open("/manage/queue")
	if title := admin.text("#approvals " + card + " h2"); title != "Eko Nights" {
		t.Fatalf("the queue shows %q", title)
	}
	admin.screenshot("hub-06-queue")
	admin.submit(chromedp.Click(chromedp.CSS("#approvals " + card + ` form[action$="/confirm"] button`)))
	if f := admin.text(".flash"); f != "Confirmed." {
		t.Fatalf("flash after approval %q", f)
	}
	producer.open("/bookings")
	if st := eval[string](producer, `document.querySelector("`+card+` [data-status]").dataset.status`); st != "confirmed" {
		t.Fatalf("after approval the booking is %q", st)
	}
	producer.screenshot("hub-07-confirmed")
	b, err := a.db.FindBooking(ctx, booking.System, uuid.MustParse(id))
	if err != nil || b.Status != booking.StatusConfirmed || b.SiteID != lagos.ID || b.TimeZone != "Africa/Lagos" {
		t.Fatalf("the booking: %+v %v", b, err)
	}
}
