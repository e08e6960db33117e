package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/auth"
	"github.com/moffman/moffman/internal/httpstatus"
)

// problem is an RFC 9457 problem details body, the one shape of every error.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
	// FullDays names the days without room of a refused approval (409).
	FullDays []moffman.FullDay `json:"full_days,omitempty"`
}

// statusError is an answer outside the core's error vocabulary, such as
// 405; it is answered as it is, and not logged.
type statusError struct {
	status int
	detail string
}

func (e *statusError) Error() string { return e.detail }

// handle is the one adapter from a handlerFunc to net/http: it lets the
// request in only with a token that has the scope, and answers the error
// the handler returns.
func (s *Server) handle(scope auth.Scope, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.require(scope, r, w.Header())
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// writeError answers err as problem details, with the status of the core's
// error code (see httpstatus). Internal errors are logged with their cause
// and answered without it.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var statusErr *statusError
	var maxErr *http.MaxBytesError
	var full *moffman.CapacityError
	switch {
	case errors.As(err, &full):
		writeProblemWith(w, r, http.StatusConflict, moffman.ErrorMessage(err), full.Days)
	case errors.As(err, &statusErr):
		writeProblem(w, r, statusErr.status, statusErr.detail)
	case errors.As(err, &maxErr):
		writeProblem(w, r, http.StatusRequestEntityTooLarge, "the request body is larger than 64 KiB")
	default:
		status := httpstatus.Of(err)
		if status >= 500 {
			s.logger().ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
		}
		writeProblem(w, r, status, moffman.ErrorMessage(err))
	}
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	writeProblemWith(w, r, status, detail, nil)
}

func writeProblemWith(w http.ResponseWriter, r *http.Request, status int, detail string, full []moffman.FullDay) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{
		Type:     "about:blank",
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   detail,
		Instance: r.URL.Path,
		FullDays: full,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("writing response", "error", err)
	}
	return nil
}
