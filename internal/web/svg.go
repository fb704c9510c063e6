package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/posthub/posthub/internal/calendar"
)

// Charts and timelines are SVG drawn here, inline in the page: no script, no third
// party, presentation attributes only (the pages' CSP allows no inline style). Every
// chart has a title and description for screen readers, and every page that draws
// one also gives its figures as a table.

// The palette; hold hatching and status colours match posthub.css's badges.
const (
	colConfirmed = "#2f7d4f"
	colCompleted = "#5b6b7a"
	colHoldBg    = "#fbe6a6"
	colHoldLine  = "#9a6b00"
	colPending   = "#b5542d"
	colBlock     = "#8a8f96"
	colClosed    = "#ece8e1"
	colHoliday   = "#d9d4cb"
	colGrid      = "#dcd6cc"
	colInk       = "#1d232b"
	colMuted     = "#5b6470"
	// A booking's time outside working hours: veiled when reserved but not sold,
	// hatched orange when sold as overtime.
	colLocked       = "rgba(255,255,255,0.6)"
	colOvertime     = "#f3c9a8"
	colOvertimeLine = "#c0621d"
)

// svgDoc builds an SVG document as text.
type svgDoc struct {
	b strings.Builder
}

func esc(s string) string { return template.HTMLEscapeString(s) }

func (d *svgDoc) f(format string, args ...any) { fmt.Fprintf(&d.b, format, args...) }

