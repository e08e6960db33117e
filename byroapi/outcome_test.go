package byroapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// The form service is slow or cut off: a request it received but never
// answered has an unknown outcome; one it answered with an error, or never
// received, was refused and may be repeated at once.

func TestTimeoutAfterTheRequestWentOutIsAnUnknownOutcome(t *testing.T) {
	received := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		received <- struct{}{}
		select { // still rendering the PDF
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	cfg := fullConfig(srv.URL)
	cfg.Timeout = 100 * time.Millisecond // forms.timeout
	c, err := New(cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	err = c.IssueForm(context.Background(), jan, visit)
	if !errors.Is(err, moffman.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("IssueForm = %v; want an unknown outcome after forms.timeout", err)
	}
	select {
	case <-received:
	default:
		t.Error("Byroapi never received the request")
	}
}

func TestConnectionCutAfterTheBodyIsAnUnknownOutcome(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close() // gone without an answer
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(fullConfig(srv.URL), srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	err = c.IssueForm(context.Background(), jan, visit)
	if !errors.Is(err, moffman.ErrOutcomeUnknown) || !moffman.IsCode(err, moffman.Unavailable) {
		t.Errorf("IssueForm = %v; want an unknown outcome", err)
	}
}

func TestRefusedOrUnsentRequestIsNoUnknownOutcome(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(refusing.Close)
	// A port nobody listens on: the request never leaves.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for name, url := range map[string]string{"answered 503": refusing.URL, "connection refused": closed} {
		c, err := New(fullConfig(url), nil)
		if err != nil {
			t.Fatal(err)
		}
		err = c.IssueForm(context.Background(), jan, visit)
		if err == nil || errors.Is(err, moffman.ErrOutcomeUnknown) || !moffman.IsCode(err, moffman.Unavailable) {
			t.Errorf("%s: IssueForm = %v; want Unavailable, not an unknown outcome", name, err)
		}
	}
}

func TestTimeoutDefaultsToTwoMinutes(t *testing.T) {
	c, err := New(fullConfig("http://byroapi.test/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.timeout != 120*time.Second {
		t.Errorf("timeout without forms.timeout = %v, want 2m", c.timeout)
	}
	cfg := fullConfig("http://byroapi.test/")
	cfg.Timeout = 7 * time.Second
	if c, _ := New(cfg, nil); c.timeout != 7*time.Second {
		t.Errorf("timeout with forms.timeout 7 = %v", c.timeout)
	}
}
