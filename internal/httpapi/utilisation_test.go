package httpapi_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// TestUtilisationAPI books a grade and a hold in Casablanca (UTC+00:00 since September
// 2026) and reads them back grouped, as the roles that may, with dates and instants.
func TestUtilisationAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	site, suite, colourist := siteAndResources(t, b)
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	// A Tuesday far enough ahead to be bookable: 16 March 2027 (outside Ramadan hours).
	day := time.Date(2027, 3, 16, 0, 0, 0, 0, time.UTC)
	admin, err := b.db.AuthenticateToken(ctx, b.tokens["admin"])
	if err != nil {
		t.Fatal(err)
	}
	grade, err := b.db.Book(ctx, admin, booking.BookingInput{ProductionID: prods[0].ID, ResourceIDs: []uuid.UUID{suite, colourist},
		Start: day.Add(10 * time.Hour), End: day.Add(15 * time.Hour), Status: booking.StatusConfirmed})
	if err != nil {
		t.Fatal(err)
	}
	decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
		"production_id": prods[0].ID, "resource_id": suite, "start": "2027-03-17T09:00:00Z", "end": "2027-03-17T11:00:00Z",
	}), 201)

	q := func(v url.Values) string { return "/api/v1/utilisation?" + v.Encode() }
	params := url.Values{"site_id": {site.String()}, "from": {"2027-03-15"}, "to": {"2027-03-22"}, "group_by": {"resource,day"}}
	for _, who := range []string{"admin", "manager", "operator"} {
		rep := decode[booking.UtilisationReport](t, b.do(t, "GET", q(params), b.tokens[who], nil), 200)
		if rep.TimeZone != "Africa/Casablanca" || rep.FromLocal != "2027-03-15T00:00:00+00:00" || len(rep.Rows) != 24*7 /* the demo's 24 resources at Casablanca */ {
			t.Fatalf("%s: zone %q from %q, %d rows", who, rep.TimeZone, rep.FromLocal, len(rep.Rows))
		}
		var grade, hold booking.UtilisationRow
		for _, r := range rep.Rows {
			if *r.ResourceID == suite && r.Day == "2027-03-16" {
				grade = r
			}
			if *r.ResourceID == suite && r.Day == "2027-03-17" {
				hold = r
			}
		}
		// 10:00-15:00 around the 13:00-14:00 lunch break: 4h of work; the lunch hour is
		// reserved, not used, and not overtime (the grade was not booked as overtime).
		if grade.WorkingHours != 9 || grade.ConfirmedHours != 4 || grade.OvertimeHours != 0 || grade.Utilisation != 0.4444 {
			t.Errorf("%s: the grade's day %+v", who, grade)
		}
		if hold.HeldHours != 2 || hold.ConfirmedHours != 0 {
			t.Errorf("%s: the hold's day %+v", who, hold)
		}
		if rep.Total.ConfirmedHours != 8 || rep.Total.HeldHours != 2 {
			t.Errorf("%s: total %+v", who, rep.Total)
		}
	}
	// Made as overtime, the grade's lunch hour counts apart, as overtime, on both of its
	// resources; its working time and utilisation are the same.
	if _, err := b.db.Pool.Exec(ctx, `UPDATE booking_groups SET overtime = true WHERE id = $1`, grade.ID); err != nil {
		t.Fatal(err)
	}
	ot := decode[booking.UtilisationReport](t, b.do(t, "GET", q(params), b.tokens["operator"], nil), 200)
	for _, r := range ot.Rows {
		if *r.ResourceID == suite && r.Day == "2027-03-16" && (r.ConfirmedHours != 4 || r.OvertimeHours != 1 || r.Utilisation != 0.4444) {
			t.Errorf("the overtime grade's day %+v", r)
		}
	}
	if ot.Total.ConfirmedHours != 8 || ot.Total.OvertimeHours != 2 {
		t.Errorf("total with the overtime grade %+v", ot.Total)
	}

	// Producers may not: the figures aggregate every production.
	problem(t, b.do(t, "GET", q(params), b.tokens["producer"], nil), 403, booking.EFORBIDDEN)
	problem(t, b.do(t, "GET", q(params), "", nil), 401, booking.EUNAUTHORIZED)

	// Instants work too, and group_by may repeat the parameter.
	inst := url.Values{"site_id": {site.String()}, "from": {"2027-03-16T12:00:00Z"}, "to": {"2027-03-16T18:00:00+00:00"},
		"group_by": {"kind", "country"}}
	rep := decode[booking.UtilisationReport](t, b.do(t, "GET", q(inst), b.tokens["operator"], nil), 200)
	for _, r := range rep.Rows {
		if r.Kind == "colourist" && r.Country == "SN" && (r.ConfirmedHours != 1.2 || r.WorkingHours != 3*5) {
			t.Errorf("colourists, SN: %+v", r)
		}
	}
	if len(rep.Rows) == 0 {
		t.Fatal("no rows by kind and country")
	}

	// Bad queries name the parameter.
	for _, c := range []struct {
		v      url.Values
		status int
		code   string
	}{
		{url.Values{"from": {"2027-03-15"}, "to": {"2027-03-22"}}, 400, booking.EINVALID},
		{url.Values{"site_id": {"nope"}, "from": {"2027-03-15"}, "to": {"2027-03-22"}}, 400, booking.EINVALID},
		{url.Values{"site_id": {uuid.NewString()}, "from": {"2027-03-15"}, "to": {"2027-03-22"}}, 404, booking.ENOTFOUND},
		{url.Values{"site_id": {site.String()}, "to": {"2027-03-22"}}, 400, booking.EINVALID},
		{url.Values{"site_id": {site.String()}, "from": {"2027-03-15T00:00:00"}, "to": {"2027-03-22"}}, 400, booking.EINVALID},
		{url.Values{"site_id": {site.String()}, "from": {"2027-03-15"}, "to": {"2027-03-22"}, "group_by": {"room"}}, 400, booking.EINVALID},
		{url.Values{"site_id": {site.String()}, "from": {"2027-03-22"}, "to": {"2027-03-15"}}, 422, booking.EUNPROCESSABLE},
		{url.Values{"site_id": {site.String()}, "from": {"2027-01-01"}, "to": {"2028-03-15"}}, 422, booking.EUNPROCESSABLE},
	} {
		p := problem(t, b.do(t, "GET", q(c.v), b.tokens["operator"], nil), c.status, c.code)
		if c.status == 400 && p.Details["parameter"] == nil {
			t.Errorf("%v: no parameter named: %+v", c.v, p)
		}
	}
}
