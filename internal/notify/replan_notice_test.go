package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/notify"
)

// TestRenderReplanMove: one booking moved by a manager's re-plan is told with why (the
// site, the window re-planned in the site's days, the manager's reason in quotes) and
// where it was and is now, in the site's time with zone and offset; the internal
// reason of the move is not shown. Without a reason, the lead gives none.
func TestRenderReplanMove(t *testing.T) {
	t.Parallel()
	n := casablanca(t, "rescheduled")
	n.PreviousStart, n.PreviousEnd = n.Start.AddDate(0, 0, 2), n.End.AddDate(0, 0, 2)
	n.Reason = "what-if re-plan 1a2b3c4d"
	n.Replan = &booking.ReplanCause{ID: uuid.New(), From: time.Date(2027, 3, 8, 0, 0, 0, 0, time.UTC),
		To: time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC), Reason: "Grading Suite 1 is back early"}
	cases := map[string][]string{
		"en": {"Booking rescheduled: Le Souffle du Baobab\n",
			"A manager of Atlas Post Casablanca re-planned the site's holds between Mon 8 Mar 2027 and Mon 15 Mar 2027 so that the work finishes earlier. Their reason: “Grading Suite 1 is back early”. This booking moved",
			"\nWas: Fri 12 Mar 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)\nNow: Wed 10 Mar 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)\n"},
		"fr": {"Un responsable du site Atlas Post Casablanca a replanifié ses options entre le lun. 8 mars 2027 et le lun. 15 mars 2027",
			"Sa raison : « Grading Suite 1 is back early ».",
			"\nAvant: ven. 12 mars 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)\nDésormais: mer. 10 mars 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)\n"},
	}
	for lang, wants := range cases {
		r := notify.Render(n, lang)
		for _, w := range wants {
			if !strings.Contains(r.Text, w) {
				t.Errorf("%s: the text lacks %q:\n%s", lang, w, r.Text)
			}
		}
		if strings.Contains(r.Text, "what-if") || strings.Contains(r.HTML, "what-if") {
			t.Errorf("%s: the internal reason shows:\n%s", lang, r.Text)
		}
	}
	n.Replan.Reason = ""
	if r := notify.Render(n, "en"); strings.Contains(r.Text, "Their reason") {
		t.Errorf("a re-plan without a reason gives one:\n%s", r.Text)
	}
}
