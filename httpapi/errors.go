package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/moffman/moffman"
)

// statusOf is the one mapping from the core's error vocabulary to HTTP.
var statusOf = map[moffman.Code]int{
	moffman.Invalid:      http.StatusBadRequest,
	moffman.NotFound:     http.StatusNotFound,
	moffman.Conflict:     http.StatusConflict,
	moffman.Gone:         http.StatusGone,
	moffman.Unauthorized: http.StatusUnauthorized,
	moffman.Forbidden:    http.StatusForbidden,
	moffman.Unavailable:  http.StatusServiceUnavailable,
	moffman.Upstream:     http.StatusBadGateway,
	moffman.Internal:     http.StatusInternalServerError,
}

// problem is an RFC 9457 problem details body, the one shape of every error.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
}

// writeError answers err as problem details. Internal errors are logged with
// their cause and answered without it.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	detail := moffman.ErrorMessage(err)
	if status >= 500 {
		s.logger().ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		status, detail = http.StatusRequestEntityTooLarge, "the request body is larger than 64 KiB"
	}
	writeProblem(w, r, status, detail)
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{
		Type:     "about:blank",
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   detail,
		Instance: r.URL.Path,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("writing response", "error", err)
	}
}
