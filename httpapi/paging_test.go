package httpapi

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Walking an office's reservations page by page over HTTP sees each once,
// in order, as many as the office holds; limit and page_token are
// checked and a bad one answers 400 naming it.
func TestListReservationsPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	const n = 23
	for i := range n {
		start := day.AddDate(0, 0, i/2)
		e.mustPost(visit("prague", fmt.Sprintf("Person %d", i), "p@acme.com",
			start.Format("2006-01-02"), start.AddDate(0, 0, 1).Format("2006-01-02"), i%2 == 0))
	}
	e.mustPost(visit("brno", "Someone", "p@acme.com", "2026-03-02", "2026-03-03", true))
	const window = "from=0001-01-01&to=9999-12-31"

	// Without limit: the default page holds everything, and no token follows.
	status, body := e.do("GET", "/api/v1/offices/prague/reservations?"+window, "")
	all, _ := body["reservations"].([]any)
	if _, more := body["next_page_token"]; status != 200 || len(all) != n || more {
		t.Fatalf("one page: %d, %d reservations, next %v", status, len(all), body["next_page_token"])
	}
	for _, path := range []string{"/api/v1/offices/prague/reservations?", "/api/v1/people/p@acme.com/reservations?from=2026-03-01&to=2026-04-01&"} {
		if strings.Contains(path, "offices") {
			path += window + "&"
		}
		var seen []string
		token, pages := "", 0
		for {
			status, body := e.do("GET", path+"limit=4&page_token="+url.QueryEscape(token), "")
			list, _ := body["reservations"].([]any)
			if status != 200 || len(list) > 4 {
				t.Fatalf("%s page %d: %d, %d reservations (%v)", path, pages, status, len(list), body)
			}
			for _, r := range list {
				seen = append(seen, r.(map[string]any)["id"].(string))
			}
			pages++
			next, _ := body["next_page_token"].(string)
			if next == "" {
				break
			}
			token = next
		}
		want := n
		if strings.Contains(path, "people") {
			want = n + 1 // brno's too
		}
		if len(seen) != want || pages < (want+3)/4 {
			t.Errorf("%s: %d reservations in %d pages, want %d", path, len(seen), pages, want)
		}
		if strings.Contains(path, "offices") {
			for i, r := range all {
				if i < len(seen) && r.(map[string]any)["id"] != seen[i] {
					t.Errorf("reservation %d of the walk is %s, the single page has %s", i, seen[i], r.(map[string]any)["id"])
					break
				}
			}
		}
	}

	_, first := e.do("GET", "/api/v1/offices/prague/reservations?"+window+"&limit=2", "")
	token, _ := first["next_page_token"].(string)
	_, person := e.do("GET", "/api/v1/people/p@acme.com/reservations?from=2026-03-01&to=2026-04-01&limit=2", "")
	personToken, _ := person["next_page_token"].(string)
	if token == "" || personToken == "" {
		t.Fatalf("no next_page_token: %v / %v", first, person)
	}
	for _, c := range []struct{ path, detail string }{
		{"/api/v1/offices/prague/reservations?" + window + "&limit=0", "limit"},
		{"/api/v1/offices/prague/reservations?" + window + "&limit=2501", "limit"},
		{"/api/v1/offices/prague/reservations?" + window + "&limit=-3", "limit"},
		{"/api/v1/offices/prague/reservations?" + window + "&limit=many", "limit"},
		{"/api/v1/people/p@acme.com/reservations?from=2026-03-01&to=2026-04-01&limit=2501", "limit"},
		{"/api/v1/offices?limit=0", "limit"},
		{"/api/v1/offices/prague/reservations?" + window + "&page_token=garbage", "page_token"},
		{"/api/v1/offices/brno/reservations?" + window + "&page_token=" + token, "page_token"},
		{"/api/v1/offices/prague/reservations?from=2026-03-01&to=9999-12-31&page_token=" + token, "page_token"},
		{"/api/v1/offices/prague/reservations?" + window + "&page_token=" + personToken, "page_token"},
		{"/api/v1/people/q@acme.com/reservations?from=2026-03-01&to=2026-04-01&page_token=" + personToken, "page_token"},
		{"/api/v1/people/p@acme.com/reservations?from=2026-03-01&to=2026-04-01&page_token=" + token, "page_token"},
		{"/api/v1/offices?page_token=" + token, "page_token"},
	} {
		status, body := e.do("GET", c.path, "")
		detail, _ := body["detail"].(string)
		if status != 400 || !strings.Contains(detail, c.detail) {
			t.Errorf("GET %s: %d %q, want 400 naming %s", c.path, status, detail, c.detail)
		}
	}
	// The offices page too.
	status, body = e.do("GET", "/api/v1/offices?limit=1", "")
	offices, _ := body["offices"].([]any)
	next, _ := body["next_page_token"].(string)
	if status != 200 || len(offices) != 1 || next == "" {
		t.Fatalf("offices, limit 1: %d %v", status, body)
	}
	status, body = e.do("GET", "/api/v1/offices?limit=1&page_token="+next, "")
	offices, _ = body["offices"].([]any)
	if _, more := body["next_page_token"]; status != 200 || len(offices) != 1 || more ||
		offices[0].(map[string]any)["office_id"] != "prague" {
		t.Errorf("offices, second page: %d %v", status, body)
	}
}
