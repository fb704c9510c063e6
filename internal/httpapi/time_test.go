package httpapi_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// siteAndResources finds the Casablanca site, its HDR grading suite and a
// French-speaking colourist.
func siteAndResources(t *testing.T, b *testBundle) (site, suite, colourist uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	if err := b.db.Pool.QueryRow(ctx, `SELECT id FROM sites WHERE slug = 'casablanca'`).Scan(&site); err != nil {
		t.Fatal(err)
	}
	if err := b.db.Pool.QueryRow(ctx, `SELECT id FROM resources WHERE site_id = $1 AND kind = 'grading_suite' AND 'hdr' = ANY(capabilities)`, site).Scan(&suite); err != nil {
		t.Fatal(err)
	}
	if err := b.db.Pool.QueryRow(ctx, `SELECT id FROM resources WHERE site_id = $1 AND kind = 'colourist' AND 'lang:fr' = ANY(capabilities) ORDER BY name LIMIT 1`, site).Scan(&colourist); err != nil {
		t.Fatal(err)
	}
	return
}

// TestCasablancaTimesUseTheEmbeddedTZData pins the answers that stale tz data gets
// wrong: Morocco left +01:00 for permanent +00:00 on 2026-09-20 (tz 2026c). The
// machine's own tz files are older; the service must not use them.
func TestCasablancaTimesUseTheEmbeddedTZData(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, suite, _ := siteAndResources(t, b)
	type wt struct {
		FromLocal string `json:"from_local"`
		TimeZone  string `json:"time_zone"`
	}
	for _, c := range []struct{ from, local string }{
		{"2026-03-25T12:00:00Z", "2026-03-25T13:00:00+01:00"},
		{"2026-10-01T12:00:00Z", "2026-10-01T12:00:00+00:00"},
	} {
		got := decode[wt](t, b.do(t, "GET", "/api/v1/working-time?site_id="+site.String()+"&hours=1&from="+url.QueryEscape(c.from), b.tokens["producer"], nil), 200)
		if got.FromLocal != c.local || got.TimeZone != "Africa/Casablanca" {
			t.Errorf("%s in Casablanca: %q (%s), want %q", c.from, got.FromLocal, got.TimeZone, c.local)
		}
	}
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	// 10:00 local on a Casablanca working day in 2027 is 10:00Z.
	bk := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
		"production_id": prods[0].ID, "resource_id": suite, "start_local": "2027-03-16T10:00:00", "end_local": "2027-03-16T13:00:00",
	}), 201)
	if !bk.Start.Equal(time.Date(2027, 3, 16, 10, 0, 0, 0, time.UTC)) || bk.StartLocal != "2027-03-16T10:00:00+00:00" ||
		bk.EndLocal != "2027-03-16T13:00:00+00:00" || bk.TimeZone != "Africa/Casablanca" || bk.TZVersion != "2026f" {
		t.Fatalf("booking entered as 10:00 local: %+v", bk)
	}
	// Read back, the stored wall-clock is shown as it was derived.
	again := decode[booking.Booking](t, b.do(t, "GET", "/api/v1/bookings/"+bk.ID.String(), b.tokens["producer"], nil), 200)
	if again.StartLocal != bk.StartLocal || again.EndLocal != bk.EndLocal {
		t.Fatalf("read back: %+v", again)
	}
}

func TestProvisionalHolidayWarnsManualBookings(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	_, suite, _ := siteAndResources(t, b)
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	// Eid al-Adha 2027 is seeded as a provisional Moroccan holiday on 2027-05-17.
	bk := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
		"production_id": prods[0].ID, "resource_id": suite, "start": "2027-05-17T09:00:00Z", "end": "2027-05-17T12:00:00Z",
	}), 201)
	if len(bk.Warnings) == 0 {
		t.Fatalf("no warning for a booking on a provisional holiday: %+v", bk)
	}
	ok := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
		"production_id": prods[0].ID, "resource_id": suite, "start": "2027-05-19T09:00:00Z", "end": "2027-05-19T12:00:00Z",
	}), 201)
	if len(ok.Warnings) != 0 {
		t.Fatalf("warning on an ordinary day: %v", ok.Warnings)
	}
}

type slots struct {
	Items []booking.Slot `json:"items"`
}

