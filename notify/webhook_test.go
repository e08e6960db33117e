package notify

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/config"
	"github.com/moffman/moffman/sqlite"
)

func newSecret(t *testing.T) string {
	var b [32]byte
	rand.Read(b[:])
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}

// received is one request a receiver accepted or refused.
type received struct {
	id, timestamp string
	payload       Payload
	verifyErr     error
}

// receiver is a webhook endpoint that verifies every request with the
// Standard Webhooks reference library and answers with status(n) for the
// n-th request (0-based).
type receiver struct {
	t      *testing.T
	wh     *standardwebhooks.Webhook
	status func(n int) int

	mu       sync.Mutex
	requests []received
	accepted chan received
}

func newReceiver(t *testing.T, secret string, status func(n int) int) (*receiver, string) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, wh: wh, status: status, accepted: make(chan received, 100)}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv.URL + "/hook"
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	got := received{id: req.Header.Get("webhook-id"), timestamp: req.Header.Get("webhook-timestamp"),
		verifyErr: r.wh.Verify(body, req.Header)}
	if err := json.Unmarshal(body, &got.payload); err != nil {
		got.verifyErr = err
	}
	r.mu.Lock()
	n := len(r.requests)
	r.requests = append(r.requests, got)
	r.mu.Unlock()
	code := r.status(n)
	if got.verifyErr != nil {
		code = http.StatusUnauthorized
	}
	w.WriteHeader(code)
	if code/100 == 2 {
		r.accepted <- got
	}
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests)
}

// wait returns the next n accepted requests, failing the test if they do
// not come within a generous minute (a hang, not a timing assertion).
func (r *receiver) wait(n int) []received {
	r.t.Helper()
	var out []received
	deadline := time.After(time.Minute)
	for len(out) < n {
		select {
		case got := <-r.accepted:
			out = append(out, got)
		case <-deadline:
			r.t.Fatalf("%d of %d webhooks accepted; requests: %+v", len(out), n, r.all())
		}
	}
	return out
}

