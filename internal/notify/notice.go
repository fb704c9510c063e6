package notify

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"time"
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

var subjects = map[string]map[string]string{
	"en": {
		"hold_placed":          "Hold placed: %s",
		"rank_changed":         "Your hold moved in the queue: %s",
		"challenge_opened":     "Challenge opened for %s",
		"challenge_received":   "Your hold is challenged: %s",
		"challenge_won":        "Challenge won: %s",
		"challenge_lost":       "Challenge lost: %s",
		"approval_requested":   "Confirmation awaiting approval: %s",
		"confirmed":            "Booking confirmed: %s",
		"released":             "Hold released: %s",
		"declined":             "Booking declined: %s",
		"cancelled":            "Booking cancelled: %s",
		"expired":              "Hold expired: %s",
		"rescheduled":          "Booking rescheduled: %s",
		"completed":            "Booking completed: %s",
		"local_time_changed":   "Local time corrected: %s",
		"working_time_changed": "Working time changed by a calendar change: %s",
		"move_declined":        "Move declined, the booking keeps its slot: %s",
		"reminder":             "Reminder: %s starts soon",
		"hold_expiring":        "Your hold expires soon: %s",
	},
	"fr": {
		"hold_placed":          "Option posée : %s",
		"rank_changed":         "Votre option a changé de rang : %s",
		"challenge_opened":     "Challenge ouvert pour %s",
		"challenge_received":   "Votre option est challengée : %s",
		"challenge_won":        "Challenge gagné : %s",
		"challenge_lost":       "Challenge perdu : %s",
		"approval_requested":   "Confirmation en attente d’approbation : %s",
		"confirmed":            "Réservation confirmée : %s",
		"released":             "Option libérée : %s",
		"declined":             "Réservation refusée : %s",
		"cancelled":            "Réservation annulée : %s",
		"expired":              "Option expirée : %s",
		"rescheduled":          "Réservation déplacée : %s",
		"completed":            "Réservation terminée : %s",
		"local_time_changed":   "Heure locale corrigée : %s",
		"working_time_changed": "Temps de travail modifié par le calendrier : %s",
		"move_declined":        "Déplacement refusé, la réservation garde son créneau : %s",
		"reminder":             "Rappel : %s commence bientôt",
		"hold_expiring":        "Votre option expire bientôt : %s",
	},
}

var labels = map[string]map[string]string{
	"en": {"when": "When", "where": "Where", "rooms": "Resources", "rank": "Place in the queue", "deadline": "Deadline",
		"reason": "Reason", "open": "Open in posthub", "from": "from", "to": "to"},
	"fr": {"when": "Quand", "where": "Où", "rooms": "Ressources", "rank": "Rang dans la file", "deadline": "Échéance",
		"reason": "Motif", "open": "Ouvrir dans posthub", "from": "du", "to": "au"},
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

var frDays = []string{"dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."}
var frMonths = []string{"", "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

func formatDay(t time.Time, lang string) string {
	if lang == "fr" {
		return fmt.Sprintf("%s %d %s %d", frDays[t.Weekday()], t.Day(), frMonths[t.Month()], t.Year())
	}
	return t.Format("Mon 2 Jan 2006")
}

// Render writes the notice in lang ("en" or "fr"; anything else is English).
func Render(n Notice, lang string) Rendered {
	if lang != "fr" {
		lang = "en"
	}
	l := labels[lang]
	subject := fmt.Sprintf(subjects[lang][n.Kind], n.Production)
	if _, ok := subjects[lang][n.Kind]; !ok {
		subject = "posthub: " + n.Production
	}
	type row struct{ Label, Value string }
	rows := []row{{l["when"], n.When(lang)}, {l["where"], n.Site}}
	if len(n.Resources) > 0 {
		rows = append(rows, row{l["rooms"], strings.Join(n.Resources, ", ")})
	}
	if n.Rank > 0 {
		v := fmt.Sprint(n.Rank)
		if n.OldRank > 0 && n.OldRank != n.Rank {
			v = fmt.Sprintf("%d → %d", n.OldRank, n.Rank)
		}
		rows = append(rows, row{l["rank"], v})
	}
	if n.Deadline != nil {
		rows = append(rows, row{l["deadline"], n.At(*n.Deadline, lang)})
	}
	if n.Reason != "" {
		rows = append(rows, row{l["reason"], n.Reason})
	}
	var text strings.Builder
	text.WriteString(subject + "\n\n")
	for _, r := range rows {
		fmt.Fprintf(&text, "%s: %s\n", r.Label, r.Value)
	}
	if n.Link != "" {
		fmt.Fprintf(&text, "\n%s: %s\n", l["open"], n.Link)
	}
	var html bytes.Buffer
	_ = noticeHTML.Execute(&html, map[string]any{"Lang": lang, "Subject": subject, "Rows": rows, "Link": n.Link, "Open": l["open"]})
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
