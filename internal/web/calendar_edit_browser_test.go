package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/calendar"
)

// submitAnswering runs an action that leaves the page and checks the next page
// answered status: a refused form comes back with 409 or 422.
func (b *tab) submitAnswering(action chromedp.Action[chromedp.Void], status int) {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, action)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	if res.Status != int64(status) {
		b.t.Fatalf("browser: %s answered %d, want %d: %s", res.URL, res.Status, status, b.text("main"))
	}
}

// rowWith is the text of the first row of a table (by CSS) holding text, or "".
func rowWith(b *tab, table, text string) string {
	b.t.Helper()
	return eval[string](b, `(() => { for (const tr of document.querySelectorAll(`+jsString(table+" tbody tr")+`)) {
		if (tr.textContent.includes(`+jsString(text)+`)) return tr.textContent.replace(/\s+/g, " ").trim(); } return ""; })()`)
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// TestBrowserCalendarEditing drives a manager editing Casablanca's calendar in
// Chromium, in French then English: she closes Saturdays and gives Fridays two spans
// typed the French way; adds Ramadan 2028 with its own hours, after a refusal (the
// last day before the first) that names the field in French; adds a provisional Eid
// and confirms it a day later; puts a colourist on leave every Friday for a season and
// finds it listed; is refused maintenance over a confirmed booking, with the booking's
// hours named; and reads it all again in English. Screenshots go to test-output/web.
func TestBrowserCalendarEditing(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	ctx := context.Background()
	casablanca := a.sites["casablanca"]
	person := browserFor(t, a)

	// A confirmed grade in the way of the maintenance asked for below.
	day := a.workday(t, "casablanca", 7, 1)
	suite := a.resource(t, "Grading Suite 2 — Anfa")
	a.book(t, "admin", a.production(t, "Layali Derb Sultan"), suite, a.at(t, "casablanca", day, 9), a.at(t, "casablanca", day, 13), booking.StatusConfirmed)

	m := person()
	m.login(a.emails["manager"])
	m.open("/manage/calendar?site=casablanca&lang=fr")
	if lang := eval[string](m, `document.documentElement.lang`); lang != "fr" {
		t.Fatalf("the calendar is in %q", lang)
	}

	// The week: Saturday closed, Friday in two spans written "9h-13h 14h30-18h".
	if v := eval[string](m, `document.getElementById("week-saturday").value`); v != "09:00–13:00" {
		t.Fatalf("Saturday shows %q before the change", v)
	}
	m.do(chromedp.Clear(chromedp.ID("week-saturday")), chromedp.SetValue(chromedp.ID("week-friday"), "9h-13h 14h30-18h"))
	m.submit(chromedp.Click(chromedp.CSS(`#week-form button[type="submit"]`)))
	if f := m.text(".flash"); f != "Semaine de travail enregistrée." {
		t.Fatalf("flash after saving the week %q", f)
	}
	if v := eval[string](m, `document.getElementById("week-saturday").value`); v != "" {
		t.Errorf("Saturday shows %q after closing it", v)
	}
	if p := eval[string](m, `document.getElementById("week-saturday").placeholder`); p != "fermé" {
		t.Errorf("a closed day says %q", p)
	}
	if v := eval[string](m, `document.getElementById("week-friday").value`); v != "09:00–13:00, 14:30–18:00" {
		t.Errorf("Friday shows %q", v)
	}
	if v := eval[string](m, `document.getElementById("week-monday").value`); v != "09:00–13:00, 14:00–19:00" {
		t.Errorf("Monday shows %q", v)
	}
	sc, err := a.db.SiteCalendar(ctx, casablanca.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Week["saturday"]) != 0 || len(sc.Week["friday"]) != 2 || sc.Week["friday"][1] != (booking.WorkingSpan{From: "14:30", To: "18:00"}) {
		t.Fatalf("the stored week %+v", sc.Week)
	}
	m.screenshot("cal-01-week-saved-fr")

	// A period with its own hours, refused first: the last day before the first.
	m.do(chromedp.Click(chromedp.CSS(`#period-add > summary`)))
	if v := eval[string](m, `document.getElementById("period-monday").value`); v != "09:00–13:00, 14:00–19:00" {
		t.Errorf("the period's Monday starts as %q, not the week's hours", v)
	}
	m.do(
		chromedp.SendKeys(chromedp.ID("period-name"), "Ramadan 2028"),
		chromedp.SetValue(chromedp.ID("period-from"), "2028-02-26"),
		chromedp.SetValue(chromedp.ID("period-to"), "2028-01-27"),
	)
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday"} {
		m.do(chromedp.SetValue(chromedp.ID("period-"+d), "09:00-15:00"))
	}
	m.submitAnswering(chromedp.Click(chromedp.CSS(`#period-form button[type="submit"]`)), 422)
	if e := m.text("#period-to-error"); e != "Le dernier jour doit être le premier ou un jour suivant, moins d’un an après." {
		t.Fatalf("the refused period says %q", e)
	}
	if got := eval[string](m, `document.getElementById("period-to").getAttribute("aria-invalid") + " " + document.activeElement.id`); got != "true period-to" {
		t.Errorf("the wrong field: aria-invalid and focus %q", got)
	}
	if a := m.text("#period-error"); !strings.Contains(a, "Rien n’est enregistré") {
		t.Errorf("the form's alert says %q", a)
	}
	// What was typed is still there.
	if v := eval[string](m, `document.getElementById("period-name").value + "|" + document.getElementById("period-friday").value`); v != "Ramadan 2028|09:00-15:00" {
		t.Errorf("the refused form kept %q", v)
	}
	m.screenshot("cal-02-period-refused-fr")
	m.do(chromedp.SetValue(chromedp.ID("period-from"), "2028-01-27"), chromedp.SetValue(chromedp.ID("period-to"), "2028-02-26"))
	m.submit(chromedp.Click(chromedp.CSS(`#period-form button[type="submit"]`)))
	if f := m.text(".flash"); f != "Période « Ramadan 2028 » ajoutée." {
		t.Fatalf("flash after adding the period %q", f)
	}
	summaries := eval[string](m, `[...document.querySelectorAll("details.period summary")].map(s => s.textContent).join(" / ")`)
	if !strings.Contains(summaries, "Ramadan 2028: 2028-01-27 → 2028-02-26") {
		t.Fatalf("the periods listed: %q", summaries)
	}
	ramadan := eval[string](m, `[...[...document.querySelectorAll("details.period")].find(d => d.textContent.includes("Ramadan 2028")).querySelector("table").rows].map(r => [...r.cells].map(c => c.textContent).join(" ")).join(" / ")`)
	if !strings.Contains(ramadan, "lundi 09:00–15:00") || !strings.Contains(ramadan, "samedi fermé") {
		t.Errorf("the period's hours: %q", ramadan)
	}

	// A provisional Eid, confirmed a day later than expected.
	m.do(chromedp.Click(chromedp.CSS(`#holiday-add > summary`)))
	m.do(
		chromedp.SendKeys(chromedp.ID("holiday-name"), "Aïd al-Fitr"),
		chromedp.SetValue(chromedp.ID("holiday-date"), "2027-03-10"),
		chromedp.SetValue(chromedp.ID("holiday-scope"), "country"),
		chromedp.Click(chromedp.ID("holiday-provisional")),
	)
	m.submit(chromedp.Click(chromedp.CSS(`#holiday-form button[type="submit"]`)))
	if f := m.text(".flash"); !strings.HasPrefix(f, "Jour férié provisoire « Aïd al-Fitr » ajouté le mer. 10 mars 2027.") {
		t.Fatalf("flash after adding the holiday %q", f)
	}
	row := rowWith(m, `section[aria-labelledby="holidays-title"] table`, "Aïd al-Fitr")
	if !strings.Contains(row, "provisoire") || !strings.Contains(row, "tout le pays (MA)") {
		t.Fatalf("the holiday's row: %q", row)
	}
	hid := eval[string](m, `[...document.querySelectorAll("tr[id^=h-]")].find(tr => tr.textContent.includes("Aïd al-Fitr")).id.slice(2)`)
	m.screenshot("cal-03-holiday-provisional-fr")
	m.do(chromedp.SetValue(chromedp.ID("date-"+hid), "2027-03-11"))
	m.submit(chromedp.Click(chromedp.CSS(`#h-` + hid + ` form[action$="/confirm"] button`)))
	if f := m.text(".flash"); !strings.HasPrefix(f, "Aïd al-Fitr") || !strings.Contains(f, "2027-03-11") {
		t.Fatalf("flash after confirming %q", f)
	}
	row = rowWith(m, `section[aria-labelledby="holidays-title"] table`, "Aïd al-Fitr")
	if strings.Contains(row, "provisoire") || !strings.Contains(row, "jeu. 11 mars 2027") {
		t.Fatalf("the confirmed holiday's row: %q", row)
	}

	// A colourist's leave every Friday from 8 January to 26 March 2027.
	yasmine := a.resource(t, "Yasmine El Alami")
	m.do(chromedp.Click(chromedp.CSS(`#block-add > summary`)))
	m.do(
		chromedp.SetValue(chromedp.ID("block-resource"), yasmine.String()),
		chromedp.SetValue(chromedp.ID("block-kind"), "leave"),
		chromedp.SetValue(chromedp.ID("block-start"), "2027-01-08T09:00"),
		chromedp.SetValue(chromedp.ID("block-end"), "2027-01-08T19:00"),
		chromedp.SendKeys(chromedp.ID("block-reason"), "Vendredis de congé"),
		chromedp.Click(chromedp.ID("repeat-weekly")),
		chromedp.Click(chromedp.ID("byday-FR")),
		chromedp.SetValue(chromedp.ID("block-until"), "2027-03-26"),
	)
	m.screenshot("cal-04-leave-form-fr")
	m.submit(chromedp.Click(chromedp.CSS(`#block-form button[type="submit"]`)))
	if f := m.text(".flash"); !strings.HasPrefix(f, "Congé ajouté(e) pour Yasmine El Alami") || !strings.Contains(f, "Chaque semaine le ven. jusqu’au ven. 26 mars 2027") {
		t.Fatalf("flash after adding the leave %q", f)
	}
	row = rowWith(m, "#blocks-table", "Yasmine El Alami")
	for _, want := range []string{"Congé", "Chaque semaine le ven. jusqu’au ven. 26 mars 2027", "ven. 8 janv. 2027, 09:00–19:00", "Vendredis de congé"} {
		if !strings.Contains(row, want) {
			t.Errorf("the leave's row lacks %q: %q", want, row)
		}
	}
	blocks, err := a.db.ListBlocks(ctx, yasmine, nil, nil)
	if err != nil || len(blocks) != 1 || blocks[0].RRule != "FREQ=WEEKLY;BYDAY=FR" || blocks[0].Until == nil {
		t.Fatalf("the stored leave %+v (%v)", blocks, err)
	}
	// The last Friday counts whole: the rule stops at its end, in Casablanca.
	loc, _ := calendar.LoadLocation(casablanca.TimeZone)
	if until := blocks[0].Until.In(loc); until.Format("2006-01-02 15:04:05") != "2027-03-26 23:59:59" {
		t.Errorf("the leave repeats until %s", until)
	}
	m.screenshot("cal-05-leave-listed-fr")

	// Maintenance over the confirmed grade is refused, naming the booking's hours.
	m.do(chromedp.Click(chromedp.CSS(`#block-add > summary`)))
	m.do(
		chromedp.SetValue(chromedp.ID("block-resource"), suite.String()),
		chromedp.SetValue(chromedp.ID("block-kind"), "maintenance"),
		chromedp.SetValue(chromedp.ID("block-start"), day.String()+"T10:00"),
		chromedp.SetValue(chromedp.ID("block-end"), day.String()+"T12:00"),
	)
	m.submitAnswering(chromedp.Click(chromedp.CSS(`#block-form button[type="submit"]`)), 409)
	busy := m.text("#block-error")
	if !strings.Contains(busy, "Grading Suite 2 — Anfa n’est pas libre à ce moment : une réservation") || !strings.Contains(busy, "09:00–13:00 (Africa/Casablanca") {
		t.Fatalf("the refused maintenance says %q", busy)
	}
	if open := eval[bool](m, `document.getElementById("block-add").open`); !open {
		t.Error("the refused block form is folded away")
	}
	m.screenshot("cal-06-block-refused-fr")

	// The same page in English.
	m.open("/manage/calendar?site=casablanca&lang=en")
	if v := m.text("#week-title"); v != "Working week" {
		t.Errorf("week title %q", v)
	}
	if p := eval[string](m, `document.getElementById("week-saturday").placeholder`); p != "closed" {
		t.Errorf("a closed day says %q in English", p)
	}
	row = rowWith(m, "#blocks-table", "Yasmine El Alami")
	if !strings.Contains(row, "Leave") || !strings.Contains(row, "Every week on Fri until Fri 26 Mar 2027") {
		t.Errorf("the leave in English: %q", row)
	}
	row = rowWith(m, `section[aria-labelledby="holidays-title"] table`, "Aïd al-Fitr")
	if !strings.Contains(row, "Thu 11 Mar 2027") || !strings.Contains(row, "the country (MA)") {
		t.Errorf("the holiday in English: %q", row)
	}
	m.screenshot("cal-07-calendar-en")

	// Removing the leave puts her back in service.
	bid := eval[string](m, `document.querySelector("#blocks-table tr[id^=bl-]").id.slice(3)`)
	m.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#bl-` + bid + ` form").removeAttribute("data-confirm")`))
	m.submit(chromedp.Click(chromedp.CSS(`#bl-` + bid + ` form button`)))
	if f := m.text(".flash"); !strings.HasPrefix(f, "Block removed") {
		t.Fatalf("flash after removing the leave %q", f)
	}
	if blocks, err := a.db.ListBlocks(ctx, yasmine, nil, nil); err != nil || len(blocks) != 0 {
		t.Fatalf("after removal: %+v (%v)", blocks, err)
	}
	if _, err := uuid.Parse(bid); err != nil {
		t.Errorf("block row id %q", bid)
	}
}

