package i18n

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"testing"
	"testing/fstest"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// verbs finds a message's format verbs: %s, %d, %.0f, %%.
var verbs = regexp.MustCompile(`%[-+# 0]*(?:\[[0-9]+\])?[0-9.]*[a-zA-Z%]`)

// forms lists a message's plural forms that are written, by name.
func forms(m goi18n.Message) map[string]string {
	out := map[string]string{}
	for name, text := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
		if text != "" {
			out[name] = text
		}
	}
	return out
}

// TestEveryKeyInEveryLanguage checks each catalog has exactly English's keys, each form
// of each message with English's format verbs in the same order, and no empty text.
func TestEveryKeyInEveryLanguage(t *testing.T) {
	checkCatalogs(t, Default)
}

func checkCatalogs(t *testing.T, c *Catalog) {
	t.Helper()
	if len(c.Languages()) < 2 || c.Languages()[0] != Fallback {
		t.Fatalf("languages %v: want English first and at least one other", c.Languages())
	}
	ref := c.Keys(Fallback)
	if len(ref) < 400 {
		t.Fatalf("English has only %d messages", len(ref))
	}
	for _, lang := range c.Languages() {
		keys := c.Keys(lang)
		for _, k := range ref {
			if !slices.Contains(keys, k) {
				t.Errorf("%q is in %s but not in %s", k, Fallback, lang)
			}
		}
		for _, k := range keys {
			m, _ := c.Message(lang, k)
			en, ok := c.Message(Fallback, k)
			if !ok {
				t.Errorf("%s has %q, which English does not", lang, k)
				continue
			}
			if m.Other == "" {
				t.Errorf("%s %q has no text (or no other form)", lang, k)
			}
			want := verbs.FindAllString(en.Other, -1)
			for form, text := range forms(m) {
				if got := verbs.FindAllString(text, -1); !slices.Equal(got, want) {
					t.Errorf("%q: %s %s has verbs %v, English has %v", k, lang, form, got, want)
				}
			}
		}
	}
}

