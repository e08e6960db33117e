package google

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/googlefake"
	"github.com/moffman/moffman/internal/testlog"
)

const testCal = "prague@group.calendar.google.com"

// fastRetry keeps failing tests quick.
var fastRetry = RetryPolicy{Attempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond,
	Budget: 2 * time.Second, AttemptTimeout: time.Second}

// env is a fake Google with one shared calendar, and the adapter over it.
type env struct {
	fake  *googlefake.Server
	cal   *Calendar
	rec   *recorder
	calls *callLog
	logs  *testlog.Buffer
	opts  Options
}

func newEnv(t *testing.T, edit ...func(*Options)) *env {
	t.Helper()
	fake, err := googlefake.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Listen(t.Context(), "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	fake.AddCalendar(testCal, true)
	e := &env{fake: fake, rec: &recorder{base: http.DefaultTransport}, calls: &callLog{}, logs: &testlog.Buffer{}}
	e.opts = Options{
		KeyJSON:          fake.KeyJSON(),
		CalendarEndpoint: fake.CalendarEndpoint(),
		SheetsEndpoint:   fake.SheetsEndpoint(),
		HTTPClient:       &http.Client{Transport: e.rec},
		Retry:            fastRetry,
		Logger:           slog.New(slog.NewTextHandler(e.logs, nil)),
		OnCall:           e.calls.add,
	}
	for _, f := range edit {
		f(&e.opts)
	}
	e.cal, err = NewCalendar(t.Context(), e.opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// stored returns the event as the fake holds it.
func (e *env) stored(t *testing.T, id string) googlefake.Event {
	t.Helper()
	ev, ok := e.fake.Event(testCal, id)
	if !ok {
		t.Fatalf("event %s not stored", id)
	}
	return ev
}

// recorder is a base transport that keeps the body of every API request
// and can drop the answer of chosen requests after they reached the server
// (a lost response).
type recorder struct {
	base http.RoundTripper

	mu       sync.Mutex
	requests []recorded
	loseNext map[string]int // "POST" etc. -> answers to drop
}

type recorded struct {
	method, path string
	body         []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	r.mu.Lock()
	r.requests = append(r.requests, recorded{req.Method, req.URL.Path, body})
	lose := r.loseNext[req.Method] > 0
	if lose {
		r.loseNext[req.Method]--
	}
	r.mu.Unlock()
	resp, err := r.base.RoundTrip(req)
	if err == nil && lose {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errors.New("connection reset by peer (test)")
	}
	return resp, err
}

// lose drops the answers of the next n requests with that HTTP method.
func (r *recorder) lose(method string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loseNext == nil {
		r.loseNext = map[string]int{}
	}
	r.loseNext[method] += n
}

// last returns the decoded body of the last request with that HTTP method.
func (r *recorder) last(t *testing.T, method string) map[string]any {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.requests) - 1; i >= 0; i-- {
		if rq := r.requests[i]; rq.method == method {
			var m map[string]any
			if err := json.Unmarshal(rq.body, &m); err != nil {
				t.Fatalf("%s %s body %q: %v", rq.method, rq.path, rq.body, err)
			}
			return m
		}
	}
	t.Fatalf("no %s request", method)
	return nil
}

// callLog keeps OnCall reports.
type callLog struct {
	mu  sync.Mutex
	all []string
}

func (c *callLog) add(api, method, outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, api+" "+method+" "+outcome)
}

func (c *callLog) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.all, "; ")
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code moffman.Code) {
	t.Helper()
	if moffman.ErrorCode(err) != code {
		t.Fatalf("got %v (code %q), want code %q", err, moffman.ErrorCode(err), code)
	}
}

func wantCalls(t *testing.T, fake *googlefake.Server, method string, n int) {
	t.Helper()
	if got := fake.Calls(method); got != n {
		t.Errorf("%s: %d calls, want %d", method, got, n)
	}
}

func keys(m map[string]any) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ",")
}

func ptr[T any](v T) *T { return &v }
