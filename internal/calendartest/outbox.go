package calendartest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// NewOutbox opens a fresh, empty outbox whose clock (the time it records
// writes at) is now.
type NewOutbox func(t *testing.T, now func() time.Time) moffman.Outbox

// TestOutbox runs the Outbox contract against fresh outboxes from
// newOutbox, one per subtest.
func TestOutbox(t *testing.T, newOutbox NewOutbox) {
	for _, c := range []struct {
		name string
		test func(*testing.T, moffman.Outbox, *Clock)
	}{
		{"EnqueueAndDue", testEnqueueAndDue},
		{"EnqueueTwiceKeepsOne", testEnqueueTwice},
		{"DueOrderLimitAndTime", testDueOrderLimitAndTime},
		{"FinalDeliveriesAndStats", testFinalDeliveries},
		{"SaveUnknownDelivery", testSaveUnknownDelivery},
		{"Prune", testPruneOutbox},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			clk := NewClock(time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC))
			c.test(t, newOutbox(t, clk.Now), clk)
		})
	}
}

// sampleNotification has every field set.
func sampleNotification(id string, at time.Time) moffman.Notification {
	return moffman.Notification{
		ID: id, Type: moffman.NotifyReservationPending, Office: "prague", CalendarID: "c@group",
		EventID: "evt" + id, PersonName: "Jana Nováková", PersonEmail: "jana@example.com",
		Start: "2024-05-06", End: "2024-05-08", Status: "pending", Detail: "none", At: at,
	}
}

func mustEnqueue(t *testing.T, o moffman.Outbox, n moffman.Notification, dests ...string) {
	t.Helper()
	if err := o.Enqueue(context.Background(), n, dests); err != nil {
		t.Fatalf("Enqueue(%s): %v", n.ID, err)
	}
}

func mustDue(t *testing.T, o moffman.Outbox, dest string, now time.Time, limit int) []moffman.Delivery {
	t.Helper()
	ds, err := o.DueDeliveries(context.Background(), dest, now, limit)
	if err != nil {
		t.Fatalf("DueDeliveries(%s): %v", dest, err)
	}
	return ds
}

func deliveryIDs(ds []moffman.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Notification.ID)
	}
	return out
}

func testEnqueueAndDue(t *testing.T, o moffman.Outbox, clk *Clock) {
	n := sampleNotification("n1", clk.Now().Add(-time.Second))
	mustEnqueue(t, o, n, "webhook:a", "slack:b")
	for _, dest := range []string{"webhook:a", "slack:b"} {
		ds := mustDue(t, o, dest, clk.Now(), 0)
		if len(ds) != 1 {
			t.Fatalf("%s: %d due deliveries, want 1", dest, len(ds))
		}
		d := ds[0]
		if !reflect.DeepEqual(d.Notification, n) {
			t.Errorf("%s: notification read back as\n%+v\nwant\n%+v", dest, d.Notification, n)
		}
		if d.Destination != dest || d.State != moffman.DeliveryPending || d.Attempts != 0 || d.LastError != "" {
			t.Errorf("%s: new delivery = %+v", dest, d)
		}
		if !d.Created.Equal(clk.Now()) || d.NextAttempt.After(clk.Now()) {
			t.Errorf("%s: created %v, next attempt %v; want created now (%v) and due", dest, d.Created, d.NextAttempt, clk.Now())
		}
	}
	if ds := mustDue(t, o, "email:approvers", clk.Now(), 0); len(ds) != 0 {
		t.Errorf("a destination not enqueued to has %d due deliveries", len(ds))
	}
}

func testEnqueueTwice(t *testing.T, o moffman.Outbox, clk *Clock) {
	n := sampleNotification("n1", clk.Now())
	mustEnqueue(t, o, n, "webhook:a")
	clk.Advance(time.Minute)
	again := n
	again.Detail, again.At = "recorded again by a retry", clk.Now()
	mustEnqueue(t, o, again, "webhook:a", "slack:b")
	ds := mustDue(t, o, "webhook:a", clk.Now(), 0)
	if len(ds) != 1 || !reflect.DeepEqual(ds[0].Notification, n) {
		t.Fatalf("after enqueueing twice: %+v, want one delivery of the first recording", ds)
	}
	if ds := mustDue(t, o, "slack:b", clk.Now(), 0); len(ds) != 1 || ds[0].Notification.Detail != n.Detail {
		t.Errorf("a destination added by the second recording: %+v, want one delivery of the first recording", ds)
	}
	// Enqueued again after it was delivered: not delivered again.
	ds[0].State = moffman.DeliveryDelivered
	if err := o.SaveDelivery(context.Background(), ds[0]); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, o, again, "webhook:a")
	if ds := mustDue(t, o, "webhook:a", clk.Now(), 0); len(ds) != 0 {
		t.Errorf("a delivered notification enqueued again is due again: %+v", ds)
	}
}

