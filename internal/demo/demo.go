// Package demo is the demo data `posthub dev` loads on first start: the Casablanca hub
// and its Dakar partner site, their rooms and crafts, four production companies with
// their films, and a user for every role. Every name is invented; the data only looks
// like the real thing.
package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/auth"
	"github.com/posthub/posthub/internal/money"
)

// Users maps the demo users' keys to their user IDs.
// Keys: "admin", "manager", "operator", "producer", "producer_other"; the producers of
// the other two companies are under "producer_saint_louis" and "producer_casablanca".
type Users map[string]uuid.UUID

// Password is every demo user's web login password. The demo data is for a hub on a
// developer's machine; a real installation creates its users with `posthub user add`.
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

type org struct{ slug, name, country, kind string }

var orgs = []org{
	{HubSlug, "Atlas Post", "MA", "hub"},
	{"teranga-lumiere", "Téranga Lumière Films", "SN", "production_company"},
	{"ndar-horizon", "Ndar Horizon Productions", "SN", "production_company"},
	{"dar-nour", "Dar Nour Productions", "MA", "production_company"},
	{"quai-bleu", "Les Films du Quai Bleu", "FR", "production_company"},
}

type site struct{ slug, name, country, zone, currency string }

var sites = []site{
	{"casablanca", "Atlas Post Casablanca", "MA", "Africa/Casablanca", "MAD"},
	{"dakar", "Atlas Post Dakar (partner)", "SN", "Africa/Dakar", "XOF"},
}

// weeks are the demo sites' ordinary working hours.
var weeks = []struct {
	site  string
	days  []int
	spans [][2]int
}{
	{"casablanca", []int{1, 2, 3, 4, 5}, [][2]int{{9 * 60, 13 * 60}, {14 * 60, 19 * 60}}},
	{"casablanca", []int{6}, [][2]int{{9 * 60, 13 * 60}}},
	{"dakar", []int{1, 2, 3, 4, 5}, [][2]int{{8*60 + 30, 13 * 60}, {14*60 + 30, 18 * 60}}},
}

type resource struct {
	site, name, category, kind string
	caps                       []string
	rate                       int64 // per hour, minor units of the site currency
	trainees                   int
}

func caps(c ...string) []string { return c }

