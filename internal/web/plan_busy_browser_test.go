package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/posthub/posthub/internal/booking"
)

// TestBrowserPlanShowsProgress: when a plan takes longer than a moment to answer (here
// the hub takes two seconds over it), the form says it is planning,
// with a progress bar, and a second press of the button does not ask for a second
// plan; the proposal then opens as usual.
func TestBrowserPlanShowsProgress(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	person := browserFor(t, a)
	baobab := a.production(t, "Le Souffle du Baobab")
	producer := person()
	producer.login(a.emails["producer"])
	producer.open("/plans/new")
	producer.do(
		chromedp.SetValue(chromedp.ID("plan-production"), baobab.String()),
		chromedp.SetValue(chromedp.ID("plan-template"), "feature"),
		chromedp.SetValue(chromedp.ID("plan-earliest"), "2027-03-01"),
	)
	// The hub takes two seconds over a plan, as a big one on a busy hub might.
	slow := func(r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/plans" {
			time.Sleep(2 * time.Second)
		}
	}
	a.before.Store(&slow)
	if eval[bool](producer, `!!document.querySelector("#plan-form .busy:not([hidden])")`) {
		t.Fatal("the form says it is busy before it was sent")
	}
	// What the page shows while it waits is recorded by the page itself, in its
	// session storage, which outlives the navigation: chromedp's actions wait for the
	// next page, and what is looked at here is the wait. The button is pressed at once
	// and again 800 ms later, when the progress should be showing.
	producer.do(chromedp.Evaluate[chromedp.Void](`(() => {
		const form = document.getElementById("plan-form"), t0 = Date.now();
		new MutationObserver(() => {
			const s = form.querySelector(".busy");
			if (s && !s.hidden && !sessionStorage.getItem("busy")) {
				sessionStorage.setItem("busy", JSON.stringify({text: s.textContent, role: s.getAttribute("role"), progress: !!s.querySelector("progress"), after: Date.now() - t0}));
			}
		}).observe(form, {childList: true, subtree: true, attributes: true});
		let presses = 0;
		document.addEventListener("submit", ev => { presses++; if (presses === 2) sessionStorage.setItem("second", String(ev.defaultPrevented)); });
		const button = form.querySelector('button[type="submit"]');
		setTimeout(() => button.click(), 0);
		setTimeout(() => button.click(), 800);
	})()`))
	if !producer.waitFor(`/^\/plans\/[0-9a-f-]{36}$/.test(location.pathname) && document.readyState === "complete"`, 20*time.Second) {
		t.Fatalf("the proposal did not open: %s", producer.text("main"))
	}
	var seen struct {
		Text     string
		Role     string
		Progress bool
		After    int
	}
	if err := json.Unmarshal([]byte(eval[string](producer, `sessionStorage.getItem("busy") || "{}"`)), &seen); err != nil {
		t.Fatal(err)
	}
	if !seen.Progress || !strings.Contains(seen.Text, "Planning… a large plan can take a few seconds.") {
		t.Fatalf("while the hub planned, the form showed %+v", seen)
	}
	if seen.Role != "status" {
		t.Errorf("the progress has role %q, want status (read out by screen readers)", seen.Role)
	}
	if seen.After < 250 {
		t.Errorf("the progress showed after %d ms: it should wait a moment, not flash on every quick answer", seen.After)
	}
	if second := eval[string](producer, `sessionStorage.getItem("second") || "not pressed"`); second != "true" {
		t.Errorf("the second press was let through (%s)", second)
	}
	plans, err := a.db.ListPlans(context.Background(), booking.System, booking.PlanFilter{ProductionID: &baobab})
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 1 {
		t.Errorf("pressing twice made %d plans", len(plans))
	}
	if id := regexp.MustCompile(`[0-9a-f-]{36}$`).FindString(eval[string](producer, `location.pathname`)); len(plans) > 0 && id != plans[0].ID.String() {
		t.Errorf("the page shows plan %s, the store has %s", id, plans[0].ID)
	}
}
