package notify_test

import (
	"fmt"
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

// TestRenderSaysWhatToDo: a notice that asks something of its reader says what and by
// when, with the deadline in the site's wall-clock, its zone and the offset then; a
// manager is told what a manager does; a reminder says what starts when.
func TestRenderSaysWhatToDo(t *testing.T) {
	t.Parallel()
	summer := func(kind string) notify.Notice { // Casablanca on UTC+01:00
		n := casablanca(t, kind)
		n.Start, n.End = time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC), time.Date(2026, 6, 11, 12, 0, 0, 0, time.UTC)
		d := time.Date(2026, 6, 10, 16, 0, 0, 0, time.UTC)
		n.Deadline = &d
		return n
	}
	manager := func(n notify.Notice) notify.Notice { n.Role = booking.RoleManager; return n }
	for _, c := range []struct {
		name string
		n    notify.Notice
		lang string
		want []string
	}{
		{"challenge received", summer("challenge_received"), "en", []string{
			"Your hold is challenged: Le Souffle du Baobab\n\nA later hold on the same resources wants to confirm",
			"When: Thu 11 Jun 2026 10:00 – 13:00 (Africa/Casablanca, UTC+01:00)\n",
			"Deadline: Wed 10 Jun 2026 17:00 (Africa/Casablanca, UTC+01:00)\n",
			"\nWhat to do: confirm or release your hold before Wed 10 Jun 2026 17:00 (Africa/Casablanca, UTC+01:00). If you do neither, it is released then",
			"\nOpen in posthub: https://posthub.test/bookings/42\n"}},
		{"challenge received, French", summer("challenge_received"), "fr", []string{
			"\nÀ faire : confirmez ou libérez votre option avant le mer. 10 juin 2026 17:00 (Africa/Casablanca, UTC+01:00). Sinon, elle est libérée"}},
		{"challenge opened, to its producer", summer("challenge_opened"), "en", []string{"\nNothing to do now: the holds ahead have until Wed 10 Jun 2026 17:00"}},
		{"challenge opened, to a manager", manager(summer("challenge_opened")), "en", []string{"\nThe holds ahead have until Wed 10 Jun 2026 17:00"}},
		{"approval, to a manager", manager(casablanca(t, "approval_requested")), "fr", []string{
			"\nÀ faire : approuvez ou refusez cette confirmation sur la page de la réservation", "Ouvrir dans posthub: https://posthub.test/bookings/42"}},
		{"approval, to its producer", casablanca(t, "approval_requested"), "en", []string{"\nA manager of the site will approve or decline it"}},
		{"hold expiring", summer("hold_expiring"), "en", []string{"\nWhat to do: confirm or release your hold before Wed 10 Jun 2026 17:00 (Africa/Casablanca, UTC+01:00), or it expires then"}},
		{"reminder", casablanca(t, "reminder"), "en", []string{
			"Reminder: Le Souffle du Baobab starts soon\n\nLe Souffle du Baobab starts on Wed 10 Mar 2027 10:00 (Africa/Casablanca, UTC+00:00).\n"}},
		{"reminder, French", casablanca(t, "reminder"), "fr", []string{"Le Souffle du Baobab commence le mer. 10 mars 2027 10:00 (Africa/Casablanca, UTC+00:00).\n"}},
	} {
		r := notify.Render(c.n, c.lang)
		for _, w := range c.want {
			if !strings.Contains(r.Text, w) {
				t.Errorf("%s: text lacks %q:\n%s", c.name, w, r.Text)
			}
		}
	}
	// No deadline known: nothing said about one.
	n := casablanca(t, "challenge_received")
	if r := notify.Render(n, "en"); strings.Contains(r.Text, "What to do") || strings.Contains(r.Text, "%!") {
		t.Errorf("a challenge without its deadline:\n%s", r.Text)
	}
	// Every event kind opens with a line of its own, in every language.
	for _, k := range booking.EventKinds {
		for _, lang := range []string{"en", "fr"} {
			r := notify.Render(casablanca(t, string(k)), lang)
			lines := strings.Split(r.Text, "\n")
			if len(lines) < 3 || lines[1] != "" || lines[2] == "" || strings.HasPrefix(lines[2], "When:") || strings.HasPrefix(lines[2], "Quand:") {
				t.Errorf("%s in %s opens with no line of its own:\n%s", k, lang, r.Text)
			}
		}
	}
}

