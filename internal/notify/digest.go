package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/i18n"
)

// RenderDigest writes a manager's daily digest in their language (the catalogs'
// digest.* messages), every time in the site's wall-clock with the zone named.
func RenderDigest(d booking.Digest, lang string) Rendered {
	lang = language(lang)
	w := func(key string) string { return i18n.T(lang, "digest."+key) }
	n := len(d.Approvals) + len(d.Challenges) + len(d.StartingSoon) + len(d.ExpiringSoon)
	var text, html strings.Builder
	subject := i18n.N(lang, "digest.subject", n, n)
	text.WriteString(subject + "\n")
	html.WriteString("<!doctype html><html lang=\"" + lang + "\"><head><meta charset=\"utf-8\"><title>" + escape(subject) + "</title></head><body style=\"font-family: system-ui, sans-serif\">")
	html.WriteString("<h1 style=\"font-size: 1.2em\">" + escape(subject) + "</h1>")
	section := func(key string, items []booking.DigestItem) {
		if len(items) == 0 {
			return
		}
		text.WriteString("\n" + w(key) + ":\n")
		html.WriteString("<h2 style=\"font-size: 1em\">" + escape(w(key)) + "</h2><ul>")
		for _, it := range items {
			line := fmt.Sprintf("%s — %s, %s", it.Production, it.Site, localWhen(it.Start, it.TimeZone, lang))
			if it.Due != nil {
				line += fmt.Sprintf(" (%s %s)", w("due"), localWhen(*it.Due, it.TimeZone, lang))
			}
			text.WriteString("  - " + line + "\n")
			html.WriteString("<li>" + escape(line) + "</li>")
		}
		html.WriteString("</ul>")
	}
	section("approvals", d.Approvals)
	section("challenges", d.Challenges)
	section("starting", d.StartingSoon)
	section("expiring", d.ExpiringSoon)
	if n == 0 {
		text.WriteString("\n" + w("nothing") + "\n")
		html.WriteString("<p>" + escape(w("nothing")) + "</p>")
	}
	html.WriteString("</body></html>\n")
	return Rendered{Subject: subject, Text: text.String(), HTML: html.String()}
}

// localWhen shows an instant in zone's wall-clock with the zone and the offset then
// in force named, as Notice.At does.
func localWhen(t time.Time, zone, lang string) string {
	loc, err := calendar.LoadLocation(zone)
	if err != nil || zone == "" {
		loc, zone = time.UTC, "UTC"
	}
	return Notice{Location: loc, Zone: zone}.At(t, lang)
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}
