package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/sqlite"
)

// feedEnv serves the API at a fixed "now" over a store whose clock stamps
// every write with updated.
func feedEnv(t *testing.T, now, updated time.Time) (*env, *Server) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), "", sqlite.WithClock(func() time.Time { return updated }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	dir := moffman.NewDirectory(moffman.DirectoryLists{
		Offices:     []moffman.Office{{Name: "prague", CalendarID: pragueCal}, {Name: "brno", CalendarID: brnoCal}},
		ManualUsers: []moffman.Person{{Email: "jan.novak@acme.com", FirstName: "Jan", LastName: "Novák"}},
	})
	s := &Server{
		Reservations: &moffman.Reservations{Calendar: store, Directory: dir, Colors: moffman.Colors{Unapproved: "4", Approved: "5"}},
		Directory:    dir,
		Now:          func() time.Time { return now },
		Logger:       quiet,
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, store: store, cal: store, srv: srv}, s
}

// fetch GETs a path with optional request headers (name, value, …).
func fetch(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestFeed(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 15, 4, 5, 0, time.UTC)
	updated := time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)
	e, _ := feedEnv(t, now, updated)
	zoe := e.mustPost(visit("prague", "Zoe Zed", "zoe@acme.com", "2026-12-01", "2026-12-03", true))["id"].(string)
	adam := e.mustPost(visit("prague", "Adam Ant", "adam@acme.com", "2026-12-02", "2026-12-03", false))["id"].(string)
	long := strings.Repeat("Žofie Dlouhá-Příjmení ", 5) + "Konec"
	longID := e.mustPost(visit("prague", long, "", "2026-12-04", "2026-12-05", true))["id"].(string)
	// The default window is 8 weeks back (from 2026-10-07) to 26 ahead (to 2027-06-02).
	first := e.mustPost(visit("prague", "First Day", "f@acme.com", "2026-10-07", "2026-10-08", true))["id"].(string)
	e.mustPost(visit("prague", "Too Early", "f@acme.com", "2026-10-06", "2026-10-07", true))
	e.mustPost(visit("prague", "Too Late", "f@acme.com", "2027-06-02", "2027-06-03", true))
	cancelled := e.mustPost(visit("prague", "Carl Cancelled", "c@acme.com", "2026-12-02", "2026-12-03", true))["id"].(string)
	if status, _ := e.do("DELETE", "/api/v1/offices/prague/reservations/"+cancelled, ""); status != 200 {
		t.Fatal("cancel failed")
	}
	e.mustPost(visit("brno", "Brno Only", "b@acme.com", "2026-12-02", "2026-12-03", true))
	manual, err := e.store.Insert(context.Background(), pragueCal, moffman.Event{Summary: "office", Start: "2026-12-03", End: "2026-12-04", CreatorEmail: "jan.novak@acme.com"})
	if err != nil {
		t.Fatal(err)
	}

	resp, body := fetch(t, e.srv.URL+"/api/v1/offices/prague/calendar.ics")
	if resp.StatusCode != 200 {
		t.Fatalf("feed: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	etag := resp.Header.Get("ETag")
	if !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(etag) {
		t.Errorf("ETag = %q, want a strong hex tag", etag)
	}

	// RFC 5545 3.1: CRLF line ends, lines of at most 75 octets.
	if !strings.HasPrefix(body, "BEGIN:VCALENDAR\r\n") || !strings.HasSuffix(body, "END:VCALENDAR\r\n") {
		t.Errorf("not a VCALENDAR:\n%s", body)
	}
	if strings.Count(body, "\n") != strings.Count(body, "\r\n") || strings.Count(body, "\r") != strings.Count(body, "\r\n") {
		t.Error("a line does not end in CRLF")
	}
	folded := false
	for _, line := range strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
		folded = folded || strings.HasPrefix(line, " ")
	}
	if !folded {
		t.Error("the long summary was not folded")
	}

	cal, err := ics.ParseCalendar(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	props := map[string]string{}
	for _, p := range cal.CalendarProperties {
		props[p.IANAToken] = p.Value
	}
	for k, v := range map[string]string{"VERSION": "2.0", "PRODID": "-//moffman//Who's in//EN", "X-WR-CALNAME": "Who's in: prague"} {
		if props[k] != v {
			t.Errorf("%s = %q, want %q", k, props[k], v)
		}
	}

	type vevent struct{ start, end, stamp, summary, status string }
	want := map[string]vevent{
		zoe + "@moffman":       {"20261201", "20261203", "20261120T083000Z", "Zoe Zed", "CONFIRMED"},
		adam + "@moffman":      {"20261202", "20261203", "20261120T083000Z", "Adam Ant (pending)", "TENTATIVE"},
		longID + "@moffman":    {"20261204", "20261205", "20261120T083000Z", long, "CONFIRMED"},
		first + "@moffman":     {"20261007", "20261008", "20261120T083000Z", "First Day", "CONFIRMED"},
		manual.ID + "@moffman": {"20261203", "20261204", "20261120T083000Z", "Jan Novák (pending)", "TENTATIVE"},
	}
	got := map[string]vevent{}
	for _, ev := range cal.Events() {
		prop := func(p ics.ComponentProperty) string {
			if v := ev.GetProperty(p); v != nil {
				return v.Value
			}
			return ""
		}
		for _, p := range []ics.ComponentProperty{ics.ComponentPropertyDtStart, ics.ComponentPropertyDtEnd} {
			if v := ev.GetProperty(p); v == nil || len(v.ICalParameters["VALUE"]) != 1 || v.ICalParameters["VALUE"][0] != "DATE" {
				t.Errorf("%s of %s is not VALUE=DATE", p, ev.Id())
			}
		}
		got[ev.Id()] = vevent{
			prop(ics.ComponentPropertyDtStart), prop(ics.ComponentPropertyDtEnd), prop(ics.ComponentPropertyDtstamp),
			ics.FromText(prop(ics.ComponentPropertySummary)), prop(ics.ComponentPropertyStatus),
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d events, want %d:\n%s", len(got), len(want), body)
	}
	for uid, w := range want {
		if got[uid] != w {
			t.Errorf("event %s = %+v, want %+v", uid, got[uid], w)
		}
	}

	// Polling an unchanged office: the same bytes, and 304 for the tag.
	if resp, again := fetch(t, e.srv.URL+"/api/v1/offices/prague/calendar.ics"); again != body || resp.Header.Get("ETag") != etag {
		t.Error("an unchanged feed changed")
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		resp, b := fetch(t, e.srv.URL+"/api/v1/offices/prague/calendar.ics", "If-None-Match", inm)
		if resp.StatusCode != 304 || b != "" || resp.Header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d, %d bytes, ETag %q; want 304 without a body", inm, resp.StatusCode, len(b), resp.Header.Get("ETag"))
		}
	}
	if resp, _ := fetch(t, e.srv.URL+"/api/v1/offices/prague/calendar.ics", "If-None-Match", `"other"`); resp.StatusCode != 200 {
		t.Errorf("If-None-Match of another tag: %d, want 200", resp.StatusCode)
	}
	// A change makes a new tag.
	e.mustPost(visit("prague", "Adam Ant", "adam@acme.com", "2026-12-02", "2026-12-03", true))
	resp, b := fetch(t, e.srv.URL+"/api/v1/offices/prague/calendar.ics", "If-None-Match", etag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag || !strings.Contains(b, "SUMMARY:Adam Ant\r\nSTATUS:CONFIRMED") {
		t.Errorf("after approval: %d, ETag %q\n%s", resp.StatusCode, resp.Header.Get("ETag"), b)
	}
}

func TestFeedWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	e, s := feedEnv(t, now, now)
	e.mustPost(visit("prague", "In Range", "a@acme.com", "2026-12-02", "2026-12-03", true))
	e.mustPost(visit("prague", "Next Year", "a@acme.com", "2027-09-01", "2027-09-02", true))

	_, body := fetch(t, e.srv.URL+"/api/v1/offices/prague/calendar.ics?from=2027-08-01&to=2027-10-01")
	if !strings.Contains(body, "Next Year") || strings.Contains(body, "In Range") {
		t.Errorf("from and to:\n%s", body)
	}
	// A single end: the window has the default length from it.
	_, body = fetch(t, e.srv.URL+"/api/v1/offices/prague/calendar.ics?from=2027-08-01")
	if !strings.Contains(body, "Next Year") {
		t.Errorf("from only:\n%s", body)
	}
	for _, c := range []struct{ from, to, wantFrom, wantTo string }{
		{"", "", "2026-10-07", "2027-06-02"},
		{"2027-01-04", "", "2027-01-04", "2027-08-30"},
		{"", "2027-08-30", "2027-01-04", "2027-08-30"},
		{"2027-01-04", "2027-01-11", "2027-01-04", "2027-01-11"},
	} {
		first, end, err := moffman.ParseWindow(c.from, c.to, s.feedWindow())
		if from, to := first.Format(moffman.DateLayout), end.Format(moffman.DateLayout); err != nil || from != c.wantFrom || to != c.wantTo {
			t.Errorf("feed window (%q, %q) = %s, %s, %v; want %s, %s", c.from, c.to, from, to, err, c.wantFrom, c.wantTo)
		}
	}

	for _, c := range []struct {
		path   string
		status int
		detail string
	}{
		{"/api/v1/offices/prague/calendar.ics?from=someday", 400, "from must be a real date"},
		{"/api/v1/offices/prague/calendar.ics?to=someday", 400, "to must be a real date"},
		{"/api/v1/offices/prague/calendar.ics?from=2027-01-01&to=2026-01-01", 400, "must be after from"},
		{"/api/v1/offices/prague/calendar.ics?from=2026-01-01&to=2028-01-01", 400, "at most 366"},
		{"/api/v1/offices/nowhere/calendar.ics", 404, `unknown office "nowhere"`},
	} {
		status, body := e.do("GET", c.path, "")
		if status != c.status || !strings.Contains(body["detail"].(string), c.detail) {
			t.Errorf("GET %s: %d %v, want %d with %q", c.path, status, body["detail"], c.status, c.detail)
		}
	}
}

func TestFeedEmptyOfficeIsValid(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	e, _ := feedEnv(t, now, now)
	_, body := fetch(t, e.srv.URL+"/api/v1/offices/brno/calendar.ics")
	cal, err := ics.ParseCalendar(strings.NewReader(body))
	if err != nil || len(cal.Events()) != 0 {
		t.Errorf("empty feed: %v\n%s", err, body)
	}
}

func TestOneLine(t *testing.T) {
	t.Parallel()
	if got := oneLine("a\r\nb\tc\x7f"); got != "a  b c " {
		t.Errorf("oneLine = %q", got)
	}
}
