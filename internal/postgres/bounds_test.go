package postgres_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// What a manager may set is bounded (issue 16): exchange rates by currency, size and
// date, and a site's reminders by count.

// dakarManager adds a manager of the Dakar site only and returns them as an actor.
func (f *fixture) dakarManager(t *testing.T) booking.Actor {
	t.Helper()
	hub := f.idOf(t, `SELECT id FROM organisations WHERE slug = 'atlas-post'`)
	dakar := f.idOf(t, `SELECT id FROM sites WHERE slug = 'dakar'`)
	u, err := f.db.CreateUser(f.ctx, booking.System, booking.UserInput{OrganisationID: hub, Email: "awa.ndiaye@atlas-post.example",
		Name: "Awa Ndiaye", Role: booking.RoleManager, Locale: "fr", SiteIDs: []uuid.UUID{dakar}})
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := f.db.CreateToken(f.ctx, booking.System, u.ID, "t", 0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.db.AuthenticateToken(f.ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.SiteIDs, []uuid.UUID{dakar}) {
		t.Fatalf("the Dakar manager manages %v", a.SiteIDs)
	}
	return a
}

func TestExchangeRatesAreScopedToTheCurrenciesOfOnesSites(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dakar := f.dakarManager(t)
	enter := func(a booking.Actor, base, quote string) error {
		_, err := f.db.CreateExchangeRate(f.ctx, a, booking.ExchangeRateInput{Base: base, Quote: quote, Rate: "1.5"})
		return err
	}
	// Casablanca bills in MAD, Dakar in XOF; EUR and USD are billed by no site.
	for _, c := range []struct {
		who         booking.Actor
		name        string
		base, quote string
		want        string
	}{
		{dakar, "dakar", "EUR", "MAD", booking.EFORBIDDEN}, // Casablanca's currency
		{dakar, "dakar", "MAD", "EUR", booking.EFORBIDDEN}, // either way round
		{dakar, "dakar", "MAD", "XOF", booking.EFORBIDDEN}, // half Casablanca's
		{dakar, "dakar", "EUR", "USD", booking.EFORBIDDEN}, // none of Dakar's
		{f.actors["producer"], "producer", "EUR", "XOF", booking.EFORBIDDEN},
		{f.actors["operator"], "operator", "EUR", "XOF", booking.EFORBIDDEN},
		{dakar, "dakar", "EUR", "XOF", ""},
		{dakar, "dakar", "XOF", "USD", ""},
		{f.actors["manager"], "manager of both", "MAD", "XOF", ""},
		{f.actors["manager"], "manager of both", "EUR", "MAD", ""},
		{f.actors["admin"], "admin", "EUR", "USD", ""},
	} {
		if err := enter(c.who, c.base, c.quote); (c.want == "" && err != nil) || (c.want != "" && booking.ErrorCode(err) != c.want) {
			t.Errorf("%s entering %s→%s: %v, want %q", c.name, c.base, c.quote, err, c.want)
		}
	}
	// Each rate entered is audited with who entered it; the refused ones wrote nothing.
	var audited, rows int
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT (SELECT count(*) FROM audit_log WHERE action = 'exchange_rate.created' AND actor_id = $1),
		(SELECT count(*) FROM exchange_rates WHERE created_by = $1)`, dakar.UserID).Scan(&audited, &rows); err != nil {
		t.Fatal(err)
	}
	if audited != 2 || rows != 2 {
		t.Fatalf("the Dakar manager's rates: %d audited, %d stored; want 2 and 2", audited, rows)
	}
}

func TestExchangeRateBounds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	manager := f.actors["manager"]
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	for _, c := range []struct {
		in    booking.ExchangeRateInput
		code  string
		field string
	}{
		{booking.ExchangeRateInput{Base: "eur", Quote: "XOF", Rate: "655.957"}, booking.EINVALID, "base"},
		{booking.ExchangeRateInput{Base: "EUR", Quote: "xof", Rate: "655.957"}, booking.EINVALID, "quote"},
		{booking.ExchangeRateInput{Base: "XYZ", Quote: "XOF", Rate: "1"}, booking.EINVALID, "base"},
		{booking.ExchangeRateInput{Base: "MAD", Quote: "XOF", Rate: "999999999999999999"}, booking.EUNPROCESSABLE, "rate"},
		{booking.ExchangeRateInput{Base: "MAD", Quote: "XOF", Rate: "1000000.000000000001"}, booking.EUNPROCESSABLE, "rate"},
		{booking.ExchangeRateInput{Base: "MAD", Quote: "XOF", Rate: "0.000000999999"}, booking.EUNPROCESSABLE, "rate"},
		{booking.ExchangeRateInput{Base: "EUR", Quote: "XOF", Rate: "655.957", EffectiveAt: &time.Time{}}, booking.EUNPROCESSABLE, "effective_at"},
		{booking.ExchangeRateInput{Base: "EUR", Quote: "XOF", Rate: "655.957", EffectiveAt: at("1999-12-31T23:59:59Z")}, booking.EUNPROCESSABLE, "effective_at"},
		{booking.ExchangeRateInput{Base: "EUR", Quote: "XOF", Rate: "655.957", EffectiveAt: at("2200-01-01T00:00:00.000001Z")}, booking.EUNPROCESSABLE, "effective_at"},
	} {
		_, err := f.db.CreateExchangeRate(f.ctx, manager, c.in)
		var de *booking.Error
		if booking.ErrorCode(err) != c.code || !asError(err, &de) || de.Details["field"] != c.field {
			t.Errorf("%+v: %v, want %s naming %s", c.in, err, c.code, c.field)
		}
	}
	var n int
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM exchange_rates WHERE created_by IS NOT NULL`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("refused rates stored: %d, %v", n, err)
	}

	// The bounds themselves, and the first and last instants, are accepted; an absent
	// effective_at is now.
	for _, in := range []booking.ExchangeRateInput{
		{Base: "EUR", Quote: "XOF", Rate: "0.000001", EffectiveAt: at("2000-01-01T00:00:00Z")},
		{Base: "EUR", Quote: "XOF", Rate: "1000000", EffectiveAt: at("2200-01-01T00:00:00Z")},
	} {
		if _, err := f.db.CreateExchangeRate(f.ctx, manager, in); err != nil {
			t.Errorf("%+v: %v", in, err)
		}
	}
	now, err := f.db.CreateExchangeRate(f.ctx, manager, booking.ExchangeRateInput{Base: "EUR", Quote: "XOF", Rate: "655.957"})
	if err != nil || !now.EffectiveAt.Equal(f.now) {
		t.Fatalf("a rate without effective_at: %+v, %v; want in force from %s", now, err, f.now)
	}
}

