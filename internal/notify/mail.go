// Package notify holds posthub's notification channels: email over SMTP, signed
// webhooks, and the rendering of booking notices in each language posthub has a message
// catalog for (internal/i18n: notice.*, digest.*, and the day and month names). It knows
// nothing of storage or jobs; the jobs package decides who is told what, when, once.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
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

// SMTPConfig says how to reach an SMTP server.
type SMTPConfig struct {
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
func ParseSMTPURL(raw, from string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return SMTPConfig{}, fmt.Errorf("SMTP URL: want smtp://[user:pass@]host:port")
	}
	c := SMTPConfig{Host: u.Hostname(), Port: 587, From: from, TLS: u.Query().Get("tls")}
	if u.Scheme == "smtps" {
		// Implicit TLS from the first byte (port 465), not STARTTLS.
		c.Port, c.TLS = 465, "implicit"
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil {
			return SMTPConfig{}, fmt.Errorf("SMTP URL: bad port")
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if c.TLS == "" {
		c.TLS = "opportunistic"
	}
	if c.TLS != "none" && c.TLS != "opportunistic" && c.TLS != "required" && c.TLS != "implicit" {
		return SMTPConfig{}, fmt.Errorf("SMTP URL: tls must be none, opportunistic or required")
	}
	return c, nil
}

// SMTPMailer sends through an SMTP server, keeping a few sessions open between
// messages: a session per message costs a TCP (and TLS) handshake, EHLO and QUIT, more
// than the message itself. A kept session is checked with NOOP before use; one the
// server has dropped is replaced, and the message sent on a fresh one. Safe for
// concurrent use.
type SMTPMailer struct {
	cfg    SMTPConfig
	client *mail.Client // the settings; the sessions are the pool's

	mu     sync.Mutex
	idle   []idleSession // most recently used last
	closed bool
}

type idleSession struct {
	c     *smtp.Client
	since time.Time
}

// Sessions kept open, and for how long unused.
const (
	smtpMaxIdle     = 8
	smtpIdleTimeout = 15 * time.Second // below the session's 20 s deadline
	smtpTimeout     = 20 * time.Second
)

// NewSMTPMailer builds a mailer for the server cfg names.
func NewSMTPMailer(cfg SMTPConfig) (*SMTPMailer, error) {
	policy := mail.TLSOpportunistic
	switch cfg.TLS {
	case "none":
		policy = mail.NoTLS
	case "required":
		policy = mail.TLSMandatory
	}
	opts := []mail.Option{mail.WithPort(cfg.Port), mail.WithTLSPolicy(policy), mail.WithTimeout(smtpTimeout)}
	if cfg.TLS == "implicit" {
		opts = append(opts, mail.WithSSL())
	}
	if cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	c, err := mail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("SMTP client: %w", err)
	}
	return &SMTPMailer{cfg: cfg, client: c}, nil
}

// Send delivers one message in plain text with an HTML alternative.
func (s *SMTPMailer) Send(ctx context.Context, m Message) error {
	msg, err := s.message(m)
	if err != nil {
		return err
	}
	if c := s.take(); c != nil {
		err := s.send(c, msg)
		if !errors.Is(err, &mail.SendError{Reason: mail.ErrConnCheck}) {
			return err
		}
		// The kept session had gone (NOOP failed): nothing was sent on it.
	}
	c, err := s.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("SMTP dial: %w", err)
	}
	return s.send(c, msg)
}

// send sends msg on session c, keeping c for the next message when all went well.
// A failure of the RSET after the server accepted the message is no failure of the
// message: it was delivered; only the session is dropped.
func (s *SMTPMailer) send(c *smtp.Client, msg *mail.Msg) error {
	err := s.client.SendWithSMTPClient(c, msg)
	switch {
	case err == nil:
		s.put(c)
		return nil
	case errors.Is(err, &mail.SendError{Reason: mail.ErrSMTPReset}) && msg.IsDelivered():
		closeSession(s.client, c)
		return nil
	default:
		closeSession(s.client, c)
		return err
	}
}

// closeSession ends a session with QUIT, and closes the socket when QUIT fails (a
// session past its deadline), which go-mail leaves open.
func closeSession(client *mail.Client, c *smtp.Client) {
	if err := client.CloseWithSMTPClient(c); err != nil {
		_ = c.Close()
	}
}

func (s *SMTPMailer) message(m Message) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return nil, fmt.Errorf("from address: %w", err)
	}
	to := m.To
	if m.ToName != "" {
		to = fmt.Sprintf("%q <%s>", m.ToName, m.To)
	}
	if err := msg.To(to); err != nil {
		return nil, fmt.Errorf("to address: %w", err)
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
	return msg, nil
}

// take returns the most recently used idle session, closing those idle too long.
func (s *SMTPMailer) take() *smtp.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.idle) > 0 {
		last := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		if time.Since(last.since) < smtpIdleTimeout {
			return last.c
		}
		go closeSession(s.client, last.c)
	}
	return nil
}

// put keeps a session for the next message, or closes it when enough are kept.
func (s *SMTPMailer) put(c *smtp.Client) {
	s.mu.Lock()
	if !s.closed && len(s.idle) < smtpMaxIdle {
		s.idle = append(s.idle, idleSession{c: c, since: time.Now()})
		c = nil
	}
	s.mu.Unlock()
	if c != nil {
		closeSession(s.client, c)
	}
}

// Close ends the kept sessions with QUIT; sessions in use are closed when done.
func (s *SMTPMailer) Close() error {
	s.mu.Lock()
	idle := s.idle
	s.idle, s.closed = nil, true
	s.mu.Unlock()
	for _, x := range idle {
		closeSession(s.client, x.c)
	}
	return nil
}

// LogMailer writes who would have been mailed what to the log instead of sending.
type LogMailer struct{ Logger *slog.Logger }

// Send logs the message's envelope and subject.
func (l LogMailer) Send(ctx context.Context, m Message) error {
	l.Logger.InfoContext(ctx, "mail (not sent: no SMTP server configured)", "to", m.To, "subject", m.Subject, "message_id", m.MessageID)
	return nil
}
