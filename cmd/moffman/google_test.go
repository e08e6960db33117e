package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moffman/moffman/byroapi/byroapitest"
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

	byro := byroapitest.Start(t)

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
	if forms := byro.Delivered(); len(forms) != 1 || forms[0].UserID != "jan.novak@acme.com" {
		t.Errorf("forms = %+v, want one for jan.novak@acme.com", byro.Requests())
	}
}

// TestRunStartsWithPythonConfig starts the service with a configuration
// file as the Python service's deployments wrote it (every key, a static
// office list); only the paths, the address and the outside services'
// endpoints come from the environment and options.
func TestRunStartsWithPythonConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fake, _ := startFake(t, dir)
	fake.AddCalendar("c_prague@group.calendar.google.com", true)
	fake.AddCalendar("c_brno@group.calendar.google.com", true)
	fake.SetSheetValues("1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms", "Manual users", [][]string{{"e-mail"}, {"eva@acme.com", "Eva", "Horáková", "7"}})
	byro := byroapitest.Start(t)
	env := []string{
		"MOFFMAN_GOOGLE_API__SERVICE_ACCOUNT_KEY_PATH=" + filepath.Join(dir, "key.json"),
		"MOFFMAN_GOOGLE_API__CALENDAR_ENDPOINT=" + fake.CalendarEndpoint(),
		"MOFFMAN_GOOGLE_API__SHEETS_ENDPOINT=" + fake.SheetsEndpoint(),
		"MOFFMAN_FORMS__URL=" + byro.URL,
		"MOFFMAN_GENERAL__LOG_LEVEL=INFO", // the start-up line is at info
	}
	args := []string{"--config", "../../testdata/python_config.yaml",
		"--general--storage-path", filepath.Join(dir, "moffman_store.dbm"), "--rest-api--port", "0"}
	base, _, _ := startService(t, args, env)
	req := `{"user": {"name": "Some User", "email": "user@acme.com"}, "approved": true, "start": "2022-06-28", "end": "2022-06-29", "request_dt": "11:38:00 2020/06/25", "office_id": "brno"}`
	if status := post(t, base+"/api/v1/reservations", req); status != 200 {
		t.Fatalf("reserve: %d", status)
	}
	ev, ok := fake.Event("c_brno@group.calendar.google.com", "30f3552b9a2751e69401d63fca065a11")
	if !ok || ev.Summary != "Some User" || ev.ColorID != "10" || ev.ExtendedProperties.Private["event_processed"] != "true" {
		t.Errorf("approved event at Google = %+v (want colour 10 from the file)", ev)
	}
}

// A revoked token heals by itself (one refresh, the request succeeds); a
// key Google refuses turns /readyz to 503 with the reason, and /readyz
// turns back to 200 by itself once the key is accepted again.
func TestReadinessFollowsGoogleCredentials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fake, googleConfig := startFake(t, dir)
	const prague = "prague@group.calendar.google.com"
	fake.AddCalendar(prague, true)
	cfg := writeConfig(t, dir, googleConfig+`
general: {storage_path: null}
offices:
  office_list: [{name: prague, id: `+prague+`}]
rest_api: {addr: 127.0.0.1, port: 0}
`)
	base, _, _ := startService(t, []string{"--config", cfg}, nil)
	reserve := func(dt string) int {
		return post(t, base+"/api/v1/reservations", `{"user": {"name": "Some User"}, "approved": false, "start": "2022-06-28", "end": "2022-06-29", "request_dt": "`+dt+`", "office_id": "prague"}`)
	}
	fake.RevokeTokens()
	if status := reserve("1"); status != 200 {
		t.Fatalf("reserve after a revoked token: %d, want 200 (refresh and repeat)", status)
	}
	fake.RevokeTokens()
	fake.SetKeyRevoked(true)
	if status := reserve("2"); status == 200 {
		t.Fatalf("reserve with a refused key: 200")
	}
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), fake.ServiceAccountEmail()) {
		t.Errorf("/readyz with refused credentials = %d %s; want 503 naming the account", resp.StatusCode, body)
	}
	fake.SetKeyRevoked(false)
	if status := reserve("3"); status != 200 {
		t.Fatalf("reserve after the key is accepted again: %d", status)
	}
	if status, _ := getJSON(t, base+"/readyz"); status != 200 {
		t.Errorf("/readyz after healing: %d", status)
	}
}

// forms.timeout bounds a form request: when Byroapi never answers, the
// request ends after that many seconds as an unknown outcome, which
// /api/v1/sync shows on the job (with the 120 s default it would not
// within the test's 20 s).
func TestRunFormsTimeout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fake, googleConfig := startFake(t, dir)
	const prague = "prague@group.calendar.google.com"
	fake.AddCalendar(prague, true)
	day := time.Now().UTC().AddDate(0, 0, 3).Format("2006-01-02")
	next := time.Now().UTC().AddDate(0, 0, 4).Format("2006-01-02")
	if _, err := fake.AddManualEvent(prague, "jan.novak@acme.com", googlefake.ManualEvent{Summary: "office", Start: day, End: next}); err != nil {
		t.Fatal(err)
	}
	byro := byroapitest.Start(t)
	byro.Hang(true)
	cfg := writeConfig(t, dir, googleConfig+`
general: {storage_path: null}
offices:
  office_list: [{name: prague, id: `+prague+`}]
manual_users:
  user_list: [{id: jan.novak@acme.com, first_name: Jan, last_name: Novák, employee_number: "1"}]
forms:
  template: attendance
  url: `+byro.URL+`
  timeout: 1
rest_api: {addr: 127.0.0.1, port: 0}
`)
	base, _, _ := startService(t, []string{"--config", cfg}, nil)
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, body := getJSON(t, base+"/api/v1/sync")
		raw, _ := json.Marshal(body)
		if status == 200 && strings.Contains(string(raw), "answer never came") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no unknown outcome within 20 s with forms.timeout 1 s: %s", raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
