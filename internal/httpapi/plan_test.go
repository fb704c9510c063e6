package httpapi_test

import (
	"context"
	"math"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// checkPlan verifies a plan independently of the planner: every stage starts in its
// site's working time and lasts its working hours there, follows its predecessors (and,
// from another site, the transfer time between the two sites), uses resources of its
// site of the demanded kinds and capabilities, no two stages share a resource at once,
// and the money adds up: each currency's total is the sum of its stages' costs, and
// the plan's quote the sum of the totals converted.
func checkPlan(t *testing.T, b *testBundle, p booking.Plan) {
	t.Helper()
	ctx := context.Background()
	opts := calendar.Options{AvoidProvisional: true}
	cals := map[uuid.UUID]*calendar.Calendar{}
	slugs := map[uuid.UUID]string{}
	siteOf := func(s booking.PlannedStage) uuid.UUID {
		if s.SiteID == uuid.Nil {
			t.Errorf("stage %s has no site", s.ID)
			return p.SiteID
		}
		return s.SiteID
	}
	for _, s := range p.Stages {
		site := siteOf(s)
		if _, ok := cals[site]; !ok {
			_, cals[site] = siteCalendarFor(t, b, site)
			var slug, currency, zone string
			if err := b.db.Pool.QueryRow(ctx, `SELECT slug, currency, time_zone FROM sites WHERE id = $1`, site).Scan(&slug, &currency, &zone); err != nil {
				t.Fatal(err)
			}
			slugs[site] = slug
			if s.Currency != currency || s.TimeZone != zone {
				t.Errorf("stage %s: currency %s, zone %s; its site's are %s, %s", s.ID, s.Currency, s.TimeZone, currency, zone)
			}
		}
		if !slices.Contains(p.SiteIDs, site) {
			t.Errorf("stage %s at %s, not one of the plan's sites %v", s.ID, site, p.SiteIDs)
		}
	}
	byID := map[string]booking.PlannedStage{}
	for _, s := range p.Stages {
		byID[s.ID] = s
	}
	for i, s := range p.Stages {
		cal := cals[siteOf(s)]
		if s.Start.Before(p.EarliestStart) {
			t.Errorf("stage %s starts before the earliest start", s.ID)
		}
		working := cal.WorkingTime(calendar.Interval{Start: s.Start.Add(-time.Minute), End: s.Start.Add(time.Minute)}, opts)
		if !working.Contains(s.Start) {
			t.Errorf("stage %s starts outside its site's working time at %s", s.ID, s.StartLocal)
		}
		if got := cal.WorkingHoursBetween(s.Start, s.End, opts); got != time.Duration(s.Hours*float64(time.Hour)) {
			t.Errorf("stage %s spans %s of its site's working time, want %vh", s.ID, got, s.Hours)
		}
		for _, l := range s.After {
			pred := byID[l.From]
			ready := pred.End
			if siteOf(pred) != siteOf(s) {
				ready = ready.Add(booking.TransferBetween(slugs[siteOf(pred)], slugs[siteOf(s)]).Duration())
			}
			if s.Start.Before(ready) {
				t.Errorf("stage %s starts %s before its predecessor %s's material is there (%s)", s.ID, s.Start, l.From, ready)
			}
			if lag := cal.WorkingHoursBetween(ready, s.Start, opts); lag < time.Duration(l.MinLagHours*float64(time.Hour)) {
				t.Errorf("stage %s: lag %s after %s, below %vh", s.ID, lag, l.From, l.MinLagHours)
			}
		}
		if len(s.Resources) != len(s.Demands) {
			t.Errorf("stage %s: %d resources for %d demands", s.ID, len(s.Resources), len(s.Demands))
		}
		for j, r := range s.Resources {
			if r.Kind != s.Demands[j].Kind {
				t.Errorf("stage %s: %s is a %s, demand was %s", s.ID, r.Name, r.Kind, s.Demands[j].Kind)
			}
			var caps []string
			var site uuid.UUID
			if err := b.db.Pool.QueryRow(ctx, `SELECT capabilities, site_id FROM resources WHERE id = $1`, r.ID).Scan(&caps, &site); err != nil {
				t.Fatal(err)
			}
			if site != siteOf(s) {
				t.Errorf("stage %s at %s holds %s of another site", s.ID, siteOf(s), r.Name)
			}
			for _, c := range s.Demands[j].Capabilities {
				if !slices.Contains(caps, c) {
					t.Errorf("stage %s: %s lacks %s", s.ID, r.Name, c)
				}
			}
		}
		for _, o := range p.Stages[i+1:] {
			if s.Start.Before(o.End) && o.Start.Before(s.End) {
				for _, r := range s.Resources {
					for _, q := range o.Resources {
						if r.ID == q.ID {
							t.Errorf("stages %s and %s overlap on %s", s.ID, o.ID, r.Name)
						}
					}
				}
			}
		}
	}
	sums := map[string]int64{}
	for _, s := range p.Stages {
		sums[s.Currency] += s.CostMinor
	}
	var quote int64
	for _, tot := range p.Totals {
		if tot.TotalMinor != sums[tot.Currency] {
			t.Errorf("total in %s is %d, its stages cost %d", tot.Currency, tot.TotalMinor, sums[tot.Currency])
		}
		delete(sums, tot.Currency)
		if tot.Currency == p.Currency && tot.ConvertedMinor != tot.TotalMinor {
			t.Errorf("the plan's own currency %s converted: %d → %d", tot.Currency, tot.TotalMinor, tot.ConvertedMinor)
		}
		quote += tot.ConvertedMinor
	}
	if len(sums) > 0 && len(p.Stages) > 0 {
		t.Errorf("stages cost in currencies without a total: %v", sums)
	}
	if quote != p.QuoteMinor {
		t.Errorf("the totals converted add up to %d, the plan says %d", quote, p.QuoteMinor)
	}
}

func siteCalendarFor(t *testing.T, b *testBundle, site uuid.UUID) (booking.SiteCalendar, *calendar.Calendar) {
	t.Helper()
	sc, err := b.db.SiteCalendar(context.Background(), site)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := sc.Calendar()
	if err != nil {
		t.Fatal(err)
	}
	return sc, cal
}

func TestPlanProposeAndAccept(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, _, _ := siteAndResources(t, b)
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	var feature booking.Production
	for _, p := range prods {
		if p.Format == "feature" {
			feature = p
		}
	}
	if feature.ID == uuid.Nil {
		t.Fatal("no feature among the producer's productions")
	}
	// Picture locked on 1 March 2027; festival delivery on 30 April.
	req := map[string]any{"production_id": feature.ID, "site_id": site, "template": "feature", "skip": []string{"offline_edit", "picture_lock"},
		"earliest_start": "2027-03-01T09:00:00Z", "deadline": "2027-04-30T17:00:00Z",
		"preferences": map[string][]string{"grading_suite": {"hdr"}, "colourist": {"lang:fr"}}, "seed": 1}
	p := decode[booking.Plan](t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], req), 201)
	if !p.Feasible || !p.Placed || len(p.Stages) != 6 || p.Status != "proposed" || p.QuoteMinor <= 0 || p.Currency != "MAD" || p.SlackHours == nil || *p.SlackHours <= 0 ||
		p.SlackWorkingHours == nil || *p.SlackWorkingHours <= 0 || *p.SlackWorkingHours >= *p.SlackHours || p.MissesByWorkingHours != 0 {
		t.Fatalf("plan: %+v", p)
	}
	checkPlan(t, b, p)
	// The grade went to the HDR suite.
	for _, s := range p.Stages {
		if s.ID == "grade" && s.Resources[0].Kind != "grading_suite" {
			t.Fatalf("grade on %+v", s.Resources)
		}
	}
	// Another producer cannot see or accept it.
	problem(t, b.do(t, "GET", "/api/v1/plans/"+p.ID.String(), b.tokens["producer_other"], nil), 404, booking.ENOTFOUND)
	problem(t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/accept", b.tokens["producer_other"], nil), 404, booking.ENOTFOUND)

	type accepted struct {
		Plan     booking.Plan      `json:"plan"`
		Bookings []booking.Booking `json:"bookings"`
	}
	acc := decode[accepted](t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/accept", b.tokens["producer"], nil), 200)
	if acc.Plan.Status != "accepted" || len(acc.Bookings) != 6 {
		t.Fatalf("accepted: %+v", acc.Plan)
	}
	for i, bk := range acc.Bookings {
		if bk.Status != booking.StatusHold || !bk.Start.Equal(p.Stages[i].Start) || len(bk.Resources) != len(p.Stages[i].Resources) {
			t.Fatalf("hold %d: %+v", i, bk)
		}
	}
	problem(t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/accept", b.tokens["producer"], nil), 409, booking.ECONFLICT)
}

func TestPlanAcceptReplansWhenCapacityMoved(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, _, _ := siteAndResources(t, b)
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	req := map[string]any{"production_id": prods[0].ID, "site_id": site, "template": "short",
		"earliest_start": "2027-03-15T09:00:00Z", "seed": 3}
	p := decode[booking.Plan](t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], req), 201)
	if !p.Feasible {
		t.Fatalf("plan: %+v", p)
	}
	// Meanwhile a manager confirms another production's session on the resource and
	// time of the plan's first stage.
	first := p.Stages[0]
	others := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer_other"], nil), 200).Items
	decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["manager"], map[string]any{
		"production_id": others[0].ID, "resource_id": first.Resources[0].ID, "start": first.Start, "end": first.End, "status": "confirmed"}), 201)
	var before int
	_ = b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM booking_groups`).Scan(&before)
	res := b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/accept", b.tokens["producer"], nil)
	pr := problem(t, res, 409, booking.ECONFLICT)
	replanned, ok := pr.Details["replanned"].(map[string]any)
	if !ok || replanned["status"] != "proposed" || replanned["replaces_id"] != p.ID.String() {
		t.Fatalf("409 without a new plan: %+v", pr.Details)
	}
	var after int
	_ = b.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM booking_groups`).Scan(&after)
	if after != before {
		t.Fatalf("a refused acceptance booked %d holds", after-before)
	}
	again := decode[booking.Plan](t, b.do(t, "GET", "/api/v1/plans/"+replanned["id"].(string), b.tokens["producer"], nil), 200)
	changed := 0
	for _, s := range again.Stages {
		if s.Changed != nil {
			changed++
		}
	}
	if changed == 0 {
		t.Fatalf("the new plan says nothing changed: %+v", again.Stages)
	}
	checkPlan(t, b, again)
	old := decode[booking.Plan](t, b.do(t, "GET", "/api/v1/plans/"+p.ID.String(), b.tokens["producer"], nil), 200)
	if old.Status != "superseded" {
		t.Fatalf("old plan: %s", old.Status)
	}
	decode[map[string]any](t, b.do(t, "POST", "/api/v1/plans/"+again.ID.String()+"/accept", b.tokens["producer"], nil), 200)
}

