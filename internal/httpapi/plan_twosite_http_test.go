package httpapi_test

import (
	"context"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/money"
)

// twoSites returns the demo hub's Casablanca and Dakar sites.
func twoSites(t *testing.T, b *testBundle) (casablanca, dakar uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	if err := b.db.Pool.QueryRow(ctx, `SELECT id FROM sites WHERE slug = 'casablanca'`).Scan(&casablanca); err != nil {
		t.Fatal(err)
	}
	if err := b.db.Pool.QueryRow(ctx, `SELECT id FROM sites WHERE slug = 'dakar'`).Scan(&dakar); err != nil {
		t.Fatal(err)
	}
	return
}

// atmosHDRFeature creates the producer's Atmos, HDR feature with French and Wolof
// subtitles, delivered as a DCP.
func atmosHDRFeature(t *testing.T, b *testBundle) booking.Production {
	t.Helper()
	return decode[booking.Production](t, b.do(t, "POST", "/api/v1/productions", b.tokens["producer"], map[string]any{
		"title": "Ndox Mi", "format": "feature", "runtime_minutes": 98, "origins": []map[string]any{{"country": "SN", "share_pct": 100}},
		"deliverables": map[string]any{"picture": []string{"hdr"}, "sound": []string{"5.1", "atmos"}, "delivery": []string{"dcp"},
			"original_language": "wo", "subtitle_languages": []string{"fr", "wo"}}}), 201)
}

