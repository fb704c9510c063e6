package jobs_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/notify"
	"github.com/posthub/posthub/internal/postgres"
)

// noticeRows returns the notice jobs enqueued so far, in order.
func (f *fixture) noticeRows(t *testing.T, n int) []*rivertype.JobRow {
	t.Helper()
	expected := make([]rivertest.ExpectedJob, n)
	for i := range expected {
		expected[i] = rivertest.ExpectedJob{Args: jobs.NoticeArgs{}}
	}
	return rivertest.RequireManyInserted(f.ctx, t, f.driver, expected)
}

// work runs a job with River's test worker, in a committed transaction, as attempt
// (*row).Attempt+1; it updates *row to the job as it is after, and returns the
// job's new state and the worker's error.
func work[T river.JobArgs](t *testing.T, f *fixture, w *rivertest.Worker[T, pgx.Tx], row **rivertype.JobRow) (rivertype.JobState, error) {
	t.Helper()
	var res *rivertest.WorkResult
	var err error
	f.inTx(t, func(tx pgx.Tx) {
		res, err = w.WorkJob(f.ctx, t, tx, *row)
	})
	if res == nil {
		t.Fatalf("working job %d: %v", (*row).ID, err)
	}
	*row = res.Job
	return res.Job.State, err
}

func TestEmailDeliveredOverSMTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	smtpd := newMailServer(t)
	deps := f.deps(smtpd.Mailer(), notify.WebhookSender{})
	worker := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.NoticeWorker{Deps: deps})

	// An admin books a confirmed slot for a French producer's production and one for
	// an English producer's, both at Casablanca on 10 March 2027, 10:00–18:00 UTC,
	// which is 10:00–18:00 local (Morocco is on UTC+00:00 during Ramadan). The admin
	// acted, so is told nothing; the producers and the site's manager are.
	fr := f.book(t, "admin", "producer", booking.StatusConfirmed, f.suites[:1], at(10, 10), at(10, 18))
	en := f.book(t, "admin", "producer_other", booking.StatusConfirmed, f.suites[1:2], at(10, 10), at(10, 18))
	rows := f.noticeRows(t, 2)
	events := []jobs.NoticeArgs{decodeArgs[jobs.NoticeArgs](t, rows[0]), decodeArgs[jobs.NoticeArgs](t, rows[1])}
	if events[0].Event != booking.EventConfirmed || events[0].BookingID != fr.ID || events[1].BookingID != en.ID {
		t.Fatalf("notices %+v", events)
	}
	for i := range rows {
		if state, err := work(t, f, worker, &rows[i]); err != nil || state != rivertype.JobStateCompleted {
			t.Fatalf("notice job: %s %v", state, err)
		}
	}

	type want struct {
		user, subject, when string
		html                []string
	}
	wants := map[string]want{
		messageID(events[0].EventID, f.users["producer"]): {"producer", "Réservation confirmée : " + f.prod["producer"].Title,
			"Quand: mer. 10 mars 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)", []string{`<html lang="fr">`, "Ouvrir dans posthub"}},
		messageID(events[0].EventID, f.users["manager"]): {"manager", "Réservation confirmée : " + f.prod["producer"].Title,
			"Quand: mer. 10 mars 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)", []string{`<html lang="fr">`}},
		messageID(events[1].EventID, f.users["producer_other"]): {"producer_other", "Booking confirmed: " + f.prod["producer_other"].Title,
			"When: Wed 10 Mar 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)", []string{`<html lang="en">`, "Open in posthub",
				// html/template escapes the apostrophe of "Aïcha, l'été".
				"Booking confirmed: " + strings.ReplaceAll(f.prod["producer_other"].Title, "'", "&#39;")}},
		messageID(events[1].EventID, f.users["manager"]): {"manager", "Réservation confirmée : " + f.prod["producer_other"].Title,
			"Quand: mer. 10 mars 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)", []string{`<html lang="fr">`}},
	}
	emails := map[string]string{}
	for k, a := range f.actors {
		emails[k] = a.Email
	}
	msgs := smtpd.Messages()
	if len(msgs) != len(wants) {
		t.Fatalf("%d mails, want %d (one per person and event)", len(msgs), len(wants))
	}
	for _, m := range msgs {
		w, ok := wants[m.MessageID]
		if !ok {
			t.Errorf("unexpected Message-ID %q (subject %q)", m.MessageID, m.Subject)
			continue
		}
		delete(wants, m.MessageID)
		if len(m.EnvelopeTo) != 1 || m.EnvelopeTo[0] != emails[w.user] || len(m.To) != 1 || m.To[0].Address != emails[w.user] {
			t.Errorf("%s: sent to %v / %v, want %s", m.MessageID, m.EnvelopeTo, m.To, emails[w.user])
		}
		if m.To[0].Name == "" {
			t.Errorf("%s: To without the person's name", m.MessageID)
		}
		if m.EnvelopeFrom != "noreply@posthub.test" {
			t.Errorf("%s: envelope from %q", m.MessageID, m.EnvelopeFrom)
		}
		if m.Subject != w.subject {
			t.Errorf("%s: subject %q, want %q", m.MessageID, m.Subject, w.subject)
		}
		if !strings.HasPrefix(m.ContentType, "multipart/alternative") || m.Text == "" || m.HTML == "" {
			t.Errorf("%s: want plain text and HTML alternatives, got %s (text %d bytes, html %d bytes)", m.MessageID, m.ContentType, len(m.Text), len(m.HTML))
		}
		for _, part := range []string{m.Text, m.HTML} {
			if !strings.Contains(part, "10:00 – 18:00") || !strings.Contains(part, "Africa/Casablanca") {
				t.Errorf("%s: times not in site-local wall-clock with the zone:\n%s", m.MessageID, part)
			}
		}
		if !strings.Contains(m.Text, w.when) || !strings.Contains(m.Text, "https://posthub.test/bookings/") {
			t.Errorf("%s: text lacks %q or the link:\n%s", m.MessageID, w.when, m.Text)
		}
		for _, h := range w.html {
			if !strings.Contains(m.HTML, h) {
				t.Errorf("%s: HTML lacks %q:\n%s", m.MessageID, h, m.HTML)
			}
		}
	}
	for id := range wants {
		t.Errorf("no mail with Message-ID %s", id)
	}
	// Each person has the notice in their feed too.
	if n := f.count(t, `SELECT count(*) FROM notifications WHERE kind = 'confirmed'`); n != 4 {
		t.Errorf("%d in-app notifications, want 4", n)
	}

	// The same notices again, as River runs a job again when the worker crashed
	// before recording it done: nothing more is sent and no second in-app
	// notification appears.
	for _, ev := range events {
		f.inTx(t, func(tx pgx.Tx) {
			if res, err := worker.Work(f.ctx, t, tx, ev, nil); err != nil || res.Job.State != rivertype.JobStateCompleted {
				t.Fatalf("retried notice job: %+v %v", res, err)
			}
		})
	}
	if n := smtpd.Len(); n != 4 {
		t.Errorf("%d mails after the retry, want still 4", n)
	}
	if n := f.count(t, `SELECT count(*) FROM notifications`); n != 4 {
		t.Errorf("%d in-app notifications after the retry, want still 4", n)
	}
	if n := f.count(t, `SELECT count(*) FROM deliveries WHERE channel = 'email'`); n != 4 {
		t.Errorf("%d email deliveries, want 4", n)
	}
	if n := f.count(t, `SELECT count(DISTINCT (event_id, user_id)) FROM notifications`); n != 4 {
		t.Errorf("%d people's feeds have the notices, want 4", n)
	}
}

