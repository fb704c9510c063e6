package web

import (
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/i18n"
)

// TestEveryKeyInBothLanguages checks every catalog has English's keys and no other,
// each form of each message with the same format verbs in the same order as English,
// and no empty message.
func TestEveryKeyInBothLanguages(t *testing.T) {
	verbs := regexp.MustCompile(`%[-+# 0]*[0-9.]*[a-zA-Z%]`)
	langs := catalog.Languages()
	if !slices.Contains(langs, "en") || !slices.Contains(langs, "fr") {
		t.Fatalf("languages %v: want English and French at least", langs)
	}
	for _, lang := range langs[1:] {
		for _, pair := range [][2]string{{"en", lang}, {lang, "en"}} {
			for _, key := range catalog.Keys(pair[0]) {
				msg, _ := catalog.Message(pair[0], key)
				other, ok := catalog.Message(pair[1], key)
				if !ok {
					t.Errorf("%q is in %s but not in %s", key, pair[0], pair[1])
					continue
				}
				if msg.Other == "" {
					t.Errorf("%s %q is empty", pair[0], key)
				}
				want := verbs.FindAllString(other.Other, -1)
				for _, form := range []string{msg.Zero, msg.One, msg.Two, msg.Few, msg.Many, msg.Other} {
					if got := verbs.FindAllString(form, -1); form != "" && !slices.Equal(got, want) {
						t.Errorf("%q: %s has verbs %v, %s has %v", key, pair[0], got, pair[1], want)
					}
				}
			}
		}
	}
}

