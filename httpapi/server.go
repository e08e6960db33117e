// Package httpapi serves moffman's REST API: routes, request decoding,
// the error-to-status mapping and request logging.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/moffman/moffman"
)

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 64 << 10

// Reloader reloads the dynamic configuration (offices and manual users).
type Reloader interface {
	Reload(ctx context.Context) error
}

// Server holds what the handlers need. Fields are set before Handler is
// called and not changed afterwards.
type Server struct {
	Reservations *moffman.Reservations
	Directory    *moffman.Directory
	Reloader     Reloader   // nil: config_update is a no-op
	Sync         SyncStatus // nil: no manual-event sync runs
	Logger       *slog.Logger
	Now          func() time.Time
}

// Handler returns the API's routes wrapped in request logging.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(path string, handlers map[string]http.HandlerFunc) {
		allow := ""
		for method, h := range handlers {
			mux.HandleFunc(method+" "+path, h)
			if allow != "" {
				allow += ", "
			}
			allow += method
		}
		// The same path without a method catches the others: 405 as problem details.
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeProblem(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed here; use "+allow)
		})
	}
	route("/api/v1/reservations", map[string]http.HandlerFunc{"POST": s.postReservation})
	route("/api/v1/offices", map[string]http.HandlerFunc{"GET": s.getOffices})
	route("/api/v1/offices/{office_id}/reservations", map[string]http.HandlerFunc{"GET": s.listReservations})
	route("/api/v1/offices/{office_id}/reservations/{id}", map[string]http.HandlerFunc{
		"GET": s.getReservation, "DELETE": s.deleteReservation,
	})
	route("/api/v1/sync", map[string]http.HandlerFunc{"GET": s.getSync})
	route("/api/v1/config_update", map[string]http.HandlerFunc{"GET": s.configUpdate, "POST": s.configUpdate})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	})
	return s.logRequests(mux)
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// statusRecorder remembers the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.logger().LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)),
		)
	})
}