func openStore(t *testing.T, path string, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// run runs svc until the test ends.
func run(t *testing.T, svc *Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// quick retries, so a test does not wait seconds.
func quick(int) time.Duration { return time.Millisecond }

func notification(t moffman.NotificationType, event string) moffman.Notification {
	return moffman.Notification{
		ID: moffman.NotificationID(t, "c@group", event), Type: t, Office: "prague", CalendarID: "c@group",
		EventID: event, PersonName: "Jana <b>Nováková</b>", PersonEmail: "jana@example.com",
		Start: "2024-05-06", End: "2024-05-08", Status: "pending", Detail: "byroapi: 502", At: time.Now().UTC().Truncate(time.Millisecond),
	}
}

func TestWebhookEveryTypeSigned(t *testing.T) {
	secret := newSecret(t)
	rcv, url := newReceiver(t, secret, func(int) int { return http.StatusNoContent })
	svc, err := New(config.Notifications{Webhooks: []config.WebhookDest{{URL: url, Secret: secret}}}, openStore(t, ""), Options{})
	if err != nil {
		t.Fatal(err)
	}
	run(t, svc)
	sent := map[string]moffman.Notification{}
	for i, typ := range moffman.NotificationTypes {
		n := notification(typ, "evt0"+string(rune('a'+i)))
		sent[n.ID] = n
		if err := svc.Notify(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	for _, got := range rcv.wait(len(moffman.NotificationTypes)) {
		n, ok := sent[got.id]
		if !ok {
			t.Fatalf("webhook-id %q is no notification's id", got.id)
		}
		delete(sent, got.id)
		want := Payload{Type: n.Type, Timestamp: n.At, Data: PayloadData{ID: n.ID, Office: "prague", CalendarID: "c@group",
			EventID: n.EventID, Person: PayloadPerson{Name: n.PersonName, Email: n.PersonEmail},
			Start: n.Start, End: n.End, Status: n.Status, Detail: n.Detail}}
		if !got.payload.Timestamp.Equal(want.Timestamp) {
			t.Errorf("%s: timestamp %v, want %v", n.Type, got.payload.Timestamp, want.Timestamp)
		}
		got.payload.Timestamp = want.Timestamp
		if got.payload != want {
			t.Errorf("%s: payload\n%+v\nwant\n%+v", n.Type, got.payload, want)
		}
	}
	for _, r := range rcv.all() {
		if r.verifyErr != nil {
			t.Errorf("request %s failed verification: %v", r.id, r.verifyErr)
		}
	}
	waitStatus(t, svc, func(s DestinationStatus) bool { return s.Delivered == 7 })
	if got := svc.DeliveryCounts(); len(got) != 1 || got[0].Delivered != 7 || got[0].Failed != 0 {
		t.Errorf("DeliveryCounts = %+v, want 7 delivered to the one webhook", got)
	}
}

func TestWebhookRetriedWithTheSameID(t *testing.T) {
	secret := newSecret(t)
	rcv, url := newReceiver(t, secret, func(n int) int {
		if n < 5 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	store := openStore(t, "")
	svc, err := New(config.Notifications{Webhooks: []config.WebhookDest{{URL: url, Secret: secret,
		Events: []string{"reservation.approved"}}}}, store, Options{Backoff: quick})
	if err != nil {
		t.Fatal(err)
	}
	run(t, svc)
	n := notification(moffman.NotifyReservationApproved, "evt01")
	// A type the webhook does not want is not recorded for it.
	for _, n := range []moffman.Notification{notification(moffman.NotifyReservationPending, "evt01"), n} {
		if err := svc.Notify(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	rcv.wait(1)
	reqs := rcv.all()
	if len(reqs) != 6 {
		t.Fatalf("%d requests, want 5 refused and 1 accepted", len(reqs))
	}
	for i, r := range reqs {
		if r.id != n.ID || r.verifyErr != nil || r.payload.Type != n.Type {
			t.Errorf("request %d: id %q (want %q), type %s, verification %v", i, r.id, n.ID, r.payload.Type, r.verifyErr)
		}
	}
	status := waitStatus(t, svc, func(s DestinationStatus) bool { return s.Delivered == 1 })
	if status.Failed != 0 || status.Pending != 0 {
		t.Errorf("status after the retries: %+v, want 1 delivered, nothing pending", status)
	}
	// Nothing more arrives: one delivery.
	if due, _ := store.DueDeliveries(context.Background(), status.Destination, time.Now().Add(time.Hour), 0); len(due) != 0 {
		t.Errorf("still due: %+v", due)
	}
}

// waitStatus polls Status until ok holds for the only destination.
func waitStatus(t *testing.T, svc *Service, ok func(DestinationStatus) bool) DestinationStatus {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := svc.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(st) == 1 && ok(st[0]) {
			return st[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never got there: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Notifications recorded while the receiver is down survive the store
// being closed and are delivered once after it is opened again.
func TestUndeliveredSurviveReopening(t *testing.T) {
	secret := newSecret(t)
	path := filepath.Join(t.TempDir(), "moffman.db")
	var down sync.Mutex
	up := false
	rcv, url := newReceiver(t, secret, func(int) int {
		down.Lock()
		defer down.Unlock()
		if up {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	cfg := config.Notifications{Webhooks: []config.WebhookDest{{URL: url, Secret: secret}}}

	store, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(cfg, store, Options{Backoff: quick})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	var ids []string
	for _, ev := range []string{"evt01", "evt02", "evt03"} {
		n := notification(moffman.NotifyReservationPending, ev)
		ids = append(ids, n.ID)
		if err := svc.Notify(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	for len(rcv.all()) < 3 { // refused at least once
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	store.Close()

	down.Lock()
	up = true
	down.Unlock()
	svc, err = New(cfg, openStore(t, path), Options{Backoff: quick})
	if err != nil {
		t.Fatal(err)
	}
	run(t, svc)
	var got []string
	for _, r := range rcv.wait(3) {
		got = append(got, r.id)
	}
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Errorf("delivered after reopening: %v, want %v", got, ids)
	}
}
