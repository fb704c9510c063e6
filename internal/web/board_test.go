package web_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// boardJSON is what the board page hands board.js.
type boardJSON struct {
	Site struct {
		ID, Name, Zone string
	} `json:"site"`
	Zoom     string `json:"zoom"`
	StepMin  int    `json:"step_min"`
	Editable bool   `json:"editable"`
	From     int64  `json:"from"`
	To       int64  `json:"to"`
	Days     []struct {
		Date        string `json:"date"`
		Label       string `json:"label"`
		Start       int64  `json:"start"`
		End         int64  `json:"end"`
		Closed      bool   `json:"closed"`
		Holiday     string `json:"holiday"`
		Provisional bool   `json:"provisional"`
	} `json:"days"`
	Offsets   [][2]int64 `json:"offsets"`
	Working   [][2]int64 `json:"working"`
	Resources []struct {
		ID, Name, Kind string
	} `json:"resources"`
	Productions map[string]string `json:"productions"`
	Bookings    []struct {
		ID           uuid.UUID `json:"id"`
		ProductionID uuid.UUID `json:"production_id"`
		Status       string    `json:"status"`
		Start, End   int64
		Resources    []struct {
			ResourceID uuid.UUID `json:"resource_id"`
			Rank       int       `json:"rank"`
		} `json:"resources"`
		Version int `json:"version"`
	} `json:"bookings"`
	Blocks []struct {
		ResourceID string `json:"resource_id"`
		Start, End int64
		Kind       string
	} `json:"blocks"`
	Messages map[string]string `json:"messages"`
}

var boardDataBlock = regexp.MustCompile(`(?s)<script type="application/json" id="board-data">(.*?)</script>`)

func readBoard(t *testing.T, body string) boardJSON {
	t.Helper()
	m := boardDataBlock.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no board data in the page")
	}
	var d boardJSON
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("board data: %v", err)
	}
	return d
}

