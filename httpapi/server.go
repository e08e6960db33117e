// Package httpapi serves moffman's REST API: routes, request decoding,
// the error-to-status mapping and request logging.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strings"
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
	Auth         *Auth      // nil or no tokens: the API is open

	// Ready tells why the service cannot work now (nil: it can); nil
	// means always ready.
	Ready          func(ctx context.Context) error
	Observer       RequestObserver // nil: no request metrics
	MetricsHandler http.Handler    // nil: no /metrics
	Web            http.Handler    // nil: no web page at / (it serves /, /login, /logout, /static/)
	Logger         *slog.Logger
	Now            func() time.Time
}

// Handler returns the API's routes wrapped in request logging.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(path string, endpoints map[string]endpoint) {
		var methods []string
		for method, e := range endpoints {
			mux.HandleFunc(method+" "+path, s.require(e.scope, e.handler))
			methods = append(methods, method)
			if method == "GET" {
				methods = append(methods, "HEAD") // the mux serves HEAD with GET's handler
			}
		}
		sort.Strings(methods)
		allow := strings.Join(methods, ", ")
		// The same path without a method catches the others: 405 as problem details.
		mux.HandleFunc(path, s.require(anyScope, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeProblem(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed here; use "+allow)
		}))
	}
	route("/api/v1/reservations", map[string]endpoint{"POST": {ScopeWrite, s.postReservation}})
	route("/api/v1/offices", map[string]endpoint{"GET": {ScopeRead, s.getOffices}})
	route("/api/v1/offices/{office_id}/reservations", map[string]endpoint{"GET": {ScopeRead, s.listReservations}})
	route("/api/v1/offices/{office_id}/reservations/{id}", map[string]endpoint{
		"GET": {ScopeRead, s.getReservation}, "DELETE": {ScopeWrite, s.deleteReservation},
	})
	route("/api/v1/offices/{office_id}/attendance", map[string]endpoint{"GET": {ScopeRead, s.getAttendance}})
	route("/api/v1/offices/{office_id}/calendar.ics", map[string]endpoint{"GET": {ScopeFeed, s.getFeed}})
	route("/api/v1/people/{email}/reservations", map[string]endpoint{"GET": {ScopeRead, s.getPersonReservations}})
	route("/api/v1/sync", map[string]endpoint{"GET": {ScopeAdmin, s.getSync}})
	route("/api/v1/sync/jobs/{calendar_id}/{event_id}/retry", map[string]endpoint{"POST": {ScopeAdmin, s.retryJob}})
	route("/api/v1/config_update", map[string]endpoint{"GET": {ScopeAdmin, s.configUpdate}, "POST": {ScopeAdmin, s.configUpdate}})
	mux.HandleFunc("/api/", s.require(anyScope, func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	}))
	mux.HandleFunc("/api/v1/openapi.json", s.openAPI) // public; any method, so others get 405
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.MetricsHandler != nil {
		mux.Handle("GET /metrics", s.MetricsHandler)
	}
	if s.Web != nil {
		for _, pattern := range []string{"GET /{$}", "/login", "POST /logout", "GET /static/"} {
			mux.Handle(pattern, s.Web)
		}
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "no such page: "+r.URL.Path)
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

// endpoint is a handler and the scope a token needs for it.
type endpoint struct {
	scope   Scope
	handler http.HandlerFunc
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
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		next.ServeHTTP(rec, r) // the mux sets r.Pattern on this request
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)),
		}
		if info.tokenName != "" {
			attrs = append(attrs, slog.String("token", info.tokenName))
		}
		if s.Observer != nil {
			s.Observer.ObserveRequest(r.Pattern, r.Method, rec.status, time.Since(start))
		}
		s.logger().LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}
