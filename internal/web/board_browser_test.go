package web_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
	"github.com/posthub/posthub/internal/dbtest"
)

// waitFor polls a JavaScript condition until it holds or the time is up; false when it
// never held.
func (b *tab) waitFor(js string, within time.Duration) bool {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if eval[bool](b, js) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// point is a place in the viewport.
type point struct{ X, Y float64 }

// boardBar is the selector of a booking's bar on a resource's row.
func boardBar(id uuid.UUID, res uuid.UUID) string {
	return fmt.Sprintf(`.board-bar[data-booking="%s"][data-resource="%s"]`, id, res)
}

// barCenter scrolls a bar into view and returns its centre.
func (b *tab) barCenter(sel string) point {
	b.t.Helper()
	v := eval[[]float64](b, `(() => { const e = document.querySelector(`+jsString(sel)+`); if (!e) return [];
		e.scrollIntoView({block: "center", inline: "center"}); const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	if len(v) != 2 {
		b.t.Fatalf("no %s on the board", sel)
	}
	return point{v[0], v[1]}
}

// boardPoint is where an instant falls on a resource's row, computed from the days the
// page sends as board.js computes it; scroll brings the row into view first.
func (b *tab) boardPoint(res uuid.UUID, at time.Time, scroll bool) point {
	b.t.Helper()
	v := eval[[]float64](b, fmt.Sprintf(`(() => {
		const D = JSON.parse(document.getElementById("board-data").textContent), t = %d, N = D.days.length;
		let f = 1;
		if (t <= D.days[0].start) f = 0; else for (let i = 0; i < N; i++) { const d = D.days[i];
			if (t < d.start) { f = i / N; break; } if (t <= d.end) { f = (i + (t - d.start) / (d.end - d.start)) / N; break; } }
		const lane = document.querySelector('.board-row[data-resource="%s"] .board-lane');
		if (!lane) return [];
		if (%t) lane.scrollIntoView({block: "center"});
		const r = lane.getBoundingClientRect();
		return [r.left + f * r.width, r.top + r.height / 2]; })()`, at.UnixMilli(), res, scroll))
	if len(v) != 2 {
		b.t.Fatalf("no row for %s on the board", res)
	}
	return point{v[0], v[1]}
}

// pressed is a mouse move with the left button held.
func pressed(p *input.DispatchMouseEventParams) {
	p.Button = input.MouseButtonLeft
	p.Buttons = 1
}

// TestBrowserBoard drives the scheduling board in Chromium: a manager drags a hold to
// another suite and another day (it persists, and an admin's board, open in another
// session, shows it within two seconds without reloading); drags it onto a confirmed
// grade and is refused, with the clashing interval shown and the bar back in place;
// moves it with the keyboard alone to another time and suite and undoes that; draws
// a new hold across free time, resizes it by its end and releases it; confirms the
// first hold from its bar; and reads the board by the day, the month, in French, at
// 1,400 px and on a tablet. Screenshots go to test-output/web.
func TestBrowserBoard(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	person := browserFor(t, a)
	ctx := context.Background()
	day := a.workday(t, "casablanca", 2, 3)
	at := func(d, h int) time.Time { return a.at(t, "casablanca", day.AddDays(d), h) }
	zellige, anfa, oasis := a.resource(t, "Grading Suite 1 — Zellige"), a.resource(t, "Grading Suite 2 — Anfa"), a.resource(t, "Grading Suite 3 — Oasis")
	mixB := a.resource(t, "Mix Stage B")
	baobab := a.production(t, "Le Souffle du Baobab")
	hold := a.book(t, "producer", baobab, anfa, at(0, 10), at(0, 14), booking.StatusHold)
	a.book(t, "admin", a.production(t, "Layali Derb Sultan"), oasis, at(1, 10), at(1, 14), booking.StatusConfirmed)
	path := "/manage/board?site=casablanca&zoom=week&date=" + day.String()
	// What the board should say an interval costs: calendar.UseOf's working time.
	cal := dbtest.SiteCalendar(t, a.db, a.sites["casablanca"].ID)
	worth := func(s, e time.Time) string {
		h := cal.UseOf(calendar.Interval{Start: s, End: e}, nil).Working.Duration().Hours()
		return strconv.FormatFloat(h, 'f', -1, 64) + " h"
	}
	stored := func() booking.Booking {
		t.Helper()
		b, err := a.db.FindBooking(ctx, booking.System, hold.ID)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const ready = `document.getElementById("board").classList.contains("ready")`
	const live = `document.getElementById("board-live").dataset.state === "on"`
	barAt := func(res uuid.UUID, start time.Time) string {
		return fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.dataset.start === %q && !e.classList.contains("saving"); })()`,
			jsString(boardBar(hold.ID, res)), start.UTC().Format(time.RFC3339))
	}

	manager := person()
	manager.login(a.emails["manager"])
	manager.do(chromedp.EmulateViewport(1400, 900))
	manager.submit(chromedp.Click(chromedp.CSS(`nav.menu a[href="/manage/board"]`)))
	if got := eval[string](manager, `location.pathname`); got != "/manage/board" {
		t.Fatalf("the nav link led to %s", got)
	}
	manager.open(path)
	if !manager.waitFor(ready+` && `+live, 5*time.Second) {
		t.Fatalf("the board did not start: %s", manager.text("main"))
	}
	if w := eval[int](manager, `document.documentElement.scrollWidth`); w > 1400 {
		t.Errorf("at 1,400 px the page is %dpx wide", w)
	}
	if n := eval[int](manager, `document.querySelectorAll("#board-axis .axis-day").length`); n != 7 {
		t.Errorf("the week has %d columns", n)
	}
	if r := eval[string](manager, `document.querySelector(`+jsString(boardBar(hold.ID, anfa))+`).dataset.rank`); r != "1" {
		t.Errorf("the hold shows rank %q", r)
	}
	if name := manager.text(boardBar(hold.ID, anfa) + " .name"); name != "Le Souffle du Baobab" {
		t.Errorf("the bar is named %q", name)
	}
	manager.screenshot("board-01-week-1400")

	// An admin watches the same board in a session of their own.
	watcher := person()
	watcher.login(a.emails["admin"])
	watcher.open(path)
	if !watcher.waitFor(ready+` && `+live, 5*time.Second) {
		t.Fatal("the admin's board did not start")
	}

	// 1. Drag the hold to Zellige, a day later: one column right, one row up.
	from := manager.barCenter(boardBar(hold.ID, anfa))
	to := manager.boardPoint(zellige, at(1, 12), false)
	manager.do(chromedp.DragAndDropXY(from.X, from.Y, to.X, to.Y, 12))
	if !manager.waitFor(barAt(zellige, at(1, 10)), 5*time.Second) {
		t.Fatalf("the drag did not move the hold: %s; status %q", eval[string](manager, `JSON.stringify([...document.querySelectorAll(".board-bar")].map(e => e.dataset))`), manager.text("#board-status"))
	}
	moved := time.Now()
	if b := stored(); !b.Start.Equal(at(1, 10)) || !b.End.Equal(at(1, 14)) || len(b.Resources) != 1 || b.Resources[0].ResourceID != zellige || b.Status != booking.StatusHold {
		t.Fatalf("after the drag the hold is %s–%s on %v, %s", b.Start, b.End, b.Resources, b.Status)
	}
	if !watcher.waitFor(barAt(zellige, at(1, 10)), 2*time.Second) {
		t.Fatalf("the other session did not see the move within 2 s: %s", eval[string](watcher, `JSON.stringify([...document.querySelectorAll(".board-bar")].map(e => e.dataset))`))
	}
	t.Logf("the other session saw the move %s after the mover did", time.Since(moved).Round(time.Millisecond))
	if n := eval[int](watcher, `document.querySelectorAll(`+jsString(boardBar(hold.ID, anfa))+`).length`); n != 0 {
		t.Error("the other session still shows the hold on Anfa")
	}
	if eval[bool](manager, `document.getElementById("board-undo").hidden`) {
		t.Error("no undo after the move")
	}
	if s := manager.text("#board-status"); !strings.Contains(s, "Moved") || !strings.Contains(s, "10:00–14:00") {
		t.Errorf("status after the move %q", s)
	}
	manager.screenshot("board-02-dragged")

	// 2. Drag it onto the confirmed grade on Oasis: the preview says it clashes, the
	// hub refuses, the bar goes back and the clash is drawn.
	from = manager.barCenter(boardBar(hold.ID, zellige))
	to = manager.boardPoint(oasis, at(1, 12), false)
	manager.do(chromedp.MouseEvent(chromedp.MousePressed, from.X, from.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	for i := 1; i <= 10; i++ {
		f := float64(i) / 10
		manager.do(chromedp.MouseEvent(chromedp.MouseMoved, from.X+(to.X-from.X)*f, from.Y+(to.Y-from.Y)*f, pressed))
	}
	if !eval[bool](manager, `!document.getElementById("board-tip").hidden && document.getElementById("board-tip").classList.contains("conflict")`) {
		t.Errorf("before the drop the preview says %q", eval[string](manager, `document.getElementById("board-tip").textContent`))
	}
	if tip := eval[string](manager, `document.getElementById("board-tip").textContent`); !strings.Contains(tip, "clashes") || !strings.Contains(tip, "Working time "+worth(at(1, 10), at(1, 14))) {
		t.Errorf("preview %q", tip)
	}
	if n := eval[int](manager, `document.querySelectorAll('.board-row[data-resource="`+oasis.String()+`"] .ghost.conflict').length`); n != 1 {
		t.Error("no conflicting ghost on Oasis")
	}
	manager.do(chromedp.MouseEvent(chromedp.MouseReleased, to.X, to.Y, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	if !manager.waitFor(`document.getElementById("board-status").classList.contains("error")`, 5*time.Second) {
		t.Fatalf("no refusal: %q", manager.text("#board-status"))
	}
	if s := manager.text("#board-status"); !strings.Contains(s, "Refused") || !strings.Contains(s, "Grading Suite 3 — Oasis") || !strings.Contains(s, "10:00–14:00") {
		t.Errorf("the refusal says %q", s)
	}
	if !manager.waitFor(barAt(zellige, at(1, 10)), 2*time.Second) {
		t.Error("the refused bar did not go back")
	}
	if n := eval[int](manager, `document.querySelectorAll('.board-row[data-resource="`+oasis.String()+`"] .clash').length`); n != 1 {
		t.Errorf("%d clashes drawn on Oasis", n)
	}
	if b := stored(); !b.Start.Equal(at(1, 10)) || b.Resources[0].ResourceID != zellige {
		t.Fatalf("the refused move changed the hold: %s on %v", b.Start, b.Resources)
	}
	manager.screenshot("board-03-refused")

	// 3. The keyboard alone: Tab to the hold, two hours later, an hour shorter, the
	// next grading suite down, Enter for the actions, Enter to move.
	manager.do(chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	for i := 0; eval[string](manager, `document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.booking || "" : ""`) != hold.ID.String(); i++ {
		if i == 120 {
			t.Fatal("Tab never reached the hold")
		}
		manager.do(chromedp.KeyEvent(kb.Tab))
	}
	manager.do(chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight),
		chromedp.KeyEvent(kb.ArrowLeft, chromedp.KeyModifiers(chromedp.ModifierShift)), chromedp.KeyEvent(kb.ArrowDown))
	if tip := eval[string](manager, `document.getElementById("board-tip").textContent`); !strings.Contains(tip, "12:00–15:00") || !strings.Contains(tip, "Grading Suite 2 — Anfa") || !strings.Contains(tip, "Working time "+worth(at(1, 12), at(1, 15))+" (was "+worth(at(1, 10), at(1, 14))+")") {
		t.Errorf("the keyboard preview says %q", tip)
	}
	manager.do(chromedp.KeyEvent(kb.Enter))
	if act := eval[string](manager, `document.activeElement.textContent`); !strings.HasPrefix(act, "Move here") {
		t.Fatalf("Enter focused %q", act)
	}
	manager.do(chromedp.KeyEvent(kb.Enter))
	if !manager.waitFor(barAt(anfa, at(1, 12)), 5*time.Second) {
		t.Fatalf("the keyboard move did not land: %q", manager.text("#board-status"))
	}
	if b := stored(); !b.Start.Equal(at(1, 12)) || !b.End.Equal(at(1, 15)) || b.Resources[0].ResourceID != anfa {
		t.Fatalf("after the keyboard move the hold is %s–%s on %v", b.Start, b.End, b.Resources)
	}
	if !watcher.waitFor(barAt(anfa, at(1, 12)), 2*time.Second) {
		t.Error("the other session did not see the keyboard move within 2 s")
	}
	manager.screenshot("board-04-keyboard")

	// 4. Undo (Ctrl+Z on the bar) puts it back where the keyboard found it.
	if !manager.waitFor(`document.activeElement && document.activeElement.dataset.booking === "`+hold.ID.String()+`"`, 2*time.Second) {
		t.Fatal("the moved bar lost the focus")
	}
	manager.do(chromedp.KeyEvent("z", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	if !manager.waitFor(barAt(zellige, at(1, 10)), 5*time.Second) {
		t.Fatalf("undo did not put the hold back: %q", manager.text("#board-status"))
	}
	if b := stored(); !b.Start.Equal(at(1, 10)) || !b.End.Equal(at(1, 14)) || b.Resources[0].ResourceID != zellige {
		t.Fatalf("after undo the hold is %s–%s on %v", b.Start, b.End, b.Resources)
	}
	if s := manager.text("#board-status"); !strings.Contains(s, "Move undone") {
		t.Errorf("status after undo %q", s)
	}
	if !eval[bool](manager, `document.getElementById("board-undo").hidden`) {
		t.Error("undo is still offered after undoing")
	}

	// 5. Draw a hold across free time on Mix Stage B, for a chosen production.
	p0, p1 := manager.boardPoint(mixB, at(2, 10).Add(5*time.Minute), true), manager.boardPoint(mixB, at(2, 13).Add(-5*time.Minute), false)
	manager.do(chromedp.DragAndDropXY(p0.X, p0.Y, p1.X, p1.Y, 8))
	if !manager.waitFor(`!document.getElementById("board-create").hidden`, 2*time.Second) {
		t.Fatal("drawing across free time offered no hold")
	}
	if what := manager.text("#board-create-what"); !strings.Contains(what, "10:00–13:00") || !strings.Contains(what, "Mix Stage B") || !strings.Contains(what, "Working time "+worth(at(2, 10), at(2, 13))) {
		t.Errorf("the new hold reads %q", what)
	}
	manager.do(chromedp.SetValue(chromedp.ID("board-create-production"), baobab.String()), chromedp.Click(chromedp.ID("board-create-ok")))
	if !manager.waitFor(`document.querySelectorAll('.board-row[data-resource="`+mixB.String()+`"] .board-bar.status-hold').length === 1`, 5*time.Second) {
		t.Fatalf("no hold drawn on Mix Stage B: %q", manager.text("#board-status"))
	}
	items, _, _, err := a.db.ListBookings(ctx, booking.System, booking.BookingFilter{ResourceID: &mixB, Status: []booking.Status{booking.StatusHold}})
	if err != nil || len(items) != 1 || !items[0].Start.Equal(at(2, 10)) || !items[0].End.Equal(at(2, 13)) || items[0].ProductionID != baobab {
		t.Fatalf("holds on Mix Stage B: %+v, %v", items, err)
	}

	// Resize it: its end dragged from 13:00 to 15:00.
	drawn := items[0].ID
	end := eval[[]float64](manager, `(() => { const r = document.querySelector(`+jsString(boardBar(drawn, mixB)+" .h-end")+`).getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	to = manager.boardPoint(mixB, at(2, 15), false)
	manager.do(chromedp.DragAndDropXY(end[0], end[1], to.X, end[1], 8))
	if !manager.waitFor(`(() => { const e = document.querySelector(`+jsString(boardBar(drawn, mixB))+`); return !!e && e.dataset.end === "`+at(2, 15).UTC().Format(time.RFC3339)+`" && !e.classList.contains("saving"); })()`, 5*time.Second) {
		t.Fatalf("resizing did not land: %q", manager.text("#board-status"))
	}
	if b, err := a.db.FindBooking(ctx, booking.System, drawn); err != nil || !b.Start.Equal(at(2, 10)) || !b.End.Equal(at(2, 15)) {
		t.Fatalf("after resizing the drawn hold is %s–%s (%v)", b.Start, b.End, err)
	}
	// A colleague's booking elsewhere on the board redraws it, but the bars already there
	// stay the same elements: nothing is taken from under the pointer or the focus.
	manager.do(chromedp.Evaluate[chromedp.Void](`document.querySelector(` + jsString(boardBar(drawn, mixB)) + `).marked = "yes"`))
	other := a.book(t, "admin", a.production(t, "Layali Derb Sultan"), oasis, at(2, 15), at(2, 17), booking.StatusConfirmed)
	if !manager.waitFor(`!!document.querySelector(`+jsString(boardBar(other.ID, oasis))+`)`, 5*time.Second) {
		t.Fatal("a colleague's booking did not reach the board")
	}
	if m := eval[string](manager, `(document.querySelector(`+jsString(boardBar(drawn, mixB))+`) || {}).marked || ""`); m != "yes" {
		t.Error("redrawing the board replaced a bar that had not changed")
	}
	// And release it from its bar, saying so twice.
	manager.do(chromedp.Click(chromedp.CSS(boardBar(drawn, mixB) + " .name")))
	if !manager.waitFor(`!document.getElementById("board-menu").hidden`, 2*time.Second) {
		t.Fatal("clicking the drawn hold opened no actions")
	}
	manager.do(chromedp.Click(chromedp.CSS(`#board-menu [data-action="release"]`)))
	manager.do(chromedp.Click(chromedp.CSS(`#board-menu [data-action="sure"]`)))
	if !manager.waitFor(`!document.querySelector(`+jsString(boardBar(drawn, mixB))+`)`, 5*time.Second) {
		t.Fatalf("the released hold is still on the board: %q", manager.text("#board-status"))
	}
	if b, err := a.db.FindBooking(ctx, booking.System, drawn); err != nil || b.Status != booking.StatusReleased {
		t.Fatalf("after releasing the drawn hold is %s (%v)", b.Status, err)
	}

	// 6. Confirm the first hold from its bar.
	manager.do(chromedp.Click(chromedp.CSS(boardBar(hold.ID, zellige) + " .name")))
	if !manager.waitFor(`!document.getElementById("board-menu").hidden`, 2*time.Second) {
		t.Fatal("clicking the bar opened no actions")
	}
	labels := eval[string](manager, `[...document.querySelectorAll("#board-menu .menu-item")].map(e => e.textContent).join("|")`)
	for _, want := range []string{"Confirm", "Release…", "Decline…", "Open the booking's page"} {
		if !strings.Contains(labels, want) {
			t.Errorf("the actions are %q, want %q", labels, want)
		}
	}
	manager.do(chromedp.Click(chromedp.CSS(`#board-menu [data-action="confirm"]`)))
	if !manager.waitFor(`(() => { const e = document.querySelector(`+jsString(boardBar(hold.ID, zellige))+`); return !!e && e.dataset.status === "confirmed"; })()`, 5*time.Second) {
		t.Fatalf("confirming from the bar: %q", manager.text("#board-status"))
	}
	if b := stored(); b.Status != booking.StatusConfirmed {
		t.Fatalf("after confirming the hold is %s", b.Status)
	}
	manager.screenshot("board-05-confirmed")

	// 7. The day view has hour ticks; the month view a column a day.
	manager.open("/manage/board?site=casablanca&zoom=day&date=" + day.AddDays(1).String())
	if !manager.waitFor(ready, 5*time.Second) {
		t.Fatal("the day view did not start")
	}
	if n := eval[int](manager, `document.querySelectorAll("#board-axis .tick").length`); n < 10 {
		t.Errorf("the day view has %d hour ticks", n)
	}
	if eval[string](manager, `document.querySelector("#board-axis .tick").textContent`) == "" {
		t.Error("hour ticks without hours")
	}
	manager.screenshot("board-06-day")
	manager.open("/manage/board?site=casablanca&zoom=month&date=" + day.String())
	if !manager.waitFor(ready, 5*time.Second) {
		t.Fatal("the month view did not start")
	}
	if n := eval[int](manager, `document.querySelectorAll("#board-axis .axis-day").length`); n < 28 || n > 31 {
		t.Errorf("the month has %d columns", n)
	}
	manager.screenshot("board-07-month")

	// 8. In French, and on a tablet.
	fr := person()
	fr.login(a.emails["manager"])
	fr.do(chromedp.EmulateViewport(768, 1024))
	fr.open(path + "&lang=fr")
	if !fr.waitFor(ready+` && `+live, 5*time.Second) {
		t.Fatal("the French board did not start")
	}
	if h := fr.text("h1"); !strings.HasPrefix(h, "Tableau de planification") {
		t.Errorf("French title %q", h)
	}
	if s := fr.text("#board-live"); s != "En direct" {
		t.Errorf("French live state %q", s)
	}
	if l := eval[string](fr, `document.querySelector(".board-bar").getAttribute("aria-label")`); !strings.Contains(l, "Confirmée") && !strings.Contains(l, "Option") {
		t.Errorf("French bar label %q", l)
	}
	if w := eval[int](fr, `document.documentElement.scrollWidth`); w > 768 {
		t.Errorf("on a tablet the page is %dpx wide", w)
	}
	if !eval[bool](fr, `(() => { const s = document.getElementById("board-scroll"); return s.scrollWidth > s.clientWidth; })()`) {
		t.Log("on a tablet the week fits without scrolling sideways")
	}
	fr.do(chromedp.Click(chromedp.CSS(boardBar(hold.ID, zellige) + " .name")))
	if !fr.waitFor(`!document.getElementById("board-menu").hidden`, 2*time.Second) {
		t.Fatal("no actions in French")
	}
	if labels := eval[string](fr, `[...document.querySelectorAll("#board-menu .menu-item")].map(e => e.textContent).join("|")`); !strings.Contains(labels, "Ouvrir la page de la réservation") {
		t.Errorf("French actions %q", labels)
	}
	fr.screenshot("board-08-tablet-fr")
}
