package web

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// maxOpsDays bounds the range the dashboard draws; the CSV export takes up to what
// the utilisation query allows.
const maxOpsDays = 92

// opsData is the operators' dashboard.
type opsData struct {
	Sites      []booking.Site
	Site       booking.Site
	From, To   string
	Zone       string
	RangeLabel string
	Total      booking.UtilisationRow
	Heatmap    template.HTML
	HeatCells  int
	KindWeek   template.HTML
	KindRows   []booking.UtilisationRow
	Countries  template.HTML
	CountryRow []booking.UtilisationRow
	Emerging   template.HTML
	EmergRows  []booking.UtilisationRow
	Jobs       []jobView
	JobsError  string
	CSV        map[string]string
	Error      string
}

type jobView struct {
	Queue, State, StateLabel, Oldest string
	Count                            int
	Attention                        bool
}

// opsRange reads the dashboard's site and site-local dates.
func (u *UI) opsRange(r *http.Request, l *lookups, a booking.Actor, maxDays int) (booking.Site, *time.Location, calendar.Date, calendar.Date, error) {
	site, ok := l.site(r, a)
	if !ok {
		return site, nil, calendar.Date{}, calendar.Date{}, booking.Errorf(booking.ENOTFOUND, "No site.")
	}
	loc, err := calendar.LoadLocation(site.TimeZone)
	if err != nil {
		return site, nil, calendar.Date{}, calendar.Date{}, err
	}
	q := r.URL.Query()
	from := mondayOf(siteToday(u.now(), loc))
	to := from.AddDays(27)
	if v := q.Get("from"); v != "" {
		if from, err = calendar.ParseDate(v); err != nil {
			return site, loc, from, to, &booking.Error{Code: booking.EINVALID, Message: translate(language(r), "ops.bad_dates")}
		}
		to = from.AddDays(27)
	}
	if v := q.Get("to"); v != "" {
		if to, err = calendar.ParseDate(v); err != nil {
			return site, loc, from, to, &booking.Error{Code: booking.EINVALID, Message: translate(language(r), "ops.bad_dates")}
		}
	}
	if to.Before(from) || to.After(from.AddDays(maxDays-1)) {
		return site, loc, from, to, &booking.Error{Code: booking.EUNPROCESSABLE, Message: fmt.Sprintf(translateN(language(r), "ops.range_too_long", maxDays), maxDays)}
	}
	return site, loc, from, to, nil
}

func (u *UI) ops(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	lang := language(r)
	ctx := r.Context()
	title := translate(lang, "ops.title")
	l, err := u.lookups(ctx, a)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	site, loc, from, to, err := u.opsRange(r, l, a, maxOpsDays)
	d := opsData{Sites: activeSites(l.sites, site.ID), Site: site, From: from.String(), To: to.String()}
	if err != nil {
		d.Error = u.errorText(lang, err)
		u.render(w, r, "ops.html", http.StatusBadRequest, page{Title: title, Data: d})
		return
	}
	start, end := dateWindow(from, to, loc)
	d.Zone = zoneLabel(site.TimeZone, start.In(loc))
	d.RangeLabel = formatDate(lang, start.In(loc)) + " – " + formatDate(lang, end.Add(-time.Second).In(loc))
	report := func(dims ...booking.Dimension) (booking.UtilisationReport, error) {
		return u.Utilisation.Utilisation(ctx, a, booking.UtilisationQuery{SiteID: site.ID, From: start, To: end, GroupBy: dims})
	}
	heat, err := report(booking.DimResource, booking.DimDay)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	d.Total = heat.Total
	d.Heatmap, d.HeatCells = u.heatmap(lang, site, heat)

	kw, err := report(booking.DimKind, booking.DimWeek)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	d.KindWeek, d.KindRows = u.kindWeek(lang, kw)

	countries, err := report(booking.DimCountry)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	var bars []shareBar
	for _, row := range countries.Rows {
		label := row.Country
		if label == "" {
			label = "—"
		}
		bars = append(bars, shareBar{Label: label, Confirmed: row.ConfirmedHours, Held: row.HeldHours,
			Title: fmt.Sprintf(translate(lang, "ops.share_tip"), label, formatHours(row.ConfirmedHours), formatHours(row.HeldHours))})
	}
	d.CountryRow = countries.Rows
	if len(bars) > 0 {
		d.Countries = shareSVG("countries", translate(lang, "ops.countries"), translate(lang, "ops.countries_desc"), bars)
	}

	em, err := report(booking.DimEmerging)
	if err != nil {
		u.pageError(w, r, title, err)
		return
	}
	bars = nil
	for _, row := range em.Rows {
		label := translate(lang, "ops.not_emerging")
		if *row.Emerging {
			label = translate(lang, "ops.emerging")
		}
		bars = append(bars, shareBar{Label: label, Confirmed: row.ConfirmedHours, Held: row.HeldHours,
			Title: fmt.Sprintf(translate(lang, "ops.share_tip"), label, formatHours(row.ConfirmedHours), formatHours(row.HeldHours))})
	}
	d.EmergRows = em.Rows
	if len(bars) > 0 {
		d.Emerging = shareSVG("emerging", translate(lang, "ops.emerging_title"), translate(lang, "ops.emerging_desc"), bars)
	}

	jobs, err := u.Utilisation.JobCounts(ctx, a)
	if err != nil {
		d.JobsError = u.errorText(lang, err)
	}
	for _, j := range jobs {
		v := jobView{Queue: j.Queue, State: j.State, StateLabel: translate(lang, "jobstate."+j.State), Count: j.Count,
			Attention: j.State == "retryable" || j.State == "discarded"}
		if j.State == "available" || j.State == "retryable" || j.State == "scheduled" || j.State == "due_notice" {
			// Scheduled and retryable jobs wait for a time to come: that is their next
			// run, not how long they have waited.
			v.Oldest = formatInstant(lang, j.Oldest, site.TimeZone)
			if j.Oldest.After(u.now()) {
				v.Oldest = fmt.Sprintf(translate(lang, "ops.next_run"), v.Oldest)
			}
			if j.State == "available" && u.now().Sub(j.Oldest) > 5*time.Minute {
				v.Attention = true
			}
			// A due notice is enqueued within a second of its time by any process
			// working jobs: one a minute late has none sweeping.
			if j.State == "due_notice" && u.now().Sub(j.Oldest) > time.Minute {
				v.Attention = true
			}
		}
		d.Jobs = append(d.Jobs, v)
	}
	d.CSV = map[string]string{}
	for _, g := range []string{"resource,day", "kind,week", "country", "emerging", "resource"} {
		v := url.Values{"site": {site.ID.String()}, "from": {d.From}, "to": {d.To}, "group_by": {g}}
		d.CSV[g] = "/ops/utilisation.csv?" + v.Encode()
	}
	u.render(w, r, "ops.html", http.StatusOK, page{Title: title, Data: d})
}

