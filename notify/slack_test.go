package notify

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/config"
	"github.com/moffman/moffman/sqlite"
)

// fakeClock is the service's clock in tests: Sleep moves it on at once.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(d)
	return ctx.Err()
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
}

// fakeSlack answers like a Slack incoming webhook: "ok", or an error code
// with 4xx, or 429 with Retry-After; it records each message's text and
// the service's clock when it arrived.
type fakeSlack struct {
	clock  *fakeClock
	answer func(n int) (int, string)

	mu    sync.Mutex
	texts []string
	times []time.Time
}

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Text string `json:"text"`
	}
	body, _ := io.ReadAll(r.Body)
	if json.Unmarshal(body, &msg) != nil || msg.Text == "" || r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "invalid_payload")
		return
	}
	f.mu.Lock()
	n := len(f.texts)
	f.texts = append(f.texts, msg.Text)
	f.times = append(f.times, f.clock.Now())
	f.mu.Unlock()
	code, text := f.answer(n)
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "30")
	}
	w.WriteHeader(code)
	io.WriteString(w, text)
}

func TestSlackOneMessageASecond(t *testing.T) {
	clk := &fakeClock{now: time.Now()}
	slack := &fakeSlack{clock: clk, answer: func(n int) (int, string) {
		switch n {
		case 2:
			return http.StatusTooManyRequests, "rate_limited"
		case 4:
			return http.StatusNotFound, "channel_not_found"
		}
		return http.StatusOK, "ok"
	}}
	srv := httptest.NewServer(slack)
	defer srv.Close()
	store := openStore(t, "", sqlite.WithClock(clk.Now))
	svc, err := New(config.Notifications{Slack: []config.SlackDest{{URL: srv.URL + "/services/T0/B0/secret"}}}, store,
		Options{Now: clk.Now, Sleep: clk.Sleep, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	events := []string{"evt01", "evt02", "evt03", "evt04", "evt05", "evt06"}
	for _, ev := range events {
		if err := svc.Notify(ctx, notification(moffman.NotifyReservationPending, ev)); err != nil {
			t.Fatal(err)
		}
	}
	d := svc.dests[0]
	if strings.Contains(d.name, "secret") || !strings.HasPrefix(d.name, "slack:127.0.0.1:") {
		t.Errorf("destination name %q shows the URL's path or lacks the host", d.name)
	}
	// Deliver everything, following the service's clock to each retry.
	for range 100 {
		_, next, err := svc.deliverDue(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if next.IsZero() {
			next = clk.Now().Add(poll) // as Run does
		}
		clk.Advance(next.Sub(clk.Now()))
	}
	slack.mu.Lock()
	defer slack.mu.Unlock()
	if len(slack.texts) != len(events)+2 {
		t.Fatalf("%d messages sent, want %d and the two refused ones again: %q %v", len(slack.texts), len(events)+2, slack.texts, slack.times)
	}
	for i := 1; i < len(slack.times); i++ {
		if gap := slack.times[i].Sub(slack.times[i-1]); gap < time.Second {
			t.Errorf("messages %d and %d were %v apart; Slack allows one a second", i-1, i, gap)
		}
	}
	// After the 429, the destination paused for the Retry-After.
	if gap := slack.times[3].Sub(slack.times[2]); gap < 30*time.Second {
		t.Errorf("the message after a 429 with Retry-After: 30 came %v later", gap)
	}
	want := "Jana &lt;b&gt;Nováková&lt;/b&gt; asks to be in prague on Mon 6 May – Tue 7 May 2024; waiting for approval."
	if slack.texts[0] != want {
		t.Errorf("text\n%q\nwant\n%q", slack.texts[0], want)
	}
	st, err := svc.Status(ctx)
	if err != nil || len(st) != 1 || st[0].Delivered != int64(len(events)) || st[0].Pending != 0 || st[0].LastError != "" {
		t.Errorf("status %+v, %v; want %d delivered, no error left", st, err, len(events))
	}
}

// A destination that never accepts is retried, never more than ten
// minutes apart, until a day has passed; then it counts as failed.
func TestGivenUpAfterADay(t *testing.T) {
	clk := &fakeClock{now: time.Now()}
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, clk.Now())
		mu.Unlock()
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	secret := newSecret(t)
	svc, err := New(config.Notifications{Webhooks: []config.WebhookDest{{URL: srv.URL, Secret: secret}}}, openStore(t, "", sqlite.WithClock(clk.Now)),
		Options{Now: clk.Now, Sleep: clk.Sleep, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := svc.Notify(ctx, notification(moffman.NotifySyncFailing, "")); err != nil {
		t.Fatal(err)
	}
	created := clk.Now()
	d := svc.dests[0]
	for i := 0; i < 1000; i++ {
		_, next, err := svc.deliverDue(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if next.IsZero() {
			break // nothing pending any more
		}
		clk.Advance(next.Sub(clk.Now()))
	}
	if got := svc.DeliveryCounts()[0]; got.Failed != 1 || got.Delivered != 0 {
		t.Fatalf("counts %+v, want 1 failed", got)
	}
	if st, err := svc.Status(ctx); err != nil || st[0].Failed != 1 || st[0].Pending != 0 || !strings.Contains(st[0].LastError, "502 Bad Gateway: down") {
		t.Errorf("status %+v, %v; want 1 failed with the receiver's answer as the last error", st, err)
	}
	if len(times) < 5 || times[1].Sub(times[0]) > 2*time.Second {
		t.Errorf("first retries: %v; want the first within seconds", times[:min(len(times), 5)])
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap > 10*time.Minute {
			t.Errorf("attempts %d and %d were %v apart, more than 10 minutes", i-1, i, gap)
		}
	}
	if last := times[len(times)-1].Sub(created); last < 23*time.Hour || last > 24*time.Hour {
		t.Errorf("the last attempt came %v after recording; want within the day, near its end", last)
	}
}
