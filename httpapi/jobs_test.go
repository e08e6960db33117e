package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

type fixedSync []moffman.OfficeSyncStatus

func (s fixedSync) Status(context.Context) ([]moffman.OfficeSyncStatus, error) { return s, nil }

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

// TestSyncReportsFailedRunsAsErrors: a run that failed is "error" with its
// reason, one that succeeded "ok", one never run "never run".
func TestSyncReportsFailedRunsAsErrors(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s := &Server{Sync: fixedSync{
		{Office: "brno", LastRun: now, LastError: "Google Calendar is down"},
		{Office: "ostrava"},
		{Office: "prague", LastRun: now},
	}, Logger: slog.New(slog.DiscardHandler)}
	code, body := get(t, s.Handler(), "/api/v1/sync")
	if code != http.StatusOK {
		t.Fatalf("GET /api/v1/sync = %d %s", code, body)
	}
	var out struct {
		Offices []officeSyncJSON `json:"offices"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"brno": "error", "ostrava": "never run", "prague": "ok"}
	for _, o := range out.Offices {
		if o.LastResult != want[o.OfficeID] {
			t.Errorf("office %s: last_result %q, want %q", o.OfficeID, o.LastResult, want[o.OfficeID])
		}
	}
	if len(out.Offices) != 3 || !strings.Contains(body, `"last_error":"Google Calendar is down"`) {
		t.Errorf("sync status %s", body)
	}
}

// TestReadinessProbeIsBounded: the readiness check gets at most two
// seconds; a check that does not answer in time makes /readyz 503.
func TestReadinessProbeIsBounded(t *testing.T) {
	t.Parallel()
	var left time.Duration
	s := &Server{Logger: slog.New(slog.DiscardHandler), Ready: func(ctx context.Context) error {
		deadline, ok := ctx.Deadline()
		if !ok {
			return nil // the mutant without a timeout: 200 below fails the test
		}
		left = time.Until(deadline)
		return moffman.WrapError(moffman.Unavailable, context.DeadlineExceeded, "the store did not answer")
	}}
	code, body := get(t, s.Handler(), "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "the store did not answer") {
		t.Errorf("/readyz = %d %s, want 503 with the reason", code, body)
	}
	if left <= 0 || left > 2*time.Second {
		t.Errorf("the readiness check had %v, want at most 2s", left)
	}
}

// TestRetryJobWithoutSync: without a manual-event sync there is no job.
func TestRetryJobWithoutSync(t *testing.T) {
	t.Parallel()
	s := &Server{Logger: slog.New(slog.DiscardHandler)}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/sync/jobs/c@x/evt01/retry", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("retry without a sync = %d, want 404", rec.Code)
	}
}
