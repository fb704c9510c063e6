package jobs_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/notify"
	"github.com/posthub/posthub/internal/postgres"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// fixture is a migrated database with the demo data, actors for the demo users, an
// insert-only River client whose Sink receives every booking change's events, and a
// clock (frozen unless the test asked for the real one).
type fixture struct {
	db     *postgres.DB
	url    string
	ctx    context.Context
	log    *slog.Logger
	users  demo.Users
	actors map[string]booking.Actor
	prod   map[string]booking.Production // the first production of each producer's organisation
	suites []uuid.UUID                   // Casablanca grading suites and colourists
	client *river.Client[pgx.Tx]
	driver *riverpgxv5.Driver

	mu  sync.Mutex
	now time.Time // zero: the real clock
}

// frozenNow is the fixtures' frozen "now": nine days before the bookings of 10 March.
var frozenNow = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, realClock bool) *fixture {
	t.Helper()
	url := dbtest.NewURL(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	f := &fixture{db: db, url: url, ctx: ctx, actors: map[string]booking.Actor{}, prod: map[string]booking.Production{},
		log: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if !realClock {
		f.now = frozenNow
		db.Now = f.clock
	}
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		f.users, err = demo.Seed(ctx, tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for k, id := range f.users {
		_, tok, err := db.CreateToken(ctx, booking.System, id, "t", 0)
		if err != nil {
			t.Fatal(err)
		}
		a, err := db.AuthenticateToken(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		f.actors[k] = a
		if a.Role == booking.RoleProducer {
			ps, err := db.ListProductions(ctx, a)
			if err != nil || len(ps) == 0 {
				t.Fatalf("productions of %s: %v", k, err)
			}
			f.prod[k] = ps[0]
		}
	}
	rows, _ := db.Pool.Query(ctx, `SELECT r.id FROM resources r JOIN sites s ON s.id = r.site_id
		WHERE s.slug = 'casablanca' AND r.kind IN ('grading_suite', 'colourist') ORDER BY r.kind, r.name`)
	if f.suites, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID]); err != nil || len(f.suites) < 4 {
		t.Fatalf("resources: %v %d", err, len(f.suites))
	}
	// The insert-only client an API process has: it enqueues, `posthub worker` works.
	if f.client, err = jobs.NewClient(db.Pool, jobs.Options{Logger: f.log}); err != nil {
		t.Fatal(err)
	}
	f.driver = riverpgxv5.New(db.Pool)
	db.OnEvents = jobs.Sink(f.client)
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.now.IsZero() {
		return time.Now()
	}
	return f.now
}

// at is a time on a day of March 2027 (UTC).
func at(day, hour int) time.Time { return time.Date(2027, 3, day, hour, 0, 0, 0, time.UTC) }

func (f *fixture) book(t *testing.T, who, forProducer string, status booking.Status, resources []uuid.UUID, start, end time.Time) booking.Booking {
	t.Helper()
	b, err := f.db.Book(f.ctx, f.actors[who], booking.BookingInput{ProductionID: f.prod[forProducer].ID, ResourceIDs: resources,
		Start: start, End: end, Status: status})
	if err != nil {
		t.Fatalf("%s booking for %s: %v", who, forProducer, err)
	}
	return b
}

// casablanca is the working calendar of the site of f.suites, for tests that book
// from the real clock and must land in working time whatever the day and hour.
func (f *fixture) casablanca(t *testing.T) *calendar.Calendar {
	t.Helper()
	var site uuid.UUID
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT id FROM sites WHERE slug = 'casablanca'`).Scan(&site); err != nil {
		t.Fatal(err)
	}
	return dbtest.SiteCalendar(t, f.db, site)
}

func (f *fixture) act(t *testing.T, who string, id uuid.UUID, act booking.Action) booking.Booking {
	t.Helper()
	b, err := f.db.Act(f.ctx, f.actors[who], id, act, booking.ActOptions{})
	if err != nil {
		t.Fatalf("%s %s: %v", who, act, err)
	}
	return b
}

// deps are the workers' collaborators on the fixture's storage and clock.
func (f *fixture) deps(m notify.Mailer, hooks notify.WebhookSender) *jobs.Deps {
	return &jobs.Deps{Store: f.db, Mailer: m, Webhooks: hooks, Logger: f.log, BaseURL: "https://posthub.test", Now: f.clock}
}

// clearJobs forgets the jobs enqueued so far, so the next assertion sees one change's.
func (f *fixture) clearJobs(t *testing.T) {
	t.Helper()
	if _, err := f.db.Pool.Exec(f.ctx, `DELETE FROM river_job`); err != nil {
		t.Fatal(err)
	}
}

// inTx runs fn in a transaction that is committed, as a River job's work is.
func (f *fixture) inTx(t *testing.T, fn func(tx pgx.Tx)) {
	t.Helper()
	tx, err := f.db.Pool.Begin(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(f.ctx) //nolint:errcheck
	fn(tx)
	if err := tx.Commit(f.ctx); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Pool.QueryRow(f.ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func decodeArgs[T any](t *testing.T, row *rivertype.JobRow) T {
	t.Helper()
	var a T
	if err := json.Unmarshal(row.EncodedArgs, &a); err != nil {
		t.Fatalf("job %d args: %v", row.ID, err)
	}
	return a
}

func messageID(eventID, userID uuid.UUID) string {
	return fmt.Sprintf("<%s.%s@posthub>", eventID, userID)
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gotMail is a message as the test SMTP server received it.
type gotMail struct {
	EnvelopeFrom string
	EnvelopeTo   []string
	MessageID    string
	To           []*mail.Address
	Subject      string
	ContentType  string
	Text, HTML   string
	Raw          []byte
}

// mailServer is a real SMTP server on 127.0.0.1, collecting what it is sent.
type mailServer struct {
	t    testing.TB
	Port int

	mu   sync.Mutex
	msgs []*gotMail
	// onData, when set, is called with each message once it is stored and before the
	// server answers the DATA command.
	onData func(total int, m *gotMail)
}

func newMailServer(t testing.TB) *mailServer {
	t.Helper()
	ms := &mailServer{t: t}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &mailSession{ms: ms}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 1 << 20
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms.Port = l.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ms
}

// Messages returns a copy of what was received so far.
func (ms *mailServer) Messages() []*gotMail {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return slices.Clone(ms.msgs)
}

func (ms *mailServer) Len() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return len(ms.msgs)
}

// Mailer is an SMTPMailer sending to this server in clear text.
func (ms *mailServer) Mailer() *notify.SMTPMailer {
	m, err := notify.NewSMTPMailer(notify.SMTPConfig{Host: "127.0.0.1", Port: ms.Port, From: "posthub <noreply@posthub.test>", TLS: "none"})
	if err != nil {
		panic(err)
	}
	return m
}

type mailSession struct {
	ms   *mailServer
	from string
	to   []string
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parseMail(raw)
	if err != nil {
		s.ms.t.Errorf("test SMTP server: unparseable message: %v\n%s", err, raw)
		return err
	}
	m.EnvelopeFrom, m.EnvelopeTo = s.from, slices.Clone(s.to)
	s.ms.mu.Lock()
	s.ms.msgs = append(s.ms.msgs, m)
	total, hook := len(s.ms.msgs), s.ms.onData
	s.ms.mu.Unlock()
	if hook != nil {
		hook(total, m)
	}
	return nil
}

// parseMail reads a message with net/mail and its MIME parts.
func parseMail(raw []byte) (*gotMail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	m := &gotMail{Raw: raw, MessageID: msg.Header.Get("Message-Id"), ContentType: msg.Header.Get("Content-Type")}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	if m.To, err = msg.Header.AddressList("To"); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	if err := m.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return nil, err
	}
	return m, nil
}

// walk collects the text and HTML parts of a (possibly nested) MIME body.
func (m *gotMail) walk(contentType, encoding string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart() // undoes quoted-printable itself
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		m.Text = string(b)
	case "text/html":
		m.HTML = string(b)
	}
	return nil
}

// memMailer records messages instead of sending them.
type memMailer struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (m *memMailer) Send(_ context.Context, msg notify.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

func (m *memMailer) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.msgs)
}
