package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// visit is a reservation request body for one person and days.
func visit(office, name, email, start, end string, approved bool) string {
	b, _ := json.Marshal(map[string]any{
		"user": map[string]string{"name": name, "email": email}, "approved": approved,
		"start": start, "end": end, "request_dt": "09:00:00 2026/11/01", "office_id": office,
	})
	return string(b)
}

func (e *env) mustPost(body string) map[string]any {
	e.t.Helper()
	status, out := e.do("POST", "/api/v1/reservations", body)
	if status != 200 {
		e.t.Fatalf("reserve: %d %v", status, out)
	}
	return out
}

func TestAttendanceEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustPost(visit("prague", "Zoe Zed", "zoe@acme.com", "2026-11-30", "2026-12-02", true))
	e.mustPost(visit("prague", "Adam Ant", "adam@acme.com", "2026-12-01", "2026-12-02", false))
	e.mustPost(visit("brno", "Brno Only", "b@acme.com", "2026-12-01", "2026-12-02", true))
	// Written without an e-mail: the field is left out.
	e.mustPost(`{"user": {"name": "No Mail"}, "approved": true, "start": "2026-12-01", "end": "2026-12-02", "request_dt": "x", "office_id": "prague"}`)

	status, body := e.do("GET", "/api/v1/offices/prague/attendance?from=2026-11-30&to=2026-12-03", "")
	if status != 200 {
		t.Fatalf("attendance: %d %v", status, body)
	}
	var want map[string]any
	_ = json.Unmarshal([]byte(`{"office_id": "prague", "from": "2026-11-30", "to": "2026-12-03", "days": [
		{"date": "2026-11-30", "people": [{"name": "Zoe Zed", "email": "zoe@acme.com", "status": "approved"}], "approved": 1, "pending": 0, "total": 1},
		{"date": "2026-12-01", "people": [
			{"name": "Adam Ant", "email": "adam@acme.com", "status": "pending"},
			{"name": "No Mail", "status": "approved"},
			{"name": "Zoe Zed", "email": "zoe@acme.com", "status": "approved"}], "approved": 2, "pending": 1, "total": 3},
		{"date": "2026-12-02", "people": [], "approved": 0, "pending": 0, "total": 0}]}`), &want)
	if !reflect.DeepEqual(body, want) {
		t.Errorf("attendance:\n got %v\nwant %v", body, want)
	}
}

func TestAttendanceEndpointErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, c := range []struct {
		path   string
		status int
		detail string
	}{
		{"/api/v1/offices/prague/attendance", 400, "from and to are required"},
		{"/api/v1/offices/prague/attendance?from=2026-12-01&to=tomorrow", 400, `to must be a real date from 0001-01-01 to 9999-12-31 as YYYY-MM-DD, got "tomorrow"`},
		{"/api/v1/offices/prague/attendance?from=2026-12-08&to=2026-12-01", 400, "to (2026-12-01) must be after from (2026-12-08)"},
		{"/api/v1/offices/prague/attendance?from=2026-01-01&to=2027-06-01", 400, "the window from 2026-01-01 to 2027-06-01 spans 516 days; at most 366"},
		{"/api/v1/offices/nowhere/attendance?from=2026-12-01&to=2026-12-08", 404, `unknown office "nowhere"`},
	} {
		status, body := e.do("GET", c.path, "")
		if status != c.status || !strings.Contains(body["detail"].(string), c.detail) {
			t.Errorf("GET %s: %d %v, want %d with %q", c.path, status, body["detail"], c.status, c.detail)
		}
	}
	if status, _ := e.do("POST", "/api/v1/offices/prague/attendance", ""); status != 405 {
		t.Errorf("POST attendance: %d, want 405", status)
	}
}

func TestPersonReservationsEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.mustPost(visit("prague", "Some User", "User@Acme.com", "2026-12-01", "2026-12-02", false))
	b := e.mustPost(visit("brno", "Some User", "user@acme.com", "2026-12-03", "2026-12-04", true))
	e.mustPost(visit("prague", "Someone Else", "else@acme.com", "2026-12-01", "2026-12-02", true))

	status, body := e.do("GET", "/api/v1/people/USER@acme.com/reservations?from=2026-11-30&to=2026-12-07", "")
	list, _ := body["reservations"].([]any)
	if status != 200 || len(list) != 2 {
		t.Fatalf("person: %d %v", status, body)
	}
	// The same JSON as the office listing and the POST answer; office by
	// office (by name), then by start.
	if !reflect.DeepEqual(list[0], b) || !reflect.DeepEqual(list[1], p) {
		t.Errorf("reservations:\n got %v\nwant %v and %v", list, b, p)
	}
	_, office := e.do("GET", "/api/v1/offices/brno/reservations?from=2026-11-30&to=2026-12-07", "")
	if !reflect.DeepEqual(office["reservations"].([]any)[0], list[0]) {
		t.Errorf("person JSON %v differs from the office listing %v", list[0], office["reservations"])
	}

	if status, body := e.do("GET", "/api/v1/people/nobody@acme.com/reservations?from=2026-11-30&to=2026-12-07", ""); status != 200 || body["reservations"] == nil {
		t.Errorf("nobody: %d %v, want an empty list", status, body)
	}
	for _, c := range []struct {
		path, detail string
	}{
		{"/api/v1/people/not-an-address/reservations?from=2026-11-30&to=2026-12-07", `"not-an-address" is not an e-mail address`},
		{"/api/v1/people/user@acme.com/reservations?from=2026-11-30", "from and to are required"},
		{"/api/v1/people/user@acme.com/reservations?from=2026-01-01&to=2027-06-01", "at most 366"},
		{"/api/v1/people/user@acme.com/reservations?from=2026-11-30&to=2026-12-07&include_cancelled=maybe", "include_cancelled must be true or false"},
	} {
		status, body := e.do("GET", c.path, "")
		if status != 400 || !strings.Contains(body["detail"].(string), c.detail) {
			t.Errorf("GET %s: %d %v, want 400 with %q", c.path, status, body["detail"], c.detail)
		}
	}
}

func TestWhoIsInScopes(t *testing.T) {
	t.Parallel()
	srv, _ := secured(t, io.Discard)
	for _, c := range []struct {
		path, scope string
	}{
		{"/api/v1/offices/prague/attendance?from=2026-12-01&to=2026-12-08", "reader"},
		{"/api/v1/people/user@acme.com/reservations?from=2026-12-01&to=2026-12-08", "reader"},
		{"/api/v1/offices/prague/calendar.ics", "feeder"},
	} {
		if resp := call(t, srv, "GET", c.path, "", ""); resp.StatusCode != 401 {
			t.Errorf("%s without a token: %d, want 401", c.path, resp.StatusCode)
		}
		for _, other := range []string{"reader", "writer", "admin", "feeder"} {
			want := 403
			if other == c.scope {
				want = 200
			}
			if resp := call(t, srv, "GET", c.path, other, ""); resp.StatusCode != want {
				t.Errorf("%s with token %s: %d, want %d", c.path, other, resp.StatusCode, want)
			}
		}
	}
	// Calendar clients send no headers: the feed takes ?token=, the rest do not.
	get := func(path string) int {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := get("/api/v1/offices/prague/calendar.ics?token=feeder-secret-0123456789"); status != 200 {
		t.Errorf("feed with ?token=: %d, want 200", status)
	}
	if status := get("/api/v1/offices/prague/calendar.ics?token=reader-secret-0123456789"); status != 403 {
		t.Errorf("feed with a read token in ?token=: %d, want 403", status)
	}
	if status := get("/api/v1/offices/prague/attendance?from=2026-12-01&to=2026-12-08&token=reader-secret-0123456789"); status != 401 {
		t.Errorf("attendance with ?token=: %d, want 401", status)
	}
}
