package jobs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/notify"
)

// TestManagerDigest: the manager of both demo sites gets one mail a day, in French
// (the demo manager's locale), listing the approval waiting, the open challenge, the
// session starting tomorrow and the hold expiring; sending the day again sends nothing.
func TestManagerDigest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	ms := newMailServer(t)
	// A confirmed session later today, within the working hours.
	f.book(t, "manager", "producer_other", booking.StatusConfirmed, f.suites[2:3], frozenNow.Add(time.Hour), frozenNow.Add(5*time.Hour))
	// An approval waiting.
	pol, err := f.db.SitePolicy(f.ctx, f.actors["manager"].SiteIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, site := range f.actors["manager"].SiteIDs {
		pol.SiteID, pol.ConfirmNeedsApproval = site, true
		if _, err := f.db.UpdateSitePolicy(f.ctx, f.actors["manager"], pol); err != nil {
			t.Fatal(err)
		}
	}
	h := f.book(t, "producer", "producer", booking.StatusHold, f.suites[:1], at(10, 9), at(10, 12))
	f.act(t, "producer", h.ID, booking.ActionConfirm)
	// A challenge.
	f.book(t, "producer_other", "producer_other", booking.StatusHold, f.suites[1:2], at(11, 9), at(11, 12))
	c := f.book(t, "producer_casablanca", "producer_casablanca", booking.StatusHold, f.suites[1:2], at(11, 9), at(11, 12))
	f.act(t, "producer_casablanca", c.ID, booking.ActionConfirm)

	deps := f.deps(ms.Mailer(), notify.WebhookSender{})
	w := &jobs.DigestWorker{Deps: deps, Digests: f.db.ManagerDigests}
	job := &river.Job[jobs.DigestArgs]{Args: jobs.DigestArgs{Day: "2027-03-01"}}
	if err := w.Work(f.ctx, job); err != nil {
		t.Fatal(err)
	}
	msgs := ms.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d digests, want 1 (one manager)", len(msgs))
	}
	m := msgs[0]
	if !strings.Contains(m.Subject, "votre journée") || len(m.To) != 1 || m.To[0].Address != "manager@atlas-post.example" {
		t.Fatalf("digest: %q to %v", m.Subject, m.To)
	}
	for _, want := range []string{"Confirmations en attente", "Challenges ouverts", "Commencent dans les prochaines 24 heures",
		f.prod["producer"].Title, f.prod["producer_casablanca"].Title,
		// The challenge's deadline, with the zone and offset: the 48 working hours do not
		// fit before the slot (Thursday 11 March 09:00, after a provisional Eid), so an
		// hour before it.
		"(échéance jeu. 11 mars 2027 08:00 (Africa/Casablanca, UTC+00:00))"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("digest lacks %q:\n%s", want, m.Text)
		}
	}
	if m.HTML == "" {
		t.Error("digest has no HTML part")
	}
	if err := w.Work(f.ctx, job); err != nil {
		t.Fatal(err)
	}
	if n := ms.Len(); n != 1 {
		t.Fatalf("the same day's digest was sent again: %d mails", n)
	}
}
