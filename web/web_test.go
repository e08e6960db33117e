package web_test

import (
	"context"
	"crypto/sha256"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/auth"
	"github.com/moffman/moffman/httpapi"
	"github.com/moffman/moffman/sqlite"
	"github.com/moffman/moffman/web"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the pages as rendered now")

// now is Wednesday 2 December 2026, in ISO week 49 (30 Nov – 6 Dec).
var now = time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)

// site serves the API with the web page mounted, as cmd/moffman does, at a
// fixed clock over a real in-memory store holding a few people.
func site(t *testing.T, tokens ...auth.Token) *httptest.Server {
	t.Helper()
	store, err := sqlite.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// prague takes 3 people a day and is closed on Thursday 3 December;
	// brno has no limits.
	three := 3
	dir := moffman.NewDirectory(moffman.DirectoryLists{
		Offices:     []moffman.Office{{Name: "prague", CalendarID: "prague@cal", Capacity: &three}, {Name: "brno", CalendarID: "brno@cal"}},
		ManualUsers: []moffman.Person{{Email: "jan.novak@acme.com", FirstName: "Jan", LastName: "Novák"}, {Email: "eva@acme.com", FirstName: "Eva", LastName: "Waits"}},
		Closures:    []moffman.Closure{{Office: "prague", From: "2026-12-03", To: "2026-12-04", Reason: "Staff party"}},
	})
	res := &moffman.Reservations{Calendar: store, Directory: dir, Colors: moffman.Colors{Unapproved: "4", Approved: "5"}}
	ctx := context.Background()
	for _, r := range []moffman.ReservationRequest{
		{OfficeID: "prague", UserName: "Zoe Zed", UserEmail: "zoe@acme.com", Approved: true, Start: "2026-11-30", End: "2026-12-03"},
		{OfficeID: "prague", UserName: "Adam Ant", UserEmail: "adam@acme.com", Start: "2026-12-02", End: "2026-12-03"},
		{OfficeID: "prague", UserName: "Seán O'Brien <ops> & co", Approved: true, Start: "2026-12-02", End: "2026-12-03"},
		{OfficeID: "prague", UserName: "Full Day", UserEmail: "full@acme.com", Approved: true, Start: "2026-12-02", End: "2026-12-03"},
		{OfficeID: "prague", UserName: "Next Week", Approved: true, Start: "2026-12-08", End: "2026-12-09"},
		{OfficeID: "brno", UserName: "Brno Person", Approved: true, Start: "2026-12-01", End: "2026-12-02"},
	} {
		r.RequestDT = "x"
		if _, err := res.Reserve(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, ev := range []moffman.Event{
		{Summary: "office", Start: "2026-12-04", End: "2026-12-05", CreatorEmail: "jan.novak@acme.com"},
		// A manual event that found no desk on the full Wednesday.
		{Summary: "Eva Waits", Start: "2026-12-02", End: "2026-12-03", CreatorEmail: "eva@acme.com", Private: map[string]string{moffman.PropProcessed: moffman.ProcessedWaitlisted}},
	} {
		if _, err := store.Insert(ctx, "prague@cal", ev); err != nil {
			t.Fatal(err)
		}
	}
	check := auth.NewAuth(tokens)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := &httpapi.Server{
		Reservations: res, Directory: dir, Auth: check, Logger: logger,
		Web: &web.Handler{Directory: dir, Reservations: res, Auth: check, Logger: logger, Now: func() time.Time { return now }},
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func token(name string, scopes ...auth.Scope) auth.Token {
	return auth.Token{Name: name, SHA256: sha256.Sum256([]byte(name + "-secret")), Scopes: scopes}
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// send makes a request without following redirects; header holds name,
// value pairs.
func send(t *testing.T, method, url string, body io.Reader, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./web -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the page as rendered now; if the change is meant, run go test ./web -update and review the diff.\ngot:\n%s", path, got)
	}
}

func TestGoldenPages(t *testing.T) {
	t.Parallel()
	open := site(t)
	secured := site(t, token("reader", auth.ScopeRead))
	signedIn := signIn(t, secured, "reader-secret")
	for _, c := range []struct {
		name   string
		srv    *httptest.Server
		path   string
		cookie string
		status int
	}{
		{"week", open, "/?office=prague", "", 200},
		{"week_next", open, "/?office=prague&week=2026-12-07", "", 200},
		{"week_signed_in", secured, "/?office=brno&week=2026-11-30", signedIn, 200},
		{"login", secured, "/login?next=" + url.QueryEscape("/?office=brno&week=2026-11-30"), "", 200},
		{"login_failed", secured, "/login", "", 401}, // POSTed below
		{"unknown_office", open, "/?office=nowhere", "", 404},
		{"occupancy", open, "/occupancy?office=prague&from=2026-11-30&to=2026-12-07", "", 200},
	} {
		method, body := "GET", io.Reader(nil)
		if c.name == "login_failed" {
			method, body = "POST", form("token", "wrong", "next", "/?office=brno")
		}
		resp, page := send(t, method, c.srv.URL+c.path, body, "Cookie", c.cookie, "Content-Type", formType)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d, want %d", c.path, resp.StatusCode, c.status)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", c.path, ct)
		}
		// The feed's absolute address holds the test server's port.
		golden(t, c.name, strings.ReplaceAll(page, c.srv.URL, "http://127.0.0.1:PORT"))
	}
}

func TestWeek(t *testing.T) {
	t.Parallel()
	srv := site(t)
	_, body := send(t, "GET", srv.URL+"/?office=prague", nil)
	for _, want := range []string{
		`<li id="day-2026-12-02" class="day today full" aria-current="date">`,
		`<span class="badge">Today</span>`,
		// The mark is hidden from screen readers: the word after the name says it once.
		`<li class="pending"><span class="mark" aria-hidden="true">…</span> <span class="who"><span class="name">Adam Ant</span> <span class="tag">pending</span></span></li>`,
		`<li class="approved"><span class="mark" aria-hidden="true">✓</span> <span class="who"><span class="name">Zoe Zed</span> <span class="tag visually-hidden">approved</span></span></li>`,
		`<span class="name">Seán O&#39;Brien &lt;ops&gt; &amp; co</span>`,
		`<span class="name">Jan Novák</span> <span class="tag">pending</span>`, // a manual event
		`href="/?office=prague&amp;week=2026-11-23" rel="prev"`,
		`href="/?office=prague&amp;week=2026-12-07" rel="next"`,
		`<li id="day-2026-12-06" class="day weekend">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the week lacks %s", want)
		}
	}
	if strings.Count(body, `class="day`) != 7 {
		t.Errorf("not seven days")
	}
	if strings.Contains(body, `aria-label="pending"`) || strings.Contains(body, `aria-label="approved"`) {
		t.Errorf("a status is read out twice, by its mark and its word:\n%s", body)
	}
	// Without tokens the feed is a plain link.
	if !strings.Contains(body, `<a href="/api/v1/offices/prague/calendar.ics">prague calendar feed</a>`) {
		t.Errorf("no feed link:\n%s", body)
	}

	// Any day names its week; the first office is the default.
	_, body = send(t, "GET", srv.URL+"/?week=2026-12-10", nil)
	if !strings.Contains(body, `<span class="office">brno</span> <span class="range">7 – 13 Dec 2026</span>`) ||
		!strings.Contains(body, `<a href="/?office=brno&amp;week=2026-12-07" aria-current="page">brno</a>`) ||
		strings.Contains(body, "aria-current=\"date\"") {
		t.Errorf("week of a Thursday in the default office:\n%s", body)
	}
	if resp, body := send(t, "GET", srv.URL+"/?office=prague&week=2026-02-30", nil); resp.StatusCode != 400 || !strings.Contains(body, "week must be a real date") {
		t.Errorf("bad week: %d\n%s", resp.StatusCode, body)
	}
	// Only / is the page; other paths stay the API's 404.
	if resp, _ := send(t, "GET", srv.URL+"/nothing", nil); resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("/nothing: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// An office with a capacity shows the desks taken of it each day, and says
// in words which days are full or closed and who is waitlisted; one
// without shows the count alone.
func TestWeekCapacity(t *testing.T) {
	t.Parallel()
	srv := site(t)
	_, body := send(t, "GET", srv.URL+"/?office=prague", nil)
	for _, want := range []string{
		// Monday: Zoe of 3.
		`<p class="count"><span class="desks" aria-hidden="true">1 / 3</span><span class="visually-hidden">1 of 3</span> desks taken</p>`,
		// Wednesday: full, with Adam pending and Eva waitlisted.
		`<time datetime="2026-12-02">2 Dec</time> <span class="badge">Today</span> <span class="badge full-badge">Full</span></h2>`,
		`<span class="visually-hidden">3 of 3</span> desks taken, 1 pending, 1 waitlisted</p>`,
		`<li class="waitlisted"><span class="mark" aria-hidden="true">○</span> <span class="who"><span class="name">Eva Waits</span> <span class="tag">waitlisted</span></span></li>`,
		// Thursday: closed, and why.
		`<li id="day-2026-12-03" class="day closed">`,
		`<span class="badge closed-badge">Closed</span></h2>
<p class="closure">Closed: Staff party</p>`,
		`<li class="waitlisted"><span class="mark">○</span> waitlisted: waiting for a free desk</li>`,
		`<a id="occupancy" href="/occupancy?office=prague">Occupancy report</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("prague's week lacks %s", want)
		}
	}
	if strings.Count(body, "Full</span>") != 1 || strings.Count(body, "Closed</span>") != 1 {
		t.Errorf("want one full and one closed day:\n%s", body)
	}
	// Thursday is closed: nobody is expected, and "Nobody yet" is not said.
	thursday := body[strings.Index(body, `id="day-2026-12-03"`):strings.Index(body, `id="day-2026-12-04"`)]
	if strings.Contains(thursday, "Nobody yet") || strings.Contains(thursday, "desks taken") {
		t.Errorf("the closed day: %s", thursday)
	}

	_, body = send(t, "GET", srv.URL+"/?office=brno", nil)
	if !strings.Contains(body, `<p class="count">1 in</p>`) || strings.Contains(body, "desks") || strings.Contains(body, "waitlisted") ||
		strings.Contains(body, "Full</span>") || strings.Contains(body, "Closed</span>") {
		t.Errorf("brno, without limits:\n%s", body)
	}
}

func TestWeekHeadings(t *testing.T) {
	t.Parallel()
	srv := site(t)
	for week, want := range map[string]string{
		"2026-12-28": "28 Dec 2026 – 3 Jan 2027",
		"2026-11-30": "30 Nov – 6 Dec 2026",
		"2026-12-14": "14 – 20 Dec 2026",
	} {
		if _, body := send(t, "GET", srv.URL+"/?office=brno&week="+week, nil); !strings.Contains(body, `<span class="range">`+want+`</span>`) {
			t.Errorf("week %s lacks the heading %q", week, want)
		}
	}
}

func TestNoOffices(t *testing.T) {
	t.Parallel()
	dir := moffman.NewDirectory(moffman.DirectoryLists{})
	h := &web.Handler{Directory: dir, Reservations: &moffman.Reservations{Directory: dir}}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "No offices are configured") {
		t.Errorf("no offices: %d\n%s", rec.Code, rec.Body)
	}
}

func TestSecurityHeadersAndStylesheet(t *testing.T) {
	t.Parallel()
	srv := site(t, token("reader", auth.ScopeRead))
	for _, path := range []string{"/", "/login", "/static/style.css", "/static/favicon.svg"} {
		resp, _ := send(t, "GET", srv.URL+path, nil)
		for name, want := range map[string]string{
			"Content-Security-Policy": "default-src 'self'; style-src 'self'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", path, name, got, want)
			}
		}
	}
	_, page := send(t, "GET", srv.URL+"/login", nil)
	i := strings.Index(page, `href="/static/style.css?v=`)
	if i < 0 {
		t.Fatalf("no stylesheet link:\n%s", page)
	}
	href := page[i+len(`href="`):]
	href = href[:strings.IndexByte(href, '"')]
	resp, css := send(t, "GET", srv.URL+href, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(css, "@media") {
		t.Errorf("stylesheet: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// No script and no inline style anywhere: the policy would block them.
	if strings.Contains(page, "<script") || strings.Contains(page, "style=") || strings.Contains(page, "<style") {
		t.Error("the page has a script or an inline style")
	}
}

// signIn signs in with a secret and returns the cookie to send.
func signIn(t *testing.T, srv *httptest.Server, secret string) string {
	t.Helper()
	resp, body := send(t, "POST", srv.URL+"/login", strings.NewReader(url.Values{"token": {secret}}.Encode()),
		"Content-Type", "application/x-www-form-urlencoded")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", resp.StatusCode, body)
	}
	c := resp.Cookies()
	if len(c) != 1 {
		t.Fatalf("sign-in set %d cookies", len(c))
	}
	return c[0].Name + "=" + c[0].Value
}

// The first and last weeks of the date range show their days, without a
// link past the range; a week of year 0 is refused naming week.
func TestWeeksAtTheEndsOfTheDateRange(t *testing.T) {
	t.Parallel()
	srv := site(t)
	resp, body := send(t, "GET", srv.URL+"/?office=prague&week=9999-12-29", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="day-9999-12-27"`) || !strings.Contains(body, `id="day-9999-12-30"`) ||
		strings.Contains(body, `id="day-9999-12-31"`) || strings.Contains(body, `rel="next"`) || !strings.Contains(body, `rel="prev"`) ||
		!strings.Contains(body, "27 – 30 Dec 9999") {
		t.Errorf("last week: %d\n%s", resp.StatusCode, body)
	}
	resp, body = send(t, "GET", srv.URL+"/?office=prague&week=0001-01-03", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="day-0001-01-01"`) || !strings.Contains(body, `id="day-0001-01-07"`) ||
		strings.Contains(body, `rel="prev"`) || !strings.Contains(body, `href="/?office=prague&amp;week=0001-01-08" rel="next"`) {
		t.Errorf("first week: %d\n%s", resp.StatusCode, body)
	}
	resp, body = send(t, "GET", srv.URL+"/?office=prague&week=0000-12-31", nil)
	if resp.StatusCode != 400 || !strings.Contains(body, "week must be a real date from 0001-01-01 to 9999-12-31") || strings.Contains(body, "to must") {
		t.Errorf("year 0: %d\n%s", resp.StatusCode, body)
	}
}
