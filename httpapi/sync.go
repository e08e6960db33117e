package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/moffman/moffman"
)

// SyncStatus reports what the manual-event sync is doing.
type SyncStatus interface {
	Status(ctx context.Context) ([]moffman.OfficeSyncStatus, error)
}

type officeSyncJSON struct {
	OfficeID       string     `json:"office_id"`
	CalendarID     string     `json:"calendar_id"`
	LastRun        *time.Time `json:"last_run"`
	LastDurationMS int64      `json:"last_duration_ms"`
	LastResult     string     `json:"last_result"`
	LastError      string     `json:"last_error,omitempty"`
	FullSync       bool       `json:"full_sync"`
	EventsSeen     int        `json:"events_seen"`
	ManualDetected int        `json:"manual_detected"`
	EventsApproved int        `json:"events_approved"`
	FormsDelivered int        `json:"forms_delivered"`
	Jobs           jobsJSON   `json:"jobs"`
}

type jobsJSON struct {
	Pending          int     `json:"pending"`    // those waiting for an operator included, not the waitlisted
	Waitlisted       int     `json:"waitlisted"` // waiting for a desk
	NeedsOperator    int     `json:"needs_operator"`
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
	LastError        string  `json:"last_error,omitempty"`
}

func (s *Server) getSync(w http.ResponseWriter, r *http.Request) error {
	if s.Sync == nil {
		return writeJSON(w, http.StatusOK, map[string]any{"offices": []officeSyncJSON{}, "needs_operator": []jobJSON{}})
	}
	list, err := s.Sync.Status(r.Context())
	if err != nil {
		return err
	}
	now := s.now()
	out := make([]officeSyncJSON, 0, len(list))
	waiting := []jobJSON{}
	for _, st := range list {
		for _, j := range st.Jobs.NeedsOperator {
			waiting = append(waiting, toJobJSON(j))
		}
		o := officeSyncJSON{
			OfficeID: st.Office, CalendarID: st.CalendarID,
			LastDurationMS: st.LastDuration.Milliseconds(), LastResult: "never run", LastError: st.LastError,
			FullSync: st.FullSync, EventsSeen: st.EventsSeen, ManualDetected: st.ManualDetected,
			EventsApproved: st.EventsApproved, FormsDelivered: st.FormsDelivered,
			Jobs: jobsJSON{Pending: st.Jobs.Pending, Waitlisted: st.Jobs.Waitlisted, NeedsOperator: len(st.Jobs.NeedsOperator), LastError: st.Jobs.LastError},
		}
		if !st.LastRun.IsZero() {
			run := st.LastRun.UTC()
			o.LastRun, o.LastResult = &run, "ok"
			if st.LastError != "" {
				o.LastResult = "error"
			}
		}
		if !st.Jobs.Oldest.IsZero() {
			o.Jobs.OldestAgeSeconds = now.Sub(st.Jobs.Oldest).Seconds()
		}
		out = append(out, o)
	}
	body := map[string]any{"offices": out, "needs_operator": waiting}
	if s.Notifications != nil {
		dests, err := s.Notifications(r.Context())
		if err != nil {
			return err
		}
		body["notifications"] = dests
	}
	return writeJSON(w, http.StatusOK, body)
}
