package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/httpapi"
)

// The scheduling board, /manage/board: a site's resources (rows, grouped by kind)
// against time (a day, a week or a month), on which managers drag bookings to another
// time or resource, resize them, draw new holds and act on them. The page carries the
// window's data; everything it changes goes through the API (PATCH and POST
// /api/v1/bookings…), so the rules of ranks, challenges, approval, working time and
// ring-fences apply, and it follows GET /api/v1/events to show others' changes live.
// The drawing and the pointer and keyboard handling are static/board.js.

// boardZooms are the board's scales, each with its number of days and its step (what
// an arrow key moves a booking by; a drag snaps to it too).
var boardZooms = map[string]struct {
	step time.Duration
}{
	"day":   {15 * time.Minute},
	"week":  {time.Hour},
	"month": {24 * time.Hour},
}

// boardStatuses are the bookings the board draws: the ones that hold a resource.
var boardStatuses = []booking.Status{booking.StatusHold, booking.StatusConfirmed, booking.StatusCompleted}

// boardBookingStore reads a site's bookings in a window in one query (*postgres.DB);
// without it the board pages through ListBookings.
type boardBookingStore interface {
	BoardBookings(ctx context.Context, a booking.Actor, siteID uuid.UUID, from, to time.Time, statuses []booking.Status, limit int) ([]booking.Booking, error)
}

// boardBlockStore reads the blocks of all a site's resources in one query
// (*postgres.DB); without it the board asks resource by resource.
type boardBlockStore interface {
	SiteBlocks(ctx context.Context, siteID uuid.UUID, from, to time.Time) ([]booking.Block, error)
}

// boardLimit bounds the bookings one board page carries.
const boardLimit = 10000

// boardPage is the page's own data: the form, the rows as HTML, and the rest as JSON
// for board.js.
type boardPage struct {
	Sites    []booking.Site
	Site     booking.Site
	Zoom     string
	Date     string
	Zooms    []boardZoomLink
	Prev     string
	Next     string
	Today    string
	Range    string
	Zone     string
	Hours    string
	Editable bool
	Groups   []boardGroup
	// Productions are those a new hold may be for.
	Productions []boardProduction
	JSON        template.JS
	Count       int
	Truncated   bool
}

type boardZoomLink struct {
	Zoom, Label, Href string
	Current           bool
}

type boardGroup struct {
	Kind, Label string
	Resources   []boardResource
}

type boardResource struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

type boardProduction struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// boardData is what board.js reads from the page. Instants are milliseconds since the
// epoch; bookings have the API's field names, so the script reads the page's and the
// API's alike.
type boardData struct {
	Site struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Zone string `json:"zone"`
	} `json:"site"`
	Zoom     string `json:"zoom"`
	StepMin  int    `json:"step_min"`
	Editable bool   `json:"editable"`
	Role     string `json:"role"`
	From     int64  `json:"from"`
	To       int64  `json:"to"`
	Now      int64  `json:"now"`
	// LastEventID is the newest change before the bookings were read: the event
	// stream resumes from it, so nothing between the page and the stream is missed.
	LastEventID int64             `json:"last_event_id"`
	Days        []boardDay        `json:"days"`
	Offsets     [][2]int64        `json:"offsets"`
	Working     [][2]int64        `json:"working"`
	Resources   []boardResource   `json:"resources"`
	Productions map[string]string `json:"productions"`
	Bookings    []boardBooking    `json:"bookings"`
	Blocks      []boardBlock      `json:"blocks"`
	Messages    map[string]string `json:"messages"`
}

// boardDay is a column: the local day's displayed hours as instants, its label and
// what kind of day it is.
type boardDay struct {
	Date     string `json:"date"`
	Label    string `json:"label"`
	Long     string `json:"long"`
	Weekday  int    `json:"wd"`
	Midnight int64  `json:"midnight"`
	Start    int64  `json:"start"`
	End      int64  `json:"end"`
	Closed   bool   `json:"closed,omitempty"`
	Holiday  string `json:"holiday,omitempty"`
	// Provisional marks a holiday whose date may still move: it counts as a working
	// day until confirmed.
	Provisional bool `json:"provisional,omitempty"`
}

