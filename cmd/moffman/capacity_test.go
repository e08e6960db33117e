package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// postBody posts a JSON body and returns the status and the answer.
func postBody(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func reservationBody(name, office, start, end string, approved bool) string {
	return fmt.Sprintf(`{"user": {"name": %q, "email": %q}, "approved": %t, "start": %q, "end": %q, "request_dt": "09:00:00 2030/01/02", "office_id": %q}`,
		name, strings.ToLower(strings.ReplaceAll(name, " ", "."))+"@acme.com", approved, start, end, office)
}

// fullDaysOf decodes a 409's problem details.
func fullDaysOf(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var p struct {
		Detail   string           `json:"detail"`
		FullDays []map[string]any `json:"full_days"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("409 body %s: %v", body, err)
	}
	return p.FullDays
}

// TestRunCapacityAndClosuresFromYAML: an office_list entry with capacity 1
// and offices.closures, read from the configuration file, limit approvals
// through the running service: the second approval of a day is 409 naming
// the day, an approval onto a closure is 409 naming the closure, and
// nothing is approved by either.
func TestRunCapacityAndClosuresFromYAML(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, `
general: {storage_path: null}
offices:
  office_list:
    - {name: prague, id: prague@group.calendar.google.com, capacity: 1}
    - {name: brno, id: brno@group.calendar.google.com}
  closures:
    - {office: brno, from: 2030-12-24, to: 2030-12-27, reason: Christmas}
rest_api: {addr: 127.0.0.1, port: 0}
`)
	base, _, _ := startService(t, []string{"--config", cfg}, nil)
	reserve := base + "/api/v1/reservations"
	approve := func(name, office, start, end string) (int, []byte) {
		t.Helper()
		if st, b := postBody(t, reserve, reservationBody(name, office, start, end, false)); st != http.StatusOK {
			t.Fatalf("registering %s: %d %s", name, st, b)
		}
		return postBody(t, reserve, reservationBody(name, office, start, end, true))
	}

	if st, b := approve("Anna Nova", "prague", "2030-06-03", "2030-06-05"); st != http.StatusOK {
		t.Fatalf("first approval in prague: %d %s", st, b)
	}
	// Bob overlaps Anna's second day only: that day is full.
	st, b := approve("Bob Stary", "prague", "2030-06-04", "2030-06-06")
	if st != http.StatusConflict {
		t.Fatalf("second approval of a full day in prague = %d %s, want 409", st, b)
	}
	days := fullDaysOf(t, b)
	if len(days) != 1 || days[0]["date"] != "2030-06-04" || days[0]["capacity"] != 1.0 || days[0]["approved"] != 1.0 || days[0]["closed"] != false {
		t.Errorf("full_days = %v, want only 2030-06-04 with 1 of 1 desks taken", days)
	}
	// A day after Anna's still has its desk.
	if st, b := approve("Cyril Novy", "prague", "2030-06-05", "2030-06-06"); st != http.StatusOK {
		t.Errorf("approval of a free day in prague: %d %s", st, b)
	}

	// brno has no capacity, but a closure.
	st, b = approve("Dana Mala", "brno", "2030-12-23", "2030-12-25")
	if st != http.StatusConflict {
		t.Fatalf("approval onto brno's closure = %d %s, want 409", st, b)
	}
	days = fullDaysOf(t, b)
	if len(days) != 1 || days[0]["date"] != "2030-12-24" || days[0]["closed"] != true || days[0]["reason"] != "Christmas" {
		t.Errorf("full_days = %v, want 2030-12-24 closed for Christmas", days)
	}
	if !strings.Contains(string(b), "closed: Christmas") {
		t.Errorf("409 detail does not say why: %s", b)
	}
	if st, b := approve("Emil Velky", "brno", "2030-12-27", "2030-12-28"); st != http.StatusOK {
		t.Errorf("approval on the day after brno's closure: %d %s", st, b)
	}

	// Neither refused approval changed anything: both are still pending.
	for office, name := range map[string]string{"prague": "Bob Stary", "brno": "Dana Mala"} {
		status, body := getJSON(t, base+"/api/v1/offices/"+office+"/reservations?from=2030-01-01&to=2031-01-01")
		if status != http.StatusOK {
			t.Fatalf("listing %s: %d %v", office, status, body)
		}
		found := false
		list, _ := body["reservations"].([]any)
		for _, r := range list {
			r := r.(map[string]any)
			user, _ := r["user"].(map[string]any)
			if user["name"] == name {
				found = true
				if r["status"] != "pending" {
					t.Errorf("%s in %s after the 409 is %v, want pending", name, office, r["status"])
				}
			}
		}
		if !found {
			t.Errorf("%s not listed in %s: %v", name, office, body)
		}
	}
}