var resources = []resource{
	// Casablanca rooms; rates in centimes of MAD (120000 = 1,200 MAD an hour).
	{"casablanca", "Grading Suite 1 — Zellige", "room", "grading_suite", caps("hdr", "dolby_vision", "davinci_resolve"), 150000, 3},
	{"casablanca", "Grading Suite 2 — Anfa", "room", "grading_suite", caps("davinci_resolve"), 120000, 2},
	{"casablanca", "Grading Suite 3 — Oasis", "room", "grading_suite", caps("baselight"), 130000, 2},
	{"casablanca", "Mix Stage A", "room", "mix_stage", caps("dolby_atmos", "7.1.4", "pro_tools"), 180000, 4},
	{"casablanca", "Mix Stage B", "room", "mix_stage", caps("5.1", "pro_tools"), 110000, 3},
	{"casablanca", "Sound Edit 1", "room", "sound_edit_suite", caps("pro_tools"), 45000, 2},
	{"casablanca", "Sound Edit 2", "room", "sound_edit_suite", caps("pro_tools"), 45000, 2},
	{"casablanca", "Edit Suite 1", "room", "edit_suite", caps("avid"), 35000, 2},
	{"casablanca", "Edit Suite 2", "room", "edit_suite", caps("avid"), 35000, 2},
	{"casablanca", "Edit Suite 3", "room", "edit_suite", caps("premiere"), 30000, 2},
	{"casablanca", "Edit Suite 4", "room", "edit_suite", caps("davinci_resolve"), 30000, 2},
	{"casablanca", "DCP Mastering", "room", "dcp_mastering", caps("dcp", "imf"), 90000, 2},
	{"casablanca", "Screening Room — Salle Atlas", "room", "screening_room", caps("dcp", "5.1"), 80000, 12},
	// Casablanca crafts.
	{"casablanca", "Yasmine El Alami", "person", "colourist", caps("lang:fr", "lang:ar", "hdr"), 80000, 0},
	{"casablanca", "Ousmane Fall", "person", "colourist", caps("lang:fr", "lang:wo"), 65000, 0},
	{"casablanca", "Hélène Vasseur", "person", "colourist", caps("lang:en", "lang:fr"), 65000, 0},
	{"casablanca", "Mehdi Benkirane", "person", "editor", caps("lang:fr", "lang:ar", "avid"), 40000, 0},
	{"casablanca", "Rokhaya Mbaye", "person", "editor", caps("lang:fr", "lang:wo", "premiere"), 35000, 0},
	{"casablanca", "Tom Ashworth", "person", "editor", caps("lang:en", "lang:fr", "avid"), 35000, 0},
	{"casablanca", "Soukaina Idrissi", "person", "sound_editor", caps("lang:fr", "lang:ar", "pro_tools"), 40000, 0},
	{"casablanca", "Ibrahima Cissé", "person", "sound_editor", caps("lang:fr", "lang:wo", "pro_tools"), 40000, 0},
	{"casablanca", "Rachid Amrani", "person", "mixer", caps("dolby_atmos", "lang:fr", "lang:ar"), 70000, 0},
	{"casablanca", "Fatou Diagne", "person", "mixer", caps("lang:fr", "lang:wo", "lang:en"), 55000, 0},
	// Dakar; XOF has no minor unit, so rates are whole francs.
	{"dakar", "Salle de montage 1", "room", "edit_suite", caps("avid"), 25000, 2},
	{"dakar", "Salle de montage 2", "room", "edit_suite", caps("premiere"), 25000, 2},
	{"dakar", "Salle de montage 3", "room", "edit_suite", caps("davinci_resolve"), 20000, 2},
	{"dakar", "Mariama Sène", "person", "editor", caps("lang:fr", "lang:wo", "avid"), 15000, 0},
	{"dakar", "Cheikh Tidiane Ba", "person", "editor", caps("lang:fr", "lang:wo", "lang:en", "premiere"), 15000, 0},
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

type user struct {
	key, org, email, name, role, locale string
	sites                               []string // managed sites
}

var users = []user{
	{"admin", HubSlug, "admin@atlas-post.example", "Nadia Berrada", "admin", "fr", nil},
	{"manager", HubSlug, "manager@atlas-post.example", "Youssef Lahlou", "manager", "fr", []string{"casablanca", "dakar"}},
	{"operator", HubSlug, "operator@atlas-post.example", "Hamza Ouazzani", "operator", "fr", nil},
	{"producer", "teranga-lumiere", "aminata.diop@teranga-lumiere.example", "Aminata Diop", "producer", "fr", nil},
	{"producer_other", "quai-bleu", "claire.morel@quai-bleu.example", "Claire Morel", "producer", "en", nil},
	{"producer_saint_louis", "ndar-horizon", "moussa.sow@ndar-horizon.example", "Moussa Sow", "producer", "fr", nil},
	{"producer_casablanca", "dar-nour", "leila.chraibi@dar-nour.example", "Leïla Chraibi", "producer", "fr", nil},
}

// Seed inserts the demo data in tx. It is idempotent: if the demo hub organisation (slug
// "atlas-post") already exists it inserts nothing and returns the existing users by
// their emails (a demo user since deleted is left out of the map).
func Seed(ctx context.Context, tx pgx.Tx) (Users, error) {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organisations WHERE slug = $1)`, HubSlug).Scan(&exists); err != nil {
		return nil, fmt.Errorf("demo: checking for the demo hub: %w", err)
	}
	if exists {
		return existingUsers(ctx, tx)
	}

	orgIDs := map[string]uuid.UUID{}
	for _, o := range orgs {
		var id uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO organisations (slug, name, country, kind)
			VALUES ($1, $2, $3, $4) RETURNING id`, o.slug, o.name, o.country, o.kind).Scan(&id); err != nil {
			return nil, fmt.Errorf("demo: organisation %s: %w", o.slug, err)
		}
		orgIDs[o.slug] = id
	}

	siteIDs := map[string]uuid.UUID{}
	for _, s := range sites {
		if !money.ValidCurrency(s.currency) {
			return nil, fmt.Errorf("demo: site %s: %q is not an ISO 4217 currency", s.slug, s.currency)
		}
		var id uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO sites (slug, name, country, time_zone, currency)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, s.slug, s.name, s.country, s.zone, s.currency).Scan(&id); err != nil {
			return nil, fmt.Errorf("demo: site %s: %w", s.slug, err)
		}
		siteIDs[s.slug] = id
	}

	// Working weeks (local wall-clock, minutes since midnight; weekday 0 is Sunday) and
	// the shorter Ramadan hours of 2027 in Casablanca.
	for _, w := range weeks {
		for _, day := range w.days {
			for _, sp := range w.spans {
				if _, err := tx.Exec(ctx, `INSERT INTO site_week_spans (site_id, weekday, from_min, to_min) VALUES ($1, $2, $3, $4)`,
					siteIDs[w.site], day, sp[0], sp[1]); err != nil {
					return nil, fmt.Errorf("demo: week of %s: %w", w.site, err)
				}
			}
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO calendar_overrides (site_id, name, from_date, to_date, spans)
		VALUES ($1, 'Ramadan 2027', '2027-02-08', '2027-03-09',
		'[{"weekday":1,"from_min":540,"to_min":900},{"weekday":2,"from_min":540,"to_min":900},{"weekday":3,"from_min":540,"to_min":900},{"weekday":4,"from_min":540,"to_min":900},{"weekday":5,"from_min":540,"to_min":900}]')`,
		siteIDs["casablanca"]); err != nil {
		return nil, fmt.Errorf("demo: Ramadan hours: %w", err)
	}

	for _, r := range resources {
		if _, err := tx.Exec(ctx, `INSERT INTO resources
			(site_id, name, category, kind, capabilities, rate_minor, rate_unit, trainee_capacity)
			VALUES ($1, $2, $3, $4, $5, $6, 'hour', $7)`,
			siteIDs[r.site], r.name, r.category, r.kind, r.caps, r.rate, r.trainees); err != nil {
			return nil, fmt.Errorf("demo: resource %q: %w", r.name, err)
		}
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

	// One hash serves every demo user: they share the documented demo password.
	hash, err := auth.HashPassword(Password)
	if err != nil {
		return nil, err
	}
	out := Users{}
	for _, u := range users {
		var id uuid.UUID
		if err := tx.QueryRow(ctx, `INSERT INTO users (organisation_id, email, name, role, locale, password_hash)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			orgIDs[u.org], u.email, u.name, u.role, u.locale, hash).Scan(&id); err != nil {
			return nil, fmt.Errorf("demo: user %s: %w", u.email, err)
		}
		for _, s := range u.sites {
			if _, err := tx.Exec(ctx, `INSERT INTO user_sites (user_id, site_id) VALUES ($1, $2)`,
				id, siteIDs[s]); err != nil {
				return nil, fmt.Errorf("demo: site %s of user %s: %w", s, u.email, err)
			}
		}
		out[u.key] = id
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