// TestARateTooLargeCannotStopQuotes: a rate of about 10^18 made every quote and treaty
// report converted through it overflow (422 for everyone); it is refused now, and a
// rate at the bound still converts a booking's quote and the site's treaty report.
func TestARateTooLargeCannotStopQuotes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	gs1 := f.resourceNamed(t, "Grading Suite 1 — Zellige")
	souffle := f.productionTitled(t, "Le Souffle du Baobab")
	b := f.book(t, "manager", souffle, []uuid.UUID{gs1}, f.at(10, 9), f.at(10, 12), booking.StatusConfirmed, 0)
	site := b.SiteID

	if _, err := f.db.CreateExchangeRate(f.ctx, f.actors["manager"], booking.ExchangeRateInput{Base: "MAD", Quote: "XOF", Rate: "999999999999999999"}); booking.ErrorCode(err) != booking.EUNPROCESSABLE {
		t.Fatalf("a rate of 10^18: %v, want refused", err)
	}
	check := func(wantXOF int64) {
		t.Helper()
		q, err := f.db.QuoteBooking(f.ctx, f.actors["producer"], b.ID)
		if err != nil {
			t.Fatalf("quote: %v", err)
		}
		if c := conversions(q); len(q.Conversions) != 2 || (wantXOF != 0 && c["XOF"] != wantXOF) {
			t.Fatalf("quote of %d MAD: conversions %v", q.TotalMinor, c)
		}
		rep, err := f.db.TreatyReport(f.ctx, f.actors["operator"], booking.TreatyQuery{SiteID: site, From: f.at(1, 0), To: f.at(31, 0)})
		if err != nil {
			t.Fatalf("treaty report: %v", err)
		}
		if rep.Totals.ValueMinor == 0 || len(rep.Totals.Converted) != 2 {
			t.Fatalf("treaty report: %+v", rep.Totals)
		}
	}
	check(0)
	// At the upper bound, 1 MAD = 1 000 000 XOF: three hours of the suite convert.
	if _, err := f.db.CreateExchangeRate(f.ctx, f.actors["manager"], booking.ExchangeRateInput{Base: "MAD", Quote: "XOF", Rate: "1000000"}); err != nil {
		t.Fatal(err)
	}
	q, err := f.db.QuoteBooking(f.ctx, f.actors["producer"], b.ID)
	if err != nil {
		t.Fatal(err)
	}
	check(q.TotalMinor / 100 * 1_000_000)
}