// boardBooking is a booking as the board needs it, with the API's field names; its
// times are milliseconds (board.js reads both), and what the board does not use (the
// site, which is the page's; notes; local times) is left out to keep the page small.
type boardBooking struct {
	ID                   uuid.UUID           `json:"id"`
	ProductionID         uuid.UUID           `json:"production_id"`
	Status               booking.Status      `json:"status"`
	Start                int64               `json:"start"`
	End                  int64               `json:"end"`
	Resources            []boardBooked       `json:"resources"`
	ApprovalPending      bool                `json:"approval_pending,omitempty"`
	Challenge            *booking.Challenge  `json:"challenge,omitempty"`
	ChallengedBy         []booking.Challenge `json:"challenged_by,omitempty"`
	Overtime             bool                `json:"overtime,omitempty"`
	RequestedStart       *time.Time          `json:"requested_start,omitempty"`
	RequestedEnd         *time.Time          `json:"requested_end,omitempty"`
	RequestedResourceIDs []uuid.UUID         `json:"requested_resource_ids,omitempty"`
	Version              int                 `json:"version"`
}

// boardBooked is one resource of a booking, with its rank in the resource's holds.
type boardBooked struct {
	ResourceID uuid.UUID `json:"resource_id"`
	Rank       int       `json:"rank,omitempty"`
}

// boardBlock is one occurrence of a resource's block.
type boardBlock struct {
	ResourceID uuid.UUID `json:"resource_id"`
	Start      int64     `json:"start"`
	End        int64     `json:"end"`
	Kind       string    `json:"kind"`
	Title      string    `json:"title"`
}

// boardMessages are the words board.js shows, sent in the page's language.
var boardMessages = []string{
	"board.js_confirm", "board.js_approve", "board.js_release", "board.js_decline", "board.js_open", "board.js_move_here",
	"board.js_cancel_move", "board.js_undo", "board.js_undone", "board.js_moved", "board.js_moved_request", "board.js_refused",
	"board.js_clash", "board.js_clash_block", "board.js_clash_hold", "board.js_working", "board.js_working_was", "board.js_closed_part",
	"board.js_no_working", "board.js_queue", "board.js_pauses", "board.js_other_kind", "board.js_saving", "board.js_create",
	"board.js_place_hold", "board.js_cancel", "board.js_placed", "board.js_choose_production", "board.js_acted", "board.js_stale",
	"board.js_live_on", "board.js_live_off", "board.js_rank", "board.js_challenging", "board.js_challenged",
	"board.js_approval_pending", "board.js_requested", "board.js_overtime", "board.js_menu", "board.js_keys", "board.js_failed", "board.js_nothing_to_undo",
	"status.hold", "status.confirmed", "status.completed", "status.released", "status.declined", "status.expired", "status.cancelled",
	"num.decimal", "error.conflict", "error.internal", "error.invalid", "error.not_found", "error.forbidden", "error.precondition",
	"error.rate_limited", "error.unavailable", "error.unprocessable", "error.unauthorized",
}

func (u *UI) registerBoard(r *httpapi.Router) {
	r.Handle("GET", "/manage/board", u.board)
}

func init() { pages = append(pages, "board.html") }

func (u *UI) board(w http.ResponseWriter, r *http.Request) {
	lang := language(r)
	title := translate(lang, "board.title")
	p, err := u.boardPageData(r.Context(), actor(r), lang, r)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	u.render(w, r, "board.html", http.StatusOK, page{Title: title, Data: p})
}

