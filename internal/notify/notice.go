package notify

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"time"

	"github.com/posthub/posthub/internal/i18n"
)

// Notice is what a person is told about a booking, before it is rendered for them.
type Notice struct {
	Kind       string // a booking event kind, or "reminder", "hold_expiring", "digest"
	Production string
	Site       string
	Resources  []string
	Start, End time.Time
	Location   *time.Location // the site's zone: times are shown in its wall-clock
	Zone       string         // the zone's name, shown beside the times
	Rank       int
	OldRank    int
	Deadline   *time.Time
	Reason     string
	Link       string
}

// Rendered is a notice in one language.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// When shows an interval in the site's wall-clock with the zone named, e.g.
// "Wed 10 Mar 2027 10:00 – 18:00 (Africa/Casablanca, UTC+00:00)".
func (n Notice) When(lang string) string {
	s, e := n.Start.In(n.Location), n.End.In(n.Location)
	day := formatDay(s, lang)
	end := e.Format("15:04")
	if e.YearDay() != s.YearDay() || e.Year() != s.Year() {
		end = formatDay(e, lang) + " " + end
	}
	return fmt.Sprintf("%s %s – %s (%s, UTC%s)", day, s.Format("15:04"), end, n.Zone, s.Format("-07:00"))
}

// At shows an instant, such as a deadline, in the site's wall-clock with the zone and
// the offset then in force named, e.g. "Thu 18 Jun 2026 09:00 (Africa/Casablanca,
// UTC+01:00)": the offset can differ from the booking's own (a deadline days before a
// slot may fall on the other side of an offset change).
func (n Notice) At(t time.Time, lang string) string {
	l := t.In(n.Location)
	return fmt.Sprintf("%s %s (%s, UTC%s)", formatDay(l, lang), l.Format("15:04"), n.Zone, l.Format("-07:00"))
}

// formatDay is a date with the language's short day and month names, as the web pages
// write it: Wed 10 Mar 2027, mer. 10 mars 2027.
func formatDay(t time.Time, lang string) string {
	return fmt.Sprintf("%s %d %s %d", i18n.T(lang, fmt.Sprintf("day.%d", t.Weekday())), t.Day(),
		i18n.T(lang, fmt.Sprintf("month.%d", t.Month())), t.Year())
}

// language is the language a notice is written in: the person's when posthub has a
// catalog for it, else English.
func language(lang string) string {
	if i18n.Supported(lang) {
		return lang
	}
	return i18n.Fallback
}

// Render writes the notice in lang (a language without a catalog gets English). The
// words are the catalogs' notice.* messages; the subject is notice.subject.<kind>.
func Render(n Notice, lang string) Rendered {
	lang = language(lang)
	l := func(key string) string { return i18n.T(lang, "notice."+key) }
	subject := "posthub: " + n.Production
	if key := "notice.subject." + n.Kind; hasMessage(key) {
		subject = i18n.T(lang, key, n.Production)
	}
	type row struct{ Label, Value string }
	rows := []row{{l("when"), n.When(lang)}, {l("where"), n.Site}}
	if len(n.Resources) > 0 {
		rows = append(rows, row{l("rooms"), strings.Join(n.Resources, ", ")})
	}
	if n.Rank > 0 {
		v := fmt.Sprint(n.Rank)
		if n.OldRank > 0 && n.OldRank != n.Rank {
			v = fmt.Sprintf("%d → %d", n.OldRank, n.Rank)
		}
		rows = append(rows, row{l("rank"), v})
	}
	if n.Deadline != nil {
		rows = append(rows, row{l("deadline"), n.At(*n.Deadline, lang)})
	}
	if n.Reason != "" {
		rows = append(rows, row{l("reason"), n.Reason})
	}
	var text strings.Builder
	text.WriteString(subject + "\n\n")
	for _, r := range rows {
		fmt.Fprintf(&text, "%s: %s\n", r.Label, r.Value)
	}
	if n.Link != "" {
		fmt.Fprintf(&text, "\n%s: %s\n", l("open"), n.Link)
	}
	var html bytes.Buffer
	_ = noticeHTML.Execute(&html, map[string]any{"Lang": lang, "Subject": subject, "Rows": rows, "Link": n.Link, "Open": l("open")})
	return Rendered{Subject: subject, Text: text.String(), HTML: html.String()}
}

var noticeHTML = htmltemplate.Must(htmltemplate.New("notice").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: system-ui, sans-serif; color: #1d232b">
<h1 style="font-size: 1.2em">{{.Subject}}</h1>
<table>{{range .Rows}}<tr><th style="text-align: left; padding-right: 1em">{{.Label}}</th><td>{{.Value}}</td></tr>{{end}}</table>
{{if .Link}}<p><a href="{{.Link}}">{{.Open}}</a></p>{{end}}
</body></html>
`))

// hasMessage tells whether the catalogs have key (English has every key).
func hasMessage(key string) bool {
	_, ok := i18n.Lookup(i18n.Fallback, key)
	return ok
}
