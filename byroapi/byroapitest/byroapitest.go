// Package byroapitest is a fake Byroapi for tests and the bench: an HTTP
// server on loopback that takes form requests the way Byroapi does, records
// every one, and can be made to fail, slow down or hang.
//
// Byroapi (github.com/calcite/byroapi) serves one route, POST /api/v1/form,
// with a JSON body. It answers 200 with an empty body when the form was
// filled and e-mailed (download false), and 500 with {} when it could not
// process the request (a body that is not JSON, an unknown template). The
// fake does the same; any template is known to it.
//
// It does not import package byroapi, so byroapi's own tests can use it.
package byroapitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"
)

// Path is the route Byroapi serves forms at.
const Path = "/api/v1/form"

// Request is one request the fake received, and what it answered.
type Request struct {
	Method, Path, ContentType string
	Body                      []byte
	// The fields the form is matched by, decoded from Body ("" when the
	// body is not a form request).
	Template, UserID, DateFrom, DateTo, DateApproved string
	Status                                           int       // the status the fake answered
	At                                               time.Time // when it answered
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is where forms are posted: the configuration's forms.url.
	URL string

	srv     *httptest.Server
	closing chan struct{} // closed by Close: hanging requests end
	once    sync.Once

	mu         sync.Mutex
	failStatus int // 0: Byroapi's own answers
	failBody   string
	latency    time.Duration
	hang       bool
	requests   []Request
}

// New starts a fake on 127.0.0.1. Close it when done.
func New() *Server {
	s := &Server{closing: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + Path
	return s
}

// Start starts a fake that is closed when the test ends.
func Start(t interface{ Cleanup(func()) }) *Server {
	s := New()
	t.Cleanup(s.Close)
	return s
}

// Close ends requests still waiting and stops the server.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closing)
		s.srv.Close()
	})
}

// Client is an HTTP client for the fake.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Fail makes every following request answer status with body (after
// recording it), as a failing or refusing Byroapi would; Fail(0, "")
// restores the normal answers.
func (s *Server) Fail(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus, s.failBody = status, body
}

// SetDown makes Byroapi unavailable (503) or available again.
func (s *Server) SetDown(down bool) {
	if down {
		s.Fail(http.StatusServiceUnavailable, "byroapi is down (byroapitest)")
	} else {
		s.Fail(0, "")
	}
}

// SetLatency delays every following answer by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Hang makes following requests wait without an answer until the client
// gives up or the fake is closed (hang true), or answer again (false).
func (s *Server) Hang(hang bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = hang
}

// Requests returns every request received so far, in the order answered.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Delivered returns the requests answered 200: the forms Byroapi filled
// and sent.
func (s *Server) Delivered() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if r.Status == http.StatusOK {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	latency, hang := s.latency, s.hang
	s.mu.Unlock()
	if !s.wait(r, latency, hang) {
		return // the client gave up, or the fake is closing: no answer
	}
	status, answer := s.answer(r, body)
	if answer == "{}" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

// wait delays the answer; false when it is not to be given.
func (s *Server) wait(r *http.Request, latency time.Duration, hang bool) bool {
	var timer <-chan time.Time
	switch {
	case hang:
	case latency > 0:
		timer = time.After(latency)
	default:
		return true
	}
	select {
	case <-timer:
		return true
	case <-r.Context().Done():
	case <-s.closing:
	}
	return false
}

// answer records the request and decides the answer, as Byroapi would
// unless a failure is injected.
func (s *Server) answer(r *http.Request, body []byte) (int, string) {
	rec := Request{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), Body: body}
	var form struct {
		Template string `json:"template"`
		FormData struct {
			UserID       string `json:"user_id"`
			DateFrom     string `json:"date_from"`
			DateTo       string `json:"date_to"`
			DateApproved string `json:"date_approved"`
		} `json:"form_data"`
	}
	jsonErr := json.Unmarshal(body, &form)
	if jsonErr == nil {
		d := form.FormData
		rec.Template, rec.UserID, rec.DateFrom, rec.DateTo, rec.DateApproved = form.Template, d.UserID, d.DateFrom, d.DateTo, d.DateApproved
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, answer := http.StatusOK, ""
	switch {
	case s.failStatus != 0:
		status, answer = s.failStatus, s.failBody
	case r.URL.Path != Path:
		status, answer = http.StatusNotFound, "404: Not Found"
	case r.Method != http.MethodPost:
		status, answer = http.StatusMethodNotAllowed, "405: Method Not Allowed"
	case jsonErr != nil || form.Template == "":
		status, answer = http.StatusInternalServerError, "{}"
	}
	rec.Status, rec.At = status, time.Now()
	s.requests = append(s.requests, rec)
	return status, answer
}
