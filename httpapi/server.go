// Package httpapi serves moffman's REST API: routes, request decoding,
// the error-to-status mapping and request logging.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/auth"
	"github.com/moffman/moffman/internal/forwarded"
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
	// Notifications reports the notification destinations for
	// /api/v1/sync; nil: none.
	Notifications func(ctx context.Context) (any, error)
	Auth          *auth.Auth // nil or no tokens: the API is open

	// Ready tells why the service cannot work now (nil: it can); nil
	// means always ready.
	Ready          func(ctx context.Context) error
	Observer       RequestObserver // nil: no request metrics
	MetricsHandler http.Handler    // nil: no /metrics
	Web            http.Handler    // nil: no web page at / (it serves /, /occupancy, /occupancy.csv, /login, /logout, /static/)
	Logger         *slog.Logger
	Now            func() time.Time
	// Proxies says whose X-Forwarded-* headers to believe; the zero
	// value believes nobody's.
	Proxies forwarded.Policy
	// WriteTimeout is the http.Server's: an answer still being written
	// then is cut by the server, so the request log counts it as failed.
	// 0: no timeout.
	WriteTimeout time.Duration
}

// Handler returns the routes of the table (see routes) wrapped in request
// logging, behind the proxies Proxies trusts.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	allowed := map[string][]string{} // the methods of each API path
	needsToken := map[string]bool{}  // whether any method of a path needs a token
	for _, rt := range s.routes() {
		mux.Handle(strings.TrimSpace(rt.method+" "+rt.path), s.handle(rt.scope, rt.handler))
		if rt.method == "" || !strings.HasPrefix(rt.path, "/api/") {
			continue
		}
		allowed[rt.path] = append(allowed[rt.path], rt.method)
		if rt.method == http.MethodGet {
			allowed[rt.path] = append(allowed[rt.path], http.MethodHead) // the mux serves HEAD with GET's handler
		}
		needsToken[rt.path] = needsToken[rt.path] || rt.scope != public
	}
	// The same path without a method catches the others: 405.
	for path, methods := range allowed {
		slices.Sort(methods)
		scope := public
		if needsToken[path] {
			scope = anyToken
		}
		mux.Handle(path, s.handle(scope, methodNotAllowed(strings.Join(methods, ", "))))
	}
	return s.Proxies.Handler(s.logRequests(mux))
}

// methodNotAllowed answers 405 naming the methods a path allows.
func methodNotAllowed(allow string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return &statusError{http.StatusMethodNotAllowed, r.Method + " is not allowed here; use " + allow}
	}
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

// statusRecorder remembers the status a handler wrote, and whether
// writing the answer failed, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status   int
	writeErr error
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
	n, err := r.ResponseWriter.Write(b)
	if err != nil && r.writeErr == nil {
		r.writeErr = err
	}
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// cut tells why the client did not get the whole answer, "" when it may
// have. A write error is one (the client went away, or the deadline
// passed with a large answer); so is a handler that returns after the
// write timeout: net/http set the connection's write deadline just before
// calling it, and the buffered rest of the answer, written after the
// handler returns, fails without anyone seeing the error.
func (s *Server) cut(rec *statusRecorder, elapsed time.Duration) string {
	switch {
	case rec.writeErr != nil:
		return "writing the answer failed: " + rec.writeErr.Error()
	case s.WriteTimeout > 0 && elapsed >= s.WriteTimeout:
		return "the answer took longer than the write timeout (" + s.WriteTimeout.String() + ") and was cut"
	}
	return ""
}

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		ctx, tokenName := auth.WithTokenNote(r.Context())
		r = r.WithContext(ctx)
		next.ServeHTTP(rec, r) // the mux sets r.Pattern on this request
		elapsed := time.Since(start)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		// A cut answer is a failure whatever status its header said: it
		// is logged and counted with status 0, never as the 200 it began.
		status, level, msg := rec.status, slog.LevelInfo, "request"
		cut := s.cut(rec, elapsed)
		if cut != "" {
			status, level, msg = 0, slog.LevelError, "request failed"
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Duration("duration", elapsed),
		}
		if cut != "" {
			attrs = append(attrs, slog.Int("written_status", rec.status), slog.String("error", cut))
		}
		if name := tokenName(); name != "" {
			attrs = append(attrs, slog.String("token", name))
		}
		attrs = append(attrs, slog.String("client", forwarded.From(r).Client))
		if s.Observer != nil {
			s.Observer.ObserveRequest(r.Pattern, r.Method, status, elapsed)
		}
		s.logger().LogAttrs(r.Context(), level, msg, attrs...)
	})
}
