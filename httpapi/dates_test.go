package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Dates from 0001-01-01 to 9999-12-31 are accepted, and what is accepted
// can be listed; errors name the parameter the caller sent.
func TestDateRangeAtBothEnds(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	e, _ := feedEnv(t, now, now)
	e.mustPost(visit("prague", "First Day", "a@acme.com", "0001-01-01", "0001-01-02", true))
	e.mustPost(visit("prague", "Last Day", "b@acme.com", "9999-12-30", "9999-12-31", true))

	status, body := e.do("GET", "/api/v1/offices/prague/reservations?from=0001-01-01&to=9999-12-31", "")
	list, _ := body["reservations"].([]any)
	if status != 200 || len(list) != 2 {
		t.Fatalf("open window: %d %v, want both reservations", status, body)
	}
	for _, c := range []struct{ window, want string }{
		{"from=0001-01-01&to=0001-01-02", "First Day"},
		{"from=9999-12-30&to=9999-12-31", "Last Day"},
	} {
		status, body := e.do("GET", "/api/v1/offices/prague/attendance?"+c.window, "")
		if status != 200 || !strings.Contains(jsonString(t, body), c.want) {
			t.Errorf("attendance %s: %d %v, want %s", c.window, status, body, c.want)
		}
	}
	// The feed fills in a missing end up to the last date, not past it.
	resp, ics := fetch(t, e.srv.URL+"/api/v1/offices/prague/calendar.ics?from=9999-12-01")
	if resp.StatusCode != 200 || !strings.Contains(ics, "Last Day") {
		t.Errorf("feed from 9999-12-01: %d\n%s", resp.StatusCode, ics)
	}
	resp, ics = fetch(t, e.srv.URL+"/api/v1/offices/prague/calendar.ics?to=0001-02-01")
	if resp.StatusCode != 200 || !strings.Contains(ics, "First Day") {
		t.Errorf("feed to 0001-02-01: %d\n%s", resp.StatusCode, ics)
	}

	for _, c := range []struct {
		method, path, body, detail string
	}{
		{"POST", "/api/v1/reservations", visit("prague", "Year Zero", "c@acme.com", "0000-12-31", "0001-01-01", true), "start must be a real date from 0001-01-01 to 9999-12-31"},
		{"POST", "/api/v1/reservations", visit("prague", "Year 10000", "c@acme.com", "9999-12-31", "10000-01-01", true), "end must be a real date from 0001-01-01 to 9999-12-31"},
		{"GET", "/api/v1/offices/prague/reservations?from=0000-01-01&to=0001-01-02", "", "from must be a real date"},
		{"GET", "/api/v1/offices/prague/calendar.ics?from=9999-12-31", "", "from must be before 9999-12-31"},
		{"GET", "/api/v1/offices/prague/calendar.ics?to=0001-01-01", "", "to must be after 0001-01-01"},
	} {
		status, body := e.do(c.method, c.path, c.body)
		if detail, _ := body["detail"].(string); status != 400 || !strings.HasPrefix(detail, c.detail) {
			t.Errorf("%s %s: %d %q, want 400 starting %q", c.method, c.path, status, detail, c.detail)
		}
	}
	if status, body := e.do("GET", "/api/v1/offices/prague/reservations?from=0001-01-01&to=9999-12-31", ""); status != 200 || len(body["reservations"].([]any)) != 2 {
		t.Errorf("refused requests changed the calendar: %d %v", status, body)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
