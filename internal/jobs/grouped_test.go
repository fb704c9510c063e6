package jobs_test

import (
	"context"
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/notify"
)

// addProducer adds a producer to the organisation of the demo user of, reading locale,
// under key in the fixture's users and actors.
func (f *fixture) addProducer(t *testing.T, of, key, name, locale string) booking.Actor {
	t.Helper()
	var id uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `INSERT INTO users (organisation_id, email, name, role, locale, created_at)
		VALUES ($1, $2, $3, 'producer', $4, now()) RETURNING id`,
		f.actors[of].OrganisationID, key+"@teranga-lumiere.example", name, locale).Scan(&id); err != nil {
		t.Fatal(err)
	}
	_, tok, err := f.db.CreateToken(f.ctx, booking.System, id, "t", 0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.db.AuthenticateToken(f.ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	f.users[key], f.actors[key] = id, a
	return a
}

// planStages are the three stages of the plans these tests accept, at Casablanca.
var planStages = []booking.StageSpec{
	{ID: "conform", Name: "Conform", Hours: 4, Demands: []booking.Demand{{Kind: "dcp_mastering"}}},
	{ID: "grade", Name: "Grade", Hours: 6, Demands: []booking.Demand{{Kind: "grading_suite"}}, After: []booking.StageLink{{From: "conform"}}},
	{ID: "screen", Name: "Screening", Hours: 2, Demands: []booking.Demand{{Kind: "screening_room"}}, After: []booking.StageLink{{From: "grade"}}},
}

// acceptPlan has who propose and accept a plan of planStages for the production of
// forProducer at Casablanca from earliest, and returns it accepted with its holds.
func (f *fixture) acceptPlan(t *testing.T, who, forProducer string, earliest time.Time) (booking.Plan, []booking.Booking) {
	t.Helper()
	var site uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT id FROM sites WHERE slug = 'casablanca'`).Scan(&site); err != nil {
		t.Fatal(err)
	}
	p, err := f.db.ProposePlan(f.ctx, f.actors[who], booking.PlanRequest{ProductionID: f.prod[forProducer].ID, SiteID: site,
		EarliestStart: earliest, Seed: 1, Stages: planStages})
	if err != nil || !p.Placed {
		t.Fatalf("plan: %v %+v", err, p)
	}
	accepted, holds, err := f.db.AcceptPlan(f.ctx, f.actors[who], p.ID)
	if err != nil || len(holds) != len(planStages) {
		t.Fatalf("accepting the plan: %v, %d holds", err, len(holds))
	}
	return accepted, holds
}

// groupRows returns the grouped notice jobs enqueued since the last clearJobs, and
// fails unless there are n and no single notice.
func (f *fixture) groupRows(t *testing.T, n int) []*rivertype.JobRow {
	t.Helper()
	rivertest.RequireNotInserted(f.ctx, t, f.driver, jobs.NoticeArgs{}, nil)
	expected := make([]rivertest.ExpectedJob, n)
	for i := range expected {
		expected[i] = rivertest.ExpectedJob{Args: jobs.NoticeGroupArgs{}}
	}
	return rivertest.RequireManyInserted(f.ctx, t, f.driver, expected)
}

// text is a received mail's plain text with its line ends as written (SMTP sends CRLF).
func text(m *gotMail) string { return strings.ReplaceAll(m.Text, "\r\n", "\n") }

// byMessageID counts the mails received by Message-ID.
func byMessageID(ms *mailServer) map[string]int {
	got := map[string]int{}
	for _, m := range ms.Messages() {
		got[m.MessageID]++
	}
	return got
}

// TestPlanAcceptedIsOneNoticePerRecipient: a producer whose UI is in English accepts a
// plan of three stages for his company's production. His two colleagues get one mail
// each, in their own language (French for Aminata, English for Fatou), listing the
// three stages with their times and links; he gets none (his feed keeps it). Run again,
// as River does after a worker died before recording the job done, the job sends
// nothing more. Confirming the whole plan is likewise one mail to each person it
// concerns: the colleagues and the site's manager.
func TestPlanAcceptedIsOneNoticePerRecipient(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	smtpd := newMailServer(t)
	deps := f.deps(smtpd.Mailer(), notify.WebhookSender{})
	worker := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.NoticeGroupWorker{Deps: deps})
	actor := f.addProducer(t, "producer", "ousmane", "Ousmane Ndiaye", "fr")
	f.addProducer(t, "producer", "fatou", "Fatou Sall", "en")
	// Ousmane switched the UI to English: that is his language now, not his colleagues'.
	if err := f.db.SetLocale(f.ctx, actor, "en"); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, `SELECT count(*) FROM users WHERE id = $1 AND locale = 'en'`, actor.UserID); n != 1 {
		t.Fatal("the language chosen was not stored")
	}
	f.clearJobs(t)

	plan, holds := f.acceptPlan(t, "ousmane", "producer", at(15, 9))
	rows := f.groupRows(t, 1)
	g := decodeArgs[jobs.NoticeGroupArgs](t, rows[0])
	if g.Actor != actor.UserID || g.ProductionID != f.prod["producer"].ID || len(g.Notices) != 3 {
		t.Fatalf("the plan's notice: %+v", g)
	}
	for i, n := range g.Notices {
		if n.Event != booking.EventHoldPlaced || n.BookingID != holds[i].ID || n.EventID == uuid.Nil || n.EventID == g.EventID {
			t.Errorf("notice %d: %+v", i, n)
		}
	}
	if state, err := work(t, f, worker, &rows[0]); err != nil || state != rivertype.JobStateCompleted {
		t.Fatalf("the plan's notice: %s %v", state, err)
	}

	title := f.prod["producer"].Title
	loc, err := calendar.LoadLocation("Africa/Casablanca")
	if err != nil {
		t.Fatal(err)
	}
	when := func(lang string, b booking.Booking) string {
		return notify.Notice{Start: b.Start, End: b.End, Location: loc, Zone: "Africa/Casablanca"}.When(lang)
	}
	type want struct {
		subject string
		lines   []string
	}
	wants := map[string]want{
		messageID(g.EventID, f.users["producer"]): {title + " : 3 options posées", []string{
			"Une même action a modifié ces réservations de " + title + " :\n",
			"\n1. Option posée : Conform\n", "\n2. Option posée : Grade\n", "\n3. Option posée : Screening\n",
			"   Quand: " + when("fr", holds[0]) + "\n", "   Quand: " + when("fr", holds[2]) + "\n",
			"   Ouvrir dans posthub: https://posthub.test/bookings/" + holds[1].ID.String() + "\n"}},
		messageID(g.EventID, f.users["fatou"]): {title + ": 3 holds placed", []string{
			"One action changed these bookings of " + title + ":\n",
			"\n1. Hold placed: Conform\n", "\n2. Hold placed: Grade\n", "\n3. Hold placed: Screening\n",
			"   When: " + when("en", holds[1]) + "\n",
			"   Open in posthub: https://posthub.test/bookings/" + holds[2].ID.String() + "\n"}},
	}
	msgs := smtpd.Messages()
	if len(msgs) != len(wants) {
		t.Errorf("%d mails, want %d: one to each colleague, none to the one who accepted", len(msgs), len(wants))
	}
	for _, m := range msgs {
		w, ok := wants[m.MessageID]
		if !ok {
			t.Errorf("unexpected mail %s to %v: %q", m.MessageID, m.EnvelopeTo, m.Subject)
			continue
		}
		delete(wants, m.MessageID)
		if m.Subject != w.subject {
			t.Errorf("%s: subject %q, want %q", m.MessageID, m.Subject, w.subject)
		}
		for _, l := range w.lines {
			if !strings.Contains(text(m), l) {
				t.Errorf("%s: text lacks %q:\n%s", m.MessageID, l, m.Text)
			}
		}
		for _, h := range []string{"Conform", "Grade", "Screening", `href="https://posthub.test/bookings/` + holds[0].ID.String() + `"`} {
			if !strings.Contains(m.HTML, h) {
				t.Errorf("%s: HTML lacks %q:\n%s", m.MessageID, h, m.HTML)
			}
		}
	}
	for id := range wants {
		t.Errorf("no mail %s", id)
	}
	// Everyone concerned has one entry in their feed, the one who acted too.
	for _, who := range []string{"producer", "fatou", "ousmane"} {
		if n := f.count(t, `SELECT count(*) FROM notifications WHERE user_id = $1 AND event_id = $2`, f.users[who], g.EventID); n != 1 {
			t.Errorf("%s has %d feed entries of the plan, want 1", who, n)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM deliveries WHERE channel = 'email' AND recipient_id = $1`, actor.UserID); n != 0 {
		t.Errorf("%d mails recorded to the one who acted", n)
	}

	// The job again, as after a worker that died before River recorded it done.
	f.inTx(t, func(tx pgx.Tx) {
		if res, err := worker.Work(f.ctx, t, tx, g, nil); err != nil || res.Job.State != rivertype.JobStateCompleted {
			t.Fatalf("the plan's notice again: %+v %v", res, err)
		}
	})
	for id, c := range byMessageID(smtpd) {
		if c != 1 {
			t.Errorf("%s received %d times after the retry", id, c)
		}
	}
	if n := smtpd.Len(); n != 2 {
		t.Errorf("%d mails after the retry, want still 2", n)
	}
	if n := f.count(t, `SELECT count(*) FROM notifications WHERE event_id = $1`, g.EventID); n != 3 {
		t.Errorf("%d feed entries after the retry, want still 3", n)
	}

	// Confirming the whole plan: one notice, to the colleagues and the manager.
	f.clearJobs(t)
	before := smtpd.Len()
	if _, err := f.db.ConfirmPlan(f.ctx, actor, plan.ID); err != nil {
		t.Fatal(err)
	}
	rows = f.groupRows(t, 1)
	g = decodeArgs[jobs.NoticeGroupArgs](t, rows[0])
	if state, err := work(t, f, worker, &rows[0]); err != nil || state != rivertype.JobStateCompleted {
		t.Fatalf("the confirmation's notice: %s %v", state, err)
	}
	got := map[string]string{}
	for _, m := range smtpd.Messages()[before:] {
		got[m.MessageID] = m.Subject
	}
	wantSubjects := map[string]string{
		messageID(g.EventID, f.users["producer"]): title + " : 3 réservations confirmées",
		messageID(g.EventID, f.users["fatou"]):    title + ": 3 bookings confirmed",
		messageID(g.EventID, f.users["manager"]):  title + " : 3 réservations confirmées",
	}
	if len(got) != len(wantSubjects) || smtpd.Len()-before != len(wantSubjects) {
		t.Errorf("confirming the plan mailed %v, want %v", got, wantSubjects)
	}
	for id, s := range wantSubjects {
		if got[id] != s {
			t.Errorf("%s: subject %q, want %q", id, got[id], s)
		}
	}
}

