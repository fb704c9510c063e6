package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/metrics"
	"github.com/posthub/posthub/internal/notify"
)

// PasswordLinks is what the password mail worker needs of storage.
type PasswordLinks interface {
	// IssuePasswordLink gives the link a new secret (only its hash is kept) and returns
	// the mail that carries it; ENOTFOUND or EGONE for a link that can no longer be used.
	IssuePasswordLink(ctx context.Context, linkID uuid.UUID) (booking.PasswordMail, error)
}

// PasswordMailArgs mails a password link (an invitation or a reset) to its user. It
// carries the link's id, never its secret: the worker makes the secret as it sends,
// so no secret rests in River's tables.
type PasswordMailArgs struct {
	LinkID uuid.UUID `json:"link_id"`
	UserID uuid.UUID `json:"user_id"`
}

// Kind names the job.
func (PasswordMailArgs) Kind() string { return "password_mail" }

// InsertOpts puts the mail on the notifications queue.
func (PasswordMailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueNotifications}
}

// PasswordLinkSink returns the storage's OnPasswordLink: it inserts the link's mail job
// in the transaction that made the link, so the mail goes if and only if the link was
// made.
func PasswordLinkSink(client *river.Client[pgx.Tx]) func(ctx context.Context, tx pgx.Tx, l booking.PasswordLink) error {
	return func(ctx context.Context, tx pgx.Tx, l booking.PasswordLink) error {
		_, err := client.InsertTx(ctx, tx, PasswordMailArgs{LinkID: l.ID, UserID: l.UserID}, nil)
		return err
	}
}

// PasswordMailWorker sends a password link's mail, once (DeliverOnce): a link used,
// replaced or expired before the mail went is not sent.
type PasswordMailWorker struct {
	river.WorkerDefaults[PasswordMailArgs]
	Deps  *Deps
	Links PasswordLinks
}

// errLinkGone stops a delivery whose link can no longer be used: nothing is sent.
var errLinkGone = errors.New("the password link can no longer be used")

// Work mails the link.
func (w *PasswordMailWorker) Work(ctx context.Context, job *river.Job[PasswordMailArgs]) error {
	a := job.Args
	key := booking.DeliveryKey{EventID: a.LinkID, RecipientID: a.UserID, Channel: "email", Kind: "password_link"}
	_, err := w.Deps.Store.DeliverOnce(ctx, key, func(ctx context.Context) error {
		m, err := w.Links.IssuePasswordLink(ctx, a.LinkID)
		switch booking.ErrorCode(err) {
		case booking.ENOTFOUND, booking.EGONE:
			return errLinkGone
		}
		if err != nil {
			return err
		}
		msg := PasswordMessage(m, w.Deps.BaseURL)
		err = w.Deps.Mailer.Send(ctx, msg)
		w.Deps.Metrics.Delivery(metrics.ChannelEmail, err)
		return err
	})
	if errors.Is(err, errLinkGone) {
		return nil
	}
	var waiting inFlight
	if err := waiting.check(err); err != nil {
		return fmt.Errorf("mailing password link %s: %w", a.LinkID, err)
	}
	return waiting.result(w.Deps.now())
}

// PasswordURL is the page where a link's secret sets a password.
func PasswordURL(baseURL, secret string) string {
	return strings.TrimSuffix(baseURL, "/") + "/password/" + secret
}

// passwordTexts are a password mail's words, by language (English for any other).
var passwordTexts = map[string]struct {
	inviteSubject, resetSubject, greeting, invitedBy, invited, reset, action, expires, ignore string
}{
	"en": {
		inviteSubject: "posthub: you are invited to set your password",
		resetSubject:  "posthub: reset your password",
		greeting:      "Hello %s,",
		invitedBy:     "%s invited you to posthub, the booking service of the post-production hub.",
		invited:       "You are invited to posthub, the booking service of the post-production hub.",
		reset:         "Someone (we hope you) asked to reset your posthub password.",
		action:        "Set your password",
		expires:       "The link works once, until %s (UTC).",
		ignore:        "If you did not expect this message, ignore it: nothing changes until the link is used.",
	},
	"fr": {
		inviteSubject: "posthub : vous êtes invité·e à choisir votre mot de passe",
		resetSubject:  "posthub : réinitialisez votre mot de passe",
		greeting:      "Bonjour %s,",
		invitedBy:     "%s vous invite sur posthub, le service de réservation du hub de postproduction.",
		invited:       "Vous êtes invité·e sur posthub, le service de réservation du hub de postproduction.",
		reset:         "Quelqu’un (vous, espérons-le) a demandé à réinitialiser votre mot de passe posthub.",
		action:        "Choisir mon mot de passe",
		expires:       "Le lien ne sert qu’une fois, jusqu’au %s (UTC).",
		ignore:        "Si vous n’attendiez pas ce message, ignorez-le : rien ne change tant que le lien n’est pas utilisé.",
	},
}

// PasswordMessage writes a password link's mail in its user's language, plain text
// with an HTML alternative.
func PasswordMessage(m booking.PasswordMail, baseURL string) notify.Message {
	t, ok := passwordTexts[m.Link.Locale]
	if !ok {
		t = passwordTexts["en"]
	}
	subject, intro := t.resetSubject, t.reset
	if m.Link.Purpose == booking.LinkInvite {
		subject, intro = t.inviteSubject, t.invited
		if m.InvitedBy != "" {
			intro = fmt.Sprintf(t.invitedBy, m.InvitedBy)
		}
	}
	link := PasswordURL(baseURL, m.Secret)
	expires := fmt.Sprintf(t.expires, m.Link.ExpiresAt.UTC().Format(time.DateOnly+" 15:04"))
	greeting := fmt.Sprintf(t.greeting, m.Link.Name)
	text := fmt.Sprintf("%s\n\n%s\n\n%s:\n%s\n\n%s\n%s\n", greeting, intro, t.action, link, expires, t.ignore)
	var html bytes.Buffer
	_ = passwordHTML.Execute(&html, map[string]string{"Lang": languageOf(m.Link.Locale), "Subject": subject, "Greeting": greeting,
		"Intro": intro, "Link": link, "Action": t.action, "Expires": expires, "Ignore": t.ignore})
	return notify.Message{To: m.Link.Email, ToName: m.Link.Name, Subject: subject, Text: text, HTML: html.String(),
		MessageID: fmt.Sprintf("<%s.%s@posthub>", m.Link.ID, m.Link.UserID)}
}

func languageOf(locale string) string {
	if _, ok := passwordTexts[locale]; ok {
		return locale
	}
	return "en"
}

var passwordHTML = htmltemplate.Must(htmltemplate.New("password").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: system-ui, sans-serif; color: #1d232b">
<p>{{.Greeting}}</p>
<p>{{.Intro}}</p>
<p><a href="{{.Link}}">{{.Action}}</a></p>
<p>{{.Expires}}</p>
<p style="color: #5b6570">{{.Ignore}}</p>
</body></html>
`))