// boardWindow is the board's days for a zoom around a date: the day, the week from
// its Monday, or its calendar month.
func boardWindow(zoom string, d calendar.Date) (from calendar.Date, days int, prev, next calendar.Date) {
	switch zoom {
	case "day":
		return d, 1, d.AddDays(-1), d.AddDays(1)
	case "month":
		first := calendar.Date{Year: d.Year, Month: d.Month, Day: 1}
		t := time.Date(d.Year, d.Month, 1, 12, 0, 0, 0, time.UTC)
		n := t.AddDate(0, 1, 0).Sub(t).Hours() / 24
		pm := t.AddDate(0, -1, 0)
		return first, int(n + 0.5), calendar.Date{Year: pm.Year(), Month: pm.Month(), Day: 1}, first.AddDays(int(n + 0.5))
	default:
		m := mondayOf(d)
		return m, 7, m.AddDays(-7), m.AddDays(7)
	}
}

// boardPageData builds the board of the site the request names (boardPage), with its
// window's bookings in one query and its blocks in another.
func (u *UI) boardPageData(ctx context.Context, a booking.Actor, lang string, r *http.Request) (boardPage, error) {
	var p boardPage
	sites, err := u.Catalogue.ListSites(ctx)
	if err != nil {
		return p, err
	}
	site, ok := (&lookups{sites: sites}).site(r, a)
	if !ok {
		return p, booking.Errorf(booking.ENOTFOUND, "No site.")
	}
	loc, err := calendar.LoadLocation(site.TimeZone)
	if err != nil {
		return p, err
	}
	now := u.now()
	q := r.URL.Query()
	zoom := q.Get("zoom")
	if _, ok := boardZooms[zoom]; !ok {
		zoom = "week"
	}
	date, err := calendar.ParseDate(q.Get("date"))
	if err != nil {
		date = siteToday(now, loc)
	}
	from, days, prev, next := boardWindow(zoom, date)
	start, end := dateWindow(from, from.AddDays(days-1), loc)

	sc, err := u.Calendars.SiteCalendar(ctx, site.ID)
	if err != nil {
		return p, err
	}
	cal, err := sc.Calendar()
	if err != nil {
		return p, err
	}
	h0, h1 := displayHours(sc)

	p = boardPage{Sites: sites, Site: site, Zoom: zoom, Date: date.String(), Today: siteToday(now, loc).String(),
		Zone: zoneLabel(site.TimeZone, start.In(loc)), Hours: fmt.Sprintf("%02d:00–%02d:00", h0, h1),
		Editable: a.Role == booking.RoleAdmin || a.ManagesSite(site.ID)}
	link := func(z string, d calendar.Date) string {
		v := url.Values{"site": {site.Slug}, "zoom": {z}, "date": {d.String()}}
		return "/manage/board?" + v.Encode()
	}
	p.Prev, p.Next = link(zoom, prev), link(zoom, next)
	for _, z := range [][2]string{{"day", "board.zoom_day"}, {"week", "board.zoom_week"}, {"month", "board.zoom_month"}} {
		p.Zooms = append(p.Zooms, boardZoomLink{Zoom: z[0], Label: catalog.T(lang, z[1]), Href: link(z[0], date), Current: z[0] == zoom})
	}
	p.Range = formatShortDate(lang, from)
	if days > 1 {
		p.Range += " – " + formatShortDate(lang, from.AddDays(days-1))
	}
	p.Range += " " + strconv.Itoa(from.AddDays(days-1).Year)

	var d boardData
	d.Site.ID, d.Site.Name, d.Site.Zone = site.ID.String(), site.Name, site.TimeZone
	d.Zoom, d.StepMin, d.Editable, d.Role = zoom, int(boardZooms[zoom].step/time.Minute), p.Editable, string(a.Role)
	d.From, d.To, d.Now = start.UnixMilli(), end.UnixMilli(), now.UnixMilli()

	// Columns: each local day's displayed hours, holidays (provisional marked) and
	// days without working time.
	holidays := map[calendar.Date]booking.Holiday{}
	for _, h := range sc.Holidays {
		if hd, err := calendar.ParseDate(h.Date); err == nil {
			if prev, ok := holidays[hd]; !ok || prev.Provisional {
				holidays[hd] = h
			}
		}
	}
	// The working time of the window (a day beyond each end, for moves to its edges),
	// provisional holidays counted as working days as bookings count them.
	working := cal.WorkingTime(calendar.Interval{Start: start.Add(-24 * time.Hour), End: end.Add(24 * time.Hour)}, calendar.Options{})
	for _, iv := range working {
		d.Working = append(d.Working, [2]int64{iv.Start.UnixMilli(), iv.End.UnixMilli()})
	}
	for i := 0; i < days; i++ {
		day := from.AddDays(i)
		ds, de := dateWindow(day, day, loc)
		col := boardDay{Date: day.String(), Weekday: int(day.Weekday()), Midnight: ds.UnixMilli(),
			Start: day.At(calendar.Clock{Hour: h0}, loc).UnixMilli(), End: day.At(calendar.Clock{Hour: h1}, loc).UnixMilli(),
			Label:  translate(lang, fmt.Sprintf("day.%d", day.Weekday())) + " " + strconv.Itoa(day.Day),
			Long:   formatShortDate(lang, day),
			Closed: working.Clip(calendar.Interval{Start: ds, End: de}).Duration() == 0}
		if h1 >= 24 {
			col.End = de.UnixMilli()
		}
		if h, ok := holidays[day]; ok {
			col.Holiday, col.Provisional = h.Name, h.Provisional
			if h.Provisional {
				col.Holiday += " (" + translate(lang, "calendar.provisional") + ")"
			}
		}
		d.Days = append(d.Days, col)
	}
	d.Offsets = zoneOffsets(loc, start.Add(-24*time.Hour), end.Add(24*time.Hour))

	// Rows: the site's resources in service, grouped by kind.
	resources, err := u.Catalogue.ListResources(ctx, booking.ResourceFilter{SiteID: &site.ID})
	if err != nil {
		return p, err
	}
	sort.SliceStable(resources, func(i, j int) bool {
		if resources[i].Kind != resources[j].Kind {
			return kindLabel(lang, resources[i].Kind) < kindLabel(lang, resources[j].Kind)
		}
		return resources[i].Name < resources[j].Name
	})
	onBoard := map[uuid.UUID]bool{}
	for _, res := range resources {
		if res.SiteID != site.ID {
			continue
		}
		onBoard[res.ID] = true
		br := boardResource{ID: res.ID.String(), Name: res.Name, Kind: res.Kind}
		d.Resources = append(d.Resources, br)
		if n := len(p.Groups); n == 0 || p.Groups[n-1].Kind != res.Kind {
			p.Groups = append(p.Groups, boardGroup{Kind: res.Kind, Label: kindLabel(lang, res.Kind)})
		}
		g := &p.Groups[len(p.Groups)-1]
		g.Resources = append(g.Resources, br)
	}

	// The change log's newest entry before the bookings are read.
	if u.api != nil && u.api.Changes != nil {
		if _, newest, err := u.api.Changes.ChangeBounds(ctx); err == nil {
			d.LastEventID = newest
		}
	}
	bookings, err := u.boardBookings(ctx, a, site.ID, start, end)
	if err != nil {
		return p, err
	}
	p.Count, p.Truncated = len(bookings), len(bookings) >= boardLimit
	d.Bookings = make([]boardBooking, 0, len(bookings))
	for _, b := range bookings {
		bb := boardBooking{ID: b.ID, ProductionID: b.ProductionID, Status: b.Status, Start: b.Start.UnixMilli(), End: b.End.UnixMilli(),
			Resources: make([]boardBooked, len(b.Resources)), ApprovalPending: b.ApprovalPending, Challenge: b.Challenge,
			ChallengedBy: b.ChallengedBy, Overtime: b.Overtime, RequestedStart: b.RequestedStart, RequestedEnd: b.RequestedEnd,
			RequestedResourceIDs: b.RequestedResourceIDs, Version: b.Version}
		for i, r := range b.Resources {
			bb.Resources[i] = boardBooked{ResourceID: r.ResourceID, Rank: r.Rank}
		}
		d.Bookings = append(d.Bookings, bb)
	}

	blocks, err := u.boardBlocks(ctx, site.ID, resources, start, end)
	if err != nil {
		return p, err
	}
	d.Blocks = []boardBlock{}
	for _, bl := range blocks {
		if !onBoard[bl.ResourceID] {
			continue
		}
		tip := translate(lang, "block."+bl.Kind)
		if bl.Reason != "" {
			tip += ": " + bl.Reason
		}
		for _, iv := range blockOccurrences(bl, loc, start, end) {
			if iv.End.After(start) && iv.Start.Before(end) {
				d.Blocks = append(d.Blocks, boardBlock{ResourceID: bl.ResourceID, Start: iv.Start.UnixMilli(), End: iv.End.UnixMilli(), Kind: bl.Kind, Title: tip})
			}
		}
	}

	prods, err := u.Catalogue.ListProductions(ctx, a)
	if err != nil {
		return p, err
	}
	d.Productions = make(map[string]string, len(prods))
	for _, pr := range prods {
		d.Productions[pr.ID.String()] = pr.Title
		p.Productions = append(p.Productions, boardProduction{ID: pr.ID.String(), Title: pr.Title})
	}
	sort.SliceStable(p.Productions, func(i, j int) bool { return p.Productions[i].Title < p.Productions[j].Title })

	d.Messages = boardWords(lang)
	raw, err := json.Marshal(d)
	if err != nil {
		return p, err
	}
	p.JSON = template.JS(raw) //nolint:gosec // json.Marshal escapes <, > and &, so the data cannot end its <script>
	return p, nil
}

