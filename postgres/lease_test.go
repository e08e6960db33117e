package postgres

import (
	"context"
	"sync"
	"testing"
	"time"
)

// acquireWithin retries TryAcquire until it succeeds or 10 s pass.
func acquireWithin(t *testing.T, l *Lease) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		token, ok, err := l.TryAcquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return token
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the lease was never acquired")
	return 0
}

func TestLeaseTakeoverAfterExpiry(t *testing.T) {
	t.Parallel()
	rs := replicas(t, 2)
	ctx := context.Background()
	a := rs[0].Lease("leader", "a", 300*time.Millisecond)
	b := rs[1].Lease("leader", "b", 300*time.Millisecond)

	ta, ok, err := a.TryAcquire(ctx)
	if err != nil || !ok {
		t.Fatalf("a's first acquire = %v, %v", ok, err)
	}
	if _, ok, _ := b.TryAcquire(ctx); ok {
		t.Fatal("b acquired a lease a holds")
	}
	if ok, err := a.Renew(ctx); !ok || err != nil {
		t.Fatalf("a's renew = %v, %v", ok, err)
	}
	if again, ok, _ := a.TryAcquire(ctx); !ok || again != ta {
		t.Errorf("a re-acquiring its own lease: token %d (%v), want %d unchanged", again, ok, ta)
	}

	// a stops renewing (paused or dead): b takes over once it lapses.
	tb := acquireWithin(t, b)
	if tb <= ta {
		t.Errorf("takeover token %d not above %d", tb, ta)
	}
	if ok, err := a.Renew(ctx); ok || err != nil {
		t.Errorf("a renewed a lease b has taken over: %v, %v", ok, err)
	}
	if _, held := a.Held(); held {
		t.Error("a still believes it holds the lease")
	}
	if token, held := b.Held(); !held || token != tb {
		t.Errorf("b.Held = %d, %v", token, held)
	}

	// Released, it is free at once, with a new token.
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	long := rs[0].Lease("leader", "a", time.Minute)
	tc, ok, err := long.TryAcquire(ctx)
	if err != nil || !ok || tc <= tb {
		t.Errorf("acquire after release = %d, %v, %v; want a token above %d", tc, ok, err, tb)
	}
	// Another lease name is independent.
	if _, ok, err := rs[1].Lease("other", "b", time.Minute).TryAcquire(ctx); !ok || err != nil {
		t.Errorf("acquire of another lease = %v, %v", ok, err)
	}
}

// leaders records which replica runs its leader work and checks that two
// never do at once.
type leaders struct {
	mu      sync.Mutex
	active  string
	overlap []string
	runs    []string
	started chan string
}

func (l *leaders) work(name string) func(ctx context.Context, token int64) {
	return func(ctx context.Context, token int64) {
		l.mu.Lock()
		if l.active != "" {
			l.overlap = append(l.overlap, l.active+"+"+name)
		}
		l.active = name
		l.runs = append(l.runs, name)
		l.mu.Unlock()
		l.started <- name
		<-ctx.Done()
		l.mu.Lock()
		l.active = ""
		l.mu.Unlock()
	}
}

func TestLeadHandsOverWithoutOverlap(t *testing.T) {
	t.Parallel()
	rs := replicas(t, 2)
	ttl := 600 * time.Millisecond
	l := &leaders{started: make(chan string, 10)}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	doneA, doneB := make(chan error, 1), make(chan error, 1)
	go func() { doneA <- rs[0].Lease("leader", "a", ttl).Lead(ctxA, l.work("a")) }()
	first := <-l.started
	go func() { doneB <- rs[1].Lease("leader", "b", ttl).Lead(ctxB, l.work("b")) }()

	// The first leader loses its database (as when its node fails):
	// it steps down before its lease lapses, and the other takes over.
	if first != "a" {
		t.Fatalf("first leader %q, want a, the only one running", first)
	}
	rs[0].Close()
	var second string
	select {
	case second = <-l.started:
	case <-time.After(20 * time.Second):
		t.Fatal("no takeover within 20 s")
	}
	if second != "b" {
		t.Errorf("second leader %q, want b", second)
	}
	stopA()
	stopB()
	if err := <-doneA; err != nil {
		t.Error(err)
	}
	if err := <-doneB; err != nil {
		t.Error(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.overlap) > 0 {
		t.Errorf("two leaders at once: %v (runs %v)", l.overlap, l.runs)
	}
}

func TestLeadReleasesOnShutdown(t *testing.T) {
	t.Parallel()
	rs := replicas(t, 2)
	l := &leaders{started: make(chan string, 10)}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rs[0].Lease("leader", "a", time.Minute).Lead(ctx, l.work("a")) }()
	<-l.started
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A minute-long lease, released on shutdown: free at once.
	if _, ok, err := rs[1].Lease("leader", "b", time.Minute).TryAcquire(context.Background()); !ok || err != nil {
		t.Errorf("acquire after a graceful shutdown = %v, %v", ok, err)
	}
}
