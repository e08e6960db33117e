package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

var t0 = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)

func job(cal, ev string, created time.Time) moffman.Job {
	return moffman.Job{CalendarID: cal, EventID: ev, OfficeID: "office-" + cal, Step: moffman.StepDetected,
		NextAttempt: created, Created: created}
}

func TestCommitSyncKeepsExistingJobs(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	if tok, err := s.SyncToken(ctx, "cal"); err != nil || tok != "" {
		t.Fatalf("SyncToken of a new calendar = %q, %v", tok, err)
	}
	if err := s.CommitSync(ctx, "cal", []moffman.Job{job("cal", "e1", t0)}, "tok1"); err != nil {
		t.Fatal(err)
	}
	done := job("cal", "e1", t0)
	done.Step = moffman.StepDone
	if err := s.SaveJob(ctx, done); err != nil {
		t.Fatal(err)
	}
	// e1 again (finished: left alone) and a new e2.
	if err := s.CommitSync(ctx, "cal", []moffman.Job{job("cal", "e1", t0.Add(time.Hour)), job("cal", "e2", t0)}, "tok2"); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueJobs(ctx, t0.Add(2*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].EventID != "e2" || !due[0].Created.Equal(t0) || due[0].OfficeID != "office-cal" {
		t.Errorf("due = %+v, want only e2", due)
	}
	if tok, _ := s.SyncToken(ctx, "cal"); tok != "tok2" {
		t.Errorf("token = %q", tok)
	}
	if err := s.CommitSync(ctx, "cal", nil, ""); err != nil {
		t.Fatal(err)
	}
	if tok, _ := s.SyncToken(ctx, "cal"); tok != "" {
		t.Errorf("token after clearing = %q", tok)
	}
	wantCode(t, s.SaveJob(ctx, job("cal", "nosuch", t0)), moffman.NotFound)
}

func TestCommitSyncAtomic(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	// A NUL byte is refused by PostgreSQL text: the whole commit fails.
	bad := job("cal", "e\x00", t0)
	if err := s.CommitSync(ctx, "cal", []moffman.Job{job("cal", "e1", t0), bad}, "tok"); err == nil {
		t.Fatal("commit with a bad job succeeded")
	}
	due, _ := s.DueJobs(ctx, t0, 0)
	tok, _ := s.SyncToken(ctx, "cal")
	if len(due) != 0 || tok != "" {
		t.Errorf("after a failed commit: %d jobs, token %q; want neither", len(due), tok)
	}
}

func TestDueJobsOrderLimitAndStats(t *testing.T) {
	t.Parallel()
	s := openTest(t, WithClock(func() time.Time { return t0 }))
	ctx := context.Background()
	var jobs []moffman.Job
	for i := range 5 {
		jobs = append(jobs, job("cal", fmt.Sprintf("e%d", i), t0.Add(time.Duration(4-i)*time.Minute)))
	}
	later := job("cal", "later", t0)
	later.NextAttempt = t0.Add(time.Hour)
	jobs = append(jobs, later)
	if err := s.CommitSync(ctx, "cal", jobs, "tok"); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueJobs(ctx, t0.Add(10*time.Minute), 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(eventIDs(due)); got != "[e4 e3 e2]" {
		t.Errorf("due = %s, want the three oldest", got)
	}
	failed := due[0]
	failed.Attempts, failed.LastError = 1, "byroapi down"
	if err := s.SaveJob(ctx, failed); err != nil {
		t.Fatal(err)
	}
	stats, err := s.JobStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := stats["office-cal"]
	if st.Pending != 6 || !st.Oldest.Equal(t0) || st.LastError != "byroapi down" {
		t.Errorf("stats = %+v", st)
	}

	finished := due[1]
	finished.Step = moffman.StepDone
	if err := s.SaveJob(ctx, finished); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneJobs(ctx, t0)
	if err != nil || n != 0 {
		t.Errorf("pruned %d (%v) before the job finished", n, err)
	}
	n, err = s.PruneJobs(ctx, t0.Add(time.Millisecond))
	if err != nil || n != 1 {
		t.Errorf("pruned %d (%v), want 1", n, err)
	}
}

func eventIDs(jobs []moffman.Job) []string {
	var s []string
	for _, j := range jobs {
		s = append(s, j.EventID)
	}
	return s
}

func TestDirectory(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	if _, ok, err := s.LoadDirectory(ctx); ok || err != nil {
		t.Fatalf("LoadDirectory on a new store = %v, %v", ok, err)
	}
	for _, lists := range []moffman.DirectoryLists{
		{Offices: []moffman.Office{{Name: "prague", CalendarID: "p@cal"}, {Name: "brno", CalendarID: "b@cal"}},
			ManualUsers: []moffman.Person{{Email: "jan@acme.com", FirstName: "Jan", LastName: "Novák", EmployeeNumber: "0012"}}},
		{Offices: []moffman.Office{{Name: "ostrava", CalendarID: "o@cal"}}},
	} {
		if err := s.SaveDirectory(ctx, lists); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.LoadDirectory(ctx)
		if !ok || err != nil || fmt.Sprint(got) != fmt.Sprint(lists) {
			t.Errorf("LoadDirectory = %v, %v, %v; want %v", got, ok, err, lists)
		}
	}
}