func testDueOrderLimitAndTime(t *testing.T, o moffman.Outbox, clk *Clock) {
	ctx := context.Background()
	for _, id := range []string{"n1", "n2", "n3"} {
		mustEnqueue(t, o, sampleNotification(id, clk.Now()), "webhook:a")
		clk.Advance(time.Second)
	}
	if got := deliveryIDs(mustDue(t, o, "webhook:a", clk.Now(), 2)); !reflect.DeepEqual(got, []string{"n1", "n2"}) {
		t.Errorf("due with limit 2 = %v, want [n1 n2] (oldest first)", got)
	}
	// n1 fails once and waits a minute.
	d := mustDue(t, o, "webhook:a", clk.Now(), 1)[0]
	d.Attempts, d.LastError, d.NextAttempt = 1, "502 Bad Gateway", clk.Now().Add(time.Minute)
	if err := o.SaveDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got := deliveryIDs(mustDue(t, o, "webhook:a", clk.Now(), 0)); !reflect.DeepEqual(got, []string{"n2", "n3"}) {
		t.Errorf("due while n1 waits = %v, want [n2 n3]", got)
	}
	clk.Advance(time.Minute)
	got := mustDue(t, o, "webhook:a", clk.Now(), 0)
	if !reflect.DeepEqual(deliveryIDs(got), []string{"n1", "n2", "n3"}) {
		t.Fatalf("due after the wait = %v, want [n1 n2 n3]", deliveryIDs(got))
	}
	if got[0].Attempts != 1 || got[0].LastError != "502 Bad Gateway" || !got[0].NextAttempt.Equal(d.NextAttempt) {
		t.Errorf("retried delivery read back as %+v", got[0])
	}
}

func testFinalDeliveries(t *testing.T, o moffman.Outbox, clk *Clock) {
	ctx := context.Background()
	for _, id := range []string{"n1", "n2", "n3"} {
		mustEnqueue(t, o, sampleNotification(id, clk.Now()), "webhook:a")
	}
	mustEnqueue(t, o, sampleNotification("n4", clk.Now()), "slack:b")
	ds := mustDue(t, o, "webhook:a", clk.Now(), 0)
	ds[0].State, ds[0].Attempts = moffman.DeliveryDelivered, 1
	ds[1].State, ds[1].Attempts, ds[1].LastError = moffman.DeliveryFailed, 30, "connection refused"
	for _, d := range ds[:2] {
		if err := o.SaveDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if got := deliveryIDs(mustDue(t, o, "webhook:a", clk.Now().Add(time.Hour), 0)); !reflect.DeepEqual(got, []string{ds[2].Notification.ID}) {
		t.Errorf("due after one delivered and one failed = %v, want only %s", got, ds[2].Notification.ID)
	}
	stats, err := o.OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]moffman.OutboxStats{
		"webhook:a": {Pending: 1, Delivered: 1, Failed: 1, LastError: "connection refused"},
		"slack:b":   {Pending: 1},
	}
	if !reflect.DeepEqual(stats, want) {
		t.Errorf("OutboxStats = %+v, want %+v", stats, want)
	}
}

func testSaveUnknownDelivery(t *testing.T, o moffman.Outbox, clk *Clock) {
	mustEnqueue(t, o, sampleNotification("n1", clk.Now()), "webhook:a")
	for _, d := range []moffman.Delivery{
		{Notification: moffman.Notification{ID: "nope"}, Destination: "webhook:a", State: moffman.DeliveryDelivered},
		{Notification: moffman.Notification{ID: "n1"}, Destination: "slack:b", State: moffman.DeliveryDelivered},
	} {
		if err := o.SaveDelivery(context.Background(), d); !moffman.IsCode(err, moffman.NotFound) {
			t.Errorf("SaveDelivery(%s to %s) = %v, want NotFound", d.Notification.ID, d.Destination, err)
		}
	}
	if ds := mustDue(t, o, "webhook:a", clk.Now(), 0); len(ds) != 1 {
		t.Errorf("the real delivery was touched: %+v", ds)
	}
}

func testPruneOutbox(t *testing.T, o moffman.Outbox, clk *Clock) {
	ctx := context.Background()
	for _, id := range []string{"old", "pending"} {
		mustEnqueue(t, o, sampleNotification(id, clk.Now()), "webhook:a")
	}
	d := mustDue(t, o, "webhook:a", clk.Now(), 1)[0]
	d.State = moffman.DeliveryDelivered
	if err := o.SaveDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	clk.Advance(48 * time.Hour)
	mustEnqueue(t, o, sampleNotification("recent", clk.Now()), "webhook:a")
	r := mustDue(t, o, "webhook:a", clk.Now(), 0)[1]
	r.State = moffman.DeliveryDelivered
	if err := o.SaveDelivery(ctx, r); err != nil {
		t.Fatal(err)
	}
	n, err := o.PruneOutbox(ctx, clk.Now().Add(-24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PruneOutbox = %d, %v; want 1 (the old delivered one)", n, err)
	}
	stats, _ := o.OutboxStats(ctx)
	if got := stats["webhook:a"]; got.Pending != 1 || got.Delivered != 1 {
		t.Errorf("after pruning: %+v, want the pending one and the recent delivered one", got)
	}
	// The pruned notification is forgotten: recorded again, it is new,
	// with the fields it has now.
	again := sampleNotification("old", clk.Now())
	again.Detail = "recorded again"
	mustEnqueue(t, o, again, "webhook:a")
	due := mustDue(t, o, "webhook:a", clk.Now(), 0)
	if got := deliveryIDs(due); !reflect.DeepEqual(got, []string{"pending", "old"}) {
		t.Errorf("due after recording the pruned one again = %v, want [pending old]", got)
	} else if n := due[1].Notification; n.Detail != "recorded again" || !n.At.Equal(again.At) {
		t.Errorf("the pruned notification recorded again is %+v, want its new fields", n)
	}
}
