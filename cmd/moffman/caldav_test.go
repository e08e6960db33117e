package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// caldav.url puts the office calendars on a CalDAV server (the adapter
// itself is tested against real Radicale and Xandikos in caldav/). Here:
// the service starts on it, names it, and reports an office whose
// collection the server does not have.
func TestRunOnCalDAV(t *testing.T) {
	t.Parallel()
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	seen := []string{}
	dav := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-mu
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu <- struct{}{}
		http.NotFound(w, r)
	}))
	t.Cleanup(dav.Close)
	cfg := writeConfig(t, t.TempDir(), `
general: {storage_path: null}
caldav: {url: `+dav.URL+`/dav/calendars/moffman/, username: moffman, password: secret}
offices:
  office_list: [{name: prague, id: prague}]
rest_api: {addr: 127.0.0.1, port: 0}
`)
	base, logs, _ := startService(t, []string{"--config", cfg}, nil)
	if !strings.Contains(logs.String(), `backend="CalDAV at `+dav.URL+`/dav/calendars/moffman/"`) {
		t.Errorf("start-up line does not name the CalDAV server:\n%s", logs)
	}
	<-mu
	asked := strings.Join(seen, "; ")
	mu <- struct{}{}
	if !strings.Contains(asked, "/dav/calendars/moffman/prague/") {
		t.Errorf("the office's collection was not looked up; requests: %s", asked)
	}
	req := `{"user": {"name": "Some User"}, "approved": false, "start": "2022-06-28", "end": "2022-06-29", "request_dt": "1", "office_id": "prague"}`
	if status := post(t, base+"/api/v1/reservations", req); status < 400 {
		t.Errorf("reserving in a collection the server lacks: %d, want an error", status)
	}
}