// TestEveryUsedKeyExists finds every key the templates and the code name, and those
// built from the domain's codes, and checks each is a message.
func TestEveryUsedKeyExists(t *testing.T) {
	used := map[string]string{}
	// Keys used with a count (tn, translateN) must have plural forms.
	counted := map[string]string{}
	inTemplates := regexp.MustCompile(`\bt([fn]?) (?:\$|\.|\$[a-z]+\.)?[A-Za-z.]*[lL]ang "([a-z0-9_.]+)"`)
	inCode := regexp.MustCompile(`(?:translate(N?)\([a-zA-Z.]+(?:\(r\))?|renderLogin()\([^"]*), "([a-z][a-z0-9_]*\.[a-z0-9_.]+)"`)
	files, _ := filepath.Glob("templates/*.html")
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range append(files, goFiles...) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		re := inCode
		if filepath.Ext(f) == ".html" {
			re = inTemplates
		}
		for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
			key := m[len(m)-1]
			used[key] = f
			if m[1] == "n" || m[1] == "N" {
				counted[key] = f
			}
		}
	}
	if used["ops.bad_dates"] == "" || used["login.bad_form"] == "" || used["nav.skip"] == "" || used["lang.name"] == "" {
		t.Fatal("the patterns miss keys they should find")
	}
	if counted["ops.resources"] == "" || counted["plan.dur_days"] == "" || counted["timeline.n_days"] == "" {
		t.Fatal("the patterns miss keys they should find")
	}
	if len(used) < 150 {
		t.Fatalf("found only %d keys in use; is the pattern still right?", len(used))
	}
	for _, s := range booking.Statuses {
		used["status."+string(s)] = "booking.Statuses"
	}
	for _, r := range booking.Roles {
		used["role."+string(r)] = "booking.Roles"
	}
	for _, c := range []string{booking.ECONFLICT, booking.EINTERNAL, booking.EINVALID, booking.ENOTFOUND, booking.EUNAUTHORIZED,
		booking.EFORBIDDEN, booking.EPRECONDITION, booking.ETOOLARGE, booking.ERATELIMITED, booking.EUNAVAILABLE,
		booking.EUNPROCESSABLE, booking.EMETHOD} {
		used["error."+c] = "error codes"
	}
	for _, a := range []booking.Action{booking.ActionConfirm, booking.ActionRelease, booking.ActionDecline, booking.ActionCancel} {
		used["flash."+string(a)] = "actions"
	}
	for _, f := range []string{"feature", "short", "documentary", "series_episode"} {
		used["format."+f] = "production formats"
	}
	for _, k := range []string{"maintenance", "closure", "leave"} {
		used["block."+k] = "block kinds"
	}
	for _, s := range []string{"available", "scheduled", "running", "retryable", "completed", "cancelled", "discarded", "pending", "due_notice"} {
		used["jobstate."+s] = "River job states, and due notices"
	}
	for _, f := range []string{"hold_lifetime", "challenge_window", "min_notice", "reminder_offsets"} {
		used["policy."+f] = "policy fields"
	}
	for _, w := range planStatusWords {
		used[w[0]], used[w[1]] = "plan statuses", "plan statuses"
	}
	for _, l := range formLanguages {
		used["language."+l] = "languages"
	}
	for _, g := range deliverableFormats {
		used["deliverables."+g.Field] = "deliverables"
		used["productions.err_deliverables."+g.Field] = "deliverables"
		for _, v := range g.Values {
			used["deliverables."+g.Field+"."+strings.ReplaceAll(v, ".", "")] = "deliverables"
		}
	}
	for _, f := range []string{"original_language", "subtitle_languages", "dub_languages", "sdh", "vfx_shots"} {
		used["productions.err_deliverables."+f] = "deliverables"
	}
	used["deliverables.subtitle_languages"], used["deliverables.dub_languages"] = "deliverables", "deliverables"
	// Every stage of every pipeline has a name in each language.
	for _, name := range booking.TemplateNames() {
		stages, err := booking.TemplateStages(name, 90, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stages {
			used["stage."+s.ID] = "pipeline " + name
		}
	}
	for _, k := range []string{"plan.dur_days", "plan.dur_hours"} {
		used[k], counted[k] = "durationWords", "durationWords"
	}
	for _, k := range []string{"quote.days", "quote.ot_days"} {
		used[k], counted[k] = "quote lines", "quote lines"
	}
	for _, k := range []string{"quote.hours", "quote.ot_hours"} {
		used[k] = "quote lines"
	}
	for _, k := range []string{"plan.confirm_confirmed", "plan.confirm_approval", "plan.confirm_challenge", "plan.confirm_already", "plan.confirm_skipped"} {
		used[k], counted[k] = "confirmationText", "confirmationText"
	}
	for i := 0; i < 7; i++ {
		used[fmt.Sprintf("day.%d", i)] = "weekdays"
		used[fmt.Sprintf("dayname.%d", i)] = "weekdays"
	}
	for i := 1; i <= 12; i++ {
		used[fmt.Sprintf("month.%d", i)] = "months"
	}
	var missing []string
	for key, where := range used {
		for _, lang := range catalog.Languages() {
			if _, ok := catalog.Lookup(lang, key); !ok {
				missing = append(missing, fmt.Sprintf("%s (%s, used in %s)", key, lang, where))
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("missing message %s", m)
	}
	// A message with plural forms is used with its count, and only such a message is.
	for _, key := range catalog.Keys("en") {
		m, _ := catalog.Message("en", key)
		plural := m.One != ""
		if where, ok := used[key]; ok && plural && counted[key] == "" {
			t.Errorf("%s has plural forms but %s uses it without a count (translateN, tn)", key, where)
		}
		if where, ok := counted[key]; ok && !plural {
			t.Errorf("%s is used with a count in %s but has no plural forms", key, where)
		}
	}
}

func TestLanguageChoice(t *testing.T) {
	for _, c := range []struct {
		url, cookie, accept, want string
	}{
		{"/", "", "", "en"},
		{"/", "", "fr-SN,fr;q=0.9,en;q=0.5", "fr"},
		{"/", "", "wo-SN,en-GB;q=0.8", "en"},
		{"/", "fr", "en", "fr"},
		{"/?lang=en", "fr", "fr", "en"},
		{"/?lang=xx", "", "fr", "fr"},
		{"/?lang=fr", "", "en", "fr"},
		{"/", "xx", "fr-CA", "fr"},
		{"/", "", "de-DE,fr;q=0.5", "fr"},
		{"/", "", "de-DE", "en"},
	} {
		r := httptest.NewRequest("GET", c.url, nil)
		if c.accept != "" {
			r.Header.Set("Accept-Language", c.accept)
		}
		if c.cookie != "" {
			r.Header.Set("Cookie", "lang="+c.cookie)
		}
		if got := language(r); got != c.want {
			t.Errorf("%+v: %s", c, got)
		}
	}
}

// TestCatalogOnlyLanguage: a language is added by adding its catalog, with no change
// to the code: it is chosen by ?lang=, the cookie and Accept-Language, offered by the
// language switch under its own name, and its words are on the page.
func TestCatalogOnlyLanguage(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, name := range []string{"en.toml", "fr.toml"} {
		raw, err := fs.ReadFile(i18n.Embedded(), name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: raw}
	}
	var wo bytes.Buffer
	for _, key := range catalog.Keys("en") {
		m, _ := catalog.Message("en", key)
		text := "wo " + m.Other
		switch key {
		case "lang.name":
			text = "Wolof"
		case "login.title":
			text = "Duggal"
		}
		fmt.Fprintf(&wo, "%q: %q\n", key, text)
	}
	fsys["wo.yaml"] = &fstest.MapFile{Data: wo.Bytes()}
	c, err := i18n.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	defer func(old *i18n.Catalog) { catalog = old }(catalog)
	catalog = c
	// An admin may write a user's mail in it: the user form offers it, named in itself.
	if opts := localeOptions(); !slices.Contains(opts, kindOption{Value: "wo", Label: "Wolof"}) {
		t.Errorf("the user form's languages %v lack Wolof", opts)
	}

	for _, x := range []struct{ url, cookie, accept, want string }{
		{"/login?lang=wo", "", "fr", "wo"},
		{"/login", "wo", "fr", "wo"},
		{"/login", "", "wo-SN,fr;q=0.8", "wo"},
		{"/login?lang=fr", "wo", "wo", "fr"},
	} {
		r := httptest.NewRequest("GET", x.url, nil)
		r.Header.Set("Accept-Language", x.accept)
		if x.cookie != "" {
			r.Header.Set("Cookie", "lang="+x.cookie)
		}
		if got := language(r); got != x.want {
			t.Errorf("%+v: %s", x, got)
		}
	}

	u := &UI{Logger: slog.New(slog.DiscardHandler), tmpl: parseTemplates()}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/login?lang=wo", nil)
	u.render(w, r, "login.html", http.StatusOK, page{Title: translate(language(r), "login.title")})
	body := w.Body.String()
	for _, want := range []string{`<html lang="wo">`, "<title>Duggal", `hreflang="en" lang="en">English</a>`, `hreflang="fr" lang="fr">Français</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the Wolof page lacks %q", want)
		}
	}
	if got := w.Result().Cookies(); len(got) != 1 || got[0].Name != "lang" || got[0].Value != "wo" {
		t.Errorf("cookies %v: want lang=wo", got)
	}
	// The English page offers French and Wolof, each named in itself.
	r = httptest.NewRequest("GET", "/login?next=%2Fops", nil)
	links := langLinks(r, language(r))
	if len(links) != 2 || links[0] != (langLink{"fr", "Français", "/login?lang=fr&next=%2Fops"}) || links[1] != (langLink{"wo", "Wolof", "/login?lang=wo&next=%2Fops"}) {
		t.Errorf("language switch %+v", links)
	}
}

func TestTimesAreSiteLocalWithTheZoneNamed(t *testing.T) {
	cases := []struct{ lang, start, end, want string }{
		{"en", "2027-03-10T10:00:00+00:00", "2027-03-10T14:00:00+00:00", "Wed 10 Mar 2027, 10:00–14:00 (Africa/Casablanca, UTC+00:00)"},
		{"fr", "2027-03-10T10:00:00+00:00", "2027-03-11T09:30:00+00:00", "mer. 10 mars 2027, 10:00 – jeu. 11 mars 2027, 09:30 (Africa/Casablanca, UTC+00:00)"},
		{"en", "2026-09-19T22:00:00+01:00", "2026-09-20T10:00:00+00:00", "Sat 19 Sep 2026, 22:00 – Sun 20 Sep 2026, 10:00 (Africa/Casablanca, UTC+01:00 → UTC+00:00)"},
	}
	for _, c := range cases {
		if got := formatSpan(c.lang, c.start, c.end, "Africa/Casablanca"); got != c.want {
			t.Errorf("formatSpan(%s, %s, %s) = %q, want %q", c.lang, c.start, c.end, got, c.want)
		}
	}
	// Other instants are turned into the site's zone with the embedded tz data: before
	// Morocco's 2026 change noon UTC was 13:00 local, after it 12:00.
	if got := formatInstant("en", mustTime(t, "2026-03-25T12:00:00Z"), "Africa/Casablanca"); got != "Wed 25 Mar 2026, 13:00 (Africa/Casablanca, UTC+01:00)" {
		t.Errorf("before the change: %q", got)
	}
	if got := formatInstant("fr", mustTime(t, "2026-10-01T12:00:00Z"), "Africa/Casablanca"); got != "jeu. 1 oct. 2026, 12:00 (Africa/Casablanca, UTC+00:00)" {
		t.Errorf("after the change: %q", got)
	}
	if got := formatInstant("en", mustTime(t, "2026-10-01T12:00:00Z"), ""); got != "Thu 1 Oct 2026, 12:00 (UTC, UTC+00:00)" {
		t.Errorf("no zone: %q", got)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