func TestPlanInfeasibleDeadlineGivesBestPlanAndMiss(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, _, _ := siteAndResources(t, b)
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	p := decode[booking.Plan](t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], map[string]any{
		"production_id": prods[0].ID, "site_id": site, "template": "feature", "skip": []string{"offline_edit"},
		"earliest_start": "2027-03-15T09:00:00Z", "deadline": "2027-03-17T12:00:00Z", "seed": 2}), 201)
	// Placed, but not feasible: it misses the deadline, in clock hours, working hours
	// (the site's, between the deadline and the finish) and days.
	if !p.Placed || p.Feasible || p.MissesByHours <= 0 || p.SlackHours == nil || *p.SlackHours >= 0 || p.SlackWorkingHours == nil ||
		p.MissesByWorkingHours <= 0 || *p.SlackWorkingHours != -p.MissesByWorkingHours || p.MissesByWorkingHours >= p.MissesByHours ||
		p.MissesByDays != math.Round(p.MissesByHours/24*100)/100 {
		t.Fatalf("an impossible deadline should give the best plan and the miss: %+v", p)
	}
	_, cal := siteCalendarFor(t, b, p.SiteID)
	if got := cal.WorkingHoursBetween(*p.Deadline, p.Finish, calendar.Options{AvoidProvisional: true}).Hours(); got != p.MissesByWorkingHours {
		t.Fatalf("misses by %v working hours, the calendar counts %v", p.MissesByWorkingHours, got)
	}
	checkPlan(t, b, p)
	// A plan that misses its deadline can still be accepted, knowingly.
	type accepted struct {
		Plan booking.Plan `json:"plan"`
	}
	if acc := decode[accepted](t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/accept", b.tokens["producer"], nil), 200); acc.Plan.Status != "accepted" {
		t.Fatalf("accepting a late plan: %+v", acc.Plan)
	}
	problem(t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], map[string]any{
		"production_id": prods[0].ID, "site_id": site, "template": "opera"}), 400, booking.EINVALID)
	problem(t, b.do(t, "POST", "/api/v1/plans", b.tokens["operator"], map[string]any{
		"production_id": prods[0].ID, "site_id": site, "template": "short"}), 403, booking.EFORBIDDEN)
}

