package moffman_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// notifications records what the core notifies; fail makes it refuse.
type notifications struct {
	mu   sync.Mutex
	got  []moffman.Notification
	fail bool
}

func (r *notifications) Notify(_ context.Context, n moffman.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("outbox is full")
	}
	r.got = append(r.got, n)
	return nil
}

func (r *notifications) list() []moffman.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]moffman.Notification(nil), r.got...)
}

func (r *notifications) ofType(t moffman.NotificationType) []moffman.Notification {
	var out []moffman.Notification
	for _, n := range r.list() {
		if n.Type == t {
			out = append(out, n)
		}
	}
	return out
}

func TestReservationNotifications(t *testing.T) {
	t.Parallel()
	res, _ := newReservations(t)
	rec := &notifications{}
	res.Notifier = rec
	ctx := context.Background()
	req := moffman.ReservationRequest{OfficeID: "prague", UserName: "Eva Malá", UserEmail: "eva@acme.com",
		Start: "2026-12-01", End: "2026-12-03", RequestDT: "2026-11-20T10:00:00"}
	r, err := res.Reserve(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Reserve(ctx, req); err != nil { // a repeat
		t.Fatal(err)
	}
	pending := rec.ofType(moffman.NotifyReservationPending)
	if len(pending) != 2 || pending[0].ID != pending[1].ID {
		t.Fatalf("pending twice: %+v; want the same notification id both times", pending)
	}
	p := pending[0]
	if p.Office != "prague" || p.CalendarID != pragueCal || p.EventID != r.ID || p.PersonName != "Eva Malá" ||
		p.PersonEmail != "eva@acme.com" || p.Start != "2026-12-01" || p.End != "2026-12-03" || p.Status != "pending" {
		t.Errorf("pending notification %+v", p)
	}
	req.Approved = true
	if _, err := res.Reserve(ctx, req); err != nil {
		t.Fatal(err)
	}
	req.Approved = false // a late repeat of the pending request: still approved, no pending again
	if _, err := res.Reserve(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := res.Cancel(ctx, "prague", r.ID); err != nil {
		t.Fatal(err)
	}
	approved := rec.ofType(moffman.NotifyReservationApproved)
	cancelled := rec.ofType(moffman.NotifyReservationCancelled)
	if len(rec.ofType(moffman.NotifyReservationPending)) != 2 || len(cancelled) != 1 || len(approved) != 2 || approved[0].ID != approved[1].ID {
		t.Fatalf("notifications %+v; want pending twice, approved twice under one id, cancelled once", rec.list())
	}
	if a := approved[0]; a.PersonName != "Eva Malá" || a.Status != "approved" || a.ID == p.ID {
		t.Errorf("approved notification %+v", a)
	}
	if c := cancelled[0]; c.PersonEmail != "eva@acme.com" || c.Start != "2026-12-01" || c.Status != "cancelled" || c.EventID != r.ID {
		t.Errorf("cancelled notification %+v", c)
	}
}

// A change whose notification cannot be recorded answers Unavailable;
// repeating the request records it under the same id.
func TestReservationNotificationFailureAsksForARepeat(t *testing.T) {
	t.Parallel()
	res, store := newReservations(t)
	rec := &notifications{fail: true}
	res.Notifier = rec
	ctx := context.Background()
	req := moffman.ReservationRequest{OfficeID: "prague", UserName: "Eva Malá", Start: "2026-12-01", End: "2026-12-02"}
	_, err := res.Reserve(ctx, req)
	if !moffman.IsCode(err, moffman.Unavailable) {
		t.Fatalf("Reserve with a failing outbox = %v, want Unavailable", err)
	}
	id := moffman.EventID(req.UserName, req.RequestDT, req.Start, req.End)
	if ev, err := store.Get(ctx, pragueCal, id); err != nil || ev.State() != moffman.StatePending {
		t.Fatalf("the event should be stored: %+v, %v", ev, err)
	}
	rec.fail = false
	if _, err := res.Reserve(ctx, req); err != nil {
		t.Fatal(err)
	}
	if got := rec.list(); len(got) != 1 || got[0].ID != moffman.NotificationID(moffman.NotifyReservationPending, pragueCal, id) {
		t.Errorf("after the repeat: %+v", got)
	}
}

func TestManualApprovedNotification(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	ev := e.manual(cal, jan, monday, "2026-12-02")
	m := e.sync()
	rec := &notifications{}
	m.Notifier = rec
	m.RunOnce(context.Background())
	m.RunOnce(context.Background())
	got := rec.list()
	if len(got) != 1 {
		t.Fatalf("notifications %+v, want one manual.approved", got)
	}
	n := got[0]
	if n.Type != moffman.NotifyManualApproved || n.EventID != ev.ID || n.Office != "prague" || n.PersonName != "Jan Novák" ||
		n.PersonEmail != jan || n.Start != monday || n.End != "2026-12-02" || n.Status != "approved" {
		t.Errorf("manual.approved = %+v", n)
	}
}

// A failing outbox fails the step; the retry, finding the event approved
// already, records manual.approved under the same id.
func TestManualApprovedRecordedOnRetry(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	clock := e.withClock()
	ev := e.manual(cal, jan, monday, "2026-12-02")
	m := e.sync()
	rec := &notifications{fail: true}
	m.Notifier = rec
	m.RunOnce(context.Background())
	e.wantApproved(cal, ev.ID)
	rec.mu.Lock()
	rec.fail = false
	rec.mu.Unlock()
	clock.add(time.Hour)
	if n, err := m.ProcessDueJobs(context.Background()); n != 1 || err != nil {
		t.Fatalf("retry finished %d, %v", n, err)
	}
	if got := rec.list(); len(got) != 1 || got[0].ID != moffman.NotificationID(moffman.NotifyManualApproved, cal, ev.ID) {
		t.Errorf("after the retry: %+v", got)
	}
}

func TestFormStuckOnce(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	clock := e.withClock()
	ev := e.manual(cal, jan, monday, "2026-12-02")
	e.forms.setDown(true)
	m := e.sync()
	rec := &notifications{}
	m.Notifier = rec
	m.RunOnce(context.Background()) // attempt 1
	for attempt := 2; attempt <= 9; attempt++ {
		clock.add(time.Hour)
		m.ProcessDueJobs(context.Background())
		want := 0
		if attempt > moffman.StuckAttempts {
			want = 1
		}
		if got := rec.ofType(moffman.NotifyFormStuck); len(got) != want {
			t.Fatalf("after %d failed attempts: %d form.stuck, want %d", attempt, len(got), want)
		}
	}
	n := rec.ofType(moffman.NotifyFormStuck)[0]
	if n.EventID != ev.ID || n.PersonName != "Jan Novák" || n.Status != string(moffman.StepDetected) || n.Detail == "" {
		t.Errorf("form.stuck = %+v", n)
	}
}

// failingList fails every listing, as a calendar that is down does.
type failingList struct {
	moffman.Calendar
	mu   sync.Mutex
	down bool
}

func (f *failingList) List(ctx context.Context, calendarID string, q moffman.ListQuery) (moffman.EventPage, error) {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return moffman.EventPage{}, moffman.Errorf(moffman.Unavailable, "calendar is down")
	}
	return f.Calendar.List(ctx, calendarID, q)
}

func TestSyncFailingOncePerStreak(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	clock := e.withClock()
	m := e.sync()
	cal := &failingList{Calendar: e.cal, down: true}
	m.Calendar = cal
	rec := &notifications{}
	m.Notifier = rec
	runs := func(n int) {
		for range n {
			m.RunOnce(context.Background())
			clock.add(time.Hour)
		}
	}
	firstFailure := clock.now()
	runs(moffman.FailingSyncs)
	if got := rec.list(); len(got) != 0 {
		t.Fatalf("after %d failed syncs: %+v", moffman.FailingSyncs, got)
	}
	runs(3)
	// The streak is dated by its first failure, however long it lasts.
	if status, _ := m.Status(context.Background()); !status[0].FailingSince.Equal(firstFailure) ||
		status[0].FailedRuns != moffman.FailingSyncs+3 {
		t.Errorf("status after %d failed syncs = %+v, want failing since %v", moffman.FailingSyncs+3, status[0], firstFailure)
	}
	got := rec.ofType(moffman.NotifySyncFailing)
	if len(got) != 1 || got[0].Office != "prague" || got[0].Detail == "" {
		t.Fatalf("after %d failed syncs: %+v, want one sync.failing", moffman.FailingSyncs+3, got)
	}
	cal.mu.Lock()
	cal.down = false
	cal.mu.Unlock()
	runs(1)
	if status, _ := m.Status(context.Background()); !status[0].FailingSince.IsZero() || status[0].FailedRuns != 0 {
		t.Errorf("status after a good sync = %+v, want no streak", status[0])
	}
	cal.mu.Lock()
	cal.down = true
	cal.mu.Unlock()
	secondStreak := clock.now()
	runs(moffman.FailingSyncs + 1)
	if status, _ := m.Status(context.Background()); !status[0].FailingSince.Equal(secondStreak) {
		t.Errorf("status in the second streak = %+v, want failing since %v", status[0], secondStreak)
	}
	again := rec.ofType(moffman.NotifySyncFailing)
	if len(again) != 2 || again[1].ID == again[0].ID {
		t.Errorf("a second streak: %+v, want a second sync.failing with its own id", again)
	}
}

// TestFormStuckWhenWaitingForAnOperator: a job that stops retrying by
// itself (form requests without an answer) is announced at once, and
// again after an operator's retry that meets the same silence.
func TestFormStuckWhenWaitingForAnOperator(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	clock := e.withClock()
	forms := newSilentForms(t)
	issuer := forms.issuer(t)
	ev := e.manual(cal, jan, monday, "2026-12-01")
	m := e.sync()
	m.Forms = issuer
	rec := &notifications{}
	m.Notifier = rec
	ctx := context.Background()
	m.RunOnce(ctx)
	for sent := 1; sent < 3; sent++ {
		if got := rec.ofType(moffman.NotifyFormStuck); len(got) != 0 {
			t.Fatalf("form.stuck after %d unanswered requests, while the job still retries: %+v", sent, got)
		}
		clock.add(10 * time.Minute)
		m.ProcessDueJobs(ctx)
	}
	got := rec.ofType(moffman.NotifyFormStuck)
	if len(got) != 1 || got[0].EventID != ev.ID || got[0].Status != string(moffman.StepNeedsOperator) || !strings.Contains(got[0].Detail, "operator") {
		t.Fatalf("form.stuck = %+v, want one for the job waiting for an operator", got)
	}
	if _, err := m.RetryJob(ctx, cal, ev.ID); err != nil {
		t.Fatal(err)
	}
	m.ProcessDueJobs(ctx)
	if got := rec.ofType(moffman.NotifyFormStuck); len(got) != 2 || got[1].ID == got[0].ID {
		t.Errorf("after a retry met silence again: %+v, want a second form.stuck with its own id", got)
	}
}
