package moffman_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// shortClaims makes every claim last d, so a test can outlast one.
type shortClaims struct {
	moffman.StateStore
	d time.Duration
}

func (s shortClaims) ClaimJobs(ctx context.Context, now time.Time, limit int, holder string, _ time.Duration) ([]moffman.Job, error) {
	return s.StateStore.ClaimJobs(ctx, now, limit, holder, s.d)
}

// stalledPatch is a replica that stalls in the approval until released,
// then reports what became of its step's context.
type stalledPatch struct {
	moffman.Calendar
	started chan struct{}
	release chan struct{}
	once    sync.Once
	stepErr error
}

func (s *stalledPatch) Patch(ctx context.Context, calendarID, id string, p moffman.EventPatch) (moffman.Event, error) {
	s.once.Do(func() { close(s.started) })
	<-s.release
	s.stepErr = ctx.Err()
	return s.Calendar.Patch(ctx, calendarID, id, p)
}

// Two replicas that both believe they lead: the first stalls past its
// claim in the approval, the second takes the job over and finishes it.
// The first's step was cut off at its claim's end, its late result is
// refused and it stops without reporting a store failure; one form went out.
func TestStalledReplicaLosesItsJob(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	ev := e.manual(cal, jan, monday, "2026-12-01")
	store := shortClaims{StateStore: e.store, d: 300 * time.Millisecond}
	stalled := &stalledPatch{Calendar: e.cal, started: make(chan struct{}), release: make(chan struct{})}
	a := e.sync()
	a.Holder, a.Store, a.Calendar = "replica-a", store, stalled
	ctx := context.Background()
	if err := a.SyncOffice(ctx, moffman.Office{Name: "prague", CalendarID: cal}); err != nil {
		t.Fatal(err)
	}
	type result struct {
		n   int
		err error
	}
	aDone := make(chan result, 1)
	go func() { n, err := a.ProcessDueJobs(ctx); aDone <- result{n, err} }()
	<-stalled.started

	b := e.sync()
	b.Holder, b.Store = "replica-b", store
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		n, err := b.ProcessDueJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second replica never took the stalled job over")
		}
	}
	close(stalled.release)
	if r := <-aDone; r.err != nil || r.n != 0 {
		t.Errorf("stalled replica's run = %d finished, %v; want 0 and no error", r.n, r.err)
	}
	if !errors.Is(stalled.stepErr, context.DeadlineExceeded) {
		t.Errorf("the stalled step's context = %v, want ended at its claim", stalled.stepErr)
	}
	e.wantApproved(cal, ev.ID)
	if n := e.forms.total(); n != 1 {
		t.Errorf("%d forms, want 1", n)
	}
	if _, pending := e.pendingJob(ev.ID); pending {
		t.Error("the job is still pending")
	}
}

// Replicas working the same store at once share the jobs out: every event
// gets exactly one form.
func TestConcurrentReplicasSendOneFormEach(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	var ids []string
	for _, d := range [][2]string{{"2026-11-30", "2026-12-01"}, {"2026-12-01", "2026-12-02"}, {"2026-12-02", "2026-12-03"},
		{"2026-12-03", "2026-12-04"}, {"2026-12-04", "2026-12-05"}} {
		ids = append(ids, e.manual(cal, jan, d[0], d[1]).ID)
	}
	ctx := context.Background()
	if err := e.sync().SyncOffice(ctx, moffman.Office{Name: "prague", CalendarID: cal}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for _, holder := range []string{"a", "b", "c"} {
		m := e.sync()
		m.Holder, m.Concurrency = holder, 2
		wg.Go(func() {
			n, err := m.ProcessDueJobs(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != len(ids) {
		t.Errorf("%d jobs finished across the replicas, want %d", total, len(ids))
	}
	if n := e.forms.total(); n != len(ids) {
		t.Errorf("%d forms for %d events", n, len(ids))
	}
	for _, id := range ids {
		e.wantApproved(cal, id)
	}
}
