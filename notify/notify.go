// Package notify delivers moffman's notifications (moffman.Notification)
// to webhooks signed per Standard Webhooks v1, Slack incoming webhooks and
// e-mail over SMTP.
//
// The core records a notification through Service.Notify, which only
// writes it to the outbox (one pending delivery per destination that wants
// its type) and wakes the destinations: a destination that is down or
// slow never slows the API or the sync. Service.Run gives every
// destination its own goroutine, which sends its due deliveries in order
// and retries a failed one after 1, 2, 4 … seconds, never more than 10
// minutes apart, for up to 24 hours after it was recorded; then the
// delivery counts as failed. The outbox is the store, so undelivered
// notifications survive a restart (kill -9 included) and go out after it.
package notify

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/moffman/moffman"
)

// Delivery timing.
const (
	maxBackoff   = 10 * time.Minute
	retryFor     = 24 * time.Hour
	sendTimeout  = 30 * time.Second
	poll         = time.Second // how often a destination looks for due retries
	batch        = 64
	keepFinished = 7 * 24 * time.Hour // a retried request within this is deduplicated
	pruneEvery   = time.Hour
)

// Options are New's optional settings; the zero value is production's.
type Options struct {
	Logger     *slog.Logger
	HTTPClient *http.Client // webhooks and Slack; nil: a client that follows no redirects

	// For tests: the clock, the pause between two Slack messages, and the
	// wait before retry number attempt.
	Now     func() time.Time
	Sleep   func(ctx context.Context, d time.Duration) error
	Backoff func(attempt int) time.Duration
}

// Service records notifications and delivers them. It implements
// moffman.Notifier.
type Service struct {
	outbox  moffman.Outbox
	dests   []*destination
	log     *slog.Logger
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	backoff func(attempt int) time.Duration
}

var _ moffman.Notifier = (*Service)(nil)

// destination is one place notifications go.
type destination struct {
	name    string // stable: deliveries in the store name it
	wants   func(moffman.Notification) bool
	send    func(ctx context.Context, d moffman.Delivery) error
	minGap  time.Duration // between two sends (Slack)
	wake    chan struct{} // capacity 1
	last    time.Time     // the last send, for minGap
	resume  time.Time     // not before: the destination asked for a pause
	counted deliveryCounts
}

type deliveryCounts struct{ delivered, failed atomic.Int64 }

// retryAfter is a send error after which the destination asked for a
// pause (HTTP 429 or 503 with Retry-After).
type retryAfter struct {
	err  error
	wait time.Duration
}

func (e *retryAfter) Error() string { return e.err.Error() }
func (e *retryAfter) Unwrap() error { return e.err }

func newService(outbox moffman.Outbox, opts Options) *Service {
	s := &Service{outbox: outbox, log: opts.Logger, now: opts.Now, sleep: opts.Sleep, backoff: opts.Backoff}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.sleep == nil {
		s.sleep = sleep
	}
	if s.backoff == nil {
		s.backoff = Backoff
	}
	return s
}

func (s *Service) add(d *destination) {
	d.wake = make(chan struct{}, 1)
	s.dests = append(s.dests, d)
}

// Enabled reports whether any destination is configured.
func (s *Service) Enabled() bool { return len(s.dests) > 0 }

// Notify records n for every destination that wants it and wakes them.
// It returns once n is in the outbox, before anything is sent.
func (s *Service) Notify(ctx context.Context, n moffman.Notification) error {
	var names []string
	var woken []*destination
	for _, d := range s.dests {
		if d.wants(n) {
			names = append(names, d.name)
			woken = append(woken, d)
		}
	}
	if len(names) == 0 {
		return nil
	}
	if err := s.outbox.Enqueue(ctx, n, names); err != nil {
		return err
	}
	for _, d := range woken {
		select {
		case d.wake <- struct{}{}:
		default: // already woken
		}
	}
	return nil
}

// Run delivers until ctx is done, each destination in its own goroutine,
// and prunes finished deliveries hourly. Sends under way when ctx ends
// are given up and retried after the next start.
func (s *Service) Run(ctx context.Context) error {
	var g errgroup.Group
	for _, d := range s.dests {
		g.Go(func() error { s.runDestination(ctx, d); return nil })
	}
	if len(s.dests) > 0 {
		g.Go(func() error { s.prune(ctx); return nil })
	}
	return g.Wait()
}

