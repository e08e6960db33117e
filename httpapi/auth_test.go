package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/auth"
	"github.com/moffman/moffman/metrics"
	"github.com/moffman/moffman/sqlite"
)

// secured serves the API with one token per scope and metrics.
func secured(t *testing.T, logs io.Writer) (*httptest.Server, *metrics.Metrics) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	m := metrics.New()
	cal := m.WrapCalendar(store, "embedded")
	dir := moffman.NewDirectory(moffman.DirectoryLists{Offices: []moffman.Office{{Name: "prague", CalendarID: pragueCal}}})
	token := func(name string, scopes ...auth.Scope) auth.Token {
		return auth.Token{Name: name, SHA256: sha256.Sum256([]byte(name + "-secret-0123456789")), Scopes: scopes}
	}
	s := &Server{
		Reservations: &moffman.Reservations{Calendar: cal, Directory: dir, Colors: moffman.Colors{Unapproved: "4", Approved: "5"}},
		Directory:    dir,
		Auth: auth.NewAuth([]auth.Token{
			token("reader", auth.ScopeRead), token("writer", auth.ScopeWrite), token("admin", auth.ScopeAdmin), token("feeder", auth.ScopeFeed),
		}),
		Logger:         slog.New(slog.NewTextHandler(logs, nil)),
		Observer:       m,
		MetricsHandler: m.Handler(),
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, m
}

func call(t *testing.T, srv *httptest.Server, method, path, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token+"-secret-0123456789")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestTokensAndScopes(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	srv, _ := secured(t, &logs)
	endpoints := []struct {
		method, path, body string
		scope              string
	}{
		{"POST", "/api/v1/reservations", reservation(false), "writer"},
		{"GET", "/api/v1/offices", "", "reader"},
		{"GET", "/api/v1/offices/prague/reservations?from=2022-06-01&to=2022-07-01", "", "reader"},
		{"GET", "/api/v1/offices/prague/reservations/" + vectorID, "", "reader"},
		{"DELETE", "/api/v1/offices/prague/reservations/" + vectorID, "", "writer"},
		{"GET", "/api/v1/sync", "", "admin"},
		{"GET", "/api/v1/config_update", "", "admin"},
		{"POST", "/api/v1/config_update", "", "admin"},
	}
	for _, e := range endpoints {
		name := e.method + " " + e.path
		if resp := call(t, srv, e.method, e.path, "", e.body); resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s without a token: %d %q, want 401 with WWW-Authenticate", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		if resp := call(t, srv, e.method, e.path, "nobody", e.body); resp.StatusCode != 401 {
			t.Errorf("%s with a wrong token: %d, want 401", name, resp.StatusCode)
		}
		for _, other := range []string{"reader", "writer", "admin", "feeder"} {
			if other == e.scope {
				continue
			}
			if resp := call(t, srv, e.method, e.path, other, e.body); resp.StatusCode != 403 {
				t.Errorf("%s with token %s: %d, want 403", name, other, resp.StatusCode)
			}
		}
		if resp := call(t, srv, e.method, e.path, e.scope, e.body); resp.StatusCode != 200 {
			t.Errorf("%s with token %s: %d, want 200", name, e.scope, resp.StatusCode)
		}
	}
	// Unknown API paths reveal nothing without a token either.
	if resp := call(t, srv, "GET", "/api/v1/nothing", "", ""); resp.StatusCode != 401 {
		t.Errorf("unknown path without a token: %d, want 401", resp.StatusCode)
	}
	// Health and metrics need no token.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if resp := call(t, srv, "GET", path, "", ""); resp.StatusCode != 200 {
			t.Errorf("%s: %d, want 200", path, resp.StatusCode)
		}
	}
	if strings.Contains(logs.String(), "secret") || strings.Contains(logs.String(), "Bearer") {
		t.Errorf("the log shows a token:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "token=writer") {
		t.Errorf("the request log does not name the token:\n%s", logs.String())
	}
}

func TestMetricsMoveWithTraffic(t *testing.T) {
	t.Parallel()
	srv, _ := secured(t, io.Discard)
	call(t, srv, "POST", "/api/v1/reservations", "writer", reservation(true))
	call(t, srv, "POST", "/api/v1/reservations", "writer", `{`)
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`moffman_http_requests_total{method="POST",route="POST /api/v1/reservations",status="200"} 1`,
		`moffman_http_requests_total{method="POST",route="POST /api/v1/reservations",status="400"} 1`,
		`moffman_http_request_duration_seconds_count{method="POST",route="POST /api/v1/reservations"} 2`,
		`moffman_backend_calls_total{method="events.patch",outcome="not_found",system="embedded"} 1`,
		`moffman_backend_calls_total{method="events.insert",outcome="ok",system="embedded"} 1`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	var down error
	s := &Server{Directory: moffman.NewDirectory(moffman.DirectoryLists{}), Ready: func(context.Context) error { return down }, Logger: quiet}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	if resp := call(t, srv, "GET", "/readyz", "", ""); resp.StatusCode != 200 {
		t.Errorf("ready: %d", resp.StatusCode)
	}
	down = errors.New("the store does not answer")
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), "the store does not answer") {
		t.Errorf("not ready: %d %s", resp.StatusCode, body)
	}
	if resp := call(t, srv, "GET", "/healthz", "", ""); resp.StatusCode != 200 {
		t.Errorf("healthz while not ready: %d", resp.StatusCode)
	}
}