// heatmap draws resource × day utilisation.
func (u *UI) heatmap(lang string, site booking.Site, rep booking.UtilisationReport) (template.HTML, int) {
	var rows []string
	var cols [][2]string
	rowOf, colOf := map[uuid.UUID]int{}, map[string]int{}
	var days []string
	for _, row := range rep.Rows {
		if _, ok := rowOf[*row.ResourceID]; !ok {
			rowOf[*row.ResourceID] = len(rows)
			rows = append(rows, row.ResourceName)
		}
		if _, ok := colOf[row.Day]; !ok {
			colOf[row.Day] = -1
			days = append(days, row.Day)
		}
	}
	sort.Strings(days)
	for i, day := range days {
		colOf[day] = i
		d, _ := calendar.ParseDate(day)
		cols = append(cols, [2]string{translate(lang, fmt.Sprintf("day.%d", d.Weekday())), strconv.Itoa(d.Day)})
	}
	var cells []heatCell
	for _, row := range rep.Rows {
		d, _ := calendar.ParseDate(row.Day)
		tip := fmt.Sprintf(translate(lang, "ops.cell_tip"), row.ResourceName, formatShortDate(lang, d),
			formatHours(row.ConfirmedHours), formatHours(row.HeldHours), formatHours(row.WorkingHours), row.Utilisation*100)
		if row.WorkingHours == 0 {
			tip = fmt.Sprintf(translate(lang, "ops.cell_closed"), row.ResourceName, formatShortDate(lang, d))
		}
		// Overtime is only what was booked as overtime, outside working hours: on a
		// closed day, or in a working day's evening.
		if row.OvertimeHours > 0 {
			tip += " " + fmt.Sprintf(translate(lang, "ops.overtime"), formatHours(row.OvertimeHours))
		}
		cells = append(cells, heatCell{Row: rowOf[*row.ResourceID], Col: colOf[row.Day], Ratio: row.Utilisation, Held: row.HeldRatio,
			NoWorking: row.WorkingHours == 0, Title: tip})
	}
	if len(cells) == 0 {
		return "", 0
	}
	desc := fmt.Sprintf(translateN(lang, "ops.heatmap_desc", len(rows)), len(rows), len(cols))
	return heatmapSVG("heatmap", translate(lang, "ops.heatmap")+" — "+site.Name, desc, cols, rows, cells), len(cells)
}

