package httpapi

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// syncBuffer is a log buffer the server's goroutines may write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type statusCounter struct {
	mu       sync.Mutex
	statuses []int
}

func (c *statusCounter) ObserveRequest(route, method string, status int, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statuses = append(c.statuses, status)
}

// A handler that answers after the server's write timeout has its answer
// cut: the client gets nothing, and the log and the metrics say failed,
// not 200.
func TestAnswerCutByTheWriteTimeoutIsLoggedAsFailed(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	var logs syncBuffer
	observer := &statusCounter{}
	done := make(chan struct{})
	s := &Server{
		Reservations: &moffman.Reservations{Directory: moffman.NewDirectory(moffman.DirectoryLists{})},
		Directory:    moffman.NewDirectory(moffman.DirectoryLists{}),
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
		Observer:     observer,
		WriteTimeout: timeout,
		Web: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer close(done)
			time.Sleep(3 * timeout) // a slow page: past the deadline
			io.WriteString(w, "too late")
		}),
	}
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.Config.WriteTimeout = timeout
	srv.Start()
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/")
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) == "too late" {
			t.Fatalf("the client got the whole answer (%d %q): the write timeout did not cut it", resp.StatusCode, body)
		}
	}
	<-done
	// The log line is written when the handler chain returns.
	var line string
	for range 100 {
		if line = logLine(logs.String(), "path=/"); line != "" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, `msg="request failed"`) ||
		!strings.Contains(line, "status=0") || !strings.Contains(line, "written_status=200") ||
		!strings.Contains(line, "write timeout") {
		t.Errorf("the log of the cut answer: %q", line)
	}
	observer.mu.Lock()
	defer observer.mu.Unlock()
	if len(observer.statuses) != 1 || observer.statuses[0] != 0 {
		t.Errorf("metrics saw statuses %v, want [0]", observer.statuses)
	}
}

// A quick answer under the same timeout is logged as the 200 it is.
func TestAnswerInTimeIsLoggedWithItsStatus(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	s := &Server{
		Reservations: &moffman.Reservations{Directory: moffman.NewDirectory(moffman.DirectoryLists{})},
		Directory:    moffman.NewDirectory(moffman.DirectoryLists{}),
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
		WriteTimeout: time.Minute,
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	line := logLine(logs.String(), "path=/healthz")
	if !strings.Contains(line, "level=INFO") || !strings.Contains(line, "status=200") || strings.Contains(line, "failed") {
		t.Errorf("the log of a good answer: %q", line)
	}
}

func logLine(logs, want string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, want+" ") {
			return l
		}
	}
	return ""
}
