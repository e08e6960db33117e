package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/calendartest"
	"github.com/moffman/moffman/internal/pgtest"
)

func TestOutboxContract(t *testing.T) {
	calendartest.TestOutbox(t, func(t *testing.T, now func() time.Time) moffman.Outbox {
		return openTest(t, WithClock(now))
	})
}

func notification(k, replica int) moffman.Notification {
	return moffman.Notification{ID: fmt.Sprintf("n%02d", k), Type: moffman.NotifyReservationPending,
		Detail: fmt.Sprintf("replica %d", replica), At: t0}
}

// Replicas recording the same notifications at once, with destinations
// new to them in different orders, keep one notification and one delivery
// per destination, and none of them fails (say, in a deadlock).
func TestOutboxEnqueueFromReplicas(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	clk := calendartest.NewClock(t0)
	replicas := []*Store{openURL(t, url, WithClock(clk.Now)), openURL(t, url, WithClock(clk.Now))}
	orders := [][]string{{"webhook:a", "slack:b", "email:c", "teams:d"}, {"teams:d", "email:c", "slack:b", "webhook:a"}}
	ctx := context.Background()
	// Recorded before with one destination: the new ones are then added
	// without the notification's row to wait on.
	for k := 0; k < 20; k++ {
		if err := replicas[0].Enqueue(ctx, notification(k, 0), []string{"webhook:a"}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(replicas)*20)
	for i, s := range replicas {
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < 20; k++ {
					if err := s.Enqueue(ctx, notification(k, i), orders[(i+w)%2]); err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Enqueue: %v", err)
	}
	for _, dest := range orders[0] {
		ds, err := replicas[0].DueDeliveries(ctx, dest, t0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 20 {
			t.Errorf("%s: %d due deliveries, want 20 (one per notification)", dest, len(ds))
		}
		for _, d := range ds {
			if d.Notification.Detail != "replica 0" {
				t.Errorf("%s: %s has detail %q, want the first recording's", dest, d.Notification.ID, d.Notification.Detail)
			}
		}
	}
	stats, err := replicas[1].OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := stats["slack:b"]; got.Pending != 20 {
		t.Errorf("stats of slack:b = %+v, want 20 pending", got)
	}
}
