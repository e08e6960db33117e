package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromiumPath is the browser the end-to-end test drives. CI installs it
// (.ci/run) and sets CI=true, and there the test never skips. Elsewhere it
// skips, saying how to run it, when the browser is missing, so that the
// README's test command works on a fresh machine; SKIP_BROWSER=1
// skips it on purpose.
func chromiumPath(t *testing.T) string {
	t.Helper()
	const path = "/usr/bin/chromium"
	ci := os.Getenv("CI") == "true"
	if os.Getenv("SKIP_BROWSER") == "1" && !ci {
		t.Skip("SKIP_BROWSER=1")
	}
	if _, err := os.Stat(path); err != nil {
		if !ci {
			t.Skipf("%s is missing: apt-get install chromium to run the browser test (CI installs it and never skips)", path)
		}
		t.Fatalf("%s is missing (%v): CI must install it (see .ci/run)", path, err)
	}
	return path
}

// browserConfig has prague take 4 people a day and close on the days
// [from, to) filled in with Sprintf; brno has no limits.
const browserConfig = `
offices:
  office_list:
    - {name: prague, id: prague@group.calendar.google.com, capacity: 4}
    - {name: brno, id: brno@group.calendar.google.com}
  closures:
    - {office: prague, from: %s, to: %s, reason: Office move}
general: {storage_path: null}
rest_api:
  addr: 127.0.0.1
  port: 0
  tokens:
    - {name: browser, token: browser-token-0123456789, scopes: [read]}
    - {name: workflow, token: workflow-token-0123456789, scopes: [write]}
`

// visitor is someone registered through the REST API, as the workflow
// would: offset days from this week's Monday, for days days.
type visitor struct {
	office, name string
	offset, days int
	approved     bool
}

