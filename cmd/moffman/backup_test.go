package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/sqlite"
)

func TestBackupCommandWhileTheServiceRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, officeConfig)
	store := filepath.Join(dir, "store.db")
	base, _, _ := startService(t, []string{"--config", cfg, "--general--storage-path", store}, nil)
	for i := range 5 {
		req := fmt.Sprintf(`{"user": {"name": "User %d"}, "approved": true, "start": "2027-01-0%d", "end": "2027-01-1%d", "request_dt": "x", "office_id": "prague"}`, i, i+1, i)
		if status := post(t, base+"/api/v1/reservations", req); status != 200 {
			t.Fatalf("reserve: %d", status)
		}
	}

	dest := filepath.Join(dir, "backup.db")
	var out bytes.Buffer
	if err := run(ctx, []string{"backup", "--config", cfg, "--general--storage-path", store, dest}, nil, &out, &out); err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	// The service goes on writing after the copy.
	if status := post(t, base+"/api/v1/reservations", `{"user": {"name": "Later"}, "approved": true, "start": "2027-02-01", "end": "2027-02-02", "request_dt": "x", "office_id": "prague"}`); status != 200 {
		t.Errorf("reserve after the backup: %d", status)
	}
	// Restoring is opening the copy as the store.
	cp, err := sqlite.Open(ctx, dest)
	if err != nil {
		t.Fatalf("the copy does not open: %v", err)
	}
	evs, _, err := moffman.ListAll(ctx, cp, "prague@group.calendar.google.com", moffman.ListQuery{})
	cp.Close()
	if err != nil || len(evs) != 5 {
		t.Errorf("the copy holds %d events (%v), want the 5 made before it", len(evs), err)
	}

	again := run(ctx, []string{"backup", "--general--storage-path", store, dest}, nil, &out, &out)
	if again == nil || !strings.Contains(again.Error(), "already exists") {
		t.Errorf("a second backup onto %s: %v, want a refusal", dest, again)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"backup"}, "needs one argument"},
		{[]string{"backup", "--general--storage-path", "null", filepath.Join(dir, "x.db")}, "kept in memory"},
		{[]string{"backup", "--general--database-url", "postgres://db.example.com/moffman", filepath.Join(dir, "y.db")}, "pg_dump"},
	} {
		if err := run(ctx, c.args, nil, &out, &out); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run %v: %v, want %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err == nil {
		t.Error("a refused backup left a file")
	}
}
