package catalogue_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/catalogue"
	"github.com/posthub/posthub/internal/dbtest"
	"github.com/posthub/posthub/internal/demo"
	"github.com/posthub/posthub/internal/postgres"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var ctx = context.Background()

func seedDemo(t *testing.T, db *postgres.DB) demo.Users {
	t.Helper()
	var users demo.Users
	if err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var err error
		users, err = demo.Seed(ctx, tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return users
}

// export writes the database's catalogue as the command does.
func export(t *testing.T, db *postgres.DB) string {
	t.Helper()
	f, err := catalogue.Export(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := catalogue.Encode(&b, f); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func parse(t *testing.T, src string) *catalogue.File {
	t.Helper()
	f, err := catalogue.Parse(strings.NewReader(src), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func apply(t *testing.T, db *postgres.DB, src string, opt catalogue.Options) *catalogue.Diff {
	t.Helper()
	d, err := catalogue.Apply(ctx, db, parse(t, src), opt)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return d
}

func diffText(d *catalogue.Diff, dry bool) string {
	var b bytes.Buffer
	_ = d.Write(&b, dry)
	return b.String()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fingerprint digests every row of every table: two equal fingerprints mean nothing
// was written in between.
func fingerprint(t *testing.T, db *postgres.DB) map[string]string {
	t.Helper()
	rows, err := db.Pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tab := range tables {
		var n int
		var sum string
		if err := db.Pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM %s t`,
			pgx.Identifier{tab}.Sanitize())).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		out[tab] = fmt.Sprintf("%d:%s", n, sum)
	}
	return out
}

func sameFingerprint(t *testing.T, before, after map[string]string) {
	t.Helper()
	for tab, fp := range before {
		if after[tab] != fp {
			t.Errorf("table %s changed: %s, then %s", tab, fp, after[tab])
		}
	}
}

// TestRoundTrip: a hub applied to an empty database exports as a file that, applied to
// another empty database, exports byte for byte the same; two exports of one hub are
// the same; applying a file twice changes nothing the second time.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		load func(t *testing.T, db *postgres.DB)
	}{
		{"demo", func(t *testing.T, db *postgres.DB) { seedDemo(t, db) }},
		{"testdata/hub.yaml", func(t *testing.T, db *postgres.DB) {
			apply(t, db, readFile(t, "testdata/hub.yaml"), catalogue.Options{})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			first := dbtest.New(t)
			tc.load(t, first)
			a := export(t, first)
			if again := export(t, first); again != a {
				t.Fatalf("two exports of one hub differ:\n%s\n---\n%s", a, again)
			}
			second := dbtest.New(t)
			d := apply(t, second, a, catalogue.Options{})
			if d.Empty() {
				t.Fatal("applying to an empty database changed nothing")
			}
			if b := export(t, second); b != a {
				t.Fatalf("export → apply → export differs:\n%s\n---\n%s", a, b)
			}
			before := fingerprint(t, second)
			if d := apply(t, second, a, catalogue.Options{}); !d.Empty() {
				t.Fatalf("a second apply changed:\n%s", diffText(d, false))
			}
			sameFingerprint(t, before, fingerprint(t, second))
			// And the first database, from its own export.
			if d := apply(t, first, a, catalogue.Options{}); !d.Empty() {
				t.Fatalf("applying a hub's own export changed:\n%s", diffText(d, false))
			}
		})
	}
}

// TestFixture checks what testdata/hub.yaml makes: defaults, the site out of
// service, the out-of-order week, the policy, the users.
func TestFixture(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	d := apply(t, db, readFile(t, "testdata/hub.yaml"), catalogue.Options{})
	out := diffText(d, false)
	for _, want := range []string{
		"+ organisation carthage-films (Carthage Films, production_company, TN)",
		"+ site tunis (Médina Post Tunis, TN, Africa/Tunis, TND)",
		"~ policy tunis: confirm_needs_approval false → true, hold_lifetime \"168h\" → \"72h\", challenge_window \"48h\" → \"24h\", min_notice \"0s\" → \"48h\", reminder_offsets [72h, 24h] → [48h, 2h30m], overtime \"approval\" → \"managers\"",
		"+ week tunis (monday [08:30-12:30, 13:30-17:30], tuesday",
		"+ period tunis/Ramadan 2027 (2027-02-08 to 2027-03-09)",
		"+ holiday tunis 2027-12-31 Fête du personnel (provisional)",
		"+ resource tunis/ARRI Alexa 35 (equipment camera, rate_minor 900000 per day, out of service)",
		"+ rate card tunis resource \"Étalonnage 1\" per hour from 2027-01-01 to 2027-12-31 (amount_minor 160000)",
		"- site abidjan (out of service)",
		"+ holiday TN 2027-03-10 Aïd el-Fitr (provisional)",
		"+ user Manager@Medina-Post.example (Karim Jaziri, manager, medina-post)",
		"+ user operator@medina-post.example (Olfa Mansour, operator, medina-post, deactivated)",
		"new users have no password",
		"applied: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "operator@medina-post.example\n") {
		t.Errorf("a deactivated user is listed as needing a password:\n%s", out)
	}
	f, err := catalogue.Export(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var tunis, abidjan catalogue.Site
	for _, s := range f.Sites {
		switch s.Slug {
		case "tunis":
			tunis = s
		case "abidjan":
			abidjan = s
		}
	}
	if *abidjan.Active || *abidjan.Resources[0].Active {
		t.Errorf("abidjan and its room should be out of service: %+v", abidjan)
	}
	if got := tunis.Calendar.Week.Monday; !slices.Equal(got, []string{"08:30-12:30", "13:30-17:30"}) {
		t.Errorf("monday = %v", got)
	}
	if tunis.Resources[0].Name != "Étalonnage 1" || tunis.Resources[1].Name != "Auditorium" || tunis.Resources[0].RateUnit != "hour" || tunis.Resources[3].Category != "person" {
		t.Errorf("resources are not by category, kind and name: %+v", tunis.Resources)
	}
	var manager catalogue.User
	for _, u := range f.Users {
		if strings.EqualFold(u.Email, "manager@medina-post.example") {
			manager = u
		}
		if strings.Contains(u.Email, "@") && u.Locale == "" {
			t.Errorf("user %s has no locale", u.Email)
		}
	}
	if !slices.Equal(manager.Sites, []string{"abidjan", "tunis"}) || manager.Locale != "en" {
		t.Errorf("manager = %+v", manager)
	}
	// The changes were audited as posthub's own.
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE actor_role = 'system' AND action IN ('site.created', 'resource.created', 'user.created')`).Scan(&n); err != nil || n != 2+5+5 {
		t.Errorf("audited creations = %d (%v), want 12", n, err)
	}
}

// TestChanges: renaming a resource, adding a closure, taking a resource with no
// bookings out of service, repricing, a new user, a policy change: a dry run shows the
// diff and writes nothing; the apply makes it, keeping the resource's id; the next
// apply changes nothing.
func TestChanges(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	seedDemo(t, db)
	src := export(t, db)
	var oldID uuid.UUID
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM resources WHERE name = 'Edit Suite 4'`).Scan(&oldID); err != nil {
		t.Fatal(err)
	}

	edited := replaceOnce(t, src, "      - name: Edit Suite 4\n", "      - name: Edit Suite 4 — Corniche\n        renamed_from: Edit Suite 4\n")
	edited = replaceOnce(t, edited, "      - name: Sound Edit 2\n        category: room\n        kind: sound_edit_suite\n        capabilities: [pro_tools]\n        rate_minor: 45000\n        rate_unit: hour\n        trainee_capacity: 2\n        active: true\n",
		"      - name: Sound Edit 2\n        category: room\n        kind: sound_edit_suite\n        capabilities: [pro_tools]\n        rate_minor: 45000\n        rate_unit: hour\n        trainee_capacity: 2\n        active: false\n")
	edited = replaceOnce(t, edited, "      holidays: []\n    resources:\n      - name: DCP Mastering",
		"      holidays:\n        - date: \"2027-04-02\"\n          name: Inventaire annuel\n    resources:\n      - name: DCP Mastering")
	edited = replaceOnce(t, edited, "      - kind: grading_suite\n        unit: hour\n        amount_minor: 140000\n", "      - kind: grading_suite\n        unit: hour\n        amount_minor: 145000\n")
	edited = strings.Replace(edited, "      min_notice: 0s\n", "      min_notice: 24h\n", 1) // Casablanca's, the first
	edited = replaceOnce(t, edited, "users:\n", "users:\n  - email: salma@atlas-post.example\n    name: Salma Idrissi\n    role: manager\n    organisation: atlas-post\n    sites: [dakar]\n")

	want := []string{
		`~ resource casablanca/Edit Suite 4 — Corniche: name "Edit Suite 4" → "Edit Suite 4 — Corniche"`,
		"- resource casablanca/Sound Edit 2 (out of service)",
		"+ holiday casablanca 2027-04-02 Inventaire annuel",
		"~ rate card casablanca kind grading_suite per hour: amount_minor 140000 → 145000",
		`~ policy casablanca: min_notice "0s" → "24h"`,
		"+ user salma@atlas-post.example (Salma Idrissi, manager, atlas-post)",
	}
	before := fingerprint(t, db)
	dry := diffText(apply(t, db, edited, catalogue.Options{DryRun: true}), true)
	sameFingerprint(t, before, fingerprint(t, db))
	for _, w := range want {
		if !strings.Contains(dry, w) {
			t.Errorf("the dry run's diff lacks %q:\n%s", w, dry)
		}
	}
	if !strings.Contains(dry, "dry run: would make 2 created, 3 updated, 1 taken out of service, 0 removed; nothing written") {
		t.Errorf("dry run summary:\n%s", dry)
	}

	d := apply(t, db, edited, catalogue.Options{})
	real := diffText(d, false)
	if strings.TrimSuffix(real, lastLine(real)) != strings.TrimSuffix(dry, lastLine(dry)) {
		t.Errorf("the apply's diff differs from the dry run's:\n%s\n---\n%s", real, dry)
	}
	var id uuid.UUID
	var active bool
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM resources WHERE name = 'Edit Suite 4 — Corniche'`).Scan(&id); err != nil || id != oldID {
		t.Errorf("the renamed resource is %s (%v), want the same id %s", id, err, oldID)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT active FROM resources WHERE name = 'Sound Edit 2'`).Scan(&active); err != nil || active {
		t.Errorf("Sound Edit 2 active = %t (%v)", active, err)
	}
	var audited int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'resource.updated' AND object_id = $1 AND actor_role = 'system'`,
		oldID.String()).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("the rename was audited %d times (%v)", audited, err)
	}
	if d := apply(t, db, edited, catalogue.Options{}); !d.Empty() {
		t.Errorf("applying the edited file again changed:\n%s", diffText(d, false))
	}
	// The renamed_from left in the file is harmless; the export no longer has it.
	if out := export(t, db); strings.Contains(out, "renamed_from") || !strings.Contains(out, "Edit Suite 4 — Corniche") {
		t.Errorf("export after the rename:\n%s", out)
	}
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("%q is in the file %d times, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

func lastLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:] + "\n"
}

// TestAbsentAndPrune: what the file leaves out is left as it is, and said so; with
// Prune it is taken out of service, except a resource with bookings ahead, which
// fails the whole apply with nothing written.
func TestAbsentAndPrune(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	seedDemo(t, db)
	src := export(t, db)
	// Leave out Dakar's Salle de montage 3 and the user Moussa Sow.
	without := replaceOnce(t, src, "      - name: Salle de montage 3\n        category: room\n        kind: edit_suite\n        capabilities: [davinci_resolve]\n        rate_minor: 20000\n        rate_unit: hour\n        trainee_capacity: 2\n        active: true\n", "")
	without = replaceOnce(t, without, "  - email: moussa.sow@ndar-horizon.example\n    name: Moussa Sow\n    role: producer\n    locale: fr\n    organisation: ndar-horizon\n    active: true\n", "")

	d := apply(t, db, without, catalogue.Options{})
	out := diffText(d, false)
	if !d.Empty() || !strings.Contains(out, "= resource dakar/Salle de montage 3: not in the file; left in service (--prune takes it out of service)") ||
		!strings.Contains(out, "= user moussa.sow@ndar-horizon.example: not in the file; left active") {
		t.Fatalf("without --prune:\n%s", out)
	}

	// Book Salle de montage 3: pruning it is refused, and nothing is written.
	var room, site, prod uuid.UUID
	if err := db.Pool.QueryRow(ctx, `SELECT r.id, r.site_id FROM resources r WHERE r.name = 'Salle de montage 3'`).Scan(&room, &site); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM productions WHERE title = 'Xaritu Ndox'`).Scan(&prod); err != nil {
		t.Fatal(err)
	}
	start := dbtest.NextWorking(t, dbtest.SiteCalendar(t, db, site), time.Now().Add(72*time.Hour))
	b, err := db.Book(ctx, booking.System, booking.BookingInput{ProductionID: prod, ResourceIDs: []uuid.UUID{room}, Start: start, End: start.Add(time.Hour), Status: booking.StatusHold})
	if err != nil {
		t.Fatal(err)
	}
	before := fingerprint(t, db)
	_, err = catalogue.Apply(ctx, db, parse(t, without), catalogue.Options{Prune: true})
	if err == nil || !strings.Contains(err.Error(), "Salle de montage 3") || booking.ErrorCode(err) != booking.ECONFLICT {
		t.Fatalf("pruning a booked resource: %v", err)
	}
	sameFingerprint(t, before, fingerprint(t, db))
	// Listing it out of service in the file names its path.
	booked := replaceOnce(t, src, "        capabilities: [davinci_resolve]\n        rate_minor: 20000\n        rate_unit: hour\n        trainee_capacity: 2\n        active: true\n",
		"        capabilities: [davinci_resolve]\n        rate_minor: 20000\n        rate_unit: hour\n        trainee_capacity: 2\n        active: false\n")
	_, err = catalogue.Apply(ctx, db, parse(t, booked), catalogue.Options{})
	var inv *catalogue.Invalid
	if !errors.As(err, &inv) || inv.Problems[0].Path != "sites[1].resources[2].active" {
		t.Fatalf("taking a booked resource out of service: %v", err)
	}
	sameFingerprint(t, before, fingerprint(t, db))

	// With a resource free of bookings, --prune takes it out of service.
	if _, err := db.Act(ctx, booking.System, b.ID, booking.ActionRelease, booking.ActOptions{}); err != nil {
		t.Fatal(err)
	}
	d = apply(t, db, without, catalogue.Options{Prune: true})
	out = diffText(d, false)
	for _, want := range []string{"- resource dakar/Salle de montage 3 (not in the file)", "- user moussa.sow@ndar-horizon.example (not in the file)",
		"applied: 0 created, 0 updated, 2 taken out of service, 0 removed"} {
		if !strings.Contains(out, want) {
			t.Errorf("--prune's diff lacks %q:\n%s", want, out)
		}
	}
	if d := apply(t, db, without, catalogue.Options{Prune: true}); !d.Empty() {
		t.Errorf("pruning again changed:\n%s", diffText(d, false))
	}
}

// TestInvalid: a file breaking a rule fails with the path of what is wrong, and
// writes nothing.
func TestInvalid(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	seedDemo(t, db)
	src := export(t, db)
	before := fingerprint(t, db)
	for _, tc := range []struct {
		name, old, new, path, msg string
	}{
		{"a zone not in the tz data", "time_zone: Africa/Dakar", "time_zone: Africa/Timbuktoo", "sites[1].time_zone", "IANA zone"},
		{"an unknown currency", "currency: MAD", "currency: MAX", "sites[0].currency", "ISO 4217"},
		{"an unknown field", "        kind: dcp_mastering\n", "        kind: dcp_mastering\n        colour: blue\n", "sites[0].resources[0].colour", "unknown field (line"},
		{"a user's unknown organisation", "    organisation: quai-bleu\n", "    organisation: quai-rouge\n", "users[2].organisation", `no organisation "quai-rouge"`},
		{"a user's unknown site", "    sites: [casablanca, dakar]\n", "    sites: [casablanca, rabat]\n", "users[4].sites[1]", `no site "rabat"`},
		{"a span backwards", "monday: ['08:30-13:00', '14:30-18:00']", "monday: ['13:00-08:30', '14:30-18:00']", "sites[1].calendar.week.monday[0]", "from before to"},
		{"spans that overlap", "monday: ['08:30-13:00', '14:30-18:00']", "monday: ['08:30-15:00', '14:30-18:00']", "sites[1].calendar.week", "overlap"},
		{"a bad date", "from: \"2027-02-08\"", "from: \"2027-02-30\"", "sites[0].calendar.periods[0].from", "date"},
		{"a rate card of no resource", "      - resource: Grading Suite 1 — Zellige\n        unit: hour\n        amount_minor: 165000\n",
			"      - resource: Grading Suite 9\n        unit: hour\n        amount_minor: 165000\n", "sites[0].rate_cards[5].resource", `no resource "Grading Suite 9"`},
		{"a bad category", "        category: person\n        kind: colourist\n        capabilities: ['lang:en', 'lang:fr']", "        category: ghost\n        kind: colourist\n        capabilities: ['lang:en', 'lang:fr']",
			"sites[0].resources[13].category", "must be room, person or equipment"},
		{"a negative rate", "        rate_minor: 15000\n        rate_unit: hour\n        trainee_capacity: 0\n        active: true\n    rate_cards:\n      - kind: edit_suite", "        rate_minor: -1\n        rate_unit: hour\n        trainee_capacity: 0\n        active: true\n    rate_cards:\n      - kind: edit_suite",
			"sites[1].resources[4].rate_minor", "10^12"},
		{"a kind that changes", "    kind: hub\n", "    kind: production_company\n", "organisations[0].kind", "does not change"},
		{"a name twice", "      - name: Edit Suite 2\n", "      - name: Edit Suite 1\n", "sites[0].resources[2].name", "named twice"},
		{"a bad duration", "hold_lifetime: 168h", "hold_lifetime: a week", "sites[0].policy.hold_lifetime", "duration"},
		{"a policy out of bounds", "hold_lifetime: 168h", "hold_lifetime: 30m", "sites[0].policy.hold_lifetime", "between"},
		{"a string for a number", "trainee_capacity: 12", "trainee_capacity: twelve", "sites[0].resources[10].trainee_capacity", "cannot unmarshal"},
		{"the last admin demoted", "    role: admin\n", "    role: operator\n", "users[0]", "last active admin"},
		{"a zone change with rate cards", "time_zone: Africa/Casablanca", "time_zone: Europe/Paris", "sites[0]", "zone and currency change only"},
		{"a newer format", "version: 1\n", "version: 2\n", "version", "must be 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(src, tc.old, tc.new, 1)
			if bad == src {
				t.Fatalf("%q is not in the file", tc.old)
			}
			f, err := catalogue.Parse(strings.NewReader(bad), "hub.yaml")
			if err == nil {
				_, err = catalogue.Apply(ctx, db, f, catalogue.Options{})
			}
			var inv *catalogue.Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("err = %v, want *Invalid", err)
			}
			found := false
			for _, p := range inv.Problems {
				if p.Path == tc.path && strings.Contains(p.Message, tc.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("problems %v, want one at %s saying %q", inv.Problems, tc.path, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "hub.yaml: ") {
				t.Errorf("the error does not name the file: %v", err)
			}
		})
	}
	sameFingerprint(t, before, fingerprint(t, db))
}

// TestParse covers what the reader refuses before any database is involved.
func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, want string }{
		{"", "the file is empty"},
		{"version: 1\n---\nversion: 1\n", "more than one YAML document"},
		{"sites: [\n", "did not find expected"},
		{"sites:\n  - slug: a\n    slug: b\n", `mapping key "slug" already defined`},
		{"users:\n  - email: a@b.example\n    password: hunter2\n", "users[0].password: unknown field (line 3)"},
		{"national_holidays:\n  ma:\n    - {date: 2027-01-01, name: X}\n", "national_holidays.ma: ma is not an ISO 3166-1"},
	} {
		f, err := catalogue.Parse(strings.NewReader(tc.src), "x.yaml")
		if err == nil {
			if ps := catalogue.Validate(f); len(ps) > 0 {
				err = &catalogue.Invalid{Name: "x.yaml", Problems: ps}
			}
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.src, err, tc.want)
		}
	}
}

// TestHolidayMoves: a provisional holiday confirmed on another date is the domain's
// confirmation, not a removal and an addition; removing a country's holidays takes
// an empty list.
func TestHolidayMoves(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	src := export(t, db) // an empty hub: only the migrations' holidays
	moved := replaceOnce(t, src, "    - date: \"2027-03-10\"\n      name: Eid al-Fitr\n      provisional: true\n", "    - date: \"2027-03-09\"\n      name: Eid al-Fitr\n")
	d := apply(t, db, moved, catalogue.Options{})
	if out := diffText(d, false); !strings.Contains(out, "~ holiday MA Eid al-Fitr: date 2027-03-10 → 2027-03-09, provisional true → false\napplied: 0 created, 1 updated") {
		t.Errorf("moving a provisional holiday:\n%s", out)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'holiday.confirmed'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("holiday.confirmed audited %d times (%v)", n, err)
	}
	f := parse(t, moved)
	f.NationalHolidays["SN"] = []catalogue.Holiday{}
	d, err := catalogue.Apply(ctx, db, f, catalogue.Options{})
	if err != nil || d.Count(catalogue.Remove) < 20 {
		t.Fatalf("removing Senegal's holidays: %v %v", d, err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM holidays WHERE country = 'SN'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("Senegal keeps %d holidays", n)
	}
	// A file without national_holidays leaves them all.
	f = parse(t, moved)
	f.NationalHolidays = nil
	if d, err := catalogue.Apply(ctx, db, f, catalogue.Options{}); err != nil || !d.Empty() || len(d.Kept) != 0 {
		t.Errorf("a file without national holidays: %+v %v", d, err)
	}
}

// TestDemoIsHubYAML: the demo Seed makes is hub.yaml, exactly: its export is the file
// (but for the national holidays, which come with the migrations).
func TestDemoIsHubYAML(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	users := seedDemo(t, db)
	got, err := catalogue.Export(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	got.NationalHolidays = nil
	want := demo.Hub()
	var a, b bytes.Buffer
	if err := catalogue.Encode(&a, got); err != nil {
		t.Fatal(err)
	}
	if err := catalogue.Encode(&b, want); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("the demo's export differs from hub.yaml:\n%s\n---\n%s", a.String(), b.String())
	}
	for key, email := range demo.Emails() {
		if !slices.ContainsFunc(want.Users, func(u catalogue.User) bool { return u.Email == email }) || users[key] == uuid.Nil {
			t.Errorf("demo user %s (%s) is not in hub.yaml or was not made", key, email)
		}
	}
	if !slices.ContainsFunc(want.Organisations, func(o catalogue.Organisation) bool { return o.Slug == demo.HubSlug }) {
		t.Errorf("hub.yaml lacks the hub organisation %s", demo.HubSlug)
	}
	// The demo users sign in with the demo password.
	if _, _, err := db.Login(ctx, demo.Emails()["producer"], demo.Password, time.Hour); err != nil {
		t.Errorf("the demo producer cannot sign in: %v", err)
	}
}