// TestPlanAcrossTwoSites (issue 19): a Senegalese feature planned across Dakar and
// Casablanca edits in Dakar (the first site that can) and grades and mixes in
// Casablanca (HDR suite and colourist, Atmos stage and mixer are only there), with the
// transfer time between the sites before the first Casablanca stage; each stage is
// quoted in its site's currency and the plan totalled in XOF at rates locked when it
// was proposed, which acceptance keeps though a new rate is entered meanwhile; the
// holds are placed at both sites.
func TestPlanAcrossTwoSites(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	cas, dkr := twoSites(t, b)
	prod := atmosHDRFeature(t, b)
	req := map[string]any{"production_id": prod.ID, "site_ids": []uuid.UUID{dkr, cas}, "template": "feature", "currency": "XOF",
		"earliest_start": "2027-03-01T09:00:00Z", "seed": 4}
	p := decode[booking.Plan](t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], req), 201)
	if !p.Placed || p.SiteID != dkr || !slices.Equal(p.SiteIDs, []uuid.UUID{dkr, cas}) || p.Currency != "XOF" || p.Quote != nil {
		t.Fatalf("plan: placed %v, site %s, sites %v, currency %s, unmet %v", p.Placed, p.SiteID, p.SiteIDs, p.Currency, p.Unmet)
	}
	checkPlan(t, b, p)
	stage := func(id string) booking.PlannedStage {
		t.Helper()
		i := slices.IndexFunc(p.Stages, func(s booking.PlannedStage) bool { return s.ID == id })
		if i < 0 {
			t.Fatalf("no stage %s", id)
		}
		return p.Stages[i]
	}
	if s := stage("offline_edit"); s.SiteID != dkr || s.Currency != "XOF" || s.TimeZone != "Africa/Dakar" || s.CostMinor <= 0 {
		t.Errorf("offline edit: %+v", s)
	}
	for _, id := range []string{"grade", "mix", "dcp"} {
		if s := stage(id); s.SiteID != cas || s.Currency != "MAD" || s.TimeZone != "Africa/Casablanca" || s.CostMinor <= 0 {
			t.Errorf("%s: %+v", id, s)
		}
	}
	if s := stage("subtitles_wo"); !slices.Contains(s.Demands[0].Capabilities, "lang:wo") {
		t.Errorf("Wolof subtitles: %+v", s.Demands)
	}
	// The picture lock (a screening room: Casablanca only) waits for the cut to travel.
	lock := stage("picture_lock")
	if lock.SiteID != cas || len(p.Transfers) == 0 {
		t.Fatalf("picture lock at %s, transfers %+v", lock.SiteID, p.Transfers)
	}
	tr := p.Transfers[slices.IndexFunc(p.Transfers, func(x booking.PlanTransfer) bool { return x.ToStage == "picture_lock" })]
	if tr.FromStage != "offline_edit" || tr.FromSite != dkr || tr.ToSite != cas || tr.Hours != 24 || tr.Kind != "data" || tr.Basis == "" {
		t.Errorf("transfer: %+v", tr)
	}
	if got := lock.Start.Sub(stage("offline_edit").End).Hours(); got < 24 {
		t.Errorf("picture lock starts %vh after the edit ends in Dakar, less than the 24h transfer", got)
	}
	// Two currencies, the MAD sum converted at the locked rate through EUR.
	if len(p.Totals) != 2 || p.Totals[0].Currency != "XOF" || p.Totals[1].Currency != "MAD" || len(p.Rates) != 1 {
		t.Fatalf("totals %+v, rates %+v", p.Totals, p.Rates)
	}
	rate := p.Rates[0]
	if rate.From != "MAD" || rate.To != "XOF" || len(rate.Legs) != 2 || rate.RatesAt.IsZero() || rate.EffectiveAt.IsZero() {
		t.Fatalf("rate: %+v", rate)
	}
	// The demo's rates: 655.957 XOF and 10.85 MAD to the euro.
	r := new(big.Rat).Quo(big.NewRat(655957, 1000), big.NewRat(1085, 100))
	if !strings.HasPrefix(rate.Rate, "60.4568") {
		t.Errorf("MAD→XOF rate %s, want 655.957/10.85", rate.Rate)
	}
	mad := p.Totals[1]
	if conv, _ := money.Convert(mad.TotalMinor, "MAD", "XOF", r); conv != mad.ConvertedMinor || p.QuoteMinor != p.Totals[0].TotalMinor+mad.ConvertedMinor {
		t.Errorf("MAD %d converts to %d at %s, the plan says %d; quote %d", mad.TotalMinor, conv, rate.Rate, mad.ConvertedMinor, p.QuoteMinor)
	}

	// A new rate entered before acceptance changes nothing in the plan.
	decode[booking.ExchangeRate](t, b.do(t, "POST", "/api/v1/exchange-rates", b.tokens["admin"], map[string]any{"base": "EUR", "quote": "MAD", "rate": "11.5"}), 201)
	type accepted struct {
		Plan     booking.Plan      `json:"plan"`
		Bookings []booking.Booking `json:"bookings"`
	}
	acc := decode[accepted](t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/accept", b.tokens["producer"], nil), 200)
	if acc.Plan.Status != "accepted" || len(acc.Bookings) != len(p.Stages) {
		t.Fatalf("accepted: %s, %d holds for %d stages", acc.Plan.Status, len(acc.Bookings), len(p.Stages))
	}
	at := map[uuid.UUID]int{}
	for i, bk := range acc.Bookings {
		if bk.SiteID != p.Stages[i].SiteID || bk.Status != booking.StatusHold {
			t.Errorf("hold %d at %s (%s), stage at %s", i, bk.SiteID, bk.Status, p.Stages[i].SiteID)
		}
		at[bk.SiteID]++
	}
	if at[cas] == 0 || at[dkr] == 0 {
		t.Errorf("holds by site: %v", at)
	}
	got := decode[booking.Plan](t, b.do(t, "GET", "/api/v1/plans/"+p.ID.String(), b.tokens["producer"], nil), 200)
	if got.Rates[0].Rate != rate.Rate || !got.Rates[0].RatesAt.Equal(rate.RatesAt) || got.QuoteMinor != p.QuoteMinor || got.Totals[1] != mad {
		t.Errorf("the accepted plan's money moved: rates %+v totals %+v quote %d", got.Rates, got.Totals, got.QuoteMinor)
	}
	checkPlan(t, b, got)

	// A stage pinned to Dakar goes there: the Wolof subtitles with a Dakar editor.
	req["stage_sites"] = map[string]uuid.UUID{"subtitles_wo": dkr}
	pinned := decode[booking.Plan](t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], req), 201)
	checkPlan(t, b, pinned)
	for _, s := range pinned.Stages {
		if s.ID == "subtitles_wo" && (s.SiteID != dkr || s.Currency != "XOF") {
			t.Errorf("pinned Wolof subtitles at %s in %s", s.SiteID, s.Currency)
		}
	}
}