func (d *svgDoc) open(id string, w, h float64, title, desc string) {
	d.f(`<svg xmlns="http://www.w3.org/2000/svg" id="%s" class="chart" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-labelledby="%s-title %s-desc">`,
		esc(id), w, h, w, h, esc(id), esc(id))
	d.f(`<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
}

// openFluid starts an SVG that scales to the width of its container.
func (d *svgDoc) openFluid(id string, w, h float64, title, desc string) {
	d.f(`<svg xmlns="http://www.w3.org/2000/svg" id="%s" class="chart fluid" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s-title %s-desc">`,
		esc(id), w, h, esc(id), esc(id))
	d.f(`<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
}

// hatch defines a diagonal hatching pattern.
func (d *svgDoc) hatch(id, bg, line string) {
	d.f(`<pattern id="%s" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="%s"/><line x1="0" y1="0" x2="0" y2="6" stroke="%s" stroke-width="2.5"/></pattern>`,
		esc(id), bg, line)
}

func (d *svgDoc) text(x, y float64, size float64, fill, anchor, s string) {
	d.f(`<text x="%.1f" y="%.1f" font-size="%.0f" fill="%s" text-anchor="%s" font-family="system-ui, sans-serif">%s</text>`, x, y, size, fill, anchor, esc(s))
}

func (d *svgDoc) html() template.HTML {
	d.b.WriteString(`</svg>`)
	return template.HTML(d.b.String()) //nolint:gosec // every text and attribute value above is escaped
}

// truncate shortens a label to n runes with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// timelineDay is a column of the timeline.
type timelineDay struct {
	Date        calendar.Date
	Label       string
	Month       string
	Closed      bool
	Holiday     string
	Provisional bool
}

// timelineRow is a resource.
type timelineRow struct {
	Label, Sub string
}

// timelineItem is a booking, a hold or a block on a row.
type timelineItem struct {
	Row        int
	Start, End time.Time
	Kind       string // confirmed, completed, hold, block
	Rank       int
	Pending    bool
	Label      string
	Title      string
	Href       string
	// Closed is the booking's time outside working hours (calendar.UseOf): reserved
	// but not sold, or sold as overtime when Overtime.
	Closed   calendar.Set
	Overtime bool
}

// timelineSVG draws resources (rows) against days (columns), each day showing the
// local hours h0 to h1: bookings coloured by status, holds hatched with their rank,
// the part of a booking outside working hours veiled (reserved, not sold) or marked as
// overtime, blocks, closed days and holidays greyed, and now as a line.
func timelineSVG(id, title, desc string, days []timelineDay, rows []timelineRow, items []timelineItem, loc *time.Location, h0, h1 int, now time.Time) template.HTML {
	const labelW, headH, rowH = 190.0, 34.0, 30.0
	// About 1100 pixels in all: a week gets wide days, four weeks narrow ones.
	dayW := math.Max(40, math.Min(150, math.Floor(900/float64(max(len(days), 1)))))
	w := labelW + dayW*float64(len(days)) + 2
	h := headH + rowH*float64(len(rows)) + 2
	var d svgDoc
	d.open(id, w, h, title, desc)
	d.b.WriteString("<defs>")
	d.hatch(id+"-hold", colHoldBg, colHoldLine)
	d.hatch(id+"-block", "#c9ccd0", colBlock)
	d.hatch(id+"-prov", "#f4f1ec", colHoliday)
	d.hatch(id+"-overtime", colOvertime, colOvertimeLine)
	d.b.WriteString("</defs>")
	// Columns: closed days and holidays greyed behind everything.
	for i, day := range days {
		x := labelW + dayW*float64(i)
		fill := "#ffffff"
		switch {
		case day.Holiday != "" && !day.Provisional:
			fill = colHoliday
		case day.Holiday != "":
			fill = "url(#" + id + "-prov)"
		case day.Closed:
			fill = colClosed
		}
		d.f(`<g class="day"><rect x="%.1f" y="0" width="%.1f" height="%.1f" fill="%s">`, x, dayW, h, fill)
		if day.Holiday != "" {
			d.f(`<title>%s</title>`, esc(day.Holiday))
		}
		d.b.WriteString(`</rect>`)
		d.text(x+dayW/2, 14, 11, colInk, "middle", truncate(day.Label, int(dayW/6)))
		sub := day.Month
		if day.Holiday != "" {
			sub = truncate(day.Holiday, int(dayW/5.5))
		}
		d.text(x+dayW/2, 28, 9, colMuted, "middle", sub)
		d.f(`<line x1="%.1f" y1="0" x2="%.1f" y2="%.1f" stroke="%s"/></g>`, x, x, h, colGrid)
	}
	// Rows.
	for i, r := range rows {
		y := headH + rowH*float64(i)
		d.f(`<line x1="0" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, y, w, y, colGrid)
		d.text(6, y+13, 11, colInk, "start", truncate(r.Label, 28))
		d.text(6, y+25, 9, colMuted, "start", truncate(r.Sub, 32))
	}
	d.f(`<line x1="0" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, h-1, w, h-1, colGrid)
	// Items, blocks first, then confirmed, then holds by rank, so every one shows.
	order := map[string]int{"block": 0, "completed": 1, "confirmed": 1, "hold": 2}
	sorted := append([]timelineItem(nil), items...)
	sortItems(sorted, order)
	for _, it := range sorted {
		y := headH + rowH*float64(it.Row)
		top, height := y+4, rowH-8
		if it.Kind == "hold" && it.Rank > 1 {
			off := math.Min(float64(it.Rank-1)*5, 12)
			top, height = top+off, height-off
		}
		for i, day := range days {
			ws := day.Date.At(calendar.Clock{Hour: h0}, loc)
			we := day.Date.At(calendar.Clock{Hour: h1}, loc)
			s, e := it.Start, it.End
			if s.Before(ws) {
				s = ws
			}
			if e.After(we) {
				e = we
			}
			if !s.Before(e) {
				continue
			}
			span := we.Sub(ws).Seconds()
			x0 := labelW + dayW*float64(i) + dayW*s.Sub(ws).Seconds()/span
			x1 := labelW + dayW*float64(i) + dayW*e.Sub(ws).Seconds()/span
			wd := math.Max(x1-x0, 2)
			fill, stroke, dash := colConfirmed, colConfirmed, ""
			switch it.Kind {
			case "completed":
				fill, stroke = colCompleted, colCompleted
			case "hold":
				fill, stroke = "url(#"+id+"-hold)", colHoldLine
			case "block":
				fill, stroke = "url(#"+id+"-block)", colBlock
			}
			if it.Pending {
				stroke, dash = colPending, ` stroke-dasharray="4 2"`
			}
			if it.Href != "" {
				d.f(`<a href="%s" class="item item-%s" aria-label="%s">`, esc(it.Href), esc(it.Kind), esc(it.Title))
			} else {
				d.f(`<g class="item item-%s">`, esc(it.Kind))
			}
			d.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="3" fill="%s" stroke="%s" stroke-width="1.5"%s><title>%s</title></rect>`,
				x0, top, wd, height, fill, stroke, dash, esc(it.Title))
			// Time outside working hours: veiled when only reserved, marked when sold
			// as overtime, so working, locked and overtime time read apart.
			for _, c := range it.Closed.Clip(calendar.Interval{Start: s, End: e}) {
				cx0 := labelW + dayW*float64(i) + dayW*c.Start.Sub(ws).Seconds()/span
				cx1 := labelW + dayW*float64(i) + dayW*c.End.Sub(ws).Seconds()/span
				class, cfill := "locked", colLocked
				if it.Overtime {
					class, cfill = "overtime", "url(#"+id+"-overtime)"
				}
				d.f(`<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" pointer-events="none"/>`,
					class, cx0, top+1, math.Max(cx1-cx0, 1), height-2, cfill)
			}
			switch {
			case it.Kind == "hold" && wd >= 14:
				d.f(`<rect x="%.1f" y="%.1f" width="14" height="13" rx="2" fill="#ffffff" stroke="%s"/>`, x0+1, top+1, colHoldLine)
				d.text(x0+8, top+11, 10, colInk, "middle", fmt.Sprintf("%d", it.Rank))
			case (it.Kind == "confirmed" || it.Kind == "completed") && wd >= 40:
				d.text(x0+4, top+height/2+4, 10, "#ffffff", "start", truncate(it.Label, int(wd/6.5)))
			}
			if it.Href != "" {
				d.b.WriteString(`</a>`)
			} else {
				d.b.WriteString(`</g>`)
			}
		}
	}
	// Now.
	for i, day := range days {
		ws := day.Date.At(calendar.Clock{Hour: h0}, loc)
		we := day.Date.At(calendar.Clock{Hour: h1}, loc)
		if !now.Before(ws) && now.Before(we) {
			x := labelW + dayW*float64(i) + dayW*now.Sub(ws).Seconds()/we.Sub(ws).Seconds()
			d.f(`<line class="now" x1="%.1f" y1="%.0f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`, x, headH, x, h, colPending)
		}
	}
	return d.html()
}

