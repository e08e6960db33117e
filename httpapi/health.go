package httpapi

import (
	"context"
	"net/http"
	"time"
)

// RequestObserver records each request for metrics. Status 0 is an
// answer that was cut: its write failed or came after the write timeout.
type RequestObserver interface {
	ObserveRequest(route, method string, status int, d time.Duration)
}

// healthz answers while the process serves at all.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the service can do its work: store open,
// configuration loaded, calendar backend reachable on its last call.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			// A probe's answer, not a failure to log.
			return &statusError{http.StatusServiceUnavailable, "not ready: " + err.Error()}
		}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
