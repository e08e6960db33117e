package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/moffman/moffman"
)

// JobRetrier sends a manual-event job that waits for an operator once
// more. The Sync given to the Server implements it when it can
// (moffman.ManualSync does).
type JobRetrier interface {
	RetryJob(ctx context.Context, calendarID, eventID string) (moffman.Job, error)
}

// jobJSON is one manual-event job as the API shows it.
type jobJSON struct {
	OfficeID        string    `json:"office_id"`
	CalendarID      string    `json:"calendar_id"`
	EventID         string    `json:"event_id"`
	Step            string    `json:"step"`
	Attempts        int       `json:"attempts"`
	UnknownOutcomes int       `json:"unknown_outcomes"`
	LastError       string    `json:"last_error,omitempty"`
	NextAttempt     time.Time `json:"next_attempt"`
	Created         time.Time `json:"created"`
}

func toJobJSON(j moffman.Job) jobJSON {
	return jobJSON{
		OfficeID: j.OfficeID, CalendarID: j.CalendarID, EventID: j.EventID, Step: string(j.Step),
		Attempts: j.Attempts, UnknownOutcomes: j.UnknownOutcomes, LastError: j.LastError,
		NextAttempt: j.NextAttempt.UTC(), Created: j.Created.UTC(),
	}
}

// retryJob answers POST /api/v1/sync/jobs/{calendar_id}/{event_id}/retry:
// the job, due again at once (the next job poll sends its form).
func (s *Server) retryJob(w http.ResponseWriter, r *http.Request) error {
	retrier, ok := s.Sync.(JobRetrier)
	if !ok {
		return moffman.Errorf(moffman.NotFound, "no manual-event sync runs, so there are no jobs")
	}
	job, err := retrier.RetryJob(r.Context(), r.PathValue("calendar_id"), r.PathValue("event_id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toJobJSON(job))
}
