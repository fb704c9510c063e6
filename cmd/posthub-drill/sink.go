package main

import (
	"bytes"
	"io"
	"log"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// mailSink is an SMTP server on 127.0.0.1 that takes every message and counts them by
// Message-ID, remembering when each was first received.
type mailSink struct {
	addr string
	srv  *smtp.Server

	mu    sync.Mutex
	byID  map[string]*gotMail
	total int
	noID  int
	// hook, when set, is called once with the next message after it is recorded and
	// before the server answers DATA (the faults drill kills posthub there).
	hook func(messageID string)
}

// gotMail is what the sink remembers of one Message-ID.
type gotMail struct {
	count   int
	first   time.Time
	subject string
}

func newMailSink() (*mailSink, error) {
	s := &mailSink{byID: map[string]*gotMail{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.MaxRecipients = 50
	// Sessions cut short by a killed posthub are expected in the drills; do not log them.
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.addr = l.Addr().String()
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

func (s *mailSink) close() { _ = s.srv.Close() }

// record counts one received message.
func (s *mailSink) record(id, subject string, at time.Time) {
	s.mu.Lock()
	s.total++
	var hook func(string)
	if id == "" {
		s.noID++
	} else if m := s.byID[id]; m != nil {
		m.count++
	} else {
		s.byID[id] = &gotMail{count: 1, first: at, subject: subject}
	}
	hook, s.hook = s.hook, nil
	s.mu.Unlock()
	if hook != nil {
		hook(id)
	}
}

// armHook sets the hook for the next message.
func (s *mailSink) armHook(h func(messageID string)) {
	s.mu.Lock()
	s.hook = h
	s.mu.Unlock()
}

// disarm clears the hook; it reports whether the hook was still set (not yet fired).
func (s *mailSink) disarm() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	armed := s.hook != nil
	s.hook = nil
	return armed
}

// get returns what was received under a Message-ID.
func (s *mailSink) get(id string) (gotMail, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[id]
	if !ok {
		return gotMail{}, false
	}
	return *m, true
}

// counts returns the total of messages, the distinct Message-IDs and the messages
// without one.
func (s *mailSink) counts() (total, distinct, noID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total, len(s.byID), s.noID
}

// duplicates returns the Message-IDs received more than once, with their counts.
func (s *mailSink) duplicates() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for id, m := range s.byID {
		if m.count > 1 {
			out[id] = m.count
		}
	}
	return out
}

// ids returns every Message-ID received so far.
func (s *mailSink) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.byID))
	for id := range s.byID {
		out = append(out, id)
	}
	return out
}

type sinkSession struct{ s *mailSink }

func (*sinkSession) Reset()                               {}
func (*sinkSession) Logout() error                        { return nil }
func (*sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (*sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (ss *sinkSession) Data(r io.Reader) error {
	// A message is received once all of it is: a client killed mid-DATA sent none.
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	at := time.Now()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		ss.s.record("", "", at)
		return nil
	}
	ss.s.record(normaliseMessageID(msg.Header.Get("Message-Id")), msg.Header.Get("Subject"), at)
	return nil
}

// normaliseMessageID trims a Message-ID to "<local@domain>".
func normaliseMessageID(id string) string {
	id = strings.TrimSpace(id)
	if id == "" {
		return ""
	}
	return "<" + strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">") + ">"
}