func sortItems(items []timelineItem, order map[string]int) {
	for i := 1; i < len(items); i++ {
		for j := i; j > 0; j-- {
			a, b := items[j-1], items[j]
			if order[a.Kind] < order[b.Kind] || (order[a.Kind] == order[b.Kind] && a.Rank <= b.Rank) {
				break
			}
			items[j-1], items[j] = b, a
		}
	}
}

// heatCell is one resource on one day.
type heatCell struct {
	Row, Col  int
	Ratio     float64 // confirmed / working
	Held      float64 // held / working
	NoWorking bool
	Title     string
}

// heatColour runs from pale to deep blue as a cell fills up.
func heatColour(v float64) string {
	v = math.Max(0, math.Min(1, v))
	lo := [3]float64{0xf1, 0xf5, 0xf9}
	hi := [3]float64{0x1e, 0x4e, 0x8c}
	var c [3]int
	for i := range c {
		c[i] = int(math.Round(lo[i] + (hi[i]-lo[i])*v))
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

// heatmapSVG draws utilisation as cells, resources (rows) against days (columns): the
// deeper the blue, the more of the day's working hours are confirmed; an amber corner
// marks first holds; days without working hours are hatched grey.
func heatmapSVG(id, title, desc string, cols [][2]string, rows []string, cells []heatCell) template.HTML {
	const labelW, headH, rowH = 190.0, 34.0, 22.0
	cellW := math.Max(16, math.Min(44, math.Floor(900/float64(max(len(cols), 1)))))
	w := labelW + cellW*float64(len(cols)) + 2
	h := headH + rowH*float64(len(rows)) + 2
	var d svgDoc
	d.open(id, w, h, title, desc)
	d.b.WriteString("<defs>")
	d.hatch(id+"-closed", "#f4f1ec", colHoliday)
	d.b.WriteString("</defs>")
	for i, c := range cols {
		x := labelW + cellW*float64(i) + cellW/2
		d.text(x, 13, 9, colMuted, "middle", truncate(c[0], int(cellW/5)))
		d.text(x, 27, 11, colInk, "middle", c[1])
	}
	for i, r := range rows {
		d.text(6, headH+rowH*float64(i)+15, 11, colInk, "start", truncate(r, 28))
	}
	for _, c := range cells {
		x := labelW + cellW*float64(c.Col)
		y := headH + rowH*float64(c.Row)
		fill := heatColour(c.Ratio)
		if c.NoWorking {
			fill = "url(#" + id + "-closed)"
		}
		d.f(`<g class="cell"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="#ffffff"><title>%s</title></rect>`,
			x, y, cellW, rowH, fill, esc(c.Title))
		if c.Held > 0 {
			d.f(`<path d="M%.1f %.1f h-8 l8 8 z" fill="%s"><title>%s</title></path>`, x+cellW-1, y+1, colHoldLine, esc(c.Title))
		}
		if cellW >= 26 && !c.NoWorking && c.Ratio > 0 {
			fg := colInk
			if c.Ratio > 0.55 {
				fg = "#ffffff"
			}
			d.text(x+cellW/2, y+15, 9, fg, "middle", fmt.Sprintf("%.0f", c.Ratio*100))
		}
		d.b.WriteString(`</g>`)
	}
	return d.html()
}

// barCell is one stacked bar: confirmed then held, as fractions of capacity.
type barCell struct {
	Confirmed, Held float64
	Title           string
	Empty           bool
}

// gridBarsSVG draws a stacked bar per row (kind) and column (week): solid for
// confirmed, hatched for held, against a track that is the capacity.
func gridBarsSVG(id, title, desc string, rows, cols []string, cells [][]barCell) template.HTML {
	const labelW, headH, rowH, barH = 170.0, 24.0, 30.0, 14.0
	colW := math.Max(110, math.Min(200, math.Floor(880/float64(max(len(cols), 1)))))
	w := labelW + colW*float64(len(cols)) + 2
	h := headH + rowH*float64(len(rows)) + 2
	var d svgDoc
	d.open(id, w, h, title, desc)
	d.b.WriteString("<defs>")
	d.hatch(id+"-held", colHoldBg, colHoldLine)
	d.b.WriteString("</defs>")
	for j, c := range cols {
		d.text(labelW+colW*float64(j)+4, 15, 10, colMuted, "start", c)
	}
	for i, r := range rows {
		y := headH + rowH*float64(i)
		d.text(6, y+barH, 11, colInk, "start", truncate(r, 26))
		for j := range cols {
			c := cells[i][j]
			x := labelW + colW*float64(j) + 4
			track := colW - 44
			d.f(`<g class="bar"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#f4f1ec" stroke="%s"><title>%s</title></rect>`,
				x, y+4, track, barH, colGrid, esc(c.Title))
			cw := track * math.Min(c.Confirmed, 1)
			hw := math.Min(track*c.Held, track-cw)
			if cw > 0 {
				d.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`, x, y+4, cw, barH, colConfirmed, esc(c.Title))
			}
			if hw > 0 {
				d.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="url(#%s-held)"><title>%s</title></rect>`, x+cw, y+4, hw, barH, esc(id), esc(c.Title))
			}
			label := "–"
			if !c.Empty {
				label = fmt.Sprintf("%.0f%%", (c.Confirmed+c.Held)*100)
			}
			d.text(x+track+4, y+15, 10, colInk, "start", label)
			d.b.WriteString(`</g>`)
		}
	}
	return d.html()
}

// shareBar is one horizontal bar of a share chart.
type shareBar struct {
	Label           string
	Confirmed, Held float64 // hours
	Title           string
}

// shareSVG draws each bar's hours as a share of all of them: solid confirmed, hatched
// held, with the share and the hours written beside.
func shareSVG(id, title, desc string, bars []shareBar) template.HTML {
	const labelW, rowH, trackW = 150.0, 28.0, 300.0
	w := labelW + trackW + 110
	h := rowH*float64(len(bars)) + 8
	total := 0.0
	for _, b := range bars {
		total += b.Confirmed + b.Held
	}
	var d svgDoc
	d.openFluid(id, w, h, title, desc)
	d.b.WriteString("<defs>")
	d.hatch(id+"-held", colHoldBg, colHoldLine)
	d.b.WriteString("</defs>")
	for i, b := range bars {
		y := 4 + rowH*float64(i)
		d.text(6, y+15, 12, colInk, "start", truncate(b.Label, 22))
		share := 0.0
		if total > 0 {
			share = (b.Confirmed + b.Held) / total
		}
		cw, hw := 0.0, 0.0
		if total > 0 {
			cw, hw = trackW*b.Confirmed/total, trackW*b.Held/total
		}
		d.f(`<g class="share"><rect x="%.1f" y="%.1f" width="%.1f" height="18" fill="#f4f1ec" stroke="%s"><title>%s</title></rect>`, labelW, y+2, trackW, colGrid, esc(b.Title))
		if cw > 0 {
			d.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="18" fill="%s"><title>%s</title></rect>`, labelW, y+2, cw, colConfirmed, esc(b.Title))
		}
		if hw > 0 {
			d.f(`<rect x="%.1f" y="%.1f" width="%.1f" height="18" fill="url(#%s-held)"><title>%s</title></rect>`, labelW+cw, y+2, hw, esc(id), esc(b.Title))
		}
		d.text(labelW+trackW+8, y+15, 11, colInk, "start", fmt.Sprintf("%.0f%% · %s", share*100, formatHours(math.Round((b.Confirmed+b.Held)*10)/10)))
		d.b.WriteString(`</g>`)
	}
	return d.html()
}

// planBar is a stage of a plan on its row.
type planBar struct {
	ID, Label, Sub, Hours string
	Start, End            time.Time
	Changed               bool
	PrevStart, PrevEnd    time.Time
	Title                 string
	// Booking is the status of the stage's booking on an accepted plan: a confirmed
	// stage is drawn as a confirmed booking, an ended one as an outline.
	Booking string
}

// planMark is a moment drawn across a plan's rows: the deadline or the earliest start.
type planMark struct {
	At    time.Time
	Label string
	Kind  string // deadline, start
}

// colStage is a proposed stage; colDeadline the deadline.
const (
	colStage    = "#2d5f8b"
	colDeadline = "#9b1c1c"
)

// planSVG draws a plan: one row per stage with its bar from start to end over the
// site's local days (closed days and holidays greyed, the dates on the axis), a stage
// changed by a re-plan outlined with its previous place dashed, and the deadline and
// the earliest start as lines. Accepted stages are hatched like the holds they are.
func planSVG(id, title, desc string, days []timelineDay, bars []planBar, marks []planMark, loc *time.Location, status, changedLabel string) template.HTML {
	const labelW, headH, rowH, footH = 220.0, 36.0, 36.0, 22.0
	n := max(len(days), 1)
	// A long plan (a feature runs five months and more) gets narrower days, down to
	// 4 px, so its whole run stays on one scrollable axis; months then name the axis.
	minW := 12.0
	if n > planWideDays {
		minW = 4
	}
	dayW := math.Max(minW, math.Min(140, math.Floor(860/float64(n))))
	w := labelW + dayW*float64(n) + 2
	bottom := headH + rowH*float64(len(bars))
	h := bottom + footH
	idx := map[calendar.Date]int{}
	for i, d := range days {
		idx[d.Date] = i
	}
	// xOf places an instant on the axis: each column is a local day, midnight to
	// midnight; ok is false outside the days drawn.
	xOf := func(t time.Time) (float64, bool) {
		lt := t.In(loc)
		d := calendar.DateOf(lt)
		i, ok := idx[d]
		if !ok {
			if len(days) > 0 && d.Before(days[0].Date) {
				return labelW, false
			}
			// Midnight after the last day is its end, still on the axis.
			end := len(days) > 0 && t.Equal(days[len(days)-1].Date.AddDays(1).At(calendar.Clock{}, loc))
			return labelW + dayW*float64(n), end
		}
		ds := d.At(calendar.Clock{}, loc)
		de := d.AddDays(1).At(calendar.Clock{}, loc)
		return labelW + dayW*(float64(i)+t.Sub(ds).Seconds()/de.Sub(ds).Seconds()), true
	}
	var d svgDoc
	d.open(id, w, h, title, desc)
	d.b.WriteString("<defs>")
	d.hatch(id+"-hold", colHoldBg, colHoldLine)
	d.hatch(id+"-prov", "#f4f1ec", colHoliday)
	d.b.WriteString("</defs>")
	// Days: closed ones and holidays greyed, Mondays ruled darker, dates above.
	for i, day := range days {
		x := labelW + dayW*float64(i)
		fill := "#ffffff"
		switch {
		case day.Holiday != "" && !day.Provisional:
			fill = colHoliday
		case day.Holiday != "":
			fill = "url(#" + id + "-prov)"
		case day.Closed:
			fill = colClosed
		}
		cls := "day"
		if day.Closed || day.Holiday != "" {
			cls += " closed"
		}
		d.f(`<g class="%s" data-date="%s"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">`, cls, day.Date, x, headH, dayW, bottom-headH, fill)
		if day.Holiday != "" {
			d.f(`<title>%s</title>`, esc(day.Holiday))
		}
		d.b.WriteString(`</rect>`)
		if day.Month != "" {
			d.text(x+2, 13, 11, colInk, "start", day.Month)
		}
		monday := day.Date.Weekday() == time.Monday
		switch {
		case dayW >= 34:
			d.text(x+dayW/2, 30, 10, colMuted, "middle", truncate(day.Label, int(dayW/5.5)))
		case (monday || i == 0) && x+40 <= w && dayW >= 8:
			d.text(x+2, 30, 10, colMuted, "start", day.Label)
		}
		stroke := colGrid
		if monday {
			stroke = "#b9b0a2"
		}
		d.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/></g>`, x, 18.0, x, bottom, stroke)
	}
	d.f(`<line x1="0" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, headH, w, headH, colGrid)
	// Rows.
	fill, stroke, textFill := colStage, "#1f4466", "#ffffff"
	switch status {
	case "accepted":
		fill, stroke, textFill = "url(#"+id+"-hold)", colHoldLine, colInk
	case "superseded":
		fill, stroke = colCompleted, colCompleted
	}
	for i, b := range bars {
		fill, stroke, textFill := fill, stroke, textFill
		switch b.Booking {
		case "", "hold":
		case "confirmed":
			fill, stroke, textFill = colConfirmed, colConfirmed, "#ffffff"
		case "completed":
			fill, stroke, textFill = colCompleted, colCompleted, "#ffffff"
		default: // released, declined, expired, cancelled: the stage has no booking now
			fill, stroke, textFill = "none", colBlock, colMuted
		}
		y := headH + rowH*float64(i)
		d.f(`<line x1="0" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, y+rowH, w, y+rowH, colGrid)
		label := truncate(b.Label, 30)
		if b.Changed {
			label = truncate(b.Label, 20)
		}
		cls := "stage"
		if b.Changed {
			cls += " changed"
		}
		if b.Booking != "" {
			cls += " booking-" + b.Booking
		}
		d.f(`<g class="%s" data-stage="%s">`, cls, esc(b.ID))
		d.text(6, y+15, 12, colInk, "start", label)
		d.text(6, y+29, 10, colMuted, "start", truncate(b.Sub, 38))
		if b.Changed {
			d.f(`<text x="%.1f" y="%.1f" font-size="10" font-weight="700" fill="%s" text-anchor="end" font-family="system-ui, sans-serif">%s</text>`,
				labelW-6, y+15, colPending, esc(changedLabel))
			px0, _ := xOf(b.PrevStart)
			px1, _ := xOf(b.PrevEnd)
			if px1 > px0 {
				d.f(`<rect class="previous" x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="3" fill="none" stroke="%s" stroke-width="1.5" stroke-dasharray="4 3"/>`,
					px0, y+7, px1-px0, rowH-14, colPending)
			}
		}
		x0, _ := xOf(b.Start)
		x1, _ := xOf(b.End)
		wd := math.Max(x1-x0, 3)
		sw, st := 1.5, stroke
		if b.Changed {
			sw, st = 3, colPending
		}
		d.f(`<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="3" fill="%s" stroke="%s" stroke-width="%.1f"><title>%s</title></rect>`,
			x0, y+7, wd, rowH-14, fill, st, sw, esc(b.Title))
		if b.Hours != "" && wd >= 40 {
			d.text(x0+wd/2, y+22, 10, textFill, "middle", b.Hours)
		}
		d.b.WriteString(`</g>`)
	}
	// The deadline and the earliest start.
	for _, m := range marks {
		x, ok := xOf(m.At)
		colour, dash := colDeadline, ""
		if m.Kind == "start" {
			colour, dash = colMuted, ` stroke-dasharray="2 3"`
		}
		anchor, label := "middle", m.Label
		switch {
		case !ok && x > labelW:
			x, anchor, label = w-4, "end", m.Label+" →"
		case !ok:
			continue
		case x-labelW < 60:
			anchor = "start"
		case w-x < 60:
			anchor = "end"
		}
		d.f(`<g class="mark mark-%s">`, esc(m.Kind))
		if ok {
			d.f(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`, x, headH, x, bottom+4, colour, dash)
		}
		d.f(`<text x="%.1f" y="%.1f" font-size="10" font-weight="600" fill="%s" text-anchor="%s" font-family="system-ui, sans-serif">%s</text></g>`,
			x, h-6, colour, anchor, esc(label))
	}
	return d.html()
}
