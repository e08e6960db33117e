package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/pgtest"
)

// replicas opens n stores on one fresh database, as n replicas would.
func replicas(t *testing.T, n int) []*Store {
	t.Helper()
	url := pgtest.NewDatabase(t)
	var stores []*Store
	for range n {
		stores = append(stores, openURL(t, url))
	}
	return stores
}

func addJobs(t *testing.T, s *Store, n int) {
	t.Helper()
	var jobs []moffman.Job
	for i := range n {
		jobs = append(jobs, job("cal", fmt.Sprintf("e%04d", i), t0.Add(time.Duration(i)*time.Second)))
	}
	if err := s.CommitSync(context.Background(), "cal", jobs, "tok"); err != nil {
		t.Fatal(err)
	}
}

func TestClaimsAreDisjointAcrossReplicas(t *testing.T) {
	t.Parallel()
	rs := replicas(t, 4)
	const jobs = 300
	addJobs(t, rs[0], jobs)
	now := t0.Add(time.Hour)
	claimed := make([][]string, len(rs))
	var wg sync.WaitGroup
	for i, s := range rs {
		wg.Go(func() {
			for {
				got, err := s.ClaimJobs(context.Background(), now, 7, fmt.Sprintf("replica%d", i), time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				for _, c := range got {
					claimed[i] = append(claimed[i], c.EventID)
				}
			}
		})
	}
	wg.Wait()
	owner := map[string]int{}
	for i, evs := range claimed {
		for _, ev := range evs {
			if prev, dup := owner[ev]; dup {
				t.Errorf("job %s claimed by replica %d and replica %d", ev, prev, i)
			}
			owner[ev] = i
		}
	}
	if len(owner) != jobs {
		t.Errorf("%d jobs claimed, want all %d", len(owner), jobs)
	}
	// All are held now: nothing more to claim.
	if got, err := rs[0].ClaimJobs(context.Background(), now, 0, "late", time.Minute); err != nil || len(got) != 0 {
		t.Errorf("claimed %d held jobs (%v)", len(got), err)
	}
}

func TestClaimOrderAndDue(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	addJobs(t, s, 5)
	got, err := s.ClaimJobs(context.Background(), t0.Add(2*time.Second), 0, "r", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var evs []string
	for _, c := range got {
		evs = append(evs, c.EventID)
		if c.Claim.Holder != "r" || c.Claim.Token != 1 || time.Until(c.Claim.Until) <= 0 {
			t.Errorf("claim %+v", c.Claim)
		}
	}
	if fmt.Sprint(evs) != "[e0000 e0001 e0002]" {
		t.Errorf("claimed %v, want the three due by t0+2s, oldest first", evs)
	}
}

// claimUntilLapsed claims the job for holder, retrying until the earlier
// claim has lapsed.
func claimUntilLapsed(t *testing.T, s *Store, holder string) moffman.Job {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		got, err := s.ClaimJobs(context.Background(), t0.Add(time.Hour), 1, holder, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 {
			return got[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the lapsed claim was never taken over")
	return moffman.Job{}
}

func TestFencingRefusesStaleHolder(t *testing.T) {
	t.Parallel()
	rs := replicas(t, 2)
	ctx := context.Background()
	addJobs(t, rs[0], 1)
	got, err := rs[0].ClaimJobs(ctx, t0.Add(time.Hour), 1, "old", 100*time.Millisecond)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim = %v, %v", got, err)
	}
	stale := got[0]
	// "old" pauses past its claim; "new" takes the job over and delivers.
	fresh := claimUntilLapsed(t, rs[1], "new")
	if fresh.Claim.Token <= stale.Claim.Token {
		t.Errorf("takeover token %d not above %d", fresh.Claim.Token, stale.Claim.Token)
	}
	fresh.Step = moffman.StepFormDelivered
	if err := rs[1].SaveJob(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	// "old" wakes up and records its own result: refused, nothing changed.
	stale.Step, stale.Attempts, stale.LastError = moffman.StepDetected, 1, "timeout"
	err = rs[0].SaveJob(ctx, stale)
	wantCode(t, err, moffman.Conflict)
	due, _ := rs[0].DueJobs(ctx, t0.Add(time.Hour), 0)
	if len(due) != 1 || due[0].Step != moffman.StepFormDelivered || due[0].Attempts != 0 {
		t.Errorf("job after the stale save = %+v, want new's form_delivered", due)
	}
	fresh.Step = moffman.StepDone
	if err := rs[1].SaveJob(ctx, fresh); err != nil {
		t.Errorf("the current holder's save: %v", err)
	}
	missing := moffman.Job{CalendarID: "cal", EventID: "nosuch", Claim: fresh.Claim}
	wantCode(t, rs[1].SaveJob(ctx, missing), moffman.NotFound)
}

func TestClaimKeptWhileWorkingReleasedOnFailure(t *testing.T) {
	t.Parallel()
	rs := replicas(t, 2)
	ctx := context.Background()
	addJobs(t, rs[0], 1)
	later := t0.Add(time.Hour)
	got, err := rs[0].ClaimJobs(ctx, later, 1, "a", time.Second)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim = %v, %v", got, err)
	}
	c := got[0]

	// A successful step keeps and extends the claim: b cannot take it
	// after the first second (the sleeps are at least as long).
	time.Sleep(600 * time.Millisecond)
	c.Step = moffman.StepFormDelivered
	if err := rs[0].SaveJob(ctx, c); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if got, _ := rs[1].ClaimJobs(ctx, later, 1, "b", time.Minute); len(got) != 0 {
		t.Fatalf("b claimed a job a still works on")
	}

	// A failed step releases it: b claims the retry once due, at once.
	c.Attempts, c.LastError, c.NextAttempt = 1, "patch failed", t0.Add(2*time.Hour)
	if err := rs[0].SaveJob(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := rs[1].ClaimJobs(ctx, later, 1, "b", time.Minute); len(got) != 0 {
		t.Errorf("b claimed the retry before it was due")
	}
	got, err = rs[1].ClaimJobs(ctx, t0.Add(3*time.Hour), 1, "b", time.Minute)
	if err != nil || len(got) != 1 || got[0].Step != moffman.StepFormDelivered || got[0].Attempts != 1 {
		t.Fatalf("b's claim of the retry = %+v, %v", got, err)
	}
	// a's claim is gone: its late save is refused.
	c.Step = moffman.StepDone
	wantCode(t, rs[0].SaveJob(ctx, c), moffman.Conflict)

	// Finishing releases it too, and a finished job is never claimed.
	b := got[0]
	b.Step, b.Attempts, b.LastError = moffman.StepDone, 0, ""
	if err := rs[1].SaveJob(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, _ := rs[0].ClaimJobs(ctx, t0.Add(3*time.Hour), 0, "a", time.Minute); len(got) != 0 {
		t.Errorf("claimed a finished job: %+v", got)
	}
}

func TestClaimJobsNeedsHolderAndDuration(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	_, err := s.ClaimJobs(context.Background(), t0, 1, "", time.Minute)
	wantCode(t, err, moffman.Invalid)
	_, err = s.ClaimJobs(context.Background(), t0, 1, "r", 0)
	wantCode(t, err, moffman.Invalid)
}
