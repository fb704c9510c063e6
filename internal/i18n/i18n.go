// Package i18n holds posthub's words in every language it speaks: one message catalog
// per language, locales/<tag>.toml (YAML or JSON would be read too), embedded and read
// once into a go-i18n bundle. The languages posthub speaks are the catalogs present, so
// a translator adds one by adding its file; English is the reference and the fallback.
//
// A message is a Go format (%s, %d, …) that the caller fills in; a message with a count
// has plural forms (one, other, and whichever else the language's CLDR rules use), and
// the caller passes the count that picks the form. A key missing in a language is
// shown in English; a key missing everywhere shows itself.
package i18n

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

// Fallback is the reference language: every key is in its catalog, and a key missing
// in another language is shown in it.
const Fallback = "en"

//go:embed locales
var locales embed.FS

// Catalog is a set of message catalogs, one per language. Safe for concurrent use.
type Catalog struct {
	bundle     *goi18n.Bundle
	langs      []string // Fallback first, then the others in order
	tags       []language.Tag
	matcher    language.Matcher
	localizers map[string]*goi18n.Localizer
	messages   map[string]map[string]*goi18n.Message // language → key → message
}

// unmarshalers are the catalog formats read, by file extension.
var unmarshalers = map[string]goi18n.UnmarshalFunc{
	"toml": toml.Unmarshal,
	"yaml": yaml.Unmarshal,
	"yml":  yaml.Unmarshal,
	"json": nil, // go-i18n's own
}

// Load reads every catalog at the top of fsys: a file <tag>.toml (or .yaml, .yml,
// .json) per language, named by its BCP 47 tag (en, fr, ar, pt-BR). There must be an
// English one.
func Load(fsys fs.FS) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("message catalogs: %w", err)
	}
	bundle := goi18n.NewBundle(language.MustParse(Fallback))
	for ext, f := range unmarshalers {
		if f != nil {
			bundle.RegisterUnmarshalFunc(ext, f)
		}
	}
	c := &Catalog{bundle: bundle, localizers: map[string]*goi18n.Localizer{}, messages: map[string]map[string]*goi18n.Message{}}
	var others []string
	for _, e := range entries {
		name := e.Name()
		ext := strings.TrimPrefix(path.Ext(name), ".")
		if _, ok := unmarshalers[ext]; e.IsDir() || !ok {
			continue
		}
		tag, err := language.Parse(strings.TrimSuffix(name, "."+ext))
		if err != nil {
			return nil, fmt.Errorf("message catalog %s: the name is no language tag: %w", name, err)
		}
		code := tag.String()
		if _, dup := c.messages[code]; dup {
			return nil, fmt.Errorf("message catalog %s: a second catalog for %s", name, code)
		}
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("message catalog %s: %w", name, err)
		}
		// go-i18n takes the language from the path; the canonical tag is given here.
		mf, err := bundle.ParseMessageFileBytes(raw, code+"."+ext)
		if err != nil {
			return nil, fmt.Errorf("message catalog %s: %w", name, err)
		}
		byKey := make(map[string]*goi18n.Message, len(mf.Messages))
		for _, m := range mf.Messages {
			byKey[m.ID] = m
		}
		c.messages[code] = byKey
		c.localizers[code] = goi18n.NewLocalizer(bundle, code)
		if code != Fallback {
			others = append(others, code)
		}
	}
	if _, ok := c.messages[Fallback]; !ok {
		return nil, errors.New("message catalogs: there is no " + Fallback + " catalog, the reference and fallback")
	}
	slices.Sort(others)
	c.langs = append([]string{Fallback}, others...)
	for _, l := range c.langs {
		c.tags = append(c.tags, language.MustParse(l))
	}
	c.matcher = language.NewMatcher(c.tags)
	return c, nil
}

// Languages lists the languages there is a catalog for: English first, then the others
// by tag.
func (c *Catalog) Languages() []string { return slices.Clone(c.langs) }

// Supported tells whether lang is exactly the tag of a catalog.
func (c *Catalog) Supported(lang string) bool {
	_, ok := c.localizers[lang]
	return ok
}

// Match picks, from an Accept-Language header, the first language posthub speaks,
// else English.
func (c *Catalog) Match(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Fallback
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return Fallback
	}
	return c.langs[i]
}

// T returns the message key in lang (English when lang lacks it, the key itself when
// no catalog has it), formatted with args when there are any.
func (c *Catalog) T(lang, key string, args ...any) string {
	return format(c.localize(lang, key, nil), args)
}

// N is T for a message with a count: count picks the plural form by lang's rules (one
// day, 2 days). The count is not filled in by itself: pass it in args too, where the
// message's format wants it.
func (c *Catalog) N(lang, key string, count int, args ...any) string {
	return format(c.localize(lang, key, count), args)
}

// Lookup returns the message key in lang itself (its other form), without falling back
// to English.
func (c *Catalog) Lookup(lang, key string) (string, bool) {
	m, ok := c.messages[lang][key]
	if !ok || m.Other == "" {
		return "", false
	}
	return m.Other, true
}

// Keys lists the keys of lang's catalog, sorted.
func (c *Catalog) Keys(lang string) []string {
	keys := make([]string, 0, len(c.messages[lang]))
	for k := range c.messages[lang] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Message returns lang's message for key as written in its catalog, with all its
// plural forms.
func (c *Catalog) Message(lang, key string) (goi18n.Message, bool) {
	m, ok := c.messages[lang][key]
	if !ok {
		return goi18n.Message{}, false
	}
	return *m, true
}

// literal keeps messages as written: they are Go formats, not text/templates.
var literal = template.IdentityParser{}

func (c *Catalog) localize(lang, key string, count any) string {
	l, ok := c.localizers[lang]
	if !ok {
		l = c.localizers[Fallback]
	}
	// go-i18n falls back to English itself, and from a missing plural form to the
	// other form, reporting either as an error beside the message it found.
	msg, err := l.Localize(&goi18n.LocalizeConfig{MessageID: key, PluralCount: count, TemplateParser: literal})
	if msg == "" && err != nil {
		return key
	}
	return msg
}

func format(msg string, args []any) string {
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// Embedded is posthub's own catalogs, the files of locales/.
func Embedded() fs.FS {
	sub, err := fs.Sub(locales, "locales")
	if err != nil {
		panic(err)
	}
	return sub
}

// Default holds the embedded catalogs.
var Default = mustLoad()

func mustLoad() *Catalog {
	c, err := Load(Embedded())
	if err != nil {
		panic(err)
	}
	return c
}

// T returns the message key in lang from the embedded catalogs; see Catalog.T.
func T(lang, key string, args ...any) string { return Default.T(lang, key, args...) }

// N returns the message key in lang in the plural form for count; see Catalog.N.
func N(lang, key string, count int, args ...any) string { return Default.N(lang, key, count, args...) }

// Lookup returns the message key in lang itself, without falling back to English.
func Lookup(lang, key string) (string, bool) { return Default.Lookup(lang, key) }

// Languages lists the languages there is an embedded catalog for, English first.
func Languages() []string { return Default.Languages() }

// Supported tells whether there is an embedded catalog for exactly lang.
func Supported(lang string) bool { return Default.Supported(lang) }

// Match picks from an Accept-Language header the first language there is a catalog
// for, else English.
func Match(acceptLanguage string) string { return Default.Match(acceptLanguage) }