// willRetry reports whether River will run a failed job again: soon (available) or
// after a backoff (retryable).
func willRetry(s rivertype.JobState) bool {
	return s == rivertype.JobStateAvailable || s == rivertype.JobStateRetryable
}

// hookReceiver is an organisation's webhook endpoint: it checks every request's
// signature and idempotency key, and answers 204, or 500 while failing.
type hookReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret atomic.Value // string
	fail   atomic.Bool

	mu   sync.Mutex
	reqs []hookRequest
}

type hookRequest struct {
	Event, Key string
	Body       map[string]any
	Valid      error
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{t: t}
	h.secret.Store("")
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := hookRequest{Event: r.Header.Get(notify.HeaderEvent), Key: r.Header.Get(notify.HeaderDelivery),
			Valid: notify.Verify(h.secret.Load().(string), r.Header.Get(notify.HeaderSignature), body, time.Now(), 5*time.Minute)}
		if err := json.Unmarshal(body, &req.Body); err != nil {
			req.Valid = err
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook request %s with %q", r.Method, r.Header.Get("Content-Type"))
		}
		h.mu.Lock()
		h.reqs = append(h.reqs, req)
		h.mu.Unlock()
		switch {
		case req.Valid != nil:
			http.Error(w, req.Valid.Error(), http.StatusUnauthorized)
		case h.fail.Load():
			http.Error(w, "down for maintenance", http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

func TestWebhooksSignedRetriedDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	recv := newHookReceiver(t)
	producer := f.actors["producer"]
	hook, secret, err := f.db.CreateWebhook(f.ctx, producer, recv.srv.URL+"/posthub")
	if err != nil {
		t.Fatal(err)
	}
	recv.secret.Store(secret)
	// Another organisation's webhook must never hear of this production's bookings.
	other := newHookReceiver(t)
	if _, otherSecret, err := f.db.CreateWebhook(f.ctx, f.actors["producer_other"], other.srv.URL); err != nil {
		t.Fatal(err)
	} else {
		other.secret.Store(otherSecret)
	}
	mails := &memMailer{}
	deps := f.deps(mails, notify.WebhookSender{Client: recv.srv.Client()})
	worker := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.NoticeWorker{Deps: deps})
	webhook := func() booking.Webhook {
		t.Helper()
		ws, err := f.db.ListWebhooks(f.ctx, producer)
		if err != nil || len(ws) != 1 {
			t.Fatalf("webhooks: %v %v", ws, err)
		}
		return ws[0]
	}
	// confirmedNotice books a confirmed slot for the producer's production and returns
	// its notice job, each on the next day from Monday 15 March (after Ramadan): the five
	// it books fall Monday to Friday, inside the site's working hours.
	day := 15
	confirmedNotice := func() (*rivertype.JobRow, jobs.NoticeArgs) {
		t.Helper()
		f.clearJobs(t)
		f.book(t, "manager", "producer", booking.StatusConfirmed, f.suites[:1], at(day, 10), at(day, 18))
		day++
		row := f.noticeRows(t, 1)[0]
		return row, decodeArgs[jobs.NoticeArgs](t, row)
	}

	// Delivered once, signed, with the event.
	row, ev := confirmedNotice()
	if state, err := work(t, f, worker, &row); err != nil || state != rivertype.JobStateCompleted {
		t.Fatalf("notice job: %s %v", state, err)
	}
	reqs := recv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d webhook requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Valid != nil {
		t.Fatalf("signature: %v", r.Valid)
	}
	if r.Event != "confirmed" || r.Key != ev.EventID.String()+"."+hook.ID.String() {
		t.Errorf("headers: event %q, idempotency key %q", r.Event, r.Key)
	}
	b, _ := r.Body["booking"].(map[string]any)
	if r.Body["event"] != "confirmed" || r.Body["event_id"] != ev.EventID.String() || b == nil || b["id"] != ev.BookingID.String() || b["status"] != "confirmed" {
		t.Errorf("body %v", r.Body)
	}
	// The same notice again (a retry after a crash) does not post again.
	f.inTx(t, func(tx pgx.Tx) {
		if _, err := worker.Work(f.ctx, t, tx, ev, nil); err != nil {
			t.Fatal(err)
		}
	})
	if n := len(recv.requests()); n != 1 {
		t.Errorf("%d webhook requests after a retry, want 1", n)
	}

	// Failures make the job fail so River retries; a success in between resets the
	// count of failures in a row.
	recv.fail.Store(true)
	row, _ = confirmedNotice()
	for i := 1; i <= 2; i++ {
		state, err := work(t, f, worker, &row)
		if err == nil || !willRetry(state) {
			t.Fatalf("attempt %d against a failing webhook: %s %v, want an error and a retry", i, state, err)
		}
	}
	if w := webhook(); !w.Enabled || w.ConsecutiveFailures != 2 || !strings.Contains(w.LastError, "500") {
		t.Fatalf("after 2 failures: %+v", w)
	}
	recv.fail.Store(false)
	if state, err := work(t, f, worker, &row); err != nil || state != rivertype.JobStateCompleted {
		t.Fatalf("attempt after recovery: %s %v", state, err)
	}
	if w := webhook(); !w.Enabled || w.ConsecutiveFailures != 0 || w.LastError != "" {
		t.Fatalf("after recovery: %+v", w)
	}

	// Five failures in a row disable it and tell the organisation.
	recv.fail.Store(true)
	before := len(recv.requests())
	row, _ = confirmedNotice()
	for i := 1; i <= 5; i++ {
		state, err := work(t, f, worker, &row)
		if i < 5 && (err == nil || !willRetry(state)) {
			t.Fatalf("attempt %d: %s %v, want an error and a retry", i, state, err)
		}
		if i == 5 && (err != nil || state != rivertype.JobStateCompleted) {
			t.Fatalf("attempt 5, which disables the webhook: %s %v, want done", state, err)
		}
	}
	if n := len(recv.requests()) - before; n != 5 {
		t.Errorf("%d posts for 5 attempts", n)
	}
	w := webhook()
	if w.Enabled || w.DisabledAt == nil || w.ConsecutiveFailures != 5 || !strings.Contains(w.LastError, "500") {
		t.Fatalf("after 5 failures: %+v", w)
	}
	users, err := f.db.OrganisationUsers(f.ctx, producer.OrganisationID)
	if err != nil || len(users) == 0 {
		t.Fatalf("organisation users: %v %v", users, err)
	}
	for _, u := range users {
		ns, _, err := f.db.ListNotifications(f.ctx, booking.Actor{UserID: u.UserID}, false, "", 50)
		if err != nil {
			t.Fatal(err)
		}
		disabled := 0
		for _, n := range ns {
			if n.Kind == "webhook_disabled" {
				disabled++
				if !strings.Contains(n.Title, recv.srv.URL) || n.BookingID != nil {
					t.Errorf("webhook_disabled notification %+v", n)
				}
			}
		}
		if disabled != 1 {
			t.Errorf("%s has %d webhook_disabled notifications, want 1", u.Email, disabled)
		}
	}

	// Disabled: no more posts, and the notices succeed.
	before = len(recv.requests())
	for i := 0; i < 2; i++ {
		row, _ = confirmedNotice()
		if state, err := work(t, f, worker, &row); err != nil || state != rivertype.JobStateCompleted {
			t.Fatalf("notice after disabling: %s %v", state, err)
		}
	}
	if n := len(recv.requests()) - before; n != 0 {
		t.Errorf("%d posts to a disabled webhook", n)
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("another organisation's webhook got %d posts", n)
	}
	if n := f.count(t, `SELECT count(*) FROM notifications WHERE kind = 'webhook_disabled'`); n != len(users) {
		t.Errorf("%d webhook_disabled notifications, want %d", n, len(users))
	}
}

// TestWebhookRetryDoesNotResetAnotherFailure: a notice retried because one of the
// organisation's webhooks failed must not count, for a webhook that already had the
// event, as a success that clears the failures it has had since.
func TestWebhookRetryDoesNotResetAnotherFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	producer := f.actors["producer"]
	one, two := newHookReceiver(t), newHookReceiver(t)
	for _, r := range []*hookReceiver{one, two} {
		_, secret, err := f.db.CreateWebhook(f.ctx, producer, r.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		r.secret.Store(secret)
	}
	deps := f.deps(&memMailer{}, notify.WebhookSender{AllowPrivate: true}) // the receivers are on loopback
	worker := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.NoticeWorker{Deps: deps})
	failures := func() map[string]int {
		ws, err := f.db.ListWebhooks(f.ctx, producer)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, w := range ws {
			out[w.URL] = w.ConsecutiveFailures
		}
		return out
	}

	// E1 reaches the first webhook; the second is down, so E1 is retried later.
	two.fail.Store(true)
	f.book(t, "manager", "producer", booking.StatusConfirmed, f.suites[:1], at(10, 10), at(10, 18))
	e1 := f.noticeRows(t, 1)[0]
	if _, err := work(t, f, worker, &e1); err == nil {
		t.Fatal("no error with a webhook down")
	}
	// Now the first is down too, and fails E2.
	one.fail.Store(true)
	f.book(t, "manager", "producer", booking.StatusConfirmed, f.suites[:1], at(11, 10), at(11, 18))
	e2 := f.noticeRows(t, 2)[1]
	if _, err := work(t, f, worker, &e2); err == nil {
		t.Fatal("no error with both webhooks down")
	}
	if got := failures(); got[one.srv.URL] != 1 || got[two.srv.URL] != 2 {
		t.Fatalf("failures %v, want 1 and 2", got)
	}
	// E1's retry posts only to the second webhook; the first's failure still counts.
	before := len(one.requests())
	if _, err := work(t, f, worker, &e1); err == nil {
		t.Fatal("no error with a webhook down")
	}
	if n := len(one.requests()) - before; n != 0 {
		t.Errorf("the first webhook got E1 again (%d posts)", n)
	}
	if got := failures(); got[one.srv.URL] != 1 || got[two.srv.URL] != 3 {
		t.Errorf("failures %v after E1's retry, want 1 and 3", got)
	}
}