// TestBrowserProductionForms drives a producer in Chromium: from the productions page
// she opens the form, is refused a co-production whose shares add up to 90 (the field
// named in French), corrects it and finds the film listed; then corrects its runtime
// in English.
func TestBrowserProductionForms(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	person := browserFor(t, a)

	p := person()
	p.login(a.emails["producer"])
	p.open("/productions?lang=fr")
	p.submit(chromedp.Click(chromedp.ID("new-production")))
	if got := eval[string](p, `location.pathname`); got != "/productions/new" {
		t.Fatalf("the link led to %s", got)
	}
	// The first origin starts as the company's country, at 100 %.
	first := eval[string](p, `document.getElementById("origin-country-1").value + " " + document.getElementById("origin-share-1").value`)
	if first != "SN 100" {
		t.Errorf("the first origin starts as %q", first)
	}
	p.do(
		chromedp.SendKeys(chromedp.ID("production-title"), "Les Marées de Joal"),
		chromedp.SetValue(chromedp.ID("production-format"), "documentary"),
		chromedp.SendKeys(chromedp.ID("production-runtime"), "74"),
		chromedp.SetValue(chromedp.ID("origin-share-1"), "60"),
		chromedp.SendKeys(chromedp.ID("origin-country-2"), "ma"),
		chromedp.SendKeys(chromedp.ID("origin-share-2"), "30"),
		chromedp.SendKeys(chromedp.ID("production-programme"), "Fonds Teranga"),
		chromedp.Click(chromedp.ID("production-emerging")),
		// Its deliverables: HDR, Atmos, a DCP, in Wolof with French subtitles.
		chromedp.Click(chromedp.ID("deliverable-picture-hdr")),
		chromedp.Click(chromedp.ID("deliverable-sound-atmos")),
		chromedp.Click(chromedp.ID("deliverable-delivery-dcp")),
		chromedp.SetValue(chromedp.ID("deliverable-original-language"), "wo"),
		chromedp.Click(chromedp.ID("deliverable-subtitle_languages-fr")),
	)
	p.submitAnswering(chromedp.Click(chromedp.CSS(`#production-form button[type="submit"]`)), 422)
	if e := p.text("#origins-error"); e != "Donnez au moins un pays d’origine (deux lettres, chacun une fois) avec des parts supérieures à 0 qui font 100 en tout." {
		t.Fatalf("the refused shares say %q", e)
	}
	if v := eval[string](p, `document.getElementById("production-title").value + "|" + document.getElementById("origin-country-2").value`); v != "Les Marées de Joal|ma" {
		t.Errorf("the refused form kept %q", v)
	}
	p.screenshot("prod-01-refused-fr")
	p.do(chromedp.SetValue(chromedp.ID("origin-share-2"), "40"))
	p.submit(chromedp.Click(chromedp.CSS(`#production-form button[type="submit"]`)))
	if f := p.text(".flash"); f != "Production « Les Marées de Joal » créée. Un responsable de studio répondra à votre demande." {
		t.Fatalf("flash after creating %q", f)
	}
	id := a.production(t, "Les Marées de Joal")
	if h := eval[string](p, `location.pathname + location.hash`); h != "/productions#p-"+id.String() {
		t.Errorf("after creating at %s", h)
	}
	row := p.text("#p-" + id.String())
	for _, want := range []string{"Les Marées de Joal", "Documentaire", "74 min", "SN 60% · MA 40%", "Demandé à un responsable", "Fonds Teranga",
		"HDR · Dolby Atmos · DCP (cinéma) · sous-titres français"} {
		if !strings.Contains(row, want) {
			t.Errorf("the listed production lacks %q: %q", want, row)
		}
	}
	got, err := a.db.FindProduction(context.Background(), a.actors["producer"], id)
	if err != nil || got.Emerging || got.Programme != "" || !got.RequestedEmerging || got.RequestedProgramme != "Fonds Teranga" ||
		!got.Deliverables.Equal(booking.Deliverables{Picture: []string{"hdr"}, Sound: []string{"atmos"}, Delivery: []string{"dcp"}, OriginalLanguage: "wo",
			SubtitleLanguages: []string{"fr"}, DubLanguages: []string{}}) {
		t.Fatalf("stored %+v (%v): the programme and status are only asked", got, err)
	}
	p.screenshot("prod-02-listed-fr")

	// Corrected in English: the runtime.
	p.open("/productions?lang=en")
	p.submit(chromedp.Click(chromedp.CSS(`#p-` + id.String() + ` a.edit-production`)))
	if h := p.text("h1"); h != "Correct “Les Marées de Joal”" {
		t.Errorf("edit page title %q", h)
	}
	p.do(chromedp.SetValue(chromedp.ID("production-runtime"), "78"))
	p.submit(chromedp.Click(chromedp.CSS(`#production-form button[type="submit"]`)))
	if f := p.text(".flash"); f != "Production “Les Marées de Joal” saved." {
		t.Fatalf("flash after correcting %q", f)
	}
	if row := p.text("#p-" + id.String()); !strings.Contains(row, "78 min") || !strings.Contains(row, "SN 60% · MA 40%") {
		t.Errorf("the corrected production: %q", row)
	}
	p.screenshot("prod-03-corrected-en")
}