// TestRenderGroup: one action's notices about several bookings of a production are one
// message: the subject counts them by kind in the reader's language, and each follows
// headed by its kind and plan stage (its resources without one), with its times, what
// to do and its link.
func TestRenderGroup(t *testing.T) {
	t.Parallel()
	var ns []notify.Notice
	for i, stage := range []string{"Conform", "Grade", ""} {
		n := casablanca(t, "hold_placed")
		n.Stage, n.Rank = stage, 1
		n.Start, n.End = n.Start.Add(time.Duration(i)*24*time.Hour), n.End.Add(time.Duration(i)*24*time.Hour)
		n.Link = fmt.Sprintf("https://posthub.test/bookings/%d", i)
		ns = append(ns, n)
	}
	ch := casablanca(t, "challenge_opened")
	d := time.Date(2027, 3, 9, 15, 0, 0, 0, time.UTC)
	ch.Deadline, ch.Stage = &d, "Mix"
	ns = append(ns, ch)
	fr := notify.RenderGroup(ns, "fr")
	if fr.Subject != "Le Souffle du Baobab : 3 options posées, 1 challenge ouvert" {
		t.Errorf("French subject %q", fr.Subject)
	}
	for _, want := range []string{"Une même action a modifié ces réservations de Le Souffle du Baobab :\n",
		"\n1. Option posée : Conform\n   Quand: mer. 10 mars 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)\n",
		"\n2. Option posée : Grade\n   Quand: jeu. 11 mars 2027",
		"\n3. Option posée : Grading Suite 1 — Zellige, Yasmine El Alami\n",
		"\n4. Challenge ouvert pour Mix\n", "   Échéance: mar. 9 mars 2027 15:00 (Africa/Casablanca, UTC+00:00)\n",
		"   Rien à faire pour l’instant : les options devant ont jusqu’au mar. 9 mars 2027 15:00",
		"   Ouvrir dans posthub: https://posthub.test/bookings/1\n"} {
		if !strings.Contains(fr.Text, want) {
			t.Errorf("French group lacks %q:\n%s", want, fr.Text)
		}
	}
	if strings.Contains(fr.Text, "Étape du plan: Conform") {
		t.Errorf("the stage is named twice:\n%s", fr.Text)
	}
	if !strings.Contains(fr.HTML, `<html lang="fr">`) || strings.Count(fr.HTML, "<h2") != 4 || !strings.Contains(fr.HTML, `<a href="https://posthub.test/bookings/2">`) {
		t.Errorf("French group HTML:\n%s", fr.HTML)
	}
	en := notify.RenderGroup(ns[:2], "en")
	if en.Subject != "Le Souffle du Baobab: 2 holds placed" || !strings.Contains(en.Text, "\n2. Hold placed: Grade\n") {
		t.Errorf("English group: %q\n%s", en.Subject, en.Text)
	}
	// One notice is told as Render tells it.
	if one := notify.RenderGroup(ns[:1], "en"); one != notify.Render(ns[0], "en") {
		t.Errorf("a group of one:\n%s", one.Text)
	}
	// The feed's text-only rendering is the mail's without its HTML, for one notice
	// and for several.
	for _, group := range [][]notify.Notice{ns[:1], ns} {
		mail, feed := notify.RenderGroup(group, "fr"), notify.RenderGroupText(group, "fr")
		if feed.Subject != mail.Subject || feed.Text != mail.Text || feed.HTML != "" || mail.HTML == "" {
			t.Errorf("a group of %d: text-only %+v against %+v", len(group), feed, mail)
		}
	}
	// Every event kind has its count in every language.
	for _, k := range booking.EventKinds {
		for _, lang := range []string{"en", "fr"} {
			a, b := casablanca(t, string(k)), casablanca(t, string(k))
			if s := notify.RenderGroup([]notify.Notice{a, b}, lang).Subject; !strings.Contains(s, "2 ") || strings.Contains(s, "notice.count") || strings.Contains(s, "%!") {
				t.Errorf("%s in %s: group subject %q", k, lang, s)
			}
		}
	}
}