func TestAvailabilitySearch(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, suite, colourist := siteAndResources(t, b)
	q := func(extra string) []booking.Slot {
		t.Helper()
		path := "/api/v1/availability?site_id=" + site.String() + "&demand=grading_suite:hdr&demand=colourist:lang:fr" +
			"&hours=8&from=" + url.QueryEscape("2027-03-15T00:00:00Z") + "&to=" + url.QueryEscape("2027-03-27T00:00:00Z") + extra
		return decode[slots](t, b.do(t, "GET", path, b.tokens["producer"], nil), 200).Items
	}
	first := q("&limit=3")
	if len(first) != 3 {
		t.Fatalf("slots: %+v", first)
	}
	// Monday 2027-03-15: 09:00–13:00 and 14:00–19:00 local (= UTC in Casablanca now);
	// eight working hours from 09:00 end at 18:00.
	if !first[0].Start.Equal(time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC)) || !first[0].End.Equal(time.Date(2027, 3, 15, 18, 0, 0, 0, time.UTC)) ||
		first[0].StartLocal != "2027-03-15T09:00:00+00:00" || len(first[0].Resources) != 2 || first[0].Resources[0].ResourceID != suite {
		t.Fatalf("first slot: %+v", first[0])
	}
	var colouristGiven bool
	for _, r := range first[0].Resources {
		colouristGiven = colouristGiven || r.Kind == "colourist"
	}
	if !colouristGiven {
		t.Fatalf("no colourist in %+v", first[0])
	}
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer_other"], nil), 200).Items
	// Another production's first hold on the suite on Monday morning: counted by default,
	// not with holds=ignore.
	decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer_other"], map[string]any{
		"production_id": prods[0].ID, "resource_id": suite, "start": "2027-03-15T09:00:00Z", "end": "2027-03-15T12:00:00Z",
	}), 201)
	held := q("")
	if !held[0].Start.After(time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("the first hold was ignored: %+v", held[0])
	}
	if !held[0].Start.Equal(time.Date(2027, 3, 15, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("earliest slot after the hold should start when it ends (12:00): %+v", held[0])
	}
	ignoring := q("&holds=ignore")
	if !ignoring[0].Start.Equal(time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("holds=ignore still avoided the hold: %+v", ignoring[0])
	}
	// The colourist's weekly Monday-morning leave (recurring, in local time) moves the
	// Monday slots.
	res := b.do(t, "POST", "/api/v1/blocks", b.tokens["manager"], map[string]any{
		"resource_id": colourist, "start": "2027-03-01T09:00:00Z", "end": "2027-03-01T14:00:00Z", "kind": "leave",
		"rrule": "FREQ=WEEKLY;BYDAY=MO",
	})
	if res.StatusCode != 201 {
		t.Fatalf("recurring leave: %d", res.StatusCode)
	}
	after := q("&holds=ignore")
	for _, s := range after {
		for _, r := range s.Resources {
			if r.ResourceID == colourist && s.Start.Weekday() == time.Monday && s.Start.Hour() < 14 {
				t.Fatalf("slot during the colourist's leave: %+v", s)
			}
		}
	}
	// A site closure on Tuesday 16th takes the day out.
	decode[booking.Holiday](t, b.do(t, "POST", "/api/v1/holidays", b.tokens["manager"], map[string]any{
		"site_id": site, "date": "2027-03-16", "name": "Inventory day"}), 201)
	for _, s := range q("&holds=ignore&limit=10") {
		if s.Start.YearDay() == time.Date(2027, 3, 16, 0, 0, 0, 0, time.UTC).YearDay() {
			t.Fatalf("slot on the closure: %+v", s)
		}
	}
	problem(t, b.do(t, "GET", "/api/v1/availability?site_id="+site.String()+"&demand=grading_suite&hours=0&from=2027-03-15T00:00:00Z&to=2027-03-27T00:00:00Z", b.tokens["producer"], nil), 400, booking.EINVALID)
	problem(t, b.do(t, "GET", "/api/v1/availability?site_id="+site.String()+"&demand=grading_suite&hours=4&from=2027-03-15T00:00:00&to=2027-03-27T00:00:00Z", b.tokens["producer"], nil), 400, booking.EINVALID)
}

func TestCalendarEditingIsForManagers(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, _, _ := siteAndResources(t, b)
	week := map[string]any{"week": map[string]any{"monday": []map[string]string{{"from": "08:00", "to": "12:00"}, {"from": "13:00", "to": "17:00"}}}}
	problem(t, b.do(t, "PUT", "/api/v1/sites/"+site.String()+"/calendar/week", b.tokens["producer"], week), 403, booking.EFORBIDDEN)
	cal := decode[booking.SiteCalendar](t, b.do(t, "PUT", "/api/v1/sites/"+site.String()+"/calendar/week", b.tokens["manager"], week), 200)
	if len(cal.Week["monday"]) != 2 || len(cal.Week["tuesday"]) != 0 || cal.TZVersion != "2026f" {
		t.Fatalf("week: %+v", cal.Week)
	}
	bad := map[string]any{"week": map[string]any{"monday": []map[string]string{{"from": "12:00", "to": "08:00"}}}}
	problem(t, b.do(t, "PUT", "/api/v1/sites/"+site.String()+"/calendar/week", b.tokens["manager"], bad), 400, booking.EINVALID)
	// Provisional national holidays are seeded; a manager confirms one on its
	// announced date.
	var eid booking.Holiday
	for _, h := range cal.Holidays {
		if h.Provisional && h.Date == "2027-03-10" {
			eid = h
		}
	}
	if eid.ID == uuid.Nil {
		t.Fatalf("no provisional Eid al-Fitr 2027 among %d holidays", len(cal.Holidays))
	}
	h := decode[booking.Holiday](t, b.do(t, "POST", "/api/v1/holidays/"+eid.ID.String()+"/confirm", b.tokens["manager"], map[string]string{"date": "2027-03-11"}), 200)
	if h.Provisional || h.Date != "2027-03-11" {
		t.Fatalf("confirmed holiday: %+v", h)
	}
	ov := decode[booking.CalendarOverride](t, b.do(t, "POST", "/api/v1/sites/"+site.String()+"/calendar/overrides", b.tokens["manager"], map[string]any{
		"name": "Festival week", "from": "2027-06-01", "to": "2027-06-07",
		"week": map[string]any{"tuesday": []map[string]string{{"from": "10:00", "to": "14:00"}}}}), 201)
	if res := b.do(t, "DELETE", "/api/v1/calendar/overrides/"+ov.ID.String(), b.tokens["manager"], nil); res.StatusCode != 204 {
		t.Fatalf("delete override: %d", res.StatusCode)
	}
}
