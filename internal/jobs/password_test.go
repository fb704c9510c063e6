package jobs_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/notify"
)

// passwordRow is the one password mail job enqueued so far, which it returns.
func (f *fixture) passwordRow(t *testing.T) *rivertype.JobRow {
	t.Helper()
	return rivertest.RequireInserted(f.ctx, t, f.driver, &jobs.PasswordMailArgs{}, nil).JobRow
}

var linkInMail = regexp.MustCompile(`https://posthub\.test/password/([A-Za-z0-9_-]{43})`)

// TestPasswordLinkMailedOverSMTP invites a user and sends the invitation's job to a
// real SMTP server: one mail, in the user's language, with a link whose secret sets
// the password once. The secret is not in the job, the job run again sends nothing
// more, and a link used or replaced before its mail goes is not mailed.
func TestPasswordLinkMailedOverSMTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.db.OnPasswordLink = jobs.PasswordLinkSink(f.client)
	smtpd := newMailServer(t)
	deps := f.deps(smtpd.Mailer(), notify.WebhookSender{})
	worker := rivertest.NewWorker(t, f.driver, &river.Config{Logger: f.log}, &jobs.PasswordMailWorker{Deps: deps, Links: f.db})

	producer := f.actors["producer"] // Aminata Diop, French
	link, err := f.db.InviteUser(f.ctx, f.actors["admin"], producer.UserID)
	if err != nil {
		t.Fatal(err)
	}
	row := f.passwordRow(t)
	args := decodeArgs[jobs.PasswordMailArgs](t, row)
	if args.LinkID != link.ID || args.UserID != producer.UserID {
		t.Fatalf("job args %+v for link %+v", args, link)
	}
	if state, err := work(t, f, worker, &row); err != nil || state != rivertype.JobStateCompleted {
		t.Fatalf("password mail job: %s %v", state, err)
	}
	msgs := smtpd.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails, want 1", len(msgs))
	}
	m := msgs[0]
	if len(m.EnvelopeTo) != 1 || m.EnvelopeTo[0] != producer.Email || m.To[0].Name != "Aminata Diop" {
		t.Fatalf("sent to %v / %v", m.EnvelopeTo, m.To)
	}
	if !strings.Contains(m.Subject, "choisir votre mot de passe") || !strings.Contains(m.Text, "Nadia Berrada vous invite") ||
		!strings.Contains(m.HTML, `<html lang="fr">`) || !strings.HasPrefix(m.ContentType, "multipart/alternative") {
		t.Fatalf("not a French invitation from the admin: %q\n%s\n%s", m.Subject, m.Text, m.HTML)
	}
	if want := "<" + link.ID.String() + "." + producer.UserID.String() + "@posthub>"; m.MessageID != want {
		t.Errorf("Message-ID %q, want %q", m.MessageID, want)
	}
	found := linkInMail.FindStringSubmatch(m.Text)
	if found == nil || !strings.Contains(m.HTML, found[0]) {
		t.Fatalf("no password link in the mail:\n%s\n%s", m.Text, m.HTML)
	}
	secret := found[1]
	if strings.Contains(string(row.EncodedArgs), secret) {
		t.Fatal("the job holds the link's secret")
	}
	if n := f.count(t, `SELECT count(*) FROM password_links WHERE id = $1 AND hash = sha256($2::bytea) AND mailed_at IS NOT NULL`, link.ID, []byte(secret)); n != 1 {
		t.Fatal("the mailed secret is not the link's, as its SHA-256")
	}

	// The job again (a worker that crashed before recording it done): nothing more is
	// sent, and the mailed link still works.
	f.inTx(t, func(tx pgx.Tx) {
		if res, err := worker.Work(f.ctx, t, tx, args, nil); err != nil || res.Job.State != rivertype.JobStateCompleted {
			t.Fatalf("the job again: %+v %v", res, err)
		}
	})
	if n := smtpd.Len(); n != 1 {
		t.Fatalf("%d mails after the retry, want still 1", n)
	}
	if err := f.db.SetPasswordWithLink(f.ctx, secret, "un-mot-de-passe-solide"); err != nil {
		t.Fatalf("setting the password from the mailed link: %v", err)
	}
	if _, _, err := f.db.Login(f.ctx, producer.Email, "un-mot-de-passe-solide", time.Hour); err != nil {
		t.Fatalf("login: %v", err)
	}
	if err := f.db.SetPasswordWithLink(f.ctx, secret, "un-autre-mot-de-passe"); booking.ErrorCode(err) != booking.EGONE {
		t.Fatalf("the link used twice: %v", err)
	}

	// A reset an English user asks for, mailed in English with a two-hour link.
	f.clearJobs(t)
	other := f.actors["producer_other"] // Claire Morel, English
	if err := f.db.RequestPasswordReset(f.ctx, other.Email); err != nil {
		t.Fatal(err)
	}
	row = f.passwordRow(t)
	if state, err := work(t, f, worker, &row); err != nil || state != rivertype.JobStateCompleted {
		t.Fatalf("reset mail job: %s %v", state, err)
	}
	msgs = smtpd.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d mails, want 2", len(msgs))
	}
	m = msgs[1]
	if m.EnvelopeTo[0] != other.Email || m.Subject != "posthub: reset your password" || !strings.Contains(m.Text, "asked to reset") ||
		!strings.Contains(m.Text, frozenNow.Add(2*time.Hour).Format("2006-01-02 15:04")) || !linkInMail.MatchString(m.Text) {
		t.Fatalf("reset mail %q:\n%s", m.Subject, m.Text)
	}

	// A link replaced before its mail went is not mailed: the job completes quietly.
	f.clearJobs(t)
	if _, err := f.db.InviteUser(f.ctx, f.actors["admin"], other.UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.InviteUser(f.ctx, f.actors["admin"], other.UserID); err != nil {
		t.Fatal(err)
	}
	rows := rivertest.RequireManyInserted(f.ctx, t, f.driver, []rivertest.ExpectedJob{{Args: jobs.PasswordMailArgs{}}, {Args: jobs.PasswordMailArgs{}}})
	stale, fresh := rows[0], rows[1]
	if state, err := work(t, f, worker, &stale); err != nil || state != rivertype.JobStateCompleted {
		t.Fatalf("stale link's job: %s %v", state, err)
	}
	if n := smtpd.Len(); n != 2 {
		t.Fatalf("a replaced link was mailed: %d mails", n)
	}
	if state, err := work(t, f, worker, &fresh); err != nil || state != rivertype.JobStateCompleted {
		t.Fatalf("fresh link's job: %s %v", state, err)
	}
	if n := smtpd.Len(); n != 3 {
		t.Fatalf("the newest link was not mailed: %d mails", n)
	}
}
