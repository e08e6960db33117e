package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// With a webhook configured, a reservation is announced to it, signed per
// Standard Webhooks (checked with the reference library), and
// /api/v1/sync shows the destination's deliveries.
func TestRunSendsSignedWebhooks(t *testing.T) {
	t.Parallel()
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []map[string]any
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := wh.Verify(body, r.Header); err != nil {
			t.Errorf("signature: %v", err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("body %s: %v", body, err)
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	t.Cleanup(receiver.Close)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, officeConfig+`
notifications:
  webhooks: [{url: `+receiver.URL+`/hook, secret: `+secret+`, events: [reservation.pending]}]
`)
	base, _, _ := startService(t, []string{"--config", cfg, "--general--storage-path", dir + "/store.db"}, nil)
	req := `{"user": {"name": "Some User", "email": "user@acme.com"}, "approved": false, "start": "2022-06-28", "end": "2022-06-29", "request_dt": "1", "office_id": "prague"}`
	if status := post(t, base+"/api/v1/reservations", req); status != 200 {
		t.Fatalf("reserve: %d", status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0]["type"] != "reservation.pending" {
		t.Fatalf("webhook received %v, want one reservation.pending", got)
	}
	if data, _ := json.Marshal(got[0]["data"]); !strings.Contains(string(data), "prague") || !strings.Contains(string(data), "2022-06-28") {
		t.Errorf("payload data %s lacks the office or the dates", data)
	}
	status, body := getJSON(t, base+"/api/v1/sync")
	if dests, _ := json.Marshal(body["notifications"]); status != 200 || !strings.Contains(string(dests), "webhook") {
		t.Errorf("/api/v1/sync = %d, notifications %s", status, dests)
	}
}