// TestPlanSitesBadInput: an unknown site, a site named twice, site_id outside
// site_ids, a pin to a site or stage the plan does not have and a bad currency are 400
// invalid naming the field; no plan is stored.
func TestPlanSitesBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	cas, dkr := twoSites(t, b)
	prod := atmosHDRFeature(t, b)
	ctx := context.Background()
	count := func() int {
		var n int
		if err := b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM plans`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	base := func() map[string]any {
		return map[string]any{"production_id": prod.ID, "template": "feature", "earliest_start": "2027-03-01T09:00:00Z"}
	}
	unknown := uuid.New()
	cases := map[string]struct {
		set   map[string]any
		field string
	}{
		"unknown site":          {map[string]any{"site_ids": []uuid.UUID{dkr, unknown}}, "site_ids"},
		"unknown single site":   {map[string]any{"site_id": unknown}, "site_ids"},
		"site twice":            {map[string]any{"site_ids": []string{dkr.String(), dkr.String()}}, "site_ids"},
		"site_id not listed":    {map[string]any{"site_id": cas, "site_ids": []uuid.UUID{dkr}}, "site_id"},
		"pin to another site":   {map[string]any{"site_ids": []uuid.UUID{dkr}, "stage_sites": map[string]uuid.UUID{"grade": cas}}, "stage_sites"},
		"pin to unknown stage":  {map[string]any{"site_ids": []uuid.UUID{dkr, cas}, "stage_sites": map[string]uuid.UUID{"opera": cas}}, "stage_sites"},
		"currency not ISO 4217": {map[string]any{"site_ids": []uuid.UUID{dkr, cas}, "currency": "XYZ"}, "currency"},
	}
	for name, c := range cases {
		req := base()
		for k, v := range c.set {
			req[k] = v
		}
		pr := problem(t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], req), 400, booking.EINVALID)
		if pr.Details["field"] != c.field {
			t.Errorf("%s: details %v, want field %s", name, pr.Details, c.field)
		}
	}
	if after := count(); after != before {
		t.Fatalf("refused requests stored %d plans", after-before)
	}
}

// TestTwoSitePlansHoldTheirChecks is the property over start dates (Casablanca's
// Ramadan hours, Senegal's and Morocco's holidays among them) and seeds: every plan
// across Dakar and Casablanca passes the independent checker (each stage on its site's
// calendar and resources, transfers between sites, the money adding up), and once
// accepted each stage's cost is what its hold is quoted, in its site's currency, by
// the quote any booking gets (POST /api/v1/quotes).
func TestTwoSitePlansHoldTheirChecks(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	cas, dkr := twoSites(t, b)
	prod := atmosHDRFeature(t, b)
	type accepted struct {
		Plan     booking.Plan      `json:"plan"`
		Bookings []booking.Booking `json:"bookings"`
	}
	for i, start := range []string{"2027-02-01T08:00:00Z", "2027-04-02T15:30:00Z", "2027-07-26T10:00:00Z"} {
		sites := []uuid.UUID{dkr, cas}
		if i == 1 {
			sites = []uuid.UUID{cas, dkr} // the hub first: only what it cannot do goes to Dakar
		}
		p := decode[booking.Plan](t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], map[string]any{"production_id": prod.ID,
			"site_ids": sites, "template": "feature", "earliest_start": start, "seed": 10 + i}), 201)
		if !p.Placed {
			t.Fatalf("from %s: not placed: %v", start, p.Unmet)
		}
		checkPlan(t, b, p)
		acc := decode[accepted](t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/accept", b.tokens["producer"], nil), 200)
		if len(acc.Bookings) != len(p.Stages) {
			t.Fatalf("from %s: %d holds for %d stages", start, len(acc.Bookings), len(p.Stages))
		}
		for j, bk := range acc.Bookings {
			st := acc.Plan.Stages[j]
			q := decode[booking.Quote](t, b.do(t, "POST", "/api/v1/quotes", b.tokens["producer"], map[string]any{"booking_id": bk.ID}), 201)
			if q.Currency != st.Currency || q.TotalMinor != st.CostMinor || bk.SiteID != st.SiteID {
				t.Errorf("from %s, stage %s at %s: costs %d %s in the plan, its hold at %s is quoted %d %s",
					start, st.ID, st.SiteID, st.CostMinor, st.Currency, bk.SiteID, q.TotalMinor, q.Currency)
			}
		}
	}
}

// TestReplanRemainingAcrossTwoSites: the remaining stages of an accepted plan across
// Dakar and Casablanca, its Dakar edit confirmed, are planned again at the sites they
// were at (the grade and mix stay in Casablanca, where their suites are), the picture
// lock still waiting the 24 h transfer after the kept edit, named as the edit's
// transfer; the proposal is totalled in both currencies and its acceptance places
// holds at Casablanca around the kept Dakar booking.
func TestReplanRemainingAcrossTwoSites(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	cas, dkr := twoSites(t, b)
	prod := atmosHDRFeature(t, b)
	p := decode[booking.Plan](t, b.do(t, "POST", "/api/v1/plans", b.tokens["producer"], map[string]any{"production_id": prod.ID,
		"site_ids": []uuid.UUID{dkr, cas}, "template": "feature", "currency": "XOF", "earliest_start": "2027-03-01T09:00:00Z", "seed": 4}), 201)
	type accepted struct {
		Plan     booking.Plan      `json:"plan"`
		Bookings []booking.Booking `json:"bookings"`
	}
	acc := decode[accepted](t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/accept", b.tokens["producer"], nil), 200)
	old := map[string]booking.PlannedStage{}
	for _, s := range acc.Plan.Stages {
		old[s.ID] = s
	}
	edit := old["offline_edit"]
	if edit.SiteID != dkr || edit.BookingID == nil {
		t.Fatalf("offline edit: %+v", edit)
	}
	decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings/"+edit.BookingID.String()+"/confirm", b.tokens["admin"], nil), 200)

	np := decode[booking.Plan](t, b.do(t, "POST", "/api/v1/plans/"+p.ID.String()+"/replan-remaining", b.tokens["producer"], nil), 201)
	if !np.Placed || !np.Remaining || !slices.Equal(np.SiteIDs, []uuid.UUID{dkr, cas}) || np.Currency != "XOF" || len(np.Stages) != len(p.Stages) {
		t.Fatalf("re-plan: placed %v, remaining %v, sites %v, %s, %d stages, unmet %v", np.Placed, np.Remaining, np.SiteIDs, np.Currency, len(np.Stages), np.Unmet)
	}
	checkPlan(t, b, np)
	var lock booking.PlannedStage
	for _, s := range np.Stages {
		if s.SiteID != old[s.ID].SiteID {
			t.Errorf("stage %s re-planned at %s, was at %s", s.ID, s.SiteID, old[s.ID].SiteID)
		}
		if s.ID == "offline_edit" && (s.BookingID == nil || *s.BookingID != *edit.BookingID || !s.Start.Equal(edit.Start)) {
			t.Errorf("the kept edit: %+v", s)
		}
		if s.ID == "picture_lock" {
			lock = s
		}
	}
	if lock.SiteID != cas || lock.Start.Before(edit.End.Add(24*time.Hour)) {
		t.Errorf("picture lock at %s from %s; the edit ended in Dakar at %s", lock.SiteID, lock.Start, edit.End)
	}
	i := slices.IndexFunc(np.Transfers, func(x booking.PlanTransfer) bool { return x.ToStage == "picture_lock" })
	if i < 0 || np.Transfers[i].FromStage != "offline_edit" || np.Transfers[i].FromSite != dkr || np.Transfers[i].Hours != 24 {
		t.Errorf("transfers: %+v", np.Transfers)
	}
	if len(np.Totals) != 2 || np.QuoteMinor != np.Totals[0].ConvertedMinor+np.Totals[1].ConvertedMinor || len(np.Rates) != 1 {
		t.Errorf("totals %+v, rates %+v, quote %d", np.Totals, np.Rates, np.QuoteMinor)
	}
	acc2 := decode[accepted](t, b.do(t, "POST", "/api/v1/plans/"+np.ID.String()+"/accept", b.tokens["producer"], nil), 200)
	if len(acc2.Bookings) != len(p.Stages)-1 {
		t.Fatalf("accepted: %d holds for %d remaining stages", len(acc2.Bookings), len(p.Stages)-1)
	}
	for _, bk := range acc2.Bookings {
		if bk.Status != booking.StatusHold {
			t.Errorf("hold %s is %s", bk.ID, bk.Status)
		}
	}
}
