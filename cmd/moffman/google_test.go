package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman/googlefake"
)

// TestRunOnGoogle runs the whole service against googlefake and an httptest
// Byroapi: offices and users from the spreadsheet, a REST reservation, a
// manual event approved with its form, and a calendar that is not shared.
func TestRunOnGoogle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fake, googleConfig := startFake(t, dir)
	const prague, brno, hidden = "prague@group.calendar.google.com", "brno@group.calendar.google.com", "hidden@group.calendar.google.com"
	fake.AddCalendar(prague, true)
	fake.AddCalendar(brno, true)
	fake.AddCalendar(hidden, false)
	fake.SetSheetValues("sheet1", "Offices", [][]string{{"office", "calendar"}, {"brno", brno}, {"hidden", hidden}})
	fake.SetSheetValues("sheet1", "Manual users", [][]string{{"email", "first", "last", "number"}, {"jan.novak@acme.com", "Jan", "Novák", "1234"}})
	day := time.Now().UTC().AddDate(0, 0, 3).Format("2006-01-02")
	next := time.Now().UTC().AddDate(0, 0, 4).Format("2006-01-02")
	manualID, err := fake.AddManualEvent(brno, "jan.novak@acme.com", googlefake.ManualEvent{Summary: "office", Start: day, End: next})
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var forms []map[string]any
	byro := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		forms = append(forms, m)
		mu.Unlock()
	}))
	t.Cleanup(byro.Close)

	cfg := writeConfig(t, dir, googleConfig+`
general: {storage_path: null}
offices:
  office_list: [{name: prague, id: `+prague+`}]
  google_config: {sheet_id: sheet1, range: "Offices!A2:B"}
manual_users:
  google_config: {sheet_id: sheet1, range: "'Manual users'!A2:D"}
forms:
  template: attendance
  url: `+byro.URL+`
  email: {subject: "{user_name}", contents: "{date_from}"}
rest_api: {addr: 127.0.0.1, port: 0}
`)
	base, logs, _ := startService(t, []string{"--config", cfg}, nil)
	if !strings.Contains(logs.String(), "backend=\"Google Calendar as "+fake.ServiceAccountEmail()) {
		t.Errorf("start-up line does not name the Google backend:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "calendar_id="+hidden) {
		t.Errorf("the unshared calendar was not reported:\n%s", logs)
	}

	req := `{"user": {"name": "Some User"}, "approved": false, "start": "2022-06-28", "end": "2022-06-29", "request_dt": "11:38:00 2020/06/25", "office_id": "prague"}`
	if status := post(t, base+"/api/v1/reservations", req); status != 200 {
		t.Fatalf("reserve: %d", status)
	}
	ev, ok := fake.Event(prague, "30f3552b9a2751e69401d63fca065a11")
	if !ok || ev.Summary != "(Some User)" || ev.ColorID != "4" || ev.ExtendedProperties.Private["event_processed"] != "false" {
		t.Errorf("pending event at Google = %+v", ev)
	}
	// An office from the spreadsheet works; the unshared one answers 503.
	if status, _ := getJSON(t, base+"/api/v1/offices/brno/reservations?from=2022-01-01&to=2023-01-01"); status != 200 {
		t.Errorf("brno from the spreadsheet: %d", status)
	}
	if status, body := getJSON(t, base+"/api/v1/offices/hidden/reservations?from=2022-01-01&to=2023-01-01"); status != 503 || !strings.Contains(body["detail"].(string), "share it") {
		t.Errorf("unshared calendar: %d %v", status, body)
	}

	// The manual event is approved with one form, soon after start.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ev, _ := fake.Event(brno, manualID)
		if ev.ExtendedProperties != nil && ev.ExtendedProperties.Private["event_processed"] == "true" {
			if ev.Summary != "Jan Novák" || ev.ColorID != "5" {
				t.Errorf("approved manual event = %+v", ev)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("manual event not approved:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(forms) != 1 || forms[0]["form_data"].(map[string]any)["user_id"] != "jan.novak@acme.com" {
		t.Errorf("forms = %v, want one for jan.novak@acme.com", forms)
	}
}

// TestRunStartsWithPythonConfig starts the service with a configuration
// file as the Python service's deployments wrote it (every key, a static
// office list); only the address and Google's endpoints come from outside.
func TestRunStartsWithPythonConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fake, _ := startFake(t, dir)
	fake.AddCalendar("c_prague@group.calendar.google.com", true)
	fake.AddCalendar("c_brno@group.calendar.google.com", true)
	fake.SetSheetValues("1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms", "Manual users", [][]string{{"e-mail"}, {"eva@acme.com", "Eva", "Horáková", "7"}})
	cfg := writeConfig(t, dir, `
general:
    log_level: WARNING
    manual_calendar_check_interval: 3600
    storage_path: `+filepath.Join(dir, "moffman_store.dbm")+`

google_api:
    service_account_key_path: `+filepath.Join(dir, "key.json")+`

manual_users:
    user_list:
        - id: jan.novak@acme.com
          first_name: Jan
          last_name: Novák
          employee_number: 1234
    google_config:
        sheet_id: 1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms
        range: Manual users!A2:D
        update_interval: 3600

offices:
    office_list:
        - name: prague
          id: c_prague@group.calendar.google.com
        - name: brno
          id: c_brno@group.calendar.google.com
    google_config:
        sheet_id: null
        range: null
        update_interval: null

forms:
    template: attendance_form
    url: http://127.0.0.1:9/api/v1/form
    date_format: DD.MM.YYYY
    attachment_date_format: YYYY-MM-DD
    cc_to_creator: false
    email:
        from:
            moffman@acme.com: Moffman
        to:
            office@acme.com: Office
        cc: {}
        subject: "Some office attendance - {user_name} ({date_from} - {date_to})"
        contents: "Hey, here's the form ({user_name}: {date_from} - {date_to}).\n\nThanks,\nJosef"
        attachments: "attendance_{user_name}_{date_from_attachment}.pdf"

calendar:
    colors:
        unapproved: 4
        approved: 10
    checking_range:
        min:
            weeks: -2
        max:
            weeks: 4
    date_format: YYYY-MM-DD
    end_date_corrective:
        days: -1

rest_api:
    addr: 127.0.0.1
    port: 8081
`)
	env := []string{
		"MOFFMAN_GOOGLE_API__CALENDAR_ENDPOINT=" + fake.CalendarEndpoint(),
		"MOFFMAN_GOOGLE_API__SHEETS_ENDPOINT=" + fake.SheetsEndpoint(),
		"MOFFMAN_GENERAL__LOG_LEVEL=INFO", // the start-up line is at info
	}
	base, _, _ := startService(t, []string{"--config", cfg, "--rest-api--port", "0"}, env)
	req := `{"user": {"name": "Some User", "email": "user@acme.com"}, "approved": true, "start": "2022-06-28", "end": "2022-06-29", "request_dt": "11:38:00 2020/06/25", "office_id": "brno"}`
	if status := post(t, base+"/api/v1/reservations", req); status != 200 {
		t.Fatalf("reserve: %d", status)
	}
	ev, ok := fake.Event("c_brno@group.calendar.google.com", "30f3552b9a2751e69401d63fca065a11")
	if !ok || ev.Summary != "Some User" || ev.ColorID != "10" || ev.ExtendedProperties.Private["event_processed"] != "true" {
		t.Errorf("approved event at Google = %+v (want colour 10 from the file)", ev)
	}
}
