package web

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/httpapi"
	"github.com/posthub/posthub/internal/i18n"
)

// The UI's words are in the message catalogs of internal/i18n, one per language: every
// key is in each (a test there checks it, and one here that every key the templates and
// code use is there). A key missing in a language falls back to English; a key missing
// everywhere shows itself.

// catalog holds the messages: the embedded catalogs, or a test's.
var catalog = i18n.Default

// translate returns the message key in lang: a format for fmt when it has verbs.
func translate(lang, key string) string { return catalog.T(lang, key) }

// translateN returns the message key in lang in the plural form for the count n (one
// day, 2 days); the caller fills in n with the other arguments.
func translateN(lang, key string, n int) string { return catalog.N(lang, key, n) }

// language picks the UI language: ?lang= or the lang cookie (the switch sets both),
// else the first of Accept-Language that posthub has a catalog for, else English.
func language(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); catalog.Supported(l) {
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && catalog.Supported(c.Value) {
		return c.Value
	}
	return catalog.Match(r.Header.Get("Accept-Language"))
}

// keepLanguage stores the language a signed-in person chose with the switch as theirs
// (users.locale, through the storage's booking.Languages): their mails and in-app
// notices are written in it from then on. A failure is logged; the page shows anyway.
func (u *UI) keepLanguage(r *http.Request, lang string) {
	a, ok := httpapi.ActorFrom(r.Context())
	if !ok || a.UserID == uuid.Nil || a.System || a.Locale == lang {
		return
	}
	var store booking.Languages
	for _, s := range []any{u.Notifications, u.Auth, u.Bookings} {
		if l, ok := s.(booking.Languages); ok {
			store = l
			break
		}
	}
	if store == nil {
		return
	}
	if err := store.SetLocale(r.Context(), a, lang); err != nil {
		u.Logger.Warn("storing the language chosen", "user_id", a.UserID, "lang", lang, "err", err)
	}
}

// langLink is the current page in another language, named in that language.
type langLink struct {
	Code, Name, URL string
}

// langLinks are the current page in each of the other languages there is a catalog for.
func langLinks(r *http.Request, lang string) []langLink {
	var out []langLink
	for _, l := range catalog.Languages() {
		if l == lang {
			continue
		}
		q := r.URL.Query()
		q.Set("lang", l)
		out = append(out, langLink{Code: l, Name: translate(l, "lang.name"), URL: r.URL.Path + "?" + q.Encode()})
	}
	return out
}
