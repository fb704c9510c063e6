// Package demo is the demo data `posthub dev` loads on first start: the Casablanca hub
// and its Dakar partner site, their rooms and crafts, four production companies with
// their films, and a user for every role. Every name is invented; the data only looks
// like the real thing.
//
// The hub's set-up (organisations, sites with their calendars, policies, resources and
// rate cards, users) is data: hub.yaml, in the format of `posthub catalogue`, applied
// by the same code as `posthub catalogue apply`. The productions, exchange rates and
// the ring-fence stay here.
package demo

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/auth"
	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/catalogue"
	"github.com/posthub/posthub/internal/postgres"
)

// Users maps the demo users' keys to their user IDs.
// Keys: "admin", "manager", "operator", "producer", "producer_other"; the producers of
// the other two companies are under "producer_saint_louis" and "producer_casablanca".
type Users map[string]uuid.UUID

// Password is every demo user's web login password. The demo data is for a hub on a
// developer's machine; a real installation creates its users with `posthub user add`
// or `posthub catalogue apply`.
const Password = "posthub-demo"

// Emails maps the demo users' keys to their login emails.
func Emails() map[string]string {
	m := map[string]string{}
	for _, u := range users {
		m[u.key] = u.email
	}
	return m
}

// HubSlug is the slug of the demo hub organisation; its presence means the demo data is
// already loaded.
const HubSlug = "atlas-post"

// hubFile is the demo hub's set-up.
//
//go:embed hub.yaml
var hubFile []byte

// hubFileName names hub.yaml in messages.
const hubFileName = "internal/demo/hub.yaml"

// Hub returns the demo hub's set-up as `posthub catalogue` reads it, parsed anew for
// each caller.
func Hub() *catalogue.File {
	f, err := catalogue.Parse(bytes.NewReader(hubFile), hubFileName)
	if err != nil {
		panic(fmt.Sprintf("demo: the embedded %s does not parse: %v", hubFileName, err))
	}
	return f
}

type site struct{ slug string }

// sites are the demo sites, and weeks their ordinary working hours (local wall-clock,
// minutes since midnight; weekday 0 is Sunday), as hub.yaml has them.
var (
	sites []site
	weeks []struct {
		site  string
		days  []int
		spans [][2]int
	}
)

func init() {
	for _, s := range Hub().Sites {
		sites = append(sites, site{slug: s.Slug})
		if s.Calendar == nil {
			continue
		}
		for day, name := range []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"} {
			var spans [][2]int
			for _, sp := range daySpans(s.Calendar.Week, name) {
				from, to, _ := strings.Cut(sp, "-")
				f, _ := booking.ParseClock(from)
				t, _ := booking.ParseClock(to)
				spans = append(spans, [2]int{f.Hour*60 + f.Minute, t.Hour*60 + t.Minute})
			}
			if len(spans) > 0 {
				weeks = append(weeks, struct {
					site  string
					days  []int
					spans [][2]int
				}{s.Slug, []int{day}, spans})
			}
		}
	}
}

func daySpans(w catalogue.Week, day string) []string {
	switch day {
	case "monday":
		return w.Monday
	case "tuesday":
		return w.Tuesday
	case "wednesday":
		return w.Wednesday
	case "thursday":
		return w.Thursday
	case "friday":
		return w.Friday
	case "saturday":
		return w.Saturday
	case "sunday":
		return w.Sunday
	}
	return nil
}

type origin struct {
	country string
	share   int
}

type production struct {
	org, title, format string
	runtime            int
	emerging           bool
	origins            []origin
}

var productions = []production{
	{"teranga-lumiere", "Le Souffle du Baobab", "feature", 98, false, []origin{{"SN", 60}, {"MA", 40}}},
	{"teranga-lumiere", "Xaritu Ndox", "short", 18, true, []origin{{"SN", 100}}},
	{"ndar-horizon", "Les Pirogues de Guet Ndar", "documentary", 72, true, []origin{{"SN", 50}, {"MA", 30}, {"FR", 20}}},
	{"ndar-horizon", "Fleuve — épisode 3 : La Crue", "series_episode", 26, false, []origin{{"SN", 100}}},
	{"dar-nour", "Layali Derb Sultan", "feature", 105, false, []origin{{"MA", 70}, {"FR", 30}}},
	{"dar-nour", "Le Chant de la Médina", "short", 22, true, []origin{{"MA", 100}}},
	{"quai-bleu", "Sable et Sel", "feature", 112, false, []origin{{"FR", 50}, {"SN", 30}, {"MA", 20}}},
	{"quai-bleu", "Aïcha, l'été", "documentary", 85, false, []origin{{"FR", 60}, {"MA", 40}}},
}

