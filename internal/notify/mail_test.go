package notify_test

import (
	"bytes"
	"context"
	"fmt"
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
		want notify.SMTPConfig
	}{
		{"smtp://mail.example", notify.SMTPConfig{Host: "mail.example", Port: 587, From: from, TLS: "opportunistic"}},
		{"smtp://127.0.0.1:1025?tls=none", notify.SMTPConfig{Host: "127.0.0.1", Port: 1025, From: from, TLS: "none"}},
		{"smtp://apikey:p%40ss%3Aword@smtp.example.com:2525?tls=required",
			notify.SMTPConfig{Host: "smtp.example.com", Port: 2525, Username: "apikey", Password: "p@ss:word", From: from, TLS: "required"}},
		{"smtp://user@mail.example:25?tls=opportunistic", notify.SMTPConfig{Host: "mail.example", Port: 25, Username: "user", From: from, TLS: "opportunistic"}},
		{"smtp://[::1]:2525", notify.SMTPConfig{Host: "::1", Port: 2525, From: from, TLS: "opportunistic"}},
	}
	for _, c := range good {
		m, err := notify.ParseSMTPURL(c.raw, from)
		if err != nil {
			t.Errorf("%s: %v", c.raw, err)
			continue
		}
		if m != c.want {
			t.Errorf("%s: %+v, want %+v", c.raw, m, c.want)
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
	port := serveSMTP(t, func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{mu: &mu, out: &got}, nil
	})
	cfg := notify.SMTPConfig{Host: "127.0.0.1", Port: port, From: "posthub <noreply@posthub.test>", TLS: "none"}
	m := newMailer(t, cfg)
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
	closed := l2.Addr().(*net.TCPAddr).Port
	l2.Close()
	down := newMailer(t, notify.SMTPConfig{Host: "127.0.0.1", Port: closed, From: cfg.From, TLS: "none"})
	if err := down.Send(ctx, msg); err == nil {
		t.Error("no error sending to a closed port")
	}
	badCfg := cfg
	badCfg.From = "not an address"
	if err := newMailer(t, badCfg).Send(ctx, msg); err == nil {
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

// serveSMTP runs an SMTP server on 127.0.0.1 for the test and returns its port.
func serveSMTP(t *testing.T, session smtp.BackendFunc) int {
	t.Helper()
	srv := smtp.NewServer(session)
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func newMailer(t *testing.T, cfg notify.SMTPConfig) *notify.SMTPMailer {
	t.Helper()
	m, err := notify.NewSMTPMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// The mailer keeps its sessions open between messages, and when the server has dropped
// a kept session the next message still goes, on a new one.
func TestSMTPMailerKeepsSessionsAndReplacesDroppedOnes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []received
	var conns []*smtp.Conn
	port := serveSMTP(t, func(c *smtp.Conn) (smtp.Session, error) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		return &smtpSession{mu: &mu, out: &got}, nil
	})
	m := newMailer(t, notify.SMTPConfig{Host: "127.0.0.1", Port: port, From: "posthub <noreply@posthub.test>", TLS: "none"})
	ctx := context.Background()
	send := func(i int) error {
		return m.Send(ctx, notify.Message{To: fmt.Sprintf("p%d@studio.example", i), Subject: "s", Text: "t", MessageID: fmt.Sprintf("<%d@posthub>", i)})
	}
	counts := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		return len(conns), len(got)
	}
	for i := range 5 {
		if err := send(i); err != nil {
			t.Fatal(err)
		}
	}
	if c, n := counts(); c != 1 || n != 5 {
		t.Fatalf("5 messages one after another: %d sessions, %d received; want 1 and 5", c, n)
	}
	mu.Lock()
	for _, c := range conns {
		_ = c.Close()
	}
	mu.Unlock()
	if err := send(5); err != nil {
		t.Fatalf("after the server dropped the session: %v", err)
	}
	if c, n := counts(); c != 2 || n != 6 {
		t.Fatalf("after a dropped session: %d sessions, %d received; want 2 and 6", c, n)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for w := range 8 {
		wg.Go(func() {
			for i := range 5 {
				errs <- send(100 + 10*w + i)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if c, n := counts(); n != 46 || c > 2+8 {
		t.Fatalf("8 concurrent senders: %d sessions, %d received; want at most 10 and 46", c, n)
	}
}
