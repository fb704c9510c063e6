package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/demo"
)

// chromiumPath is Debian's Chromium, which the browser tests drive (.ci/run installs
// it).
const chromiumPath = "/usr/bin/chromium"

// screenshotDir is where the browser tests leave their screenshots: test-output/web at
// the top of the repository (git-ignored), or POSTHUB_TEST_OUTPUT.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("POSTHUB_TEST_OUTPUT")
	if dir == "" {
		dir = filepath.Join("..", "..", "test-output", "web")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// tab is one person's browser window, with cookies of its own.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
}

func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// submit runs an action that leaves the page (a click, Enter) and waits for the next
// page to load.
func (b *tab) submit(action chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, action)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	if res.Status >= 400 {
		b.t.Fatalf("browser: %s answered %d", res.URL, res.Status)
	}
}

func (b *tab) open(path string) {
	b.t.Helper()
	res, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("browser: %s: %v", path, err)
	}
	if res.Status != 200 {
		b.t.Fatalf("browser: %s answered %d", path, res.Status)
	}
}

func eval[T any](b *tab, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browser: %s: %v", js, err)
	}
	return v
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v", sel, err)
	}
	return s
}

func (b *tab) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}

// login signs in with the form, typing like a person.
func (b *tab) login(email string) {
	b.t.Helper()
	b.open("/login")
	b.do(chromedp.SendKeys(chromedp.ID("email"), email), chromedp.SendKeys(chromedp.ID("password"), demo.Password))
	b.submit(chromedp.Click(chromedp.CSS(`#login-form button[type="submit"]`)))
	if got := eval[string](b, `location.pathname`); got != "/" {
		b.t.Fatalf("after login at %s", got)
	}
}