// TestCorrectingARateAddsOne: a correction is a new rate in force from its own
// instant; the rate it corrects stays, and quotes made before keep it.
func TestCorrectingARateAddsOne(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first, err := f.db.CreateExchangeRate(f.ctx, f.actors["manager"], booking.ExchangeRateInput{Base: "EUR", Quote: "XOF", Rate: "656"})
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Hour)
	fixed, err := f.db.CreateExchangeRate(f.ctx, f.actors["manager"], booking.ExchangeRateInput{Base: "EUR", Quote: "XOF", Rate: "655.957"})
	if err != nil {
		t.Fatal(err)
	}
	rates, err := f.db.ListExchangeRates(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := []uuid.UUID{}
	for _, r := range rates {
		if r.Base == "EUR" && r.Quote == "XOF" {
			ids = append(ids, r.ID)
		}
	}
	if !slices.Contains(ids, first.ID) || !slices.Contains(ids, fixed.ID) || ids[0] != fixed.ID {
		t.Fatalf("EUR→XOF rates %v: want the correction %s first, then %s kept", ids, fixed.ID, first.ID)
	}
	var n int
	if err := f.db.Pool.QueryRow(f.ctx, `SELECT count(*) FROM audit_log WHERE action = 'exchange_rate.created' AND object_id = ANY($1)`,
		[]string{first.ID.String(), fixed.ID.String()}).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d audit entries for the two rates, %v", n, err)
	}
}

func TestReminderOffsetsAreBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	site := f.idOf(t, `SELECT id FROM sites WHERE slug = 'casablanca'`)
	p, err := f.db.SitePolicy(f.ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	hours := func(hs ...int) []booking.Duration {
		out := []booking.Duration{}
		for _, h := range hs {
			out = append(out, booking.Duration(time.Duration(h)*time.Hour))
		}
		return out
	}
	p.ReminderOffsets = hours(1, 2, 3, 4, 5, 6)
	_, err = f.db.UpdateSitePolicy(f.ctx, f.actors["manager"], p)
	var de *booking.Error
	if booking.ErrorCode(err) != booking.EUNPROCESSABLE || !asError(err, &de) || de.Details["field"] != "reminder_offsets" {
		t.Fatalf("six reminders: %v, want 422 naming reminder_offsets", err)
	}
	many := make([]booking.Duration, 0, 1000)
	for i := range 1000 {
		many = append(many, booking.Duration(time.Duration(i+1)*time.Minute))
	}
	p.ReminderOffsets = many
	if _, err := f.db.UpdateSitePolicy(f.ctx, f.actors["manager"], p); booking.ErrorCode(err) != booking.EUNPROCESSABLE {
		t.Fatalf("a thousand reminders: %v", err)
	}
	if got, _ := f.db.SitePolicy(f.ctx, site); len(got.ReminderOffsets) != 2 {
		t.Fatalf("a refused policy changed the reminders: %v", got.ReminderOffsets)
	}
	// Five are allowed; a repeated offset is one reminder, so a thousand copies of
	// five offsets are five.
	p.ReminderOffsets = nil
	for range 200 {
		p.ReminderOffsets = append(p.ReminderOffsets, hours(1, 2, 24, 48, 72)...)
	}
	got, err := f.db.UpdateSitePolicy(f.ctx, f.actors["manager"], p)
	if err != nil || !slices.Equal(got.ReminderOffsets, hours(1, 2, 24, 48, 72)) {
		t.Fatalf("five reminders, repeated: %v, %v", got.ReminderOffsets, err)
	}
}
