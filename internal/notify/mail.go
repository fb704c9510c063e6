// Package notify holds posthub's notification channels: email over SMTP, signed
// webhooks, and the rendering of booking notices in French and English. It knows
// nothing of storage or jobs; the jobs package decides who is told what, when, once.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// Message is one email.
type Message struct {
	To        string
	ToName    string
	Subject   string
	Text      string
	HTML      string
	MessageID string // stable for a (event, recipient), so a resend is recognisable
}

// Mailer sends email. The SMTP mailer is the real one; the log mailer stands in where
// no SMTP server is configured (dev mode).
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// SMTPMailer sends through an SMTP server.
type SMTPMailer struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	// TLS is "none", "opportunistic" (default), "required" (STARTTLS) or "implicit"
	// (smtps://, TLS from the start).
	TLS string
}

// ParseSMTPURL reads smtp://user:pass@host:port?tls=none|opportunistic|required.
func ParseSMTPURL(raw, from string) (*SMTPMailer, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, fmt.Errorf("SMTP URL: want smtp://[user:pass@]host:port")
	}
	m := &SMTPMailer{Host: u.Hostname(), Port: 587, From: from, TLS: u.Query().Get("tls")}
	if u.Scheme == "smtps" {
		// Implicit TLS from the first byte (port 465), not STARTTLS.
		m.Port, m.TLS = 465, "implicit"
	}
	if p := u.Port(); p != "" {
		if m.Port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SMTP URL: bad port")
		}
	}
	if u.User != nil {
		m.Username = u.User.Username()
		m.Password, _ = u.User.Password()
	}
	if m.TLS == "" {
		m.TLS = "opportunistic"
	}
	if m.TLS != "none" && m.TLS != "opportunistic" && m.TLS != "required" && m.TLS != "implicit" {
		return nil, fmt.Errorf("SMTP URL: tls must be none, opportunistic or required")
	}
	return m, nil
}

// Send delivers one message in plain text with an HTML alternative.
func (s *SMTPMailer) Send(ctx context.Context, m Message) error {
	msg := mail.NewMsg()
	if err := msg.From(s.From); err != nil {
		return fmt.Errorf("from address: %w", err)
	}
	to := m.To
	if m.ToName != "" {
		to = fmt.Sprintf("%q <%s>", m.ToName, m.To)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("to address: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	if m.MessageID != "" {
		// go-mail adds the angle brackets itself.
		msg.SetMessageIDWithValue(strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">"))
	}
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	policy := mail.TLSOpportunistic
	switch s.TLS {
	case "none":
		policy = mail.NoTLS
	case "required":
		policy = mail.TLSMandatory
	}
	opts := []mail.Option{mail.WithPort(s.Port), mail.WithTLSPolicy(policy), mail.WithTimeout(20 * time.Second)}
	if s.TLS == "implicit" {
		opts = append(opts, mail.WithSSL())
	}
	if s.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(s.Username), mail.WithPassword(s.Password))
	}
	c, err := mail.NewClient(s.Host, opts...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msg)
}

// LogMailer writes who would have been mailed what to the log instead of sending.
type LogMailer struct{ Logger *slog.Logger }

// Send logs the message's envelope and subject.
func (l LogMailer) Send(ctx context.Context, m Message) error {
	l.Logger.InfoContext(ctx, "mail (not sent: no SMTP server configured)", "to", m.To, "subject", m.Subject, "message_id", m.MessageID)
	return nil
}
