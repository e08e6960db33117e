package calendartest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// The job-claim part of the StateStore contract: what keeps two replicas
// that both believe they lead from working on one job at once.

// commitJobs stores n due jobs evt000… in calendar c and returns them.
func commitJobs(t *testing.T, s moffman.StateStore, start time.Time, n int) []moffman.Job {
	t.Helper()
	var jobs []moffman.Job
	for i := range n {
		at := start.Add(time.Duration(i) * time.Second)
		jobs = append(jobs, moffman.Job{CalendarID: "c", EventID: fmt.Sprintf("evt%03d", i), OfficeID: "o",
			Step: moffman.StepDetected, Created: at, NextAttempt: at})
	}
	if err := s.CommitSync(context.Background(), "c", jobs, "t"); err != nil {
		t.Fatal(err)
	}
	return jobs
}

func claim(t *testing.T, s moffman.StateStore, now time.Time, limit int, holder string, d time.Duration) []moffman.Job {
	t.Helper()
	got, err := s.ClaimJobs(context.Background(), now, limit, holder, d)
	if err != nil {
		t.Fatalf("ClaimJobs(%s): %v", holder, err)
	}
	for _, j := range got {
		if j.Claim.Holder != holder || j.Claim.For != d || time.Until(j.Claim.Until) <= 0 || j.Claim.Until.After(time.Now().Add(d)) {
			t.Errorf("claim of %s = %+v, want %s's for %v", j.EventID, j.Claim, holder, d)
		}
	}
	return got
}

func testClaimsDisjoint(t *testing.T, s moffman.StateStore) {
	start := base()
	const n = 60
	commitJobs(t, s, start, n)
	later := start.Add(time.Hour)
	owner := make(map[string]string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, holder := range []string{"replica-a", "replica-b"} {
		wg.Go(func() {
			for {
				got, err := s.ClaimJobs(context.Background(), later, 3, holder, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, j := range got {
					if prev, dup := owner[j.EventID]; dup {
						t.Errorf("job %s claimed by %s and by %s", j.EventID, prev, holder)
					}
					owner[j.EventID] = holder
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(owner) != n {
		t.Errorf("%d jobs claimed, want all %d", len(owner), n)
	}
	if got := claim(t, s, later, 0, "replica-c", time.Minute); len(got) != 0 {
		t.Errorf("claimed %d jobs that others hold", len(got))
	}
	// Claims do not hide jobs from DueJobs, and not-yet-due jobs are not claimed.
	if due, _ := s.DueJobs(context.Background(), later, 0); len(due) != n {
		t.Errorf("DueJobs = %d jobs while all are claimed, want %d", len(due), n)
	}
	_, err := s.ClaimJobs(context.Background(), later, 1, "", time.Minute)
	wantCode(t, "ClaimJobs without a holder", err, moffman.Invalid)
	_, err = s.ClaimJobs(context.Background(), later, 1, "r", 0)
	wantCode(t, "ClaimJobs for no time", err, moffman.Invalid)
}

func testStaleClaimRefused(t *testing.T, s moffman.StateStore) {
	start := base()
	ctx := context.Background()
	commitJobs(t, s, start, 2)
	later := start.Add(time.Hour)
	if got := claim(t, s, start.Add(-time.Minute), 0, "old", time.Minute); len(got) != 0 {
		t.Fatalf("claimed jobs not yet due: %+v", got)
	}
	got := claim(t, s, later, 1, "old", 200*time.Millisecond)
	if len(got) != 1 || got[0].EventID != "evt000" {
		t.Fatalf("claimed %+v, want the oldest job", got)
	}
	stale := got[0]
	// "old" pauses past its claim; "new" takes the job over and goes on.
	var fresh moffman.Job
	for deadline := time.Now().Add(10 * time.Second); fresh.Claim.Holder == ""; {
		if time.Now().After(deadline) {
			t.Fatal("a lapsed claim was never taken over")
		}
		time.Sleep(20 * time.Millisecond)
		for _, j := range claim(t, s, later, 0, "new", time.Minute) {
			if j.EventID == stale.EventID {
				fresh = j
			}
		}
	}
	if fresh.Claim.Token == stale.Claim.Token {
		t.Errorf("the takeover has the stale claim's token %d", fresh.Claim.Token)
	}
	fresh.Step = moffman.StepFormDelivered
	if err := s.SaveJob(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	// "old" wakes up and records its result: refused, the job untouched.
	stale.Step, stale.Attempts, stale.LastError = moffman.StepDone, 3, "late"
	wantCode(t, "SaveJob under a claim taken over", s.SaveJob(ctx, stale), moffman.Conflict)
	due, _ := s.DueJobs(ctx, later, 0)
	if len(due) != 2 || due[0].EventID != "evt000" || due[0].Step != moffman.StepFormDelivered || due[0].Attempts != 0 || due[0].LastError != "" {
		t.Errorf("jobs after the stale save = %+v, want evt000 at form_delivered as new saved it", due)
	}
	// "new" still holds it: its next save goes through.
	fresh.Step = moffman.StepDone
	if err := s.SaveJob(ctx, fresh); err != nil {
		t.Errorf("the current holder's save: %v", err)
	}
}

func testClaimsReleased(t *testing.T, s moffman.StateStore) {
	start := base()
	ctx := context.Background()
	commitJobs(t, s, start, 4)
	later := start.Add(time.Hour)
	jobs := claim(t, s, later, 0, "a", time.Minute)
	if len(jobs) != 4 {
		t.Fatalf("claimed %d jobs, want 4", len(jobs))
	}
	progress, failed, finished, stopped := jobs[0], jobs[1], jobs[2], jobs[3]
	progress.Step = moffman.StepFormDelivered // goes on: the claim is kept
	failed.Attempts, failed.LastError, failed.NextAttempt = 1, "byroapi: 502", later
	finished.Step = moffman.StepDone
	stopped.Claim.For = 0 // its holder stops between steps
	for _, j := range []moffman.Job{progress, failed, finished, stopped} {
		if err := s.SaveJob(ctx, j); err != nil {
			t.Fatalf("save %s: %v", j.EventID, err)
		}
	}
	var got []string
	for _, j := range claim(t, s, later, 0, "b", time.Minute) {
		got = append(got, j.EventID)
	}
	if fmt.Sprint(got) != "[evt001 evt003]" {
		t.Errorf("b claimed %v, want the failed and the stopped job (evt001 evt003): the one going on stays a's, the finished one is done", got)
	}
	// A released claim no longer holds.
	finished.Step = moffman.StepDropped
	wantCode(t, "SaveJob under a claim released by finishing", s.SaveJob(ctx, finished), moffman.Conflict)
	failed.Attempts = 2
	wantCode(t, "SaveJob under a claim released by a failure", s.SaveJob(ctx, failed), moffman.Conflict)
	progress.Step = moffman.StepDone
	if err := s.SaveJob(ctx, progress); err != nil {
		t.Errorf("save under the kept claim: %v", err)
	}
	due, _ := s.DueJobs(ctx, later, 0)
	if len(due) != 2 {
		t.Errorf("unfinished jobs = %+v, want evt001 and evt003", due)
	}
}