// boardWords are board.js's words in lang, named without their catalog prefix
// (board.js_confirm is confirm, day.1 is day_1), so no catalog key shows in the page.
func boardWords(lang string) map[string]string {
	keys := append([]string(nil), boardMessages...)
	for i := 0; i < 7; i++ {
		keys = append(keys, fmt.Sprintf("day.%d", i))
	}
	for i := 1; i <= 12; i++ {
		keys = append(keys, fmt.Sprintf("month.%d", i))
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[boardWordName.Replace(k)] = translate(lang, k)
	}
	return out
}

var boardWordName = strings.NewReplacer("board.js_", "", ".", "_")

// boardBookings reads the window's bookings: in one query where the store can.
func (u *UI) boardBookings(ctx context.Context, a booking.Actor, site uuid.UUID, from, to time.Time) ([]booking.Booking, error) {
	if s, ok := u.Bookings.(boardBookingStore); ok {
		return s.BoardBookings(ctx, a, site, from, to, boardStatuses, boardLimit)
	}
	return u.listAll(ctx, a, booking.BookingFilter{SiteID: &site, From: &from, To: &to, Status: boardStatuses}, boardLimit)
}

// boardBlocks reads the blocks of the site's resources: in one query where the store
// can.
func (u *UI) boardBlocks(ctx context.Context, site uuid.UUID, resources []booking.Resource, from, to time.Time) ([]booking.Block, error) {
	if s, ok := u.Blocks.(boardBlockStore); ok {
		return s.SiteBlocks(ctx, site, from, to)
	}
	var out []booking.Block
	for _, res := range resources {
		bs, err := u.Blocks.ListBlocks(ctx, res.ID, &from, &to)
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
	}
	return out, nil
}

// zoneOffsets lists the zone's UTC offset (seconds) from each change in [from, to), the
// first at from: board.js turns instants into the site's wall-clock with them, from
// the embedded tz database rather than the browser's.
func zoneOffsets(loc *time.Location, from, to time.Time) [][2]int64 {
	_, off := from.In(loc).Zone()
	out := [][2]int64{{from.UnixMilli(), int64(off)}}
	for t := from; t.Before(to); {
		_, zoneEnd := t.In(loc).ZoneBounds()
		if zoneEnd.IsZero() || !zoneEnd.Before(to) {
			break
		}
		_, o := zoneEnd.In(loc).Zone()
		out = append(out, [2]int64{zoneEnd.UnixMilli(), int64(o)})
		t = zoneEnd
	}
	return out
}