// TestBrowserWeekView drives the pages in headless Chromium: sign in with a
// token, pick an office, move a week ahead and back, find people on their
// days, open the occupancy report; axe-core checks each page. With
// SCREENSHOT_DIR=docs (relative to the repository) it also writes the
// screenshots the README shows, week-view.png and occupancy.png.
func TestBrowserWeekView(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
	now := time.Now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	day := func(offset int) string { return monday.AddDate(0, 0, offset).Format("2006-01-02") }
	closed := 11 // next week's Friday
	config := fmt.Sprintf(browserConfig, day(closed), day(closed+1))
	base, _, _ := startService(t, []string{"--config", writeConfig(t, t.TempDir(), config)}, nil)
	for _, v := range []visitor{
		{office: "prague", name: "Jana Dvořáková", offset: 0, days: 3, approved: true},
		{office: "prague", name: "Petr Svoboda", offset: 1, days: 1},
		{office: "prague", name: "Lucie Černá", offset: 2, days: 3, approved: true},
		{office: "prague", name: "Eva Horáková", offset: 3, days: 1, approved: true},
		{office: "prague", name: "Tomáš Marek", offset: 4, days: 1},
		{office: "prague", name: "Martin Kučera", offset: 3, days: 2, approved: true},
		{office: "prague", name: "Pavel Novák", offset: 3, days: 1, approved: true},  // Thursday is full
		{office: "prague", name: "Nina Novotná", offset: 9, days: 1, approved: true}, // next week's Wednesday
		{office: "brno", name: "Karel Brněnský", offset: 1, days: 2, approved: true},
		{office: "brno", name: "Olga Veselá", offset: 2, days: 1},
	} {
		reserveAt(t, base, v.office, v.name, day(v.offset), day(v.offset+v.days), v.approved)
	}
	// Weeks around this one, for the occupancy report: 0 to 4 colleagues
	// on each working day, none on the closed one.
	for offset := -28; offset < 35; offset++ {
		if offset >= 0 && offset < 7 || offset%7 >= 5 || offset == closed || offset == 9 {
			continue // this week and Nina's day are set above; weekends stay empty
		}
		for n := range (offset*3 + 100) % 5 { // offset >= -28: never negative
			reserveAt(t, base, "prague", fmt.Sprintf("Colleague %d", n+1), day(offset), day(offset+1), true)
		}
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 640),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel) // runs before the user-data dir is removed: the browser exits first
	// The first Do starts the browser and must not have a deadline, or the
	// deadline would end the browser too; the steps after it have one.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	ctx, cancelSteps := context.WithTimeout(browser, 30*time.Second)
	defer cancelSteps()

	dayText := func(date string) string {
		t.Helper()
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("day-"+date)))
		if err != nil {
			t.Fatalf("day %s: %v", date, err)
		}
		return text
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// The accessibility check finds what it should: a page with faults fails it.
	faulty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><title>x</title><img src="/x.png"><p style="color:#ccc">faint</p></html>`)
	}))
	defer faulty.Close()
	step("a faulty page", chromedp.Navigate(faulty.URL))
	if got := axeViolations(t, ctx); !slices.Contains(got, "image-alt") || !slices.Contains(got, "color-contrast") || !slices.Contains(got, "html-has-lang") {
		t.Errorf("axe on a page without alt text, contrast and lang found only %v", got)
	}

	// Tokens are configured: the page asks for one first.
	step("the sign-in page",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
	)
	axeClean(t, ctx, "the sign-in page")
	step("a wrong token",
		chromedp.SendKeys(chromedp.ID("token"), "not-a-token"),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.ID("token-error")),
	)
	axeClean(t, ctx, "the failed sign-in")
	// The message was on the page from its load, so a screen reader hears
	// it through the field: focused, invalid, described by the message.
	if said, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const f = document.activeElement;
		return [document.title, f.id, f.getAttribute("aria-invalid"), document.getElementById(f.getAttribute("aria-describedby")).textContent].join(" | ");
	})()`)); err != nil || said != "Who's in: Sign in failed | token | true | Not signed in: That token is not valid. Check it and try again." {
		t.Errorf("the failed sign-in, as a screen reader meets it: %q %v", said, err)
	}
	step("signing in",
		chromedp.SendKeys(chromedp.ID("token"), "browser-token-0123456789"),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.ID("day-"+day(0))),
	)
	// The first office, brno, this week.
	if got := dayText(day(1)); !strings.Contains(got, "Karel Brněnský") || strings.Contains(got, "Jana") {
		t.Errorf("brno, Tuesday: %q", got)
	}
	step("picking prague",
		chromedp.Click(chromedp.CSS(`nav.offices a[href^="/?office=prague"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.offices a[aria-current="page"][href^="/?office=prague"]`)),
	)
	if got := dayText(day(1)); !strings.Contains(got, "Jana Dvořáková") || !strings.Contains(got, "Petr Svoboda") || !strings.Contains(strings.ToLower(got), "pending") {
		t.Errorf("prague, Tuesday: %q", got)
	}
	// innerText is as shown: the badge is upper case.
	if got := dayText(today.Format("2006-01-02")); !strings.Contains(strings.ToLower(got), "today") {
		t.Errorf("today (%s) is not marked: %q", today.Format("2006-01-02"), got)
	}
	// Tabbing to the selected office (dark) shows a ring around it, apart
	// from it on the light page, not the browser's thin one.
	ring := ""
	for range 8 {
		step("tab", chromedp.KeyEvent(kb.Tab))
		var err error
		ring, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
			const a = document.activeElement;
			if (!a.matches('nav.offices a[aria-current="page"]')) return "";
			const s = getComputedStyle(a);
			return [s.outlineStyle, s.outlineWidth, s.outlineOffset, s.outlineColor].join(" ");
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if ring != "" {
			break
		}
	}
	if ring != "solid 3px 2px rgb(31, 95, 191)" {
		t.Errorf("focus ring of the selected office: %q, want a 3px accent ring 2px outside it", ring)
	}
	step("next week",
		chromedp.Click(chromedp.ID("next-week")),
		chromedp.WaitVisible(chromedp.ID("day-"+day(9))),
	)
	if got := dayText(day(9)); !strings.Contains(got, "Nina Novotná") {
		t.Errorf("prague, next Wednesday: %q", got)
	}
	step("previous week",
		chromedp.Click(chromedp.ID("prev-week")),
		chromedp.WaitVisible(chromedp.ID("day-"+day(1))),
	)
	if location, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasSuffix(location, "/?office=prague&week="+day(0)) {
		t.Errorf("the address does not keep the place: %s %v", location, err)
	}

	axeClean(t, ctx, "the week page")

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	saveScreenshot(t, "week-view.png", shot)

	// The occupancy report, from its link: bars of the desks taken against
	// the capacity, the full Thursday and the closed Friday in its table.
	step("the occupancy report",
		chromedp.Click(chromedp.ID("occupancy")),
		chromedp.WaitVisible(chromedp.CSS("figure.chart svg")),
	)
	axeClean(t, ctx, "the occupancy page")
	shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	saveScreenshot(t, "occupancy.png", shot)
	if bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg rect.bar").length`)); err != nil || bars < 20 {
		t.Errorf("the chart has %d bars: %v", bars, err)
	}
	step("the numbers", chromedp.Click(chromedp.CSS("details.numbers summary")), chromedp.WaitVisible(chromedp.ID("row-"+day(3))))
	axeClean(t, ctx, "the occupancy page with its table open")
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("row-"+day(3)))); !strings.Contains(got, "Full") {
		t.Errorf("Thursday's row: %q", got)
	}
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("row-"+day(closed)))); !strings.Contains(got, "Closed: Office move") {
		t.Errorf("the closed day's row: %q", got)
	}
	step("back to the week", chromedp.Click(chromedp.ID("week-view")), chromedp.WaitVisible(chromedp.ID("day-"+day(3))))
	if got := dayText(day(3)); !strings.Contains(got, "4 / 4") || !strings.Contains(strings.ToLower(got), "full") {
		t.Errorf("prague, Thursday: %q, want 4 / 4 and Full", got)
	}

	// On a phone the days stack: each below the one before, at the same left edge.
	step("phone size", chromedp.EmulateViewport(390, 844))
	stacked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const a = document.getElementById("day-`+day(0)+`").getBoundingClientRect();
		const b = document.getElementById("day-`+day(1)+`").getBoundingClientRect();
		return a.left === b.left && b.top >= a.bottom && a.right <= 390;
	})()`))
	if err != nil || !stacked {
		t.Errorf("days do not stack on a narrow screen: %v", err)
	}

	// A link on another site: the SameSite=Strict cookie is not sent with
	// that navigation, and the page reloads itself to get it.
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<a id="link" href="%s/?office=brno">moffman</a>`, base)
	}))
	defer elsewhere.Close()
	other := strings.Replace(elsewhere.URL, "127.0.0.1", "localhost", 1) // another site than 127.0.0.1
	step("following a link from another site",
		chromedp.EmulateViewport(1280, 640),
		chromedp.Navigate(other),
		chromedp.Click(chromedp.ID("link")),
		chromedp.WaitVisible(chromedp.ID("day-"+day(1))),
	)
	if got := dayText(day(1)); !strings.Contains(got, "Karel Brněnský") {
		t.Errorf("after a link from another site, brno Tuesday: %q", got)
	}

	step("an unknown office",
		chromedp.Navigate(base+"/?office=nowhere"),
		chromedp.WaitVisible(chromedp.CSS(".links a")),
	)
	axeClean(t, ctx, "the error page")

	// Signing out asks for the token again.
	step("signing out",
		chromedp.Click(chromedp.CSS(".signout button")),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.Navigate(base+"/?office=prague"),
		chromedp.WaitVisible(chromedp.ID("token")),
	)
}