// TestGroupedNoticeInFlightElsewhereSentOnce: a grouped notice whose mail to one person
// a worker taken for dead had claimed serves the others and comes back when the claim
// would lapse; then it sends that one mail, once, with the same Message-ID, and nothing
// again to the others. A failed send (the SMTP server down mid-group) is retried the
// same way: each mail arrives once.
func TestGroupedNoticeInFlightElsewhereSentOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	smtpd := newMailServer(t)
	flaky := &failingMailer{Mailer: smtpd.Mailer(), failTo: map[string]int{}}
	deps := f.deps(flaky, notify.WebhookSender{})
	worker := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.NoticeGroupWorker{Deps: deps})
	f.addProducer(t, "producer", "ousmane", "Ousmane Ndiaye", "fr")
	fatou := f.addProducer(t, "producer", "fatou", "Fatou Sall", "en")
	f.clearJobs(t)
	f.acceptPlan(t, "ousmane", "producer", at(15, 9))
	rows := f.groupRows(t, 1)
	g := decodeArgs[jobs.NoticeGroupArgs](t, rows[0])
	aminata := messageID(g.EventID, f.users["producer"])
	fatouID := messageID(g.EventID, fatou.UserID)

	// A worker that died had claimed Aminata's mail; the SMTP server refuses Fatou's once.
	if _, err := f.db.Pool.Exec(f.ctx, `INSERT INTO deliveries (event_id, recipient_id, channel, kind, status, claimed_at)
		VALUES ($1, $2, 'email', 'hold_placed', 'sending', $3)`, g.EventID, f.users["producer"], deps.Now()); err != nil {
		t.Fatal(err)
	}
	flaky.failTo[fatou.Email] = 1
	if state, err := work(t, f, worker, &rows[0]); err == nil || !willRetry(state) {
		t.Fatalf("with Fatou's mail refused the notice is %s (%v), want retried", state, err)
	}
	if n := smtpd.Len(); n != 0 {
		t.Fatalf("%d mails with Aminata's in flight and Fatou's refused", n)
	}
	// Fatou's goes on the retry; Aminata's is still someone else's.
	if state, err := work(t, f, worker, &rows[0]); state != rivertype.JobStateScheduled {
		t.Fatalf("with a delivery in flight the notice is %s (%v), want scheduled", state, err)
	}
	if got := byMessageID(smtpd); len(got) != 1 || got[fatouID] != 1 {
		t.Fatalf("mails %v, want Fatou's alone", got)
	}
	// The other worker died: its claim lapses, and Aminata's mail goes, once.
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE deliveries SET claimed_at = claimed_at - interval '2 hours' WHERE status = 'sending'`); err != nil {
		t.Fatal(err)
	}
	if state, err := work(t, f, worker, &rows[0]); err != nil || state != rivertype.JobStateCompleted {
		t.Fatalf("after the claim lapsed the notice is %s (%v)", state, err)
	}
	// And once more, as after a crash before River recorded it done.
	f.inTx(t, func(tx pgx.Tx) {
		if res, err := worker.Work(f.ctx, t, tx, g, nil); err != nil || res.Job.State != rivertype.JobStateCompleted {
			t.Fatalf("again: %+v %v", res, err)
		}
	})
	if got := byMessageID(smtpd); len(got) != 2 || got[aminata] != 1 || got[fatouID] != 1 {
		t.Errorf("mails by Message-ID %v, want Aminata's and Fatou's once each", got)
	}
	if n := f.count(t, `SELECT count(*) FROM deliveries WHERE event_id = $1 AND channel = 'email' AND status = 'delivered'`, g.EventID); n != 2 {
		t.Errorf("%d email deliveries recorded, want 2", n)
	}
}

// failingMailer refuses the next failTo[address] messages to an address, then sends.
type failingMailer struct {
	notify.Mailer
	failTo map[string]int
}

func (m *failingMailer) Send(ctx context.Context, msg notify.Message) error {
	if m.failTo[msg.To] > 0 {
		m.failTo[msg.To]--
		return fmt.Errorf("451 try again later")
	}
	return m.Mailer.Send(ctx, msg)
}

// TestChallengeAndApprovalMailsSayWhatToDo: in June 2026 Casablanca is on UTC+01:00.
// The holder ahead of a challenged hold is told which booking, the deadline in the
// site's wall-clock with the zone and that offset, what to do before it (confirm or
// release, else it is released) and the link to the booking's page. A confirmation
// awaiting approval tells the site's manager what to approve, with the link; the
// producer who asked is not mailed.
func TestChallengeAndApprovalMailsSayWhatToDo(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.setNow(time.Date(2026, 6, 8, 8, 0, 0, 0, time.UTC)) // Monday
	smtpd := newMailServer(t)
	deps := f.deps(smtpd.Mailer(), notify.WebhookSender{})
	worker := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.NoticeWorker{Deps: deps})
	// Thursday 11 June 2026, 10:00–13:00 local (09:00–12:00 UTC).
	start := time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC)
	ahead := f.book(t, "producer", "producer", booking.StatusHold, f.suites[:1], start, start.Add(3*time.Hour))
	behind := f.book(t, "producer_other", "producer_other", booking.StatusHold, f.suites[:1], start, start.Add(3*time.Hour))
	f.clearJobs(t)
	b := f.act(t, "admin", behind.ID, booking.ActionConfirm)
	if b.Challenge == nil {
		t.Fatalf("no challenge: %+v", b)
	}
	for _, row := range f.noticeRows(t, 2) {
		if state, err := work(t, f, worker, &row); err != nil || state != rivertype.JobStateCompleted {
			t.Fatalf("notice: %s %v", state, err)
		}
	}
	loc, err := calendar.LoadLocation("Africa/Casablanca")
	if err != nil {
		t.Fatal(err)
	}
	deadline := notify.Notice{Location: loc, Zone: "Africa/Casablanca"}.At(b.Challenge.Deadline, "fr")
	if !strings.HasSuffix(deadline, "(Africa/Casablanca, UTC+01:00)") {
		t.Fatalf("deadline %q is not shown at UTC+01:00", deadline)
	}
	var challenged *gotMail
	for _, m := range smtpd.Messages() {
		if len(m.EnvelopeTo) == 1 && m.EnvelopeTo[0] == f.actors["producer"].Email {
			challenged = m
		}
	}
	if challenged == nil {
		t.Fatal("the holder ahead got no mail")
	}
	for _, want := range []string{
		"Votre option est challengée : " + f.prod["producer"].Title + "\n",
		"Quand: jeu. 11 juin 2026 10:00 – 13:00 (Africa/Casablanca, UTC+01:00)\n",
		"Échéance: " + deadline + "\n",
		"À faire : confirmez ou libérez votre option avant le " + deadline + ". Sinon, elle est libérée à cette échéance",
		"Ouvrir dans posthub: https://posthub.test/bookings/" + ahead.ID.String() + "\n",
	} {
		if !strings.Contains(text(challenged), want) {
			t.Errorf("the challenge mail lacks %q:\n%s", want, challenged.Text)
		}
	}
	if !strings.Contains(html.UnescapeString(challenged.HTML), "À faire : confirmez ou libérez votre option avant le "+deadline) {
		t.Errorf("the challenge mail's HTML lacks what to do:\n%s", challenged.HTML)
	}

	// A confirmation awaiting approval: the manager is told what to approve.
	pol, err := f.db.SitePolicy(f.ctx, b.SiteID)
	if err != nil {
		t.Fatal(err)
	}
	pol.ConfirmNeedsApproval = true
	if _, err := f.db.UpdateSitePolicy(f.ctx, f.actors["manager"], pol); err != nil {
		t.Fatal(err)
	}
	other := f.book(t, "producer", "producer", booking.StatusHold, f.suites[1:2], start, start.Add(3*time.Hour))
	f.clearJobs(t)
	before := smtpd.Len()
	f.act(t, "producer", other.ID, booking.ActionConfirm)
	rows := f.noticeRows(t, 1)
	if a := decodeArgs[jobs.NoticeArgs](t, rows[0]); a.Event != booking.EventApprovalRequested || a.Actor != f.users["producer"] {
		t.Fatalf("notice %+v", a)
	}
	if state, err := work(t, f, worker, &rows[0]); err != nil || state != rivertype.JobStateCompleted {
		t.Fatalf("approval notice: %s %v", state, err)
	}
	msgs := smtpd.Messages()[before:]
	if len(msgs) != 1 || msgs[0].EnvelopeTo[0] != f.actors["manager"].Email {
		t.Fatalf("%d mails for the approval request, want the manager's alone", len(msgs))
	}
	for _, want := range []string{
		"Confirmation en attente d’approbation : " + f.prod["producer"].Title + "\n",
		"À faire : approuvez ou refusez cette confirmation sur la page de la réservation",
		"Ouvrir dans posthub: https://posthub.test/bookings/" + other.ID.String() + "\n",
	} {
		if !strings.Contains(text(msgs[0]), want) {
			t.Errorf("the approval mail lacks %q:\n%s", want, msgs[0].Text)
		}
	}
}
