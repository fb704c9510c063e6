package notify_test

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/notify"
)

func location(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := calendar.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// casablanca is a booking at Casablanca on 10 March 2027, 10:00–18:00 UTC: Morocco is
// on UTC+00:00 during Ramadan, so the wall-clock is 10:00–18:00 too.
func casablanca(t *testing.T, kind string) notify.Notice {
	return notify.Notice{Kind: kind, Production: "Le Souffle du Baobab", Site: "Atlas Post Casablanca",
		Resources: []string{"Grading Suite 1 — Zellige", "Yasmine El Alami"},
		Start:     time.Date(2027, 3, 10, 10, 0, 0, 0, time.UTC), End: time.Date(2027, 3, 10, 18, 0, 0, 0, time.UTC),
		Location: location(t, "Africa/Casablanca"), Zone: "Africa/Casablanca", Link: "https://posthub.test/bookings/42"}
}

func TestRenderSubjects(t *testing.T) {
	t.Parallel()
	kinds := []string{"reminder", "hold_expiring"}
	for _, k := range booking.EventKinds {
		kinds = append(kinds, string(k))
	}
	seen := map[string]string{}
	for _, k := range kinds {
		for _, lang := range []string{"en", "fr"} {
			s := notify.Render(casablanca(t, k), lang).Subject
			if strings.HasPrefix(s, "posthub: ") || !strings.Contains(s, "Le Souffle du Baobab") || strings.Contains(s, "%!") {
				t.Errorf("%s in %s: subject %q", k, lang, s)
			}
			if other, dup := seen[s]; dup {
				t.Errorf("%s and %s share the subject %q", k, other, s)
			}
			seen[s] = k + "/" + lang
		}
	}
	for _, c := range []struct{ kind, lang, want string }{
		{"confirmed", "fr", "Réservation confirmée : Le Souffle du Baobab"},
		{"confirmed", "en", "Booking confirmed: Le Souffle du Baobab"},
		{"hold_placed", "fr", "Option posée : Le Souffle du Baobab"},
		{"challenge_received", "en", "Your hold is challenged: Le Souffle du Baobab"},
		{"reminder", "fr", "Rappel : Le Souffle du Baobab commence bientôt"},
		{"confirmed", "wo", "Booking confirmed: Le Souffle du Baobab"}, // a language without a translation: English
		{"confirmed", "", "Booking confirmed: Le Souffle du Baobab"},
		{"digest", "fr", "posthub: Le Souffle du Baobab"}, // a kind without a subject
	} {
		if got := notify.Render(casablanca(t, c.kind), c.lang).Subject; got != c.want {
			t.Errorf("%s in %q: subject %q, want %q", c.kind, c.lang, got, c.want)
		}
	}
}

func TestRenderSiteLocalTimes(t *testing.T) {
	t.Parallel()
	paris := location(t, "Europe/Paris")
	cases := []struct {
		name       string
		n          notify.Notice
		lang, want string
	}{
		{"Casablanca in Ramadan, English", casablanca(t, "confirmed"), "en",
			"When: Wed 10 Mar 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)"},
		{"Casablanca in Ramadan, French", casablanca(t, "confirmed"), "fr",
			"Quand: mer. 10 mars 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)"},
		{"Casablanca in summer 2026, on UTC+01:00", func() notify.Notice {
			n := casablanca(t, "confirmed")
			n.Start, n.End = time.Date(2026, 6, 17, 9, 0, 0, 0, time.UTC), time.Date(2026, 6, 17, 17, 0, 0, 0, time.UTC)
			return n
		}(), "fr", "Quand: mer. 17 juin 2026 10:00 – 18:00 (Africa/Casablanca, UTC+01:00)"},
		{"Paris in summer", notify.Notice{Kind: "confirmed", Production: "Sable et Sel", Site: "Paris",
			Start: time.Date(2027, 7, 15, 8, 0, 0, 0, time.UTC), End: time.Date(2027, 7, 15, 16, 0, 0, 0, time.UTC),
			Location: paris, Zone: "Europe/Paris"}, "en", "When: Thu 15 Jul 2027 10:00 – 18:00 (Europe/Paris, UTC+02:00)"},
		{"Paris in winter", notify.Notice{Kind: "confirmed", Production: "Sable et Sel", Site: "Paris",
			Start: time.Date(2027, 1, 15, 8, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 15, 16, 0, 0, 0, time.UTC),
			Location: paris, Zone: "Europe/Paris"}, "fr", "Quand: ven. 15 janv. 2027 09:00 – 17:00 (Europe/Paris, UTC+01:00)"},
		{"over midnight local, not UTC", notify.Notice{Kind: "confirmed", Production: "Sable et Sel", Site: "Paris",
			Start: time.Date(2027, 7, 15, 20, 0, 0, 0, time.UTC), End: time.Date(2027, 7, 15, 23, 0, 0, 0, time.UTC),
			Location: paris, Zone: "Europe/Paris"}, "en", "When: Thu 15 Jul 2027 22:00 – Fri 16 Jul 2027 01:00 (Europe/Paris, UTC+02:00)"},
		{"over new year", notify.Notice{Kind: "confirmed", Production: "Sable et Sel", Site: "Paris",
			Start: time.Date(2027, 12, 31, 9, 0, 0, 0, time.UTC), End: time.Date(2028, 1, 2, 17, 0, 0, 0, time.UTC),
			Location: paris, Zone: "Europe/Paris"}, "fr", "Quand: ven. 31 déc. 2027 10:00 – dim. 2 janv. 2028 18:00 (Europe/Paris, UTC+01:00)"},
	}
	for _, c := range cases {
		r := notify.Render(c.n, c.lang)
		if !strings.Contains(r.Text, c.want+"\n") {
			t.Errorf("%s: text lacks %q:\n%s", c.name, c.want, r.Text)
		}
		label, value, _ := strings.Cut(c.want, ": ")
		if !strings.Contains(html.UnescapeString(r.HTML), "<th style=\"text-align: left; padding-right: 1em\">"+label+"</th><td>"+value+"</td>") {
			t.Errorf("%s: HTML lacks %q:\n%s", c.name, c.want, r.HTML)
		}
	}
}

func TestRenderDetails(t *testing.T) {
	t.Parallel()
	n := casablanca(t, "rank_changed")
	n.Rank, n.OldRank = 1, 2
	deadline := time.Date(2027, 3, 3, 16, 30, 0, 0, time.UTC)
	n.Deadline = &deadline
	n.Reason = "grader ill"
	fr := notify.Render(n, "fr")
	for _, want := range []string{"Votre option a changé de rang : Le Souffle du Baobab\n\n", "Où: Atlas Post Casablanca\n",
		"Ressources: Grading Suite 1 — Zellige, Yasmine El Alami\n", "Rang dans la file: 2 → 1\n",
		"Échéance: mer. 3 mars 2027 16:30 (Africa/Casablanca, UTC+00:00)\n", "Motif: grader ill\n",
		"\nOuvrir dans posthub: https://posthub.test/bookings/42\n"} {
		if !strings.Contains(fr.Text, want) {
			t.Errorf("French text lacks %q:\n%s", want, fr.Text)
		}
	}
	if !strings.Contains(fr.HTML, `<html lang="fr">`) || !strings.Contains(fr.HTML, `<a href="https://posthub.test/bookings/42">Ouvrir dans posthub</a>`) {
		t.Errorf("French HTML:\n%s", fr.HTML)
	}
	en := notify.Render(n, "en")
	for _, want := range []string{"Place in the queue: 2 → 1\n", "Deadline: Wed 3 Mar 2027 16:30 (Africa/Casablanca, UTC+00:00)\n", "Reason: grader ill\n"} {
		if !strings.Contains(en.Text, want) {
			t.Errorf("English text lacks %q:\n%s", want, en.Text)
		}
	}
	// A deadline is shown with the offset in force at it, which need not be the
	// booking's: Casablanca was on UTC+01:00 in June 2026.
	summer := time.Date(2026, 6, 18, 8, 0, 0, 0, time.UTC)
	n.Deadline = &summer
	if r := notify.Render(n, "en"); !strings.Contains(r.Text, "Deadline: Thu 18 Jun 2026 09:00 (Africa/Casablanca, UTC+01:00)\n") {
		t.Errorf("a deadline at another offset:\n%s", r.Text)
	}
	// The same rank before and after shows once; no rank, no deadline, no reason,
	// no resources and no link show nothing.
	n.OldRank = 1
	if r := notify.Render(n, "en"); !strings.Contains(r.Text, "Place in the queue: 1\n") {
		t.Errorf("unchanged rank:\n%s", r.Text)
	}
	bare := casablanca(t, "confirmed")
	bare.Resources, bare.Link = nil, ""
	r := notify.Render(bare, "en")
	for _, absent := range []string{"Place in the queue", "Deadline", "Reason", "Resources", "Open in posthub", "<a "} {
		if strings.Contains(r.Text, absent) || strings.Contains(r.HTML, absent) {
			t.Errorf("bare notice shows %q:\n%s\n%s", absent, r.Text, r.HTML)
		}
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	t.Parallel()
	n := casablanca(t, "confirmed")
	n.Production = `<script>alert("x")</script> & Co`
	n.Reason = "<b>late</b>"
	n.Link = `javascript:alert(1)`
	r := notify.Render(n, "en")
	if strings.Contains(r.HTML, "<script>") || strings.Contains(r.HTML, "<b>late") || strings.Contains(r.HTML, `href="javascript:`) {
		t.Errorf("HTML not escaped:\n%s", r.HTML)
	}
	if !strings.Contains(r.HTML, "&lt;script&gt;") || !strings.Contains(r.Text, `<script>alert("x")</script> & Co`) {
		t.Errorf("escaping: text %q, HTML:\n%s", r.Text, r.HTML)
	}
}

// TestDigestPlural: the digest's subject takes the plural form its count asks for, by
// the language's rules (French says 0 and 1 in the singular), and its sections and
// times are in the manager's language.
func TestDigestPlural(t *testing.T) {
	t.Parallel()
	item := booking.DigestItem{Production: "Le Souffle du Baobab", Site: "Atlas Post Dakar", TimeZone: "Africa/Dakar",
		Start: time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)}
	items := func(n int) []booking.DigestItem { return make([]booking.DigestItem, n) }
	for _, c := range []struct {
		lang string
		d    booking.Digest
		want string
	}{
		{"fr", booking.Digest{}, "posthub : votre journée — 0 point à voir"},
		{"fr", booking.Digest{Approvals: []booking.DigestItem{item}}, "posthub : votre journée — 1 point à voir"},
		{"fr", booking.Digest{Approvals: items(1), Challenges: items(1)}, "posthub : votre journée — 2 points à voir"},
		{"en", booking.Digest{Approvals: []booking.DigestItem{item}}, "posthub: your day — 1 to look at"},
		{"en", booking.Digest{StartingSoon: items(3)}, "posthub: your day — 3 to look at"},
		{"wo", booking.Digest{}, "posthub: your day — 0 to look at"},
	} {
		if got := notify.RenderDigest(c.d, c.lang).Subject; got != c.want {
			t.Errorf("%s: subject %q, want %q", c.lang, got, c.want)
		}
	}
	r := notify.RenderDigest(booking.Digest{Approvals: []booking.DigestItem{item}}, "fr")
	for _, want := range []string{"\nConfirmations en attente de votre approbation:\n", "Le Souffle du Baobab — Atlas Post Dakar, mer. 10 mars 2027 09:00 (Africa/Dakar, UTC+00:00)"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("French digest lacks %q:\n%s", want, r.Text)
		}
	}
	if r := notify.RenderDigest(booking.Digest{}, "en"); !strings.Contains(r.Text, "Nothing needs you today.") || !strings.Contains(r.HTML, `<html lang="en">`) {
		t.Errorf("empty digest:\n%s", r.Text)
	}
}