// TestPlanQuoteIsTheSumOfItsHoldsQuotes is the property that a plan costs what the
// holds its acceptance places cost: over templates, start dates (Ramadan hours, a
// Saturday half day, Throne Day and provisional Eid dates among them) and seeds, the
// plan's quote, and each stage's cost, equal the quotes of the holds, made as any
// booking's quote is (POST /api/v1/quotes).
func TestPlanQuoteIsTheSumOfItsHoldsQuotes(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, _, _ := siteAndResources(t, b)
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	r := rand.New(rand.NewSource(15))
	starts := []string{"2027-02-20T10:00:00Z", "2027-03-06T09:00:00Z", "2027-05-14T15:00:00Z", "2027-07-28T11:00:00Z"}
	templates := []string{"short", "documentary", "series_episode", "feature"}
	for i, start := range starts {
		tmpl := templates[i]
		req := map[string]any{"production_id": prods[r.Intn(len(prods))].ID, "site_id": site, "template": tmpl,
			"earliest_start": start, "seed": r.Intn(1000)}
		if tmpl == "feature" {
			req["skip"] = []string{"offline_edit", "picture_lock"}
		}
		p := decode[booking.Plan](t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], req), 201)
		type accepted struct {
			Plan     booking.Plan      `json:"plan"`
			Bookings []booking.Booking `json:"bookings"`
		}
		acc := decode[accepted](t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/accept", b.tokens["producer"], nil), 200)
		if len(acc.Bookings) != len(acc.Plan.Stages) || acc.Plan.QuoteMinor <= 0 {
			t.Fatalf("%s from %s: %d holds for %d stages, quote %d", tmpl, start, len(acc.Bookings), len(acc.Plan.Stages), acc.Plan.QuoteMinor)
		}
		var sum int64
		for j, bk := range acc.Bookings {
			q := decode[booking.Quote](t, b.do(t, "POST", "/api/v1/quotes", b.tokens["producer"], map[string]any{"booking_id": bk.ID}), 201)
			if st := acc.Plan.Stages[j]; q.TotalMinor != st.CostMinor {
				t.Errorf("%s from %s, stage %s: costs %d in the plan, its hold is quoted %d", tmpl, start, st.ID, st.CostMinor, q.TotalMinor)
			}
			sum += q.TotalMinor
		}
		if sum != acc.Plan.QuoteMinor {
			t.Errorf("%s from %s: plan quoted %d, its holds %d", tmpl, start, acc.Plan.QuoteMinor, sum)
		}
	}
}