// TestBoardPage: the board renders for managers and admins in English and French with
// the site's resources grouped by kind, the window's bookings (holds with their rank),
// blocks, holidays (provisional marked) and working time for board.js; zooms to a day,
// a week or a month; is in the nav; and is refused to producers and operators.
func TestBoardPage(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	confirmed, first, second := seedBookings(t, a)
	day := a.workday(t, "casablanca", 7, 1)
	if _, err := a.db.AddBlock(t.Context(), booking.System, booking.Block{ResourceID: a.resource(t, "Grading Suite 3 — Oasis"),
		Start: a.at(t, "casablanca", day, 9), End: a.at(t, "casablanca", day, 12), Kind: "leave", Reason: "dentist"}); err != nil {
		t.Fatal(err)
	}
	casablanca := a.sites["casablanca"].ID
	if _, err := a.db.AddHoliday(t.Context(), booking.System, booking.Holiday{SiteID: &casablanca,
		Date: day.AddDays(1).String(), Name: "Fête du Zellige", Provisional: true}); err != nil {
		t.Fatal(err)
	}
	path := "/manage/board?site=casablanca&zoom=week&date=" + day.String()

	for _, c := range []struct {
		who, lang, title, kind, zoom string
	}{
		{"manager", "en", "Scheduling board", "Grading suite", "Week"},
		{"manager", "fr-FR,fr;q=0.9", "Tableau de planification", "Salle d’étalonnage", "Semaine"},
		{"admin", "en", "Scheduling board", "Grading suite", "Week"},
	} {
		cl := a.client(t, c.lang)
		cl.login(t, c.who)
		st, body, _ := cl.get(t, path)
		if st != http.StatusOK {
			t.Fatalf("%s %s: %d", c.who, c.lang, st)
		}
		for _, want := range []string{"<h1>" + c.title, `href="/manage/board"`, `id="board"`, `/static/board.js`, `/static/board.css`,
			"Grading Suite 2 — Anfa", "Mix Stage A", `aria-current="page">` + c.zoom + `</a>`, `data-csrf="`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s %s: the board lacks %q", c.who, c.lang, want)
			}
		}
		if !strings.Contains(body, `aria-controls="bg-grading_suite">`+c.kind) {
			t.Errorf("%s %s: no fold for the grading suites named %q", c.who, c.lang, c.kind)
		}
		// No catalog key shows, in the page or in the words for board.js.
		if m := regexp.MustCompile(`\b(board|status|day|month|num)\.[a-z][a-z0-9_]*\b`).FindString(stripURLs(body)); m != "" {
			t.Errorf("%s %s: untranslated key %q", c.who, c.lang, m)
		}
		if m := rawKey.FindString(stripURLs(body)); m != "" {
			t.Errorf("%s %s: untranslated key %q", c.who, c.lang, m)
		}
		checkFormsAndLabels(t, c.who+" board", body)
		d := readBoard(t, body)
		if d.Zoom != "week" || len(d.Days) != 7 || d.StepMin != 60 || !d.Editable || d.Site.Zone != "Africa/Casablanca" {
			t.Errorf("%s: zoom %s, %d days, step %d, editable %v, zone %s", c.who, d.Zoom, len(d.Days), d.StepMin, d.Editable, d.Site.Zone)
		}
		ids := map[string]int{}
		for i, b := range d.Bookings {
			ids[b.ID.String()] = i
		}
		for _, want := range []booking.Booking{confirmed, first, second} {
			i, ok := ids[want.ID.String()]
			if !ok {
				t.Errorf("%s: booking %s not on the board", c.who, want.ID)
				continue
			}
			got := d.Bookings[i]
			if got.Start != want.Start.UnixMilli() || got.End != want.End.UnixMilli() || got.Status != string(want.Status) || len(got.Resources) != 1 || got.Resources[0].ResourceID != want.Resources[0].ResourceID || got.Version != want.Version {
				t.Errorf("%s: booking %+v, want %+v", c.who, got, want)
			}
			if d.Productions[got.ProductionID.String()] == "" {
				t.Errorf("%s: no title for production %s", c.who, got.ProductionID)
			}
		}
		if b := d.Bookings[ids[second.ID.String()]]; b.Resources[0].Rank != 2 {
			t.Errorf("the second hold on the mix stage has rank %d", b.Resources[0].Rank)
		}
		if len(d.Blocks) != 1 || d.Blocks[0].Kind != "leave" {
			t.Errorf("blocks %+v", d.Blocks)
		}
		var hol int
		for _, dd := range d.Days {
			if dd.Holiday != "" {
				hol++
				if !dd.Provisional || dd.Date != day.AddDays(1).String() {
					t.Errorf("holiday %+v", dd)
				}
			}
			if dd.End <= dd.Start {
				t.Errorf("day %+v shows no hours", dd)
			}
		}
		if hol != 1 || len(d.Working) == 0 || len(d.Offsets) == 0 {
			t.Errorf("%d holidays, %d working spans, offsets %v", hol, len(d.Working), d.Offsets)
		}
		if c.lang != "en" && (d.Messages["confirm"] != "Confirmer" || d.Messages["num_decimal"] != ",") {
			t.Errorf("French words for board.js: %v", d.Messages)
		}
		if c.lang == "en" && d.Messages["undo"] != "Undo the last move" {
			t.Errorf("English words for board.js: %v", d.Messages)
		}
	}

	// Day and month zooms; Dakar has resources of its own.
	cl := a.client(t, "en")
	cl.login(t, "manager")
	for _, c := range []struct {
		q    string
		days int
		step int
	}{
		{"zoom=day&date=" + day.String(), 1, 15},
		{"zoom=month&date=2027-02-14", 28, 24 * 60},
		{"zoom=month&date=2027-03-31", 31, 24 * 60},
		{"site=dakar", 7, 60},
		{"zoom=bogus&date=bogus", 7, 60},
	} {
		st, body, _ := cl.get(t, "/manage/board?"+c.q)
		if st != http.StatusOK {
			t.Fatalf("%s: %d", c.q, st)
		}
		d := readBoard(t, body)
		if len(d.Days) != c.days || d.StepMin != c.step || len(d.Resources) == 0 {
			t.Errorf("%s: %d days, step %d min, %d resources", c.q, len(d.Days), d.StepMin, len(d.Resources))
		}
		if d.To-d.From < int64(c.days)*23*int64(time.Hour/time.Millisecond) {
			t.Errorf("%s: window of %d ms", c.q, d.To-d.From)
		}
	}

	// Managers and admins only.
	for _, who := range []string{"producer", "operator"} {
		cl := a.client(t, "en")
		cl.login(t, who)
		if st, _, _ := cl.get(t, "/manage/board"); st != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", who, st)
		}
		if _, body, _ := cl.get(t, "/"); strings.Contains(body, `href="/manage/board"`) {
			t.Errorf("%s's nav links the board", who)
		}
	}
	anon := a.client(t, "en")
	if res, _ := anon.do(t, "GET", "/manage/board", nil); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("without a session: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestBoardBookingsMatchTheAPI: the board's one-query read gives, for every field the
// board uses, what the API's booking read gives, challenges and ranks included.
func TestBoardBookingsMatchTheAPI(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := t.Context()
	_, _, second := seedBookings(t, a)
	// The second hold on the mix stage asks to confirm: it challenges the first.
	ch, err := a.db.Act(ctx, a.actors["producer"], second.ID, booking.ActionConfirm, booking.ActOptions{})
	if err != nil || ch.Challenge == nil {
		t.Fatalf("confirming the second hold: %+v, %v", ch.Challenge, err)
	}
	site := a.sites["casablanca"].ID
	from, to := time.Now(), time.Now().Add(60*24*time.Hour)
	got, err := a.db.BoardBookings(ctx, a.actors["manager"], site, from, to, []booking.Status{booking.StatusHold, booking.StatusConfirmed}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _, err := a.db.ListBookings(ctx, a.actors["manager"], booking.BookingFilter{SiteID: &site, From: &from, To: &to,
		Status: []booking.Status{booking.StatusHold, booking.StatusConfirmed}, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) < 3 {
		t.Fatalf("board %d bookings, API %d", len(got), len(want))
	}
	var challenged int
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.ProductionID != w.ProductionID || g.SiteID != w.SiteID || g.Status != w.Status || !g.Start.Equal(w.Start) ||
			!g.End.Equal(w.End) || g.Rank != w.Rank || g.ApprovalPending != w.ApprovalPending || g.Overtime != w.Overtime || g.Version != w.Version {
			t.Errorf("board %+v\nAPI   %+v", g, w)
		}
		if len(g.Resources) != len(w.Resources) {
			t.Errorf("%s: resources %v, API %v", g.ID, g.Resources, w.Resources)
		}
		for j := range w.Resources {
			if j < len(g.Resources) && g.Resources[j] != w.Resources[j] {
				t.Errorf("%s: resource %+v, API %+v", g.ID, g.Resources[j], w.Resources[j])
			}
		}
		if (g.Challenge == nil) != (w.Challenge == nil) || (g.Challenge != nil && (g.Challenge.ID != w.Challenge.ID || !g.Challenge.Deadline.Equal(w.Challenge.Deadline))) {
			t.Errorf("%s: challenge %+v, API %+v", g.ID, g.Challenge, w.Challenge)
		}
		if len(g.ChallengedBy) != len(w.ChallengedBy) {
			t.Errorf("%s: challenged by %+v, API %+v", g.ID, g.ChallengedBy, w.ChallengedBy)
		}
		challenged += len(g.ChallengedBy)
	}
	if challenged != 1 {
		t.Errorf("%d open challenges against holds on the board", challenged)
	}
	// A producer's board read is confined to their organisation.
	mine, err := a.db.BoardBookings(ctx, a.actors["producer"], site, from, to, nil, 0)
	if err != nil || len(mine) != 1 || mine[0].ID != second.ID {
		t.Errorf("the producer reads %d bookings (%v)", len(mine), err)
	}
}
