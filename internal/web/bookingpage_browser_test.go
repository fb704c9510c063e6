package web_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// navigate opens a page and returns its HTTP status, whatever it is.
func (b *tab) navigate(path string) int64 {
	b.t.Helper()
	res, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("browser: %s: %v", path, err)
	}
	return res.Status
}

// TestBrowserBookingPageAndErrors drives a booking's page in Chromium: the producer
// goes from her bookings to the page of her hold, confirms it there (a challenge: a
// hold is ahead), follows her notification back to it, and meets the error pages in
// English; the manager, reading French, meets them in French, finds the hold from his
// queue and declines it on its page; then the producer confirms a whole plan at once.
// Screenshots go to test-output/web.
func TestBrowserBookingPageAndErrors(t *testing.T) {
	t.Parallel()
	a := startApp(t, true)
	ctx := context.Background()
	_, first, second := seedBookings(t, a)
	person := browserFor(t, a)
	page := "/bookings/" + second.ID.String()

	producer := person()
	producer.login(a.emails["producer"])
	if g := producer.text("#greeting"); g != "Welcome, "+a.userName(t, "producer") {
		t.Errorf("greeting %q", g)
	}
	producer.open("/bookings")
	producer.submit(chromedp.Click(chromedp.CSS(`#b-` + second.ID.String() + ` h2 a`)))
	if got := eval[string](producer, `location.pathname`); got != page {
		t.Fatalf("the card's title led to %s", got)
	}
	if h := producer.text("#booking-title"); h != "Le Souffle du Baobab" {
		t.Errorf("booking page title %q", h)
	}
	if w := producer.text("#booking-when"); !strings.HasSuffix(w, "–18:00 (Africa/Casablanca, UTC+00:00)") {
		t.Errorf("when %q", w)
	}
	if q := producer.text("#booking-price #quote-total"); !regexp.MustCompile(`^[0-9\x{202f}]+\.[0-9]{2}\x{a0}MAD$`).MatchString(q) {
		t.Errorf("price %q", q)
	}
	if h := producer.text("#booking-history li"); !strings.HasPrefix(h, "Hold placed, rank 2") {
		t.Errorf("history %q", h)
	}
	producer.screenshot("16-producer-booking-page")
	producer.submit(chromedp.Click(chromedp.CSS(`#booking-actions form[action$="/confirm"] button`)))
	if got := eval[string](producer, `location.pathname`); got != page {
		t.Fatalf("confirming from the page ended at %s", got)
	}
	if f := producer.text(".flash"); !strings.HasPrefix(f, "Holds are ahead of yours") {
		t.Errorf("flash %q", f)
	}
	if c := producer.text("#booking-challenge"); !strings.Contains(c, "then yours is confirmed") {
		t.Errorf("challenge %q", c)
	}
	if n := eval[int](producer, `document.querySelectorAll("#booking-history li").length`); n != 2 {
		t.Errorf("%d history entries after confirming", n)
	}
	// The notice of the challenge links to the booking's page.
	deadline := time.Now().Add(15 * time.Second)
	for {
		producer.open("/notifications")
		if eval[int](producer, `document.querySelectorAll('.feed a[href="`+page+`"]').length`) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no notification links the booking: %s", producer.text("main"))
		}
		time.Sleep(300 * time.Millisecond)
	}
	producer.submit(chromedp.Click(chromedp.CSS(`.feed a[href="` + page + `"]`)))
	if got := eval[string](producer, `location.pathname`); got != page {
		t.Fatalf("the notification led to %s", got)
	}
	// Error pages, in English.
	if st := producer.navigate("/no-such-page"); st != 404 || producer.text("#error-title") != "Page not found" {
		t.Errorf("unknown page: %d %q", st, producer.text("main"))
	}
	if st := producer.navigate("/bookings/" + first.ID.String()); st != 404 || strings.Contains(producer.text("main"), "Sable et Sel") {
		t.Errorf("another company's booking: %d", st)
	}
	if st := producer.navigate("/manage/queue"); st != 403 || producer.text("#error-title") != "Not allowed" {
		t.Errorf("a manager's page: %d %q", st, producer.text("main"))
	}
	producer.screenshot("17-producer-error-403")
	producer.submit(chromedp.Click(chromedp.ID("error-home")))
	if got := eval[string](producer, `location.pathname`); got != "/" {
		t.Errorf("the error page's link led to %s", got)
	}

	// The manager, in French.
	manager := person()
	manager.login(a.emails["manager"])
	manager.submit(chromedp.Click(chromedp.CSS(`.account a[hreflang="fr"]`)))
	if st := manager.navigate("/ops"); st != 403 || manager.text("#error-title") != "Non autorisé" || eval[string](manager, `document.documentElement.lang`) != "fr" {
		t.Errorf("the operators' page for a manager: %d %q", st, manager.text("main"))
	}
	if st := manager.navigate("/logout"); st != 405 || manager.text("#error-title") != "Impossible ici" {
		t.Errorf("GET /logout: %d %q", st, manager.text("main"))
	}
	if st := manager.navigate("/nulle-part"); st != 404 || manager.text("#error-title") != "Page introuvable" {
		t.Errorf("unknown page in French: %d %q", st, manager.text("main"))
	}
	manager.screenshot("18-manager-error-404-fr")
	manager.open("/manage/queue")
	manager.submit(chromedp.Click(chromedp.CSS(`#challenges #b-` + second.ID.String() + ` h2 a`)))
	if got := eval[string](manager, `location.pathname`); got != page {
		t.Fatalf("the queue's card led to %s", got)
	}
	if main := manager.text("main"); strings.Contains(main, "Votre") || !strings.Contains(main, "Défi") || !strings.Contains(main, a.orgName(t, "producer")) {
		t.Errorf("the manager's booking page: %s", main)
	}
	manager.do(chromedp.SendKeys(chromedp.ID("reason-"+second.ID.String()), "étalonneur absent"))
	manager.submit(chromedp.Click(chromedp.CSS(`#booking-actions form[action$="/decline"] button`)))
	if f := manager.text(".flash"); f != "Refusée." {
		t.Errorf("flash after declining %q", f)
	}
	if h := eval[string](manager, `[...document.querySelectorAll("#booking-history li")].pop().textContent`); !strings.Contains(h, "Refusée — motif : étalonneur absent") ||
		!strings.Contains(h, a.userName(t, "manager")) {
		t.Errorf("the decline in the history: %q", h)
	}
	manager.screenshot("19-manager-booking-declined-fr")

	// The producer confirms a whole accepted plan from its page.
	site := a.sites["casablanca"]
	loc, _ := calendar.LoadLocation(site.TimeZone)
	p, err := a.db.ProposePlan(ctx, a.actors["producer"], booking.PlanRequest{ProductionID: a.production(t, "Xaritu Ndox"), SiteID: site.ID,
		Template: "short", EarliestStart: time.Date(2027, 3, 15, 9, 0, 0, 0, loc)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.db.AcceptPlan(ctx, a.actors["producer"], p.ID); err != nil {
		t.Fatal(err)
	}
	producer.open("/plans")
	producer.submit(chromedp.Click(chromedp.CSS(`#plan-` + p.ID.String() + ` a`)))
	if n := eval[int](producer, `document.querySelectorAll('#plan-stages tr[data-booking-status="hold"]').length`); n != len(p.Stages) {
		t.Fatalf("%d stages show their holds", n)
	}
	producer.submit(chromedp.Click(chromedp.CSS(`#confirm-all-form button`)))
	if f := producer.text(".flash"); f != strconv.Itoa(len(p.Stages))+" stages confirmed." {
		t.Errorf("flash after confirming the plan %q", f)
	}
	if n := eval[int](producer, `document.querySelectorAll('#plan-stages tr[data-booking-status="confirmed"]').length`); n != len(p.Stages) {
		t.Errorf("%d stages confirmed on the page", n)
	}
	if s := producer.text(".lead"); s != "Every stage is confirmed." {
		t.Errorf("status help %q", s)
	}
	if n := eval[int](producer, `document.querySelectorAll("#confirm-all-form").length`); n != 0 {
		t.Error("the plan still offers to confirm")
	}
	producer.screenshot("20-producer-plan-confirmed")
}