// wcag21AA are the axe-core tags of the WCAG 2.1 A and AA success criteria.
const wcag21AA = `["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]`

// axeSource is axe-core, vendored (testdata/axe/README.md says which and how
// to update it), so that the check needs no network.
var axeSource = sync.OnceValues(func() ([]byte, error) { return os.ReadFile("testdata/axe/axe.min.js") })

// axeViolations runs axe-core on the page in view, for the WCAG 2.1 A and
// AA rules, and returns the ids of the rules it breaks. Evaluating through
// DevTools is not bound by the page's Content-Security-Policy, which allows
// no script.
func axeViolations(t *testing.T, ctx context.Context) []string {
	t.Helper()
	got := axeRun(t, ctx)
	ids := make([]string, 0, len(got))
	for _, v := range got {
		ids = append(ids, v.ID)
	}
	return ids
}

// axeClean fails the test for each WCAG 2.1 A or AA violation on the page
// in view, naming the elements at fault.
func axeClean(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	for _, v := range axeRun(t, ctx) {
		t.Errorf("%s: %s (%s): %s", page, v.ID, v.Help, strings.Join(v.Nodes, "; "))
	}
}

type axeViolation struct {
	ID, Help string
	Nodes    []string // each element's selector and what to fix
}

func axeRun(t *testing.T, ctx context.Context) []axeViolation {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	type result struct {
		Violations []axeViolation
		Passes     int
	}
	r, err := chromedp.Run(ctx, chromedp.Evaluate[result](string(src)+`;
axe.run(document, {runOnly: {type: "tag", values: `+wcag21AA+`}}).then(r => ({
	Passes: r.passes.length,
	Violations: r.violations.map(v => ({ID: v.id, Help: v.help, Nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)})),
}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe-core: %v", err)
	}
	if r.Passes == 0 {
		t.Fatalf("axe-core checked nothing on the page")
	}
	return r.Violations
}

// reserveAt registers a reservation through the REST API with the write token.
func reserveAt(t *testing.T, base, office, name, start, end string, approved bool) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"user": map[string]string{"name": name}, "approved": approved,
		"start": start, "end": end, "request_dt": "08:00:00 2026/01/01", "office_id": office,
	})
	req, _ := http.NewRequest("POST", base+"/api/v1/reservations", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer workflow-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("reserve %s: %d", name, resp.StatusCode)
	}
}

// saveScreenshot keeps a screenshot in the test's directory and, with
// SCREENSHOT_DIR set, in that directory (relative to the repository root).
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(t.TempDir(), name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir) // tests run in cmd/moffman
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot written to %s", filepath.Join(dir, name))
}