// emergingProgramme is the programme of the emerging productions.
const emergingProgramme = "emerging-filmmakers"

// user is a demo user: the key the tests and demo-tokens.json know them by, and their
// email in hub.yaml.
type user struct{ key, email string }

var users = []user{
	{"admin", "admin@atlas-post.example"},
	{"manager", "manager@atlas-post.example"},
	{"operator", "operator@atlas-post.example"},
	{"producer", "aminata.diop@teranga-lumiere.example"},
	{"producer_other", "claire.morel@quai-bleu.example"},
	{"producer_saint_louis", "moussa.sow@ndar-horizon.example"},
	{"producer_casablanca", "leila.chraibi@dar-nour.example"},
}

// Seed inserts the demo data in tx. It is idempotent: if the demo hub organisation (slug
// "atlas-post") already exists it inserts nothing and returns the existing users by
// their emails (a demo user since deleted is left out of the map).
//
// The hub's set-up is hub.yaml, applied in tx by catalogue.Apply through the domain's
// own changes (audited as posthub's); the demo users then get the demo password, and
// the productions, exchange rates and ring-fence are added.
func Seed(ctx context.Context, tx pgx.Tx) (Users, error) {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organisations WHERE slug = $1)`, HubSlug).Scan(&exists); err != nil {
		return nil, fmt.Errorf("demo: checking for the demo hub: %w", err)
	}
	if exists {
		return existingUsers(ctx, tx)
	}

	hub := Hub()
	if _, err := catalogue.Apply(ctx, postgres.OnTx(tx), hub, catalogue.Options{Name: hubFileName}); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}

	// One hash serves every demo user: they share the documented demo password.
	hash, err := auth.HashPassword(Password)
	if err != nil {
		return nil, err
	}
	var emails []string
	for _, u := range hub.Users {
		emails = append(emails, strings.ToLower(u.Email))
	}
	if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE lower(email) = ANY($2)`, hash, emails); err != nil {
		return nil, fmt.Errorf("demo: passwords: %w", err)
	}

	orgIDs, err := idsBySlug(ctx, tx, "organisations")
	if err != nil {
		return nil, err
	}
	siteIDs, err := idsBySlug(ctx, tx, "sites")
	if err != nil {
		return nil, err
	}
	for _, p := range productions {
		programme := ""
		if p.emerging {
			programme = emergingProgramme
		}
		var id uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO productions
			(organisation_id, title, format, runtime_minutes, emerging, programme)
			VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')) RETURNING id`,
			orgIDs[p.org], p.title, p.format, p.runtime, p.emerging, programme).Scan(&id); err != nil {
			return nil, fmt.Errorf("demo: production %q: %w", p.title, err)
		}
		total := 0
		for _, o := range p.origins {
			total += o.share
			if _, err := tx.Exec(ctx, `INSERT INTO production_origins (production_id, country, share_pct)
				VALUES ($1, $2, $3)`, id, o.country, o.share); err != nil {
				return nil, fmt.Errorf("demo: origin %s of %q: %w", o.country, p.title, err)
			}
		}
		if total != 100 {
			return nil, fmt.Errorf("demo: origin shares of %q add up to %d, not 100", p.title, total)
		}
	}

	if err := seedCoproduction(ctx, tx, siteIDs); err != nil {
		return nil, err
	}
	return existingUsers(ctx, tx)
}

// idsBySlug maps the slugs of a table's rows (sites, organisations) to their ids.
func idsBySlug(ctx context.Context, tx pgx.Tx, table string) (map[string]uuid.UUID, error) {
	rows, _ := tx.Query(ctx, `SELECT slug, id FROM `+pgx.Identifier{table}.Sanitize())
	out := map[string]uuid.UUID{}
	var slug string
	var id uuid.UUID
	if _, err := pgx.ForEachRow(rows, []any{&slug, &id}, func() error { out[slug] = id; return nil }); err != nil {
		return nil, fmt.Errorf("demo: %s: %w", table, err)
	}
	return out, nil
}

// existingUsers looks the demo users up by their emails.
func existingUsers(ctx context.Context, tx pgx.Tx) (Users, error) {
	out := Users{}
	for _, u := range users {
		var id uuid.UUID
		err := tx.QueryRow(ctx, `SELECT id FROM users WHERE lower(email) = lower($1)`, u.email).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("demo: looking up user %s: %w", u.email, err)
		}
		out[u.key] = id
	}
	return out, nil
}
