package httpapi_test

import (
	"strings"
	"testing"

	"github.com/posthub/posthub/internal/booking"
)

// TestWhatIfReplanTakesAReason: a manager's what-if may say why (reason, optional,
// echoed in the proposal and told to the producers whose holds move); a reason over
// 500 characters is refused and nothing is stored.
func TestWhatIfReplanTakesAReason(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	site, _, _ := siteAndResources(t, b)
	req := map[string]any{"site_id": site, "from": "2027-03-15T00:00:00Z", "to": "2027-03-22T00:00:00Z", "reason": "Mix Stage B back from maintenance"}
	rp := decode[booking.Replan](t, b.do(t, "POST", "/api/v1/replans", b.tokens["manager"], req), 201)
	if rp.Reason != "Mix Stage B back from maintenance" {
		t.Fatalf("re-plan %+v", rp)
	}
	var before int
	if err := b.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM replans`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	req["reason"] = strings.Repeat("x", 501)
	problem(t, b.do(t, "POST", "/api/v1/replans", b.tokens["manager"], req), 400, booking.EINVALID)
	var after int
	if err := b.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM replans`).Scan(&after); err != nil || after != before {
		t.Errorf("a refused re-plan stored something: %d → %d (%v)", before, after, err)
	}
}