// A notice whose delivery to one person another worker has claimed (a worker taken
// for dead that may still be sending) serves the others and comes back when the claim
// would lapse; then it sends the rest, once.
func TestNoticeComesBackForADeliveryInFlightElsewhere(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	smtpd := newMailServer(t)
	deps := f.deps(smtpd.Mailer(), notify.WebhookSender{})
	worker := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.NoticeWorker{Deps: deps})
	f.book(t, "admin", "producer", booking.StatusConfirmed, f.suites[:1], at(10, 10), at(10, 18))
	rows := f.noticeRows(t, 1)
	ev := decodeArgs[jobs.NoticeArgs](t, rows[0])
	if _, err := f.db.Pool.Exec(f.ctx, `INSERT INTO deliveries (event_id, recipient_id, channel, kind, status, claimed_at)
		VALUES ($1, $2, 'email', 'confirmed', 'sending', $3)`, ev.EventID, f.users["manager"], deps.Now()); err != nil {
		t.Fatal(err)
	}
	state, err := work(t, f, worker, &rows[0])
	if state != rivertype.JobStateScheduled {
		t.Fatalf("with a delivery in flight the notice is %s (%v), want scheduled", state, err)
	}
	if wait := time.Until(rows[0].ScheduledAt); wait < postgres.DeliveryLease/2 || wait > postgres.DeliveryLease+5*time.Second {
		t.Errorf("the notice comes back in %s, want about the lease (%s)", wait, postgres.DeliveryLease)
	}
	if msgs := smtpd.Messages(); len(msgs) != 1 || msgs[0].MessageID != messageID(ev.EventID, f.users["producer"]) {
		t.Fatalf("the producer's mail should have gone, the manager's not: %d mails", len(msgs))
	}
	// The other worker died: its claim lapses.
	if _, err := f.db.Pool.Exec(f.ctx, `UPDATE deliveries SET claimed_at = claimed_at - interval '2 hours' WHERE status = 'sending'`); err != nil {
		t.Fatal(err)
	}
	if state, err := work(t, f, worker, &rows[0]); state != rivertype.JobStateCompleted {
		t.Fatalf("after the claim lapsed the notice is %s (%v)", state, err)
	}
	got := map[string]int{}
	for _, m := range smtpd.Messages() {
		got[m.MessageID]++
	}
	if len(got) != 2 || got[messageID(ev.EventID, f.users["producer"])] != 1 || got[messageID(ev.EventID, f.users["manager"])] != 1 {
		t.Errorf("mails by Message-ID %v, want the producer's and the manager's once each", got)
	}
}
