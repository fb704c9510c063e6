package notify_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/posthub/posthub/internal/notify"
)

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()
	const from = "posthub <noreply@posthub.test>"
	good := []struct {
		raw  string
		want notify.SMTPMailer
	}{
		{"smtp://mail.example", notify.SMTPMailer{Host: "mail.example", Port: 587, From: from, TLS: "opportunistic"}},
		{"smtp://127.0.0.1:1025?tls=none", notify.SMTPMailer{Host: "127.0.0.1", Port: 1025, From: from, TLS: "none"}},
		{"smtp://apikey:p%40ss%3Aword@smtp.example.com:2525?tls=required",
			notify.SMTPMailer{Host: "smtp.example.com", Port: 2525, Username: "apikey", Password: "p@ss:word", From: from, TLS: "required"}},
		{"smtp://user@mail.example:25?tls=opportunistic", notify.SMTPMailer{Host: "mail.example", Port: 25, Username: "user", From: from, TLS: "opportunistic"}},
		{"smtp://[::1]:2525", notify.SMTPMailer{Host: "::1", Port: 2525, From: from, TLS: "opportunistic"}},
	}
	for _, c := range good {
		m, err := notify.ParseSMTPURL(c.raw, from)
		if err != nil {
			t.Errorf("%s: %v", c.raw, err)
			continue
		}
		if *m != c.want {
			t.Errorf("%s: %+v, want %+v", c.raw, *m, c.want)
		}
	}
	for _, raw := range []string{"", "mail.example:25", "http://mail.example", "smtp://", "smtp:///path", "smtp://mail.example:port",
		"smtp://mail.example?tls=maybe", "smtp://mail.example?tls=NONE", "smtp://%zz"} {
		if m, err := notify.ParseSMTPURL(raw, from); err == nil {
			t.Errorf("%q accepted: %+v", raw, m)
		} else if strings.Contains(err.Error(), "p@ss") {
			t.Errorf("%q: error shows a password: %v", raw, err)
		}
	}
}

// received is one message as a test SMTP server got it.
type received struct {
	from string
	to   []string
	data []byte
}

type smtpSession struct {
	mu   *sync.Mutex
	out  *[]received
	from string
	to   []string
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.mu.Lock()
	*s.out = append(*s.out, received{s.from, s.to, b})
	s.mu.Unlock()
	return err
}

func TestSMTPMailerSends(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []received
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{mu: &mu, out: &got}, nil
	}))
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	m := &notify.SMTPMailer{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, From: "posthub <noreply@posthub.test>", TLS: "none"}
	msg := notify.Message{To: "leila.chraibi@dar-nour.example", ToName: `Leïla "Lulu" Chraibi`, Subject: "Réservation confirmée : Layali Derb Sultan",
		Text: "Quand: mer. 10 mars 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)\n", HTML: "<p>Quand</p>",
		MessageID: "<3f1c.9a2b@posthub>"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	r := got[0]
	if r.from != "noreply@posthub.test" || len(r.to) != 1 || r.to[0] != msg.To {
		t.Errorf("envelope %q → %v", r.from, r.to)
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(r.data))
	if err != nil {
		t.Fatal(err)
	}
	h := parsed.Header
	if id := h.Get("Message-Id"); id != msg.MessageID {
		t.Errorf("Message-ID %q, want %q", id, msg.MessageID)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if subject != msg.Subject {
		t.Errorf("subject %q", subject)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != msg.To || to[0].Name != msg.ToName {
		t.Errorf("To %q: %v %v", h.Get("To"), to, err)
	}
	if from, err := h.AddressList("From"); err != nil || from[0].Address != "noreply@posthub.test" || from[0].Name != "posthub" {
		t.Errorf("From %q: %v", h.Get("From"), err)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q", ct)
	}

	// Nobody listening: an error, so the job retries.
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l2.Addr().(*net.TCPAddr).Port
	l2.Close()
	down := &notify.SMTPMailer{Host: "127.0.0.1", Port: port, From: m.From, TLS: "none"}
	if err := down.Send(ctx, msg); err == nil {
		t.Error("no error sending to a closed port")
	}
	bad := *m
	bad.From = "not an address"
	if err := bad.Send(ctx, msg); err == nil {
		t.Error("no error for a bad sender")
	}
}

func TestLogMailerLogs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	m := notify.LogMailer{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	if err := m.Send(context.Background(), notify.Message{To: "a@b.example", Subject: "Hello", MessageID: "<x@posthub>", Text: "secret body"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "a@b.example") || !strings.Contains(out, "Hello") || !strings.Contains(out, "<x@posthub>") || strings.Contains(out, "secret body") {
		t.Errorf("log %q", out)
	}
}