// TestBrowser drives the whole hub in Debian's Chromium: a producer places a hold
// through the form, finds it first in line and asks to confirm it; the site wants
// approval, so a manager approves it from the queue; the producer sees it confirmed
// and told; an operator reads the utilisation dashboard. The login is done with the
// keyboard alone. Screenshots go to test-output/web.
func TestBrowser(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the browser tests need Debian's Chromium at %s: install it with `apt-get install chromium` (.ci/run does): %v", chromiumPath, err)
	}
	a := startApp(t, true)
	ctx := context.Background()
	casablanca := a.sites["casablanca"]
	pol, err := a.db.SitePolicy(ctx, casablanca.ID)
	if err != nil {
		t.Fatal(err)
	}
	pol.ConfirmNeedsApproval = true
	if _, err := a.db.UpdateSitePolicy(ctx, booking.System, pol); err != nil {
		t.Fatal(err)
	}
	// Other companies' work in the same weeks, so the timeline and the dashboard have
	// something around the producer's hold: two holds queued on the mix stage, a
	// confirmed grade, an edit and a suite under maintenance.
	// They fall on three working days in a row, from two days on.
	day := a.workday(t, "casablanca", 2, 3)
	at := func(d int, h int) time.Time { return a.at(t, "casablanca", day.AddDays(d), h) }
	layali, sable := a.production(t, "Layali Derb Sultan"), a.production(t, "Sable et Sel")
	a.book(t, "admin", layali, a.resource(t, "Grading Suite 2 — Anfa"), at(0, 9), at(0, 19), booking.StatusConfirmed)
	a.book(t, "admin", layali, a.resource(t, "Yasmine El Alami"), at(1, 9), at(1, 13), booking.StatusConfirmed)
	a.book(t, "admin", a.production(t, "Le Chant de la Médina"), a.resource(t, "Edit Suite 1"), at(0, 9), at(2, 19), booking.StatusConfirmed)
	a.book(t, "producer_other", sable, a.resource(t, "Mix Stage A"), at(1, 10), at(1, 17), booking.StatusHold)
	a.book(t, "admin", a.production(t, "Les Pirogues de Guet Ndar"), a.resource(t, "Mix Stage A"), at(1, 14), at(1, 19), booking.StatusHold)
	if _, err := a.db.AddBlock(ctx, booking.System, booking.Block{ResourceID: a.resource(t, "Grading Suite 3 — Oasis"),
		Start: at(0, 9), End: at(0, 13), Kind: "maintenance", Reason: "projector lamp"}); err != nil {
		t.Fatal(err)
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
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	dir := screenshotDir(t)
	person := func() *tab {
		c, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		c, cancelT := context.WithTimeout(c, 60*time.Second)
		t.Cleanup(cancelT)
		return &tab{t: t, ctx: c, base: a.srv.URL, dir: dir}
	}

	// The producer signs in with the keyboard alone: Tab to the email field, type,
	// Tab to the password, type, Enter.
	producer := person()
	producer.open("/login")
	producer.do(chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	for i := 0; eval[string](producer, `document.activeElement ? document.activeElement.id : ""`) != "email"; i++ {
		if i == 15 {
			t.Fatal("Tab never reached the email field")
		}
		producer.do(chromedp.KeyEvent(kb.Tab))
	}
	producer.do(chromedp.KeyEvent(a.emails["producer"]), chromedp.KeyEvent(kb.Tab))
	if id := eval[string](producer, `document.activeElement.id`); id != "password" {
		t.Fatalf("Tab from the email field went to %q", id)
	}
	producer.do(chromedp.KeyEvent(demo.Password))
	producer.submit(chromedp.KeyEvent(kb.Enter))
	if got := eval[string](producer, `location.pathname`); got != "/" {
		t.Fatalf("keyboard login ended at %s", got)
	}
	producer.screenshot("01-producer-dashboard")

	// Find free time for an HDR grade with the availability helper and take the first
	// slot into the hold form.
	producer.open("/bookings/new")
	producer.do(
		chromedp.SetValue(chromedp.ID("a_site"), casablanca.ID.String()),
		chromedp.SetValue(chromedp.ID("a_kind1"), "grading_suite"),
		chromedp.SendKeys(chromedp.ID("a_caps1"), "hdr"),
		chromedp.SetValue(chromedp.ID("a_hours"), "4"),
		chromedp.SetValue(chromedp.ID("a_from"), day.String()),
		chromedp.SetValue(chromedp.ID("a_to"), day.AddDays(7).String()),
	)
	producer.submit(chromedp.Click(chromedp.CSS(`#search-form button[type="submit"]`)))
	if n := eval[int](producer, `document.querySelectorAll("#slots a.use-slot").length`); n == 0 {
		t.Fatalf("no free slot found: %s", producer.text("#slots"))
	}
	producer.screenshot("02-producer-availability")
	producer.submit(chromedp.Click(chromedp.CSS(`#slots a.use-slot`)))
	baobab := a.production(t, "Le Souffle du Baobab")
	producer.do(chromedp.SetValue(chromedp.ID("production"), baobab.String()))
	// The earliest slot starts when the suite's first working day (from day on) opens.
	if v := eval[string](producer, `document.getElementById("start_local").value`); v < day.String() || !strings.HasSuffix(v, "T09:00") {
		t.Fatalf("the slot filled the start with %q", v)
	}
	if z := producer.text("#zone-hint"); z != "Africa/Casablanca" {
		t.Errorf("zone hint %q", z)
	}
	producer.screenshot("03-producer-hold-form")
	producer.submit(chromedp.Click(chromedp.CSS(`#hold-form button[type="submit"]`)))
	loc := eval[string](producer, `location.pathname + location.hash`)
	id, ok := strings.CutPrefix(loc, "/bookings#b-")
	if !ok {
		t.Fatalf("after placing the hold at %s: %s", loc, producer.text("main"))
	}
	card := "#b-" + id
	if f := producer.text(".flash"); !strings.Contains(f, "Hold placed, rank 1") {
		t.Fatalf("flash %q", f)
	}
	if r := eval[string](producer, `document.querySelector("`+card+` [data-rank]").dataset.rank`); r != "1" {
		t.Fatalf("rank %q in my bookings", r)
	}
	if w := producer.text(card + " .when"); !strings.Contains(w, "09:00–13:00 (Africa/Casablanca, UTC+00:00)") {
		t.Errorf("the hold shows %q", w)
	}

	// Confirming asks the studio: the site wants approval.
	producer.submit(chromedp.Click(chromedp.CSS(card + ` form[action$="/confirm"] button`)))
	if f := producer.text(".flash"); !strings.Contains(f, "a studio manager will approve it") {
		t.Fatalf("flash after confirm %q", f)
	}
	if n := eval[int](producer, `document.querySelectorAll("`+card+` [data-approval=pending]").length`); n != 1 {
		t.Fatal("the hold does not show approval pending")
	}
	producer.screenshot("04-producer-approval-pending")

	// The manager, reading French, approves it from the queue.
	manager := person()
	manager.login(a.emails["manager"])
	manager.submit(chromedp.Click(chromedp.CSS(`.account a[hreflang="fr"]`)))
	manager.open("/manage/queue")
	if lang := eval[string](manager, `document.documentElement.lang`); lang != "fr" {
		t.Fatalf("the language switch left the page in %q", lang)
	}
	if title := manager.text("#approvals " + card + " h2"); title != "Le Souffle du Baobab" {
		t.Fatalf("queue shows %q", title)
	}
	manager.screenshot("05-manager-queue-fr")
	manager.submit(chromedp.Click(chromedp.CSS("#approvals " + card + ` form[action$="/confirm"] button`)))
	if f := manager.text(".flash"); f != "Confirmée." {
		t.Fatalf("flash after approval %q", f)
	}
	manager.open("/manage/timeline?site=casablanca&from=" + day.AddDays(-1).String())
	if n := eval[int](manager, `document.querySelectorAll("svg#timeline a.item").length`); n < 5 {
		t.Fatalf("the timeline draws %d bookings", n)
	}
	if n := eval[int](manager, `document.querySelectorAll("svg#timeline a.item-hold").length`); n < 2 {
		t.Fatalf("the timeline draws %d holds", n)
	}
	if n := eval[int](manager, `document.querySelectorAll("svg#timeline .item-block").length`); n != 1 {
		t.Fatalf("the timeline draws %d blocks", n)
	}
	manager.screenshot("06-manager-timeline-fr")
	manager.open("/manage/calendar")
	manager.screenshot("07-manager-calendar-fr")

	// The producer finds it confirmed, and is told.
	producer.open("/bookings")
	if st := eval[string](producer, `document.querySelector("`+card+` [data-status]").dataset.status`); st != "confirmed" {
		t.Fatalf("after approval the booking is %q", st)
	}
	producer.screenshot("08-producer-confirmed")
	deadline := time.Now().Add(15 * time.Second)
	for {
		producer.open("/notifications")
		if eval[int](producer, `document.querySelectorAll(".feed li.unread").length`) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no notifications after approval: %s", producer.text("main"))
		}
		time.Sleep(300 * time.Millisecond)
	}
	producer.screenshot("09-producer-notifications")
	producer.submit(chromedp.Click(chromedp.CSS(`form[action="/notifications/read"] input[name="all"] ~ button`)))
	if n := eval[int](producer, `document.querySelectorAll(".feed li.unread").length`); n != 0 {
		t.Fatalf("%d unread after marking all read (%s): %s", n, eval[string](producer, `location.href`), producer.text("main"))
	}
	producer.do(chromedp.EmulateViewport(768, 1024))
	producer.open("/bookings")
	producer.screenshot("10-producer-bookings-tablet")

	// The operator reads the utilisation dashboard.
	operator := person()
	operator.login(a.emails["operator"])
	from := a.siteDay(t, "casablanca", 0)
	operator.open("/ops?site=casablanca&from=" + from.String() + "&to=" + from.AddDays(20).String())
	if n := eval[int](operator, `document.querySelectorAll("#heatmap-figure svg g.cell").length`); n != 24*21 { // the demo's 24 resources at Casablanca, 21 days
		t.Fatalf("the heatmap has %d cells", n)
	}
	if n := eval[int](operator, `document.querySelectorAll("#heatmap-figure svg g.cell text").length`); n < 4 {
		t.Fatalf("only %d heatmap cells show bookings", n)
	}
	if n := eval[int](operator, `document.querySelectorAll("#jobs tbody tr").length`); n == 0 {
		t.Error("queue health shows no jobs")
	}
	csv := eval[string](operator, `fetch(document.querySelector('a[href^="/ops/utilisation.csv"]').href).then(r => r.text())`)
	if !strings.HasPrefix(csv, "site,time_zone,resource_id,resource,kind,day,") {
		t.Errorf("CSV starts %q", csv[:min(len(csv), 80)])
	}
	operator.screenshot("11-operator-utilisation")
	operator.do(chromedp.EmulateViewport(768, 1024))
	operator.open("/ops?site=casablanca&from=" + from.String() + "&to=" + from.AddDays(20).String())
	if w := eval[int](operator, `document.documentElement.scrollWidth`); w > 768 {
		t.Errorf("on a tablet the page is %dpx wide", w)
	}
	operator.screenshot("12-operator-utilisation-tablet")
}
