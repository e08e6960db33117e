package web_test

import (
	"encoding/csv"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/moffman/moffman/auth"
)

// The report's default window is the last 4 weeks and the next 4 after
// this one, Monday to Sunday; the chart draws a bar per day with people,
// the capacity line, the closed day and today.
func TestOccupancyPage(t *testing.T) {
	t.Parallel()
	srv := site(t)
	resp, body := send(t, "GET", srv.URL+"/occupancy?office=prague", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("occupancy: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{
		"<title>Who&#39;s in: prague occupancy, 2 Nov 2026 – 3 Jan 2027</title>",
		`<input type="date" id="from" name="from" value="2026-11-02" required>`,
		`<input type="date" id="to" name="to" value="2027-01-04" required>`,
		`<svg viewBox="0 0 806 222" role="img" aria-labelledby="chart-title chart-desc">`,
		`<desc id="chart-desc">prague, 2 Nov 2026 – 3 Jan 2027 (63 days): at most 3 of 3 desks taken, on Wed 2 Dec; 1 day full; closed on 1 day.</desc>`,
		`<title>Wed 2 Dec: 3 of 3 desks taken</title>`,
		`<title>Thu 3 Dec: closed (Staff party)</title>`,
		`<path class="capacity" d="M40 18H796"></path>`,
		`<text class="axis" x="406" y="18" dy="-5" text-anchor="middle">today</text>`,
		// The table says it all in text.
		`<tr id="row-2026-12-02" class="full"><th scope="row"><time datetime="2026-12-02">Wed 2 Dec</time></th><td>3</td><td>3</td><td>0</td><td>1</td><td>1</td><td>Full</td></tr>`,
		`<tr id="row-2026-12-03" class="closed"><th scope="row"><time datetime="2026-12-03">Thu 3 Dec</time></th><td>0</td><td>3</td><td>0</td><td>0</td><td>0</td><td>Closed: Staff party</td></tr>`,
		// Open: the download is the API's.
		`<a id="csv" href="/api/v1/offices/prague/occupancy.csv?from=2026-11-02&amp;to=2027-01-04" download>Download CSV</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the report lacks %s", want)
		}
	}
	if n := strings.Count(body, `<rect class="bar"`); n != 4 { // Mon, Tue, Wed, next Tue
		t.Errorf("%d bars, want 4", n)
	}
	if n := strings.Count(body, `<tr id="row-`); n != 63 {
		t.Errorf("%d table rows, want 63", n)
	}

	// brno has no capacity: no line, no capacity columns.
	_, body = send(t, "GET", srv.URL+"/occupancy?office=brno&from=2026-11-30&to=2026-12-07", nil)
	if strings.Contains(body, `class="capacity"`) || strings.Contains(body, "<th scope=\"col\">Capacity") ||
		!strings.Contains(body, "at most 1 people approved on a day, on Tue 1 Dec; no capacity is set.") {
		t.Errorf("brno's report:\n%s", body)
	}
	// The week page links here, and this page back.
	if !strings.Contains(body, `<a id="week-view" href="/?office=brno">Week view</a>`) {
		t.Errorf("no link to the week")
	}
}

func TestOccupancyWindows(t *testing.T) {
	t.Parallel()
	srv := site(t)
	for _, c := range []struct {
		query  string
		status int
		want   string
	}{
		{"office=prague&from=2026-12-01", 200, `<input type="date" id="to" name="to" value="2027-02-02" required>`}, // 63 days on
		{"office=prague&to=2026-12-01", 200, `<input type="date" id="from" name="from" value="2026-09-29" required>`},
		{"office=prague&from=2026-01-01&to=2026-12-01", 400, "the window from 2026-01-01 to 2026-12-01 spans 334 days; at most 184 are allowed."},
		{"office=prague&from=2026-12-08&to=2026-12-01", 400, "to (2026-12-01) must be after from (2026-12-08)"},
		{"office=prague&from=soon", 400, "from must be a real date"},
		{"office=nowhere", 404, "There is no office &#34;nowhere&#34;"},
	} {
		resp, body := send(t, "GET", srv.URL+"/occupancy?"+c.query, nil)
		if resp.StatusCode != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d, want %d with %s\n%s", c.query, resp.StatusCode, c.status, c.want, body)
		}
	}
}

// With tokens the page needs the sign-in, and its download comes from the
// page's own address, which takes the cookie: the API would answer 401.
func TestOccupancyCSVForTheSignedIn(t *testing.T) {
	t.Parallel()
	srv := site(t, token("reader", auth.ScopeRead))
	path := "/occupancy.csv?office=prague&from=2026-11-30&to=2026-12-04"
	if resp, _ := send(t, "GET", srv.URL+path, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("without the sign-in: %d", resp.StatusCode)
	}
	cookie := signIn(t, srv, "reader-secret")
	_, page := send(t, "GET", srv.URL+"/occupancy?office=prague&from=2026-11-30&to=2026-12-04", nil, "Cookie", cookie)
	link := regexp.MustCompile(`<a id="csv" href="([^"]+)" download>`).FindStringSubmatch(page)
	if link == nil || strings.ReplaceAll(link[1], "&amp;", "&") != "/occupancy.csv?from=2026-11-30&office=prague&to=2026-12-04" {
		t.Fatalf("the download link: %v\n%s", link, page)
	}
	resp, body := send(t, "GET", srv.URL+strings.ReplaceAll(link[1], "&amp;", "&"), nil, "Cookie", cookie)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		resp.Header.Get("Content-Disposition") != "attachment; filename=occupancy-prague-2026-11-30-2026-12-04.csv" {
		t.Errorf("download: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"date", "capacity", "closed", "approved", "pending", "waitlisted", "free"},
		{"2026-11-30", "3", "false", "1", "0", "0", "2"},
		{"2026-12-01", "3", "false", "1", "0", "0", "2"},
		{"2026-12-02", "3", "false", "3", "1", "1", "0"},
		{"2026-12-03", "3", "true", "0", "0", "0", "0"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("CSV:\n got %v\nwant %v", rows, want)
	}
	// The API's is the same file, for a bearer token.
	resp, api := send(t, "GET", srv.URL+"/api/v1/offices/prague/occupancy.csv?from=2026-11-30&to=2026-12-04", nil, "Authorization", "Bearer reader-secret")
	if resp.StatusCode != 200 || api != body {
		t.Errorf("the API's CSV (%d) differs from the page's:\n%s\n%s", resp.StatusCode, api, body)
	}
}
