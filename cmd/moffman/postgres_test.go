package main

import (
	"strings"
	"testing"

	"github.com/moffman/moffman/internal/pgtest"
)

// With general.database_url the service keeps its state and the embedded
// calendars in PostgreSQL: a reservation survives a restart, and a second
// replica on the same database serves it too.
func TestRunOnPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	cfg := writeConfig(t, t.TempDir(), officeConfig)
	args := []string{"--config", cfg, "--general--database-url", url}

	base, logs, stop := startService(t, args, nil)
	if !strings.Contains(logs.String(), `backend=PostgreSQL`) {
		t.Errorf("start-up line does not name PostgreSQL:\n%s", logs)
	}
	req := `{"user": {"name": "Some User", "email": "user@acme.com"}, "approved": false, "start": "2022-06-28", "end": "2022-06-29", "request_dt": "11:38:00 2020/06/25", "office_id": "prague"}`
	if status := post(t, base+"/api/v1/reservations", req); status != 200 {
		t.Fatalf("reserve: %d", status)
	}
	other, _, _ := startService(t, args, nil) // a second replica
	const path = "/api/v1/offices/prague/reservations/30f3552b9a2751e69401d63fca065a11"
	if status, body := getJSON(t, other+path); status != 200 || body["status"] != "pending" {
		t.Errorf("second replica: %d %v", status, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	base, _, _ = startService(t, args, nil)
	if status, body := getJSON(t, base+path); status != 200 || body["status"] != "pending" {
		t.Errorf("after restart: %d %v", status, body)
	}
	if status, _ := getJSON(t, base+"/readyz"); status != 200 {
		t.Errorf("/readyz on PostgreSQL: %d", status)
	}
}
