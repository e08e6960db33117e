package byroapitest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const form = `{"template": "attendance", "form_data": {"user_id": "jan@acme.com", "date_from": "2026-03-02", "date_to": "2026-03-02", "date_approved": "2026-03-01"}, "result": {"download": false}}`

func send(t *testing.T, s *Server, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAnswersAsByroapi(t *testing.T) {
	s := Start(t)
	if status, body := send(t, s, http.MethodPost, s.URL, form); status != 200 || body != "" {
		t.Errorf("a form: %d %q, want 200 and an empty body", status, body)
	}
	for _, tt := range []struct {
		method, path, body string
		status             int
	}{
		{http.MethodPost, Path, "not json", 500},
		{http.MethodPost, Path, `{"form_data": {}}`, 500}, // no template
		{http.MethodGet, Path, "", 405},
		{http.MethodPost, "/fill", form, 404},
	} {
		if status, _ := send(t, s, tt.method, strings.TrimSuffix(s.URL, Path)+tt.path, tt.body); status != tt.status {
			t.Errorf("%s %s %q: %d, want %d", tt.method, tt.path, tt.body, status, tt.status)
		}
	}
	reqs, delivered := s.Requests(), s.Delivered()
	if len(reqs) != 5 || len(delivered) != 1 {
		t.Fatalf("%d requests, %d delivered; want 5 and 1", len(reqs), len(delivered))
	}
	d := delivered[0]
	if d.Template != "attendance" || d.UserID != "jan@acme.com" || d.DateFrom != "2026-03-02" || d.DateApproved != "2026-03-01" ||
		d.ContentType != "application/json" || d.Method != http.MethodPost || string(d.Body) != form || d.At.IsZero() {
		t.Errorf("recorded %+v", d)
	}
}

func TestInjectedFailures(t *testing.T) {
	s := Start(t)
	s.Fail(http.StatusBadRequest, "field user_id is missing")
	if status, body := send(t, s, http.MethodPost, s.URL, form); status != 400 || body != "field user_id is missing" {
		t.Errorf("Fail: %d %q", status, body)
	}
	s.SetDown(true)
	if status, _ := send(t, s, http.MethodPost, s.URL, form); status != 503 {
		t.Errorf("down: %d", status)
	}
	s.SetDown(false)
	if status, _ := send(t, s, http.MethodPost, s.URL, form); status != 200 {
		t.Errorf("up again: %d", status)
	}
	if got := len(s.Delivered()); got != 1 {
		t.Errorf("%d delivered, want only the one after recovery", got)
	}
}

func TestSlowAndHanging(t *testing.T) {
	s := Start(t)
	s.SetLatency(50 * time.Millisecond)
	start := time.Now()
	if status, _ := send(t, s, http.MethodPost, s.URL, form); status != 200 || time.Since(start) < 50*time.Millisecond {
		t.Errorf("slow: %d after %v", status, time.Since(start))
	}

	s.Hang(true)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader(form))
	if _, err := s.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hanging: %v, want the client's deadline", err)
	}
	// Close ends a request that is still hanging.
	go func() { _, _ = s.Client().Post(s.URL, "application/json", strings.NewReader(form)) }()
	time.Sleep(20 * time.Millisecond)
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited on the hanging request")
	}
	if got := len(s.Delivered()); got != 1 {
		t.Errorf("%d delivered, want 1 (hanging requests are not answered)", got)
	}
}