// pluralForms lists the plural forms lang's CLDR rules pick for the counts 0 to 1000,
// found by asking go-i18n with a message that has every form.
func pluralForms(t *testing.T, lang string) []string {
	t.Helper()
	tag := language.MustParse(lang)
	b := goi18n.NewBundle(tag)
	probe := &goi18n.Message{ID: "probe", Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"}
	if err := b.AddMessages(tag, probe); err != nil {
		t.Fatal(err)
	}
	l := goi18n.NewLocalizer(b, lang)
	var out []string
	for n := 0; n <= 1000; n++ {
		f, err := l.Localize(&goi18n.LocalizeConfig{MessageID: "probe", PluralCount: n})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// TestPluralForms checks that every message with plural forms in English has, in each
// language, each form that language's rules use for counts up to 1000 (French's many,
// for millions, falls back to other), and no form its rules never pick.
func TestPluralForms(t *testing.T) {
	checkPlurals(t, Default)
	if got := pluralForms(t, "fr"); !slices.Equal(got, []string{"one", "other"}) {
		t.Errorf("French forms %v", got)
	}
	if got := pluralForms(t, "ar"); !slices.Equal(got, []string{"few", "many", "one", "other", "two", "zero"}) {
		t.Errorf("Arabic forms %v", got)
	}
}

func checkPlurals(t *testing.T, c *Catalog) {
	t.Helper()
	var plural []string
	for _, k := range c.Keys(Fallback) {
		if m, _ := c.Message(Fallback, k); len(forms(m)) > 1 {
			plural = append(plural, k)
		}
	}
	for _, k := range []string{"plan.dur_days", "plan.dur_hours", "digest.subject", "ops.resources", "plan.svg_desc"} {
		if !slices.Contains(plural, k) {
			t.Errorf("%s has no plural forms", k)
		}
	}
	for _, lang := range c.Languages() {
		used := pluralForms(t, lang)
		for _, k := range plural {
			m, ok := c.Message(lang, k)
			if !ok {
				continue // TestEveryKeyInEveryLanguage says so
			}
			have := forms(m)
			for _, f := range used {
				if have[f] == "" {
					t.Errorf("%s %q lacks the plural form %s", lang, k, f)
				}
			}
			for f := range have {
				if !slices.Contains(used, f) {
					t.Errorf("%s %q has the plural form %s, which %s does not use", lang, k, f, lang)
				}
			}
		}
	}
}

func TestPluralChoice(t *testing.T) {
	for _, c := range []struct {
		lang string
		n    int
		want string
		key  string
	}{
		{"en", 1, "1 day", "plan.dur_days"},
		{"en", 0, "0 days", "plan.dur_days"},
		{"en", 2, "2 days", "plan.dur_days"},
		{"fr", 0, "0 jour", "plan.dur_days"},
		{"fr", 1, "1 jour", "plan.dur_days"},
		{"fr", 2, "2 jours", "plan.dur_days"},
		{"fr", 1, "posthub : votre journée — 1 point à voir", "digest.subject"},
		{"fr", 3, "posthub : votre journée — 3 points à voir", "digest.subject"},
		{"fr", 1000000, "posthub : votre journée — 1000000 points à voir", "digest.subject"}, // many: falls back to other
		{"wo", 1, "1 day", "plan.dur_days"},                                                  // no catalog: English
	} {
		if got := N(c.lang, c.key, c.n, c.n); got != c.want {
			t.Errorf("N(%s, %s, %d) = %q, want %q", c.lang, c.key, c.n, got, c.want)
		}
	}
}

func TestFallbacks(t *testing.T) {
	c, err := Load(fstest.MapFS{
		"en.toml": {Data: []byte(`"a" = "A %s"` + "\n" + `"b" = "B"` + "\n" + `"n" = { one = "%d thing", other = "%d things" }`)},
		"fr.toml": {Data: []byte(`"a" = "A fr %s"` + "\n" + `"n" = { one = "%d chose", other = "%d choses" }`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct{ got, want string }{
		{c.T("fr", "a", "x"), "A fr x"},
		{c.T("fr", "b"), "B"},              // missing in French: English
		{c.T("fr", "nowhere"), "nowhere"},  // missing everywhere: the key
		{c.T("de", "a", "x"), "A x"},       // no German catalog: English
		{c.T("en", "a"), "A %s"},           // no arguments: the format as it is
		{c.N("fr", "n", 0, 0), "0 chose"},  // French one is 0 and 1
		{c.N("en", "n", 0, 0), "0 things"}, // English one is 1 only
		{c.N("fr", "b", 2), "B"},           // a plain message ignores the count
	} {
		if x.got != x.want {
			t.Errorf("got %q, want %q", x.got, x.want)
		}
	}
	if v, ok := c.Lookup("fr", "b"); ok {
		t.Errorf("Lookup fell back to English: %q", v)
	}
}

// TestCatalogOnlyLanguage adds a language by adding its catalog alone, in YAML as a
// translator might: it is offered, negotiated and spoken with no change to the code.
func TestCatalogOnlyLanguage(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, name := range []string{"en.toml", "fr.toml"} {
		raw, err := fs.ReadFile(Embedded(), name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: raw}
	}
	// Wolof has one plural form; a plain text is its other form.
	var wo []byte
	for _, k := range Default.Keys(Fallback) {
		m, _ := Default.Message(Fallback, k)
		text := "wo: " + m.Other
		if k == "lang.name" {
			text = "Wolof"
		}
		wo = fmt.Appendf(wo, "%q: %q\n", k, text)
	}
	fsys["wo.yaml"] = &fstest.MapFile{Data: wo}
	c, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Languages(); !slices.Equal(got, []string{"en", "fr", "wo"}) {
		t.Fatalf("languages %v", got)
	}
	if !c.Supported("wo") || c.Match("wo-SN,fr;q=0.8") != "wo" {
		t.Errorf("Wolof is not chosen: %v %q", c.Supported("wo"), c.Match("wo-SN,fr;q=0.8"))
	}
	if got := c.T("wo", "lang.name"); got != "Wolof" {
		t.Errorf("lang.name: %q", got)
	}
	if got := c.N("wo", "plan.dur_days", 1, 1); got != "wo: 1 days" {
		t.Errorf("plural in Wolof: %q", got)
	}
	checkCatalogs(t, c)
	checkPlurals(t, c)

	// The embedded catalogs know nothing of it (CLDR offers French to Wolof readers).
	if Supported("wo") || Match("wo-SN") != "fr" {
		t.Errorf("Wolof leaked into the embedded catalogs: %q", Match("wo-SN"))
	}
}

func TestBadCatalogs(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no English":   {"fr.toml": {Data: []byte(`"a" = "A"`)}},
		"bad TOML":     {"en.toml": {Data: []byte(`"a" = `)}},
		"not a tag":    {"en.toml": {Data: []byte(`"a" = "A"`)}, "english-please.toml": {Data: []byte(`"a" = "A"`)}},
		"two catalogs": {"en.toml": {Data: []byte(`"a" = "A"`)}, "en.yaml": {Data: []byte(`a: A`)}},
	} {
		if _, err := Load(fsys); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

func TestNegotiation(t *testing.T) {
	for _, c := range []struct{ accept, want string }{
		{"", "en"},
		{"fr-SN,fr;q=0.9,en;q=0.5", "fr"},
		{"wo-SN,en-GB;q=0.8", "en"},
		{"wo-SN,fr;q=0.8", "fr"},
		{"wo-SN", "fr"}, // CLDR's language matching: Wolof readers read French
		{"ar-MA", "en"},
		{"de-DE,de;q=0.9", "en"},
		{"fr-CA", "fr"},
		{"en-US,fr;q=0.9", "en"},
		{"en;q=0.5,fr;q=0.9", "fr"},
		{"*", "en"},
		{"not a header;;;", "en"},
	} {
		if got := Match(c.accept); got != c.want {
			t.Errorf("Match(%q) = %q, want %q", c.accept, got, c.want)
		}
	}
	for in, want := range map[string]bool{"fr": true, "en": true, "fr-SN": false, "": false, "xx": false, "FR": false} {
		if got := Supported(in); got != want {
			t.Errorf("Supported(%q) = %v", in, got)
		}
	}
}
