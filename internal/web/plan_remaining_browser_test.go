package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// TestBrowserReplanRemaining: a producer's accepted plan has its conform confirmed and
// its grade declined by a manager. On the plan's page she presses "Re-plan the
// remaining stages", reads the proposal (the conform kept, the grade and screening
// planned again after it, what accepting does), accepts it, and the page she lands on
// is the new plan, live: the conform confirmed, the grade and screening held where the
// proposal put them; the old plan is superseded and its screening hold released.
func TestBrowserReplanRemaining(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	person := browserFor(t, a)
	day := a.workday(t, "casablanca", 30, 3)
	p, err := a.db.ProposePlan(ctx, a.actors["producer"], booking.PlanRequest{ProductionID: a.production(t, "Le Souffle du Baobab"),
		SiteID: a.sites["casablanca"].ID, EarliestStart: a.at(t, "casablanca", day, 9), Seed: 1,
		Stages: []booking.StageSpec{
			{ID: "conform", Name: "Conform", Hours: 4, Demands: []booking.Demand{{Kind: "dcp_mastering"}}},
			{ID: "grade", Name: "Grade", Hours: 6, Demands: []booking.Demand{{Kind: "grading_suite"}}, After: []booking.StageLink{{From: "conform"}}},
			{ID: "screen", Name: "Screening", Hours: 2, Demands: []booking.Demand{{Kind: "screening_room"}}, After: []booking.StageLink{{From: "grade"}}},
		}})
	if err != nil || !p.Placed {
		t.Fatalf("plan: %v %+v", err, p)
	}
	accepted, _, err := a.db.AcceptPlan(ctx, a.actors["producer"], p.ID)
	if err != nil {
		t.Fatal(err)
	}
	conform, grade, screen := *accepted.Stages[0].BookingID, *accepted.Stages[1].BookingID, *accepted.Stages[2].BookingID
	for id, act := range map[uuid.UUID]booking.Action{conform: booking.ActionConfirm, grade: booking.ActionDecline} {
		if _, err := a.db.Act(ctx, a.actors["manager"], id, act, booking.ActOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	producer := person()
	producer.login(a.emails["producer"])
	producer.open("/plans/" + p.ID.String())
	if s := eval[string](producer, `document.querySelector('#stage-grade').dataset.bookingStatus`); s != "declined" {
		t.Fatalf("the grade reads %q", s)
	}
	producer.screenshot("40-plan-stage-declined")
	producer.submit(chromedp.Click(chromedp.CSS(`#replan-remaining-form button[type="submit"]`)))
	path := eval[string](producer, `location.pathname`)
	m := regexp.MustCompile(`^/plans/([0-9a-f-]{36})$`).FindStringSubmatch(path)
	if m == nil || m[1] == p.ID.String() {
		t.Fatalf("after re-planning at %s: %s", path, producer.text("main"))
	}
	if f := producer.text(".flash"); !strings.Contains(f, "Here is a new plan for the remaining stages.") {
		t.Errorf("flash %q", f)
	}
	if st := eval[string](producer, `document.querySelector('.plan-status').dataset.status`); st != "proposed" {
		t.Errorf("the proposal is %q", st)
	}
	if !strings.Contains(producer.text("#remaining-note"), "releases the accepted plan’s holds in one go") ||
		eval[string](producer, `document.getElementById('replaces-link').getAttribute('href')`) != "/plans/"+p.ID.String() {
		t.Errorf("the proposal does not say what accepting does: %q", producer.text("#remaining-note"))
	}
	if k := eval[string](producer, `(document.querySelector('#stage-conform .badge.kept') || {}).textContent || ''`); k != "Kept" {
		t.Errorf("the conform is not marked kept: %q", k)
	}
	if n := eval[int](producer, `document.querySelectorAll('#plan-stages .badge.kept').length`); n != 1 {
		t.Errorf("%d stages marked kept", n)
	}
	cells := func(stage string) string {
		return eval[string](producer, `[...document.querySelectorAll('#stage-`+stage+` td')].slice(0, 2).map(td => td.textContent).join(' – ')`)
	}
	proposed := map[string]string{"conform": cells("conform"), "grade": cells("grade"), "screen": cells("screen")}
	producer.screenshot("41-plan-remaining-proposal")

	producer.submit(chromedp.Click(chromedp.CSS(`#accept-form button[type="submit"]`)))
	if got := eval[string](producer, `location.pathname`); got != "/plans/"+m[1] {
		t.Fatalf("after accepting at %s: %s", got, producer.text("main"))
	}
	if f := producer.text(".flash"); !strings.Contains(f, "The new plan replaces the previous one") {
		t.Errorf("flash %q", f)
	}
	if st := eval[string](producer, `document.querySelector('.plan-status').dataset.status`); st != "accepted" {
		t.Errorf("the new plan is %q", st)
	}
	for stage, want := range map[string]string{"conform": "confirmed", "grade": "hold", "screen": "hold"} {
		if s := eval[string](producer, `document.querySelector('#stage-`+stage+`').dataset.bookingStatus`); s != want {
			t.Errorf("%s reads %q, want %q", stage, s, want)
		}
		if c := cells(stage); c != proposed[stage] {
			t.Errorf("%s is at %q, the proposal said %q", stage, c, proposed[stage])
		}
	}
	producer.screenshot("42-plan-remaining-accepted")

	old, err := a.db.FindPlan(ctx, a.actors["producer"], p.ID)
	if err != nil || old.Status != "superseded" {
		t.Errorf("the old plan: %v %s", err, old.Status)
	}
	b, err := a.db.FindBooking(ctx, a.actors["producer"], screen)
	if err != nil || b.Status != booking.StatusReleased {
		t.Errorf("the old screening hold: %v %s", err, b.Status)
	}
	if b, _ := a.db.FindBooking(ctx, a.actors["producer"], grade); b.Status != booking.StatusDeclined {
		t.Errorf("the declined grade is %s", b.Status)
	}
}
