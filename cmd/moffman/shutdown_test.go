package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// TestShutdownFinishesSlowRequest stops the service while a request waits
// on a slow calendar: the request completes and run returns cleanly.
func TestShutdownFinishesSlowRequest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fake, googleConfig := startFake(t, dir)
	fake.AddCalendar("prague@group.calendar.google.com", true)
	cfg := writeConfig(t, dir, officeConfig+"general: {storage_path: null}\n"+googleConfig)
	base, _, stop := startService(t, []string{"--config", cfg}, nil)
	fake.SetLatency(400 * time.Millisecond)

	status := make(chan int, 1)
	go func() {
		resp, err := http.Post(base+"/api/v1/reservations", "application/json", strings.NewReader(
			`{"user": {"name": "Slow"}, "approved": false, "start": "2022-06-28", "end": "2022-06-29", "request_dt": "x", "office_id": "prague"}`))
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	time.Sleep(150 * time.Millisecond) // the request is waiting on the calendar
	if err := stop(); err != nil {
		t.Fatalf("run after shutdown: %v", err)
	}
	if got := <-status; got != 200 {
		t.Errorf("the request under way during shutdown answered %d, want 200", got)
	}
	if _, ok := fake.Event("prague@group.calendar.google.com", moffman.EventID("Slow", "x", "2022-06-28", "2022-06-29")); !ok {
		t.Error("the slow request's event is not in the calendar")
	}
}

// TestShutdownUnderLoadLosesNothing stops the service in the middle of a
// stream of reservations: every one acknowledged with 200 is there after a
// restart on the same store.
func TestShutdownUnderLoadLosesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, officeConfig)
	args := []string{"--config", cfg, "--general--storage-path", filepath.Join(dir, "store.db")}
	base, _, stop := startService(t, args, nil)

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	deadline := time.Now().Add(300 * time.Millisecond)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline.Add(time.Second)); i++ {
				dt := fmt.Sprintf("w%d-%d", w, i)
				resp, err := http.Post(base+"/api/v1/reservations", "application/json", strings.NewReader(
					`{"user": {"name": "Load"}, "approved": true, "start": "2022-06-28", "end": "2022-06-29", "request_dt": "`+dt+`", "office_id": "prague"}`))
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					acked = append(acked, dt)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(time.Until(deadline))
	if err := stop(); err != nil {
		t.Fatalf("run after shutdown: %v", err)
	}
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no request was acknowledged before the shutdown")
	}

	base, _, _ = startService(t, args, nil)
	status, body := getJSON(t, base+"/api/v1/offices/prague/reservations?from=2022-06-28&to=2022-06-29")
	if status != 200 {
		t.Fatalf("list after restart: %d", status)
	}
	stored := map[string]bool{}
	for _, r := range body["reservations"].([]any) {
		stored[r.(map[string]any)["id"].(string)] = true
	}
	for _, dt := range acked {
		if !stored[moffman.EventID("Load", dt, "2022-06-28", "2022-06-29")] {
			t.Errorf("reservation %s was acknowledged but is not stored", dt)
		}
	}
}
