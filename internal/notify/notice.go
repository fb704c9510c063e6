package notify

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	"time"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/i18n"
)

// Notice is what a person is told about a booking, before it is rendered for them.
type Notice struct {
	Kind       string // a booking event kind, or "reminder", "hold_expiring", "digest"
	Production string
	Site       string
	Resources  []string
	// Stage is the plan stage the booking was placed for ("Grade"), if a plan placed it.
	Stage      string
	Start, End time.Time
	Location   *time.Location // the site's zone: times are shown in its wall-clock
	Zone       string         // the zone's name, shown beside the times
	Rank       int
	OldRank    int
	Deadline   *time.Time
	Reason     string
	// PreviousStart and PreviousEnd are where a moved booking was (zero otherwise): the
	// notice shows was and now. Replan, when a manager's re-plan moved it, says why.
	PreviousStart, PreviousEnd time.Time
	Replan                     *booking.ReplanCause
	Link                       string
	// Role is the reader's: a manager is told what a manager does about it (approve,
	// decline, review), anyone else what the booking's producers do.
	Role booking.Role
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

// row is a labelled value of a notice: When, Where, Deadline, …
type row struct{ Label, Value string }

// block is one notice's words in one language: what happened, its details, what to
// do and by when, and the link to the booking's page.
type block struct {
	Heading string
	Lead    string
	Rows    []row
	Todo    string
	Link    string
}

// todoDeadline are the kinds whose to-do names the deadline: without one, they say
// nothing.
var todoDeadline = map[string]bool{"challenge_received": true, "challenge_opened": true, "hold_expiring": true}

// block writes n in lang (a language with a catalog).
func (n Notice) block(lang string) block {
	l := func(key string) string { return i18n.T(lang, "notice."+key) }
	b := block{Link: n.Link}
	switch key := "notice.lead." + n.Kind; {
	case n.Kind == "reminder":
		b.Lead = i18n.T(lang, key, n.Production, n.At(n.Start, lang))
	case hasMessage(key):
		b.Lead = i18n.T(lang, key)
	}
	b.Rows = []row{{l("when"), n.When(lang)}, {l("where"), n.Site}}
	if !n.PreviousStart.IsZero() {
		was := n
		was.Start, was.End = n.PreviousStart, n.PreviousEnd
		b.Rows = append([]row{{l("was"), was.When(lang)}, {l("now"), n.When(lang)}}, b.Rows[1:]...)
	}
	if n.Replan != nil {
		b.Lead = n.replanWhy(lang) + " " + i18n.T(lang, "notice.replan.moved_one")
	}
	if len(n.Resources) > 0 {
		b.Rows = append(b.Rows, row{l("rooms"), strings.Join(n.Resources, ", ")})
	}
	if n.Stage != "" {
		b.Rows = append(b.Rows, row{l("stage"), n.Stage})
	}
	if n.Rank > 0 {
		v := fmt.Sprint(n.Rank)
		if n.OldRank > 0 && n.OldRank != n.Rank {
			v = fmt.Sprintf("%d → %d", n.OldRank, n.Rank)
		}
		b.Rows = append(b.Rows, row{l("rank"), v})
	}
	if n.Deadline != nil {
		b.Rows = append(b.Rows, row{l("deadline"), n.At(*n.Deadline, lang)})
	}
	if n.Reason != "" && n.Replan == nil { // a re-plan's reason is the manager's, in the lead
		b.Rows = append(b.Rows, row{l("reason"), n.Reason})
	}
	b.Todo = n.todo(lang)
	return b
}

// replanWhy says why a manager's re-plan moved the booking: the site, the window the
// holds were re-planned over (in the site's days), and the manager's reason if given.
func (n Notice) replanWhy(lang string) string {
	c := n.Replan
	why := i18n.T(lang, "notice.replan.why", n.Site, formatDay(c.From.In(n.Location), lang), formatDay(c.To.In(n.Location), lang))
	if c.Reason != "" {
		why += " " + i18n.T(lang, "notice.replan.reason", c.Reason)
	}
	return why
}

// todo says what the reader must do about the notice, and by when: the catalogs'
// notice.todo.<kind>, or notice.todo.<kind>.manager for a manager when there is one.
// Empty when there is nothing to do.
func (n Notice) todo(lang string) string {
	key := "notice.todo." + n.Kind
	if n.Kind == "rank_changed" && n.Rank == 1 {
		key = "notice.todo.rank_first"
	}
	if (n.Role == booking.RoleManager || n.Role == booking.RoleAdmin) && hasMessage(key+".manager") {
		key += ".manager"
	}
	switch {
	case !hasMessage(key):
		return ""
	case todoDeadline[n.Kind]:
		if n.Deadline == nil {
			return ""
		}
		return i18n.T(lang, key, n.At(*n.Deadline, lang))
	}
	return i18n.T(lang, key)
}

// subject is the notice's subject in lang, naming what: the subject of its kind, or
// "posthub: <what>" for a kind without one.
func (n Notice) subject(lang, what string) string {
	if key := "notice.subject." + n.Kind; hasMessage(key) {
		return i18n.T(lang, key, what)
	}
	return "posthub: " + what
}

// Render writes the notice in lang (a language without a catalog gets English). The
// words are the catalogs' notice.* messages; the subject is notice.subject.<kind>,
// the opening line notice.lead.<kind>, and what to do notice.todo.<kind>.
func Render(n Notice, lang string) Rendered { return render(n, lang, true) }

func render(n Notice, lang string, withHTML bool) Rendered {
	lang = language(lang)
	subject := n.subject(lang, n.Production)
	b := n.block(lang)
	var text strings.Builder
	text.WriteString(subject + "\n\n")
	if b.Lead != "" {
		text.WriteString(b.Lead + "\n\n")
	}
	for _, r := range b.Rows {
		fmt.Fprintf(&text, "%s: %s\n", r.Label, r.Value)
	}
	if b.Todo != "" {
		text.WriteString("\n" + b.Todo + "\n")
	}
	open := i18n.T(lang, "notice.open")
	if n.Link != "" {
		fmt.Fprintf(&text, "\n%s: %s\n", open, n.Link)
	}
	r := Rendered{Subject: subject, Text: text.String()}
	if withHTML {
		var html bytes.Buffer
		_ = noticeHTML.Execute(&html, map[string]any{"Lang": lang, "Subject": subject, "Blocks": []block{b}, "Open": open})
		r.HTML = html.String()
	}
	return r
}

// RenderGroup writes, in lang, one message telling a person of several notices about
// one production's bookings that one action raised (a plan accepted, a re-plan
// applied): the subject counts them by kind ("Le Souffle du Baobab: 8 holds placed"),
// and each follows, headed by its kind and its plan stage (or its resources), with
// what to do about it and its link. One notice is rendered as Render does.
func RenderGroup(ns []Notice, lang string) Rendered { return renderGroup(ns, lang, true) }

// RenderGroupText is RenderGroup without the HTML, for the in-app feed of someone who
// is not mailed (the HTML template is most of a rendering's cost).
func RenderGroupText(ns []Notice, lang string) Rendered { return renderGroup(ns, lang, false) }

func renderGroup(ns []Notice, lang string, withHTML bool) Rendered {
	if len(ns) == 1 {
		return render(ns[0], lang, withHTML)
	}
	lang = language(lang)
	production := ""
	if len(ns) > 0 {
		production = ns[0].Production
	}
	var kinds []string
	count := map[string]int{}
	for _, n := range ns {
		if count[n.Kind] == 0 {
			kinds = append(kinds, n.Kind)
		}
		count[n.Kind]++
	}
	counts := make([]string, len(kinds))
	for i, k := range kinds {
		counts[i] = i18n.N(lang, "notice.count."+k, count[k], count[k])
	}
	subject := i18n.T(lang, "notice.group.subject", production, strings.Join(counts, ", "))
	lead := i18n.T(lang, "notice.group.lead", production)
	for _, n := range ns {
		if n.Replan != nil { // the re-plan's why, once
			lead = n.replanWhy(lang) + " " + i18n.T(lang, "notice.replan.moved", production)
			break
		}
	}
	open := i18n.T(lang, "notice.open")
	blocks := make([]block, len(ns))
	var text strings.Builder
	text.WriteString(subject + "\n\n" + lead + "\n")
	for i, n := range ns {
		what := n.Stage
		if what == "" && len(n.Resources) > 0 {
			what = strings.Join(n.Resources, ", ")
		}
		if what == "" {
			what = n.Production
		}
		b := n.block(lang)
		b.Heading = n.subject(lang, what)
		if what == n.Stage {
			// The heading names the stage.
			b.Rows = slices.DeleteFunc(b.Rows, func(r row) bool { return r.Label == i18n.T(lang, "notice.stage") })
		}
		blocks[i] = b
		fmt.Fprintf(&text, "\n%d. %s\n", i+1, b.Heading)
		for _, r := range b.Rows {
			fmt.Fprintf(&text, "   %s: %s\n", r.Label, r.Value)
		}
		if b.Todo != "" {
			fmt.Fprintf(&text, "   %s\n", b.Todo)
		}
		if b.Link != "" {
			fmt.Fprintf(&text, "   %s: %s\n", open, b.Link)
		}
	}
	r := Rendered{Subject: subject, Text: text.String()}
	if withHTML {
		var html bytes.Buffer
		_ = noticeHTML.Execute(&html, map[string]any{"Lang": lang, "Subject": subject, "Lead": lead, "Blocks": blocks, "Open": open})
		r.HTML = html.String()
	}
	return r
}

var noticeHTML = htmltemplate.Must(htmltemplate.New("notice").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: system-ui, sans-serif; color: #1d232b">
<h1 style="font-size: 1.2em">{{.Subject}}</h1>
{{if .Lead}}<p>{{.Lead}}</p>
{{end}}{{range .Blocks}}{{if .Heading}}<h2 style="font-size: 1em">{{.Heading}}</h2>
{{end}}{{if .Lead}}{{if not .Heading}}<p>{{.Lead}}</p>
{{end}}{{end}}<table>{{range .Rows}}<tr><th style="text-align: left; padding-right: 1em">{{.Label}}</th><td>{{.Value}}</td></tr>{{end}}</table>
{{if .Todo}}<p><strong>{{.Todo}}</strong></p>
{{end}}{{if .Link}}<p><a href="{{.Link}}">{{$.Open}}</a></p>
{{end}}{{end}}</body></html>
`))

// hasMessage tells whether the catalogs have key (English has every key).
func hasMessage(key string) bool {
	_, ok := i18n.Lookup(i18n.Fallback, key)
	return ok
}