func (s *Service) runDestination(ctx context.Context, d *destination) {
	for ctx.Err() == nil {
		n, next, err := s.deliverDue(ctx, d)
		if err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "notification outbox failed", "destination", d.name, "error", err)
		}
		if n == batch && err == nil {
			continue // more may be due
		}
		wait := poll
		if !next.IsZero() {
			wait = min(wait, next.Sub(s.now()))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// deliverDue makes one attempt at each due delivery of d, in order, and
// returns how many it found and the soonest retry it set.
func (s *Service) deliverDue(ctx context.Context, d *destination) (int, time.Time, error) {
	due, err := s.outbox.DueDeliveries(ctx, d.name, s.now(), batch)
	if err != nil {
		return 0, time.Time{}, err
	}
	var soonest time.Time
	for _, dl := range due {
		dl, err := s.attempt(ctx, d, dl)
		if err != nil || ctx.Err() != nil {
			return len(due), soonest, err
		}
		if dl.State == moffman.DeliveryPending && (soonest.IsZero() || dl.NextAttempt.Before(soonest)) {
			soonest = dl.NextAttempt
		}
	}
	return len(due), soonest, nil
}

// attempt sends one delivery and stores and returns the outcome; only a
// store failure is returned as an error.
func (s *Service) attempt(ctx context.Context, d *destination, dl moffman.Delivery) (moffman.Delivery, error) {
	until := d.last.Add(d.minGap)
	if d.resume.After(until) {
		until = d.resume
	}
	if until.After(s.now()) {
		if err := s.sleep(ctx, until.Sub(s.now())); err != nil {
			return dl, nil // shutting down
		}
	}
	d.last = s.now()
	sendCtx, cancel := context.WithTimeout(ctx, sendTimeout)
	err := d.send(sendCtx, dl)
	cancel()
	if err != nil && ctx.Err() != nil {
		return dl, nil // interrupted by shutdown: still due after the next start
	}
	dl.Attempts++
	if err == nil {
		dl.State, dl.LastError = moffman.DeliveryDelivered, ""
		return dl, s.save(ctx, d, dl)
	}
	wait := s.backoff(dl.Attempts)
	var ra *retryAfter
	if errors.As(err, &ra) {
		// The whole destination pauses, not only this delivery.
		d.resume = s.now().Add(min(ra.wait, maxBackoff))
		wait = max(wait, min(ra.wait, maxBackoff))
	}
	dl.LastError, dl.NextAttempt = err.Error(), s.now().Add(wait)
	log := s.log.With("destination", d.name, "notification", dl.Notification.ID, "type", dl.Notification.Type,
		"attempt", dl.Attempts, "error", err)
	if dl.NextAttempt.Sub(dl.Created) > retryFor {
		dl.State = moffman.DeliveryFailed
		log.ErrorContext(ctx, "notification not delivered for a day; given up")
	} else {
		log.WarnContext(ctx, "notification not delivered; will retry", "retry_at", dl.NextAttempt)
	}
	return dl, s.save(ctx, d, dl)
}

// save stores a delivery's outcome and counts it once stored. It runs to
// its end even when shutdown begins, so that a sent notification is
// recorded as such.
func (s *Service) save(ctx context.Context, d *destination, dl moffman.Delivery) error {
	if err := s.outbox.SaveDelivery(context.WithoutCancel(ctx), dl); err != nil {
		return err
	}
	switch dl.State {
	case moffman.DeliveryDelivered:
		d.counted.delivered.Add(1)
	case moffman.DeliveryFailed:
		d.counted.failed.Add(1)
	}
	return nil
}

func (s *Service) prune(ctx context.Context) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		if _, err := s.outbox.PruneOutbox(ctx, s.now().Add(-keepFinished)); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "pruning delivered notifications failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Backoff is the wait before retry number attempt (1 for the first):
// exponential from one second up to 10 minutes, with jitter so that a
// destination coming back is not hit by every retry at once.
func Backoff(attempt int) time.Duration {
	d := time.Second << min(max(attempt-1, 0), 16)
	if d > maxBackoff {
		d = maxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// DestinationStatus is one destination's deliveries, for /api/v1/sync.
type DestinationStatus struct {
	Destination string `json:"destination"`
	Delivered   int64  `json:"delivered"` // since start
	Failed      int64  `json:"failed"`    // since start: given up after a day
	Pending     int    `json:"pending"`   // in the outbox now
	LastError   string `json:"last_error,omitempty"`
}

// Status reports every destination's counts since start and what waits
// in the outbox.
func (s *Service) Status(ctx context.Context) ([]DestinationStatus, error) {
	stats, err := s.outbox.OutboxStats(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DestinationStatus, 0, len(s.dests))
	for _, d := range s.dests {
		st := stats[d.name]
		out = append(out, DestinationStatus{Destination: d.name, Delivered: d.counted.delivered.Load(),
			Failed: d.counted.failed.Load(), Pending: st.Pending, LastError: st.LastError})
	}
	return out, nil
}

// DeliveryCounts reports every destination's delivered and failed counts
// since start, for /metrics.
func (s *Service) DeliveryCounts() []moffman.DeliveryCount {
	out := make([]moffman.DeliveryCount, 0, len(s.dests))
	for _, d := range s.dests {
		out = append(out, moffman.DeliveryCount{Destination: d.name,
			Delivered: d.counted.delivered.Load(), Failed: d.counted.failed.Load()})
	}
	return out
}