// kindWeek draws utilisation by kind per week, confirmed and held.
func (u *UI) kindWeek(lang string, rep booking.UtilisationReport) (template.HTML, []booking.UtilisationRow) {
	var kinds, weeks []string
	kindAt, weekAt := map[string]int{}, map[string]int{}
	for _, row := range rep.Rows {
		if _, ok := kindAt[row.Kind]; !ok {
			kindAt[row.Kind] = len(kinds)
			kinds = append(kinds, row.Kind)
		}
		if _, ok := weekAt[row.Week]; !ok {
			weekAt[row.Week] = -1
			weeks = append(weeks, row.Week)
		}
	}
	sort.Strings(weeks)
	var cols, rows []string
	for i, wk := range weeks {
		weekAt[wk] = i
		d, _ := calendar.ParseDate(wk)
		cols = append(cols, fmt.Sprintf(translate(lang, "ops.week_of"), formatShortDate(lang, d)))
	}
	for _, k := range kinds {
		rows = append(rows, kindLabel(lang, k))
	}
	cells := make([][]barCell, len(kinds))
	for i := range cells {
		cells[i] = make([]barCell, len(weeks))
		for j := range cells[i] {
			cells[i][j].Empty = true
		}
	}
	for _, row := range rep.Rows {
		c := &cells[kindAt[row.Kind]][weekAt[row.Week]]
		c.Confirmed, c.Held, c.Empty = row.Utilisation, row.HeldRatio, row.WorkingHours == 0
		c.Title = fmt.Sprintf(translateN(lang, "ops.kind_tip", row.Resources), kindLabel(lang, row.Kind), cols[weekAt[row.Week]],
			row.Utilisation*100, row.HeldRatio*100, formatHours(row.WorkingHours), row.Resources)
	}
	if len(kinds) == 0 {
		return "", nil
	}
	return gridBarsSVG("kindweek", translate(lang, "ops.kind_week"), translate(lang, "ops.kind_week_desc"), rows, cols, cells), rep.Rows
}

// opsCSV exports utilisation figures as CSV.
func (u *UI) opsCSV(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	ctx := r.Context()
	lang := language(r)
	l, err := u.lookups(ctx, a)
	if err != nil {
		u.pageError(w, r, translate(lang, "ops.title"), err)
		return
	}
	site, loc, from, to, err := u.opsRange(r, l, a, 370)
	if err != nil {
		u.pageError(w, r, translate(lang, "ops.title"), err)
		return
	}
	var dims []booking.Dimension
	group := r.URL.Query().Get("group_by")
	if group == "" {
		group = "resource,day"
	}
	for _, g := range strings.Split(group, ",") {
		if g = strings.TrimSpace(g); g != "" {
			dims = append(dims, booking.Dimension(g))
		}
	}
	start, end := dateWindow(from, to, loc)
	rep, err := u.Utilisation.Utilisation(ctx, a, booking.UtilisationQuery{SiteID: site.ID, From: start, To: end, GroupBy: dims})
	if err != nil {
		u.pageError(w, r, translate(lang, "ops.title"), err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="posthub-utilisation-%s-%s-%s.csv"`,
		site.Slug, from, to))
	// A byte-order mark, so that spreadsheets (a French Excel's first) read UTF-8.
	_, _ = io.WriteString(w, utf8BOM)
	cw := csv.NewWriter(w)
	header := []string{"site", "time_zone"}
	for _, dim := range rep.GroupBy {
		switch dim {
		case booking.DimResource:
			header = append(header, "resource_id", "resource", "kind")
		default:
			header = append(header, string(dim))
		}
	}
	header = append(header, "resources", "working_hours", "confirmed_hours", "held_hours", "overtime_hours", "utilisation", "held_ratio")
	_ = cw.Write(header)
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	write := func(row booking.UtilisationRow, total bool) {
		// The site by its name, as the treaty report's CSV and the pages name it.
		rec := []string{csvSafe(site.Name), site.TimeZone}
		for i, dim := range rep.GroupBy {
			if total {
				if i == 0 {
					rec = append(rec, "TOTAL")
				} else {
					rec = append(rec, "")
				}
				if dim == booking.DimResource {
					rec = append(rec, "", "")
				}
				continue
			}
			switch dim {
			case booking.DimResource:
				rec = append(rec, row.ResourceID.String(), csvSafe(row.ResourceName), row.Kind)
			case booking.DimKind:
				rec = append(rec, row.Kind)
			case booking.DimCountry:
				rec = append(rec, row.Country)
			case booking.DimEmerging:
				rec = append(rec, strconv.FormatBool(*row.Emerging))
			case booking.DimDay:
				rec = append(rec, row.Day)
			case booking.DimWeek:
				rec = append(rec, row.Week)
			}
		}
		rec = append(rec, strconv.Itoa(row.Resources), num(row.WorkingHours), num(row.ConfirmedHours), num(row.HeldHours),
			num(row.OvertimeHours), num(row.Utilisation), num(row.HeldRatio))
		_ = cw.Write(rec)
	}
	for _, row := range rep.Rows {
		write(row, false)
	}
	if len(rep.GroupBy) > 0 {
		write(rep.Total, true)
	}
	cw.Flush()
}

// utf8BOM starts the CSV exports: without it a spreadsheet may read UTF-8 (Dakar's
// "Équipe", a "—") as another encoding.
const utf8BOM = "\ufeff"

// csvSafe keeps a spreadsheet from reading a name as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
