package web_test

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jackc/pgx/v5"

	"github.com/posthub/posthub/internal/booking"
)

// browserFor starts Debian's Chromium for an app and returns a maker of tabs, each a
// person with cookies of their own.
func browserFor(t *testing.T, a *app) func() *tab {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the browser tests need Debian's Chromium at %s: install it with `apt-get install chromium` (.ci/run does): %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root in CI
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("lang", "en-GB"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	dir := screenshotDir(t)
	return func() *tab {
		c, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		c, cancelT := context.WithTimeout(c, 60*time.Second)
		t.Cleanup(cancelT)
		return &tab{t: t, ctx: c, base: a.srv.URL, dir: dir}
	}
}

// TestBrowserPlan drives the producers' planner in Chromium: a producer follows the
// "Request a plan" link, fills the form (the checkboxes with the keyboard) for her
// feature whose picture locked on 1 March 2027, skipping the offline edit and the
// picture-lock screening, with delivery eight weeks later; reads the proposed plan
// with its timeline, quote and slack; accepts it and finds the holds in her
// bookings. Screenshots go to test-output/web.
func TestBrowserPlan(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	person := browserFor(t, a)
	casablanca := a.sites["casablanca"]
	baobab := a.production(t, "Le Souffle du Baobab")

	producer := person()
	producer.login(a.emails["producer"])
	producer.submit(chromedp.Click(chromedp.CSS(`nav.menu a[href="/plans/new"]`)))
	if got := eval[string](producer, `location.pathname`); got != "/plans/new" {
		t.Fatalf("the nav link led to %s", got)
	}
	if cur := eval[string](producer, `document.querySelector('nav.menu a[aria-current="page"]').textContent`); cur != "Request a plan" {
		t.Errorf("current nav item %q", cur)
	}
	producer.do(
		chromedp.SetValue(chromedp.ID("plan-production"), baobab.String()),
		chromedp.SetValue(chromedp.ID("plan-site"), casablanca.ID.String()),
		chromedp.SetValue(chromedp.ID("plan-template"), "feature"),
		chromedp.SetValue(chromedp.ID("plan-earliest"), "2027-03-01"),
		chromedp.SetValue(chromedp.ID("plan-deadline"), "2027-04-26"),
		chromedp.SetValue(chromedp.ID("plan-colourist-lang"), "fr"),
	)
	if z := producer.text("#plan-zone-hint"); z != "Africa/Casablanca" {
		t.Errorf("zone hint %q", z)
	}
	// The keyboard reaches every field in order (a date field takes a Tab per part),
	// and Space ticks the boxes.
	producer.do(chromedp.Focus(chromedp.ID("plan-production")))
	var order []string
	for i := 0; i < 20 && (len(order) == 0 || order[len(order)-1] != "BUTTON"); i++ {
		producer.do(chromedp.KeyEvent(kb.Tab))
		id := eval[string](producer, `document.activeElement.id || document.activeElement.tagName`)
		if len(order) > 0 && order[len(order)-1] == id {
			continue
		}
		order = append(order, id)
		if id == "skip-offline_edit" || id == "skip-picture_lock" || id == "plan-hdr" {
			producer.do(chromedp.KeyEvent(" "))
		}
	}
	if got, want := strings.Join(order, " "), "plan-template plan-site partner-casablanca partner-dakar skip-offline_edit skip-picture_lock plan-earliest plan-deadline plan-hdr plan-colourist-lang BUTTON"; got != want {
		t.Errorf("Tab order %q, want %q", got, want)
	}
	for _, id := range []string{"skip-offline_edit", "skip-picture_lock", "plan-hdr"} {
		if !eval[bool](producer, `document.getElementById("`+id+`").checked`) {
			t.Errorf("Space did not tick %s", id)
		}
	}
	producer.screenshot("13-producer-plan-form")
	producer.submit(chromedp.Click(chromedp.CSS(`#plan-form button[type="submit"]`)))
	path := eval[string](producer, `location.pathname`)
	if !regexp.MustCompile(`^/plans/[0-9a-f-]{36}$`).MatchString(path) {
		t.Fatalf("after proposing at %s: %s", path, producer.text("main"))
	}
	if n := eval[int](producer, `document.querySelectorAll("svg#plan-timeline g.stage").length`); n != 6 {
		t.Fatalf("the timeline draws %d stages", n)
	}
	if n := eval[int](producer, `document.querySelectorAll("#plan-stages tbody tr").length`); n != 6 {
		t.Fatalf("the table lists %d stages", n)
	}
	if q := producer.text("#quote-total"); !regexp.MustCompile(`^[0-9\x{202f}]+\.[0-9]{2}\x{a0}MAD$`).MatchString(q) {
		t.Errorf("quote %q", q)
	}
	if s := producer.text("#slack-text"); !strings.HasPrefix(s, "Finishes ") || !strings.Contains(s, " before the deadline (") || !strings.HasSuffix(s, " of working time).") {
		t.Errorf("slack %q", s)
	}
	if c := producer.text("#plan-stages caption"); c != "Times in Africa/Casablanca, UTC+00:00" {
		t.Errorf("caption %q", c)
	}
	if n := eval[int](producer, `document.querySelectorAll("svg#plan-timeline .mark-deadline line").length`); n != 1 {
		t.Errorf("the timeline draws %d deadline lines", n)
	}
	// The bars lie inside the drawing, after the picture-lock line.
	if bad := eval[int](producer, `(() => { const svg = document.getElementById("plan-timeline"); const w = svg.viewBox.baseVal.width;
		return [...svg.querySelectorAll("rect.bar")].filter(r => r.x.baseVal.value < 220 || r.x.baseVal.value + r.width.baseVal.value > w).length })()`); bad != 0 {
		t.Errorf("%d bars outside the timeline", bad)
	}
	producer.screenshot("14-producer-plan")

	producer.submit(chromedp.Click(chromedp.CSS(`#accept-form button[type="submit"]`)))
	if got := eval[string](producer, `location.pathname`); got != "/bookings" {
		t.Fatalf("after accepting at %s: %s", got, producer.text("main"))
	}
	if f := producer.text(".flash"); !strings.Contains(f, "6 holds were placed for Le Souffle du Baobab") {
		t.Fatalf("flash %q", f)
	}
	if n := eval[int](producer, `document.querySelectorAll(".booking.status-hold").length`); n != 6 {
		t.Fatalf("my bookings shows %d holds", n)
	}
	if n := eval[int](producer, `[...document.querySelectorAll(".booking.status-hold .facts dd")].filter(d => d.textContent.startsWith("Plan ")).length`); n != 6 {
		t.Errorf("%d holds say which plan they come from", n)
	}
	producer.screenshot("15-producer-plan-holds")
}

// TestBrowserTwoSitePlan (issue 19) drives a plan across the network in Chromium: the
// producer's feature is delivered in HDR with an Atmos mix, French and Wolof subtitles
// and a DCP (deliverables set as through the API); she asks for a plan at Dakar with
// Casablanca ticked as a partner site, reads each stage's site and currency, the sums
// in XOF and MAD with the locked MAD→XOF rate and the transfer between the sites, and
// accepts it: holds are placed at both sites.
func TestBrowserTwoSitePlan(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	person := browserFor(t, a)
	ctx := context.Background()
	baobab := a.production(t, "Le Souffle du Baobab")
	hdr, sound, dcp, langs, wo := []string{"hdr"}, []string{"5.1", "atmos"}, []string{"dcp"}, []string{"fr", "wo"}, "wo"
	if _, err := a.db.UpdateProduction(ctx, a.actors["producer"], baobab, booking.ProductionPatch{Deliverables: &booking.DeliverablesPatch{
		Picture: &hdr, Sound: &sound, Delivery: &dcp, SubtitleLanguages: &langs, OriginalLanguage: &wo}}, nil); err != nil {
		t.Fatal(err)
	}
	dakar, casablanca := a.sites["dakar"], a.sites["casablanca"]

	producer := person()
	producer.login(a.emails["producer"])
	producer.open("/plans/new")
	producer.do(
		chromedp.SetValue(chromedp.ID("plan-production"), baobab.String()),
		chromedp.SetValue(chromedp.ID("plan-site"), dakar.ID.String()),
		chromedp.SetValue(chromedp.ID("plan-template"), "feature"),
		chromedp.SetValue(chromedp.ID("plan-earliest"), "2027-03-01"),
		chromedp.Click(chromedp.ID("partner-casablanca")),
	)
	if !eval[bool](producer, `document.getElementById("partner-casablanca").checked`) {
		t.Fatal("Casablanca is not ticked")
	}
	producer.screenshot("40-producer-two-site-plan-form")
	producer.submit(chromedp.Click(chromedp.CSS(`#plan-form button[type="submit"]`)))
	path := eval[string](producer, `location.pathname`)
	if !regexp.MustCompile(`^/plans/[0-9a-f-]{36}$`).MatchString(path) {
		t.Fatalf("after proposing at %s: %s", path, producer.text("main"))
	}
	if s := producer.text("#plan-sites"); !strings.Contains(s, dakar.Name) || !strings.Contains(s, casablanca.Name) {
		t.Errorf("sites %q", s)
	}
	// Each stage names its site and currency: the edit in Dakar in XOF, the HDR grade
	// and the Atmos mix in Casablanca in MAD.
	site := func(stage string) string {
		return eval[string](producer, `(document.querySelector('#stage-`+stage+` td.stage-site') || {dataset: {}}).dataset.currency || ""`)
	}
	if site("offline_edit") != "XOF" || site("grade") != "MAD" || site("mix") != "MAD" {
		t.Errorf("currencies: edit %q, grade %q, mix %q", site("offline_edit"), site("grade"), site("mix"))
	}
	if c := producer.text("#stage-offline_edit td.stage-site"); !strings.Contains(c, dakar.Name) {
		t.Errorf("offline edit's site %q", c)
	}
	for _, id := range []string{"subtitles_fr", "subtitles_wo", "dcp"} {
		if eval[int](producer, `document.querySelectorAll('#stage-`+id+`').length`) != 1 {
			t.Errorf("no stage %s", id)
		}
	}
	// The sums in both currencies, the MAD one converted to XOF at the locked rate.
	if n := eval[int](producer, `document.querySelectorAll("#plan-totals tbody tr").length`); n != 2 {
		t.Fatalf("%d currencies in the totals", n)
	}
	if own := producer.text(`#plan-totals tr[data-currency="MAD"] .total-own`); !strings.HasSuffix(own, "MAD") {
		t.Errorf("MAD sum %q", own)
	}
	if conv := producer.text(`#plan-totals tr[data-currency="MAD"] .total-converted`); !strings.HasSuffix(conv, "XOF") {
		t.Errorf("MAD sum in XOF %q", conv)
	}
	if r := producer.text(`#plan-totals tr[data-currency="MAD"] .rate`); !strings.HasPrefix(r, "1 MAD = 60.4568") || !strings.Contains(r, "XOF") || !strings.Contains(r, "locked") {
		t.Errorf("rate %q", r)
	}
	if q := producer.text("#quote-total"); !strings.HasSuffix(q, "XOF") || producer.text("#plan-grand-total") != q {
		t.Errorf("quote %q, grand total %q", q, producer.text("#plan-grand-total"))
	}
	if tr := producer.text("#plan-transfers"); !strings.Contains(tr, "24 h data transfer") {
		t.Errorf("transfers %q", tr)
	}
	producer.screenshot("41-producer-two-site-plan")

	stages := eval[int](producer, `document.querySelectorAll("#plan-stages tbody tr").length`)
	producer.submit(chromedp.Click(chromedp.CSS(`#accept-form button[type="submit"]`)))
	if got := eval[string](producer, `location.pathname`); got != "/bookings" {
		t.Fatalf("after accepting at %s: %s", got, producer.text("main"))
	}
	if f := producer.text(".flash"); !strings.Contains(f, strconv.Itoa(stages)+" holds were placed for Le Souffle du Baobab") {
		t.Fatalf("flash %q", f)
	}
	holds := map[string]int{}
	rows, _ := a.db.Pool.Query(ctx, `SELECT s.slug, count(*) FROM booking_groups g JOIN sites s ON s.id = g.site_id
		WHERE g.production_id = $1 AND g.status = 'hold' GROUP BY s.slug`, baobab)
	var slug string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&slug, &n}, func() error { holds[slug] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	if holds["dakar"] == 0 || holds["casablanca"] == 0 || holds["dakar"]+holds["casablanca"] != stages {
		t.Errorf("holds by site %v for %d stages", holds, stages)
	}
	producer.screenshot("42-producer-two-site-holds")
}
