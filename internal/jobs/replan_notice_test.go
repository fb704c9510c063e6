package jobs_test

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/notify"
)

// TestManagersReplanIsOneNoticeSayingWhatMovedAndWhy: a plan's three stages were pushed
// a day late by a confirmed booking that is then cancelled; a manager re-plans the
// site's week with a reason and applies it. The production's producers each get ONE
// mail (over SMTP), in their own language, saying why (the manager's re-plan of the
// site's window, and the reason) and, for each stage that moved, where it was and where
// it is now in the site's time with the zone and offset. The manager who acted is
// mailed nothing.
func TestManagersReplanIsOneNoticeSayingWhatMovedAndWhy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	smtpd := newMailServer(t)
	deps := f.deps(smtpd.Mailer(), notify.WebhookSender{})
	worker := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.NoticeGroupWorker{Deps: deps})
	f.addProducer(t, "producer", "fatou", "Fatou Sall", "en")
	var site, dcp uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT s.id, r.id FROM sites s JOIN resources r ON r.site_id = s.id
		WHERE s.slug = 'casablanca' AND r.kind = 'dcp_mastering'`).Scan(&site, &dcp); err != nil {
		t.Fatal(err)
	}
	blocker := f.book(t, "manager", "producer_other", booking.StatusConfirmed, []uuid.UUID{dcp}, at(15, 9), at(15, 19))
	_, holds := f.acceptPlan(t, "producer", "producer", at(15, 9))
	f.act(t, "manager", blocker.ID, booking.ActionCancel)
	f.clearJobs(t)

	reason := "La salle DCP est libre lundi / the DCP room is free on Monday"
	rp, err := f.db.ProposeReplan(f.ctx, f.actors["manager"], site, at(15, 0), at(22, 0), reason)
	if err != nil || len(rp.Moves) != 3 || rp.Reason != reason {
		t.Fatalf("re-plan: %v %+v", err, rp)
	}
	if _, err := f.db.ProposeReplan(f.ctx, f.actors["manager"], site, at(15, 0), at(22, 0), strings.Repeat("x", 501)); booking.ErrorCode(err) != booking.EINVALID {
		t.Errorf("a reason of 501 characters: %v", err)
	}
	if _, err := f.db.ApplyReplan(f.ctx, f.actors["manager"], rp.ID); err != nil {
		t.Fatal(err)
	}
	rows := f.groupRows(t, 1)
	g := decodeArgs[jobs.NoticeGroupArgs](t, rows[0])
	if g.ProductionID != f.prod["producer"].ID || len(g.Notices) != 3 {
		t.Fatalf("the re-plan's notice: %+v", g)
	}
	for _, n := range g.Notices {
		if n.Event != booking.EventRescheduled || n.Replan == nil || n.Replan.ID != rp.ID || n.Replan.Reason != reason || n.PreviousStart == nil {
			t.Fatalf("notice %+v", n)
		}
	}
	if state, err := work(t, f, worker, &rows[0]); err != nil || state != rivertype.JobStateCompleted {
		t.Fatalf("the re-plan's notice: %s %v", state, err)
	}

	loc, err := calendar.LoadLocation("Africa/Casablanca")
	if err != nil {
		t.Fatal(err)
	}
	moved := map[uuid.UUID]booking.HoldMove{}
	for _, m := range rp.Moves {
		moved[m.BookingID] = m
	}
	when := func(lang string, s, e time.Time) string {
		return notify.Notice{Start: s, End: e, Location: loc, Zone: "Africa/Casablanca"}.When(lang)
	}
	title := f.prod["producer"].Title
	type want struct{ subject, why, reason, moved, was, now string }
	wants := map[uuid.UUID]want{
		f.users["producer"]: {title + " : 3 réservations déplacées", "Un responsable du site Atlas Post Casablanca a replanifié ses options entre le lun. 15 mars 2027 et le lun. 22 mars 2027",
			"Sa raison : « " + reason + " ».", "Ce qui a bougé pour " + title + " :", "   Avant: ", "   Désormais: "},
		f.users["fatou"]: {title + ": 3 bookings moved", "A manager of Atlas Post Casablanca re-planned the site's holds between Mon 15 Mar 2027 and Mon 22 Mar 2027",
			"Their reason: “" + reason + "”.", "What moved for " + title + ":", "   Was: ", "   Now: "},
	}
	lang := map[uuid.UUID]string{f.users["producer"]: "fr", f.users["fatou"]: "en"}
	got := map[uuid.UUID]int{}
	for _, m := range smtpd.Messages() {
		var to uuid.UUID
		for id := range wants {
			if m.MessageID == messageID(g.EventID, id) {
				to = id
			}
		}
		if m.MessageID == messageID(g.EventID, f.users["manager"]) {
			t.Errorf("the manager who applied the re-plan was mailed")
		}
		if to == uuid.Nil {
			continue // the site's other managers are told too
		}
		got[to]++
		w, body := wants[to], text(m)
		if m.Subject != w.subject {
			t.Errorf("subject %q, want %q", m.Subject, w.subject)
		}
		for _, s := range []string{w.why, w.reason, w.moved} {
			if !strings.Contains(body, s) || !strings.Contains(m.HTML, html.EscapeString(s)) {
				t.Errorf("%s: the mail lacks %q:\n%s", lang[to], s, body)
			}
		}
		// Each stage: where it was and where it is now, in the site's time and zone.
		for _, h := range holds {
			mv, ok := moved[h.ID]
			if !ok {
				t.Fatalf("hold %s did not move", h.ID)
			}
			was, now := w.was+when(lang[to], mv.FromStart, mv.FromEnd)+"\n", w.now+when(lang[to], mv.ToStart, mv.ToEnd)+"\n"
			if !strings.Contains(body, was) || !strings.Contains(body, now) || !strings.Contains(now, "(Africa/Casablanca, UTC+") {
				t.Errorf("%s: the mail lacks %q or %q:\n%s", lang[to], was, now, body)
			}
		}
		if strings.Contains(body, "what-if re-plan") {
			t.Errorf("the mail shows the internal reason:\n%s", body)
		}
	}
	for id := range wants {
		if got[id] != 1 {
			t.Errorf("%s got %d mails of the re-plan, want 1", lang[id], got[id])
		}
	}
}
