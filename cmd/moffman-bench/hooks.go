package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
)

// hookSecret signs the soak's webhooks (Standard Webhooks: whsec_ + base64).
const hookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// hookReceiver is the soak's webhook destination: it can be down (503),
// and counts what it accepted by notification type and event id, and by
// webhook-id, which stays the same on every retry of one notification.
type hookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	down     bool
	refused  int
	accepted int
	byType   map[string]map[string]int // type → event id → deliveries
	byHookID map[string]int
}

func startHooks() *hookReceiver {
	h := &hookReceiver{byType: map[string]map[string]int{}, byHookID: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	return h
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var p struct {
		Type string `json:"type"`
		Data struct {
			EventID string `json:"event_id"`
		} `json:"data"`
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		h.refused++
		http.Error(w, "down for the soak", http.StatusServiceUnavailable)
		return
	}
	if json.Unmarshal(body, &p) != nil {
		http.Error(w, "not JSON", http.StatusBadRequest)
		return
	}
	h.accepted++
	if h.byType[p.Type] == nil {
		h.byType[p.Type] = map[string]int{}
	}
	h.byType[p.Type][p.Data.EventID]++
	h.byHookID[r.Header.Get("webhook-id")]++
}

func (h *hookReceiver) setDown(down bool) {
	h.mu.Lock()
	h.down = down
	h.mu.Unlock()
}

// missing counts the event ids that have no notification of that type.
func (h *hookReceiver) missing(typ string, eventIDs []string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, id := range eventIDs {
		if h.byType[typ][id] == 0 {
			n++
		}
	}
	return n
}

// repeats counts deliveries beyond the first of one webhook-id: a receiver
// deduplicates them, so they are not a second notification, but the
// ledger shows them.
func (h *hookReceiver) repeats() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.byHookID {
		n += c - 1
	}
	return n
}
