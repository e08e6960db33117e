package sqlite

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

func TestSyncTokenStore(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	if tok, err := s.SyncToken(ctx, "c"); err != nil || tok != "" {
		t.Fatalf("fresh token = %q, %v", tok, err)
	}
	for _, want := range []string{"t1", "t2", ""} {
		if err := s.CommitSync(ctx, "c", nil, want); err != nil {
			t.Fatal(err)
		}
		if tok, _ := s.SyncToken(ctx, "c"); tok != want {
			t.Errorf("token = %q, want %q", tok, want)
		}
	}
}

func TestCommitSyncKeepsExistingJobs(t *testing.T) {
	t.Parallel()
	clk := &testClock{t: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)}
	s := openTest(t, WithClock(clk.Now))
	ctx := context.Background()
	t0 := clk.Now()
	if err := s.CommitSync(ctx, "c", []moffman.Job{
		{CalendarID: "c", EventID: "evt01", OfficeID: "prague"},
		{CalendarID: "c", EventID: "evt02", OfficeID: "prague"},
	}, "tok1"); err != nil {
		t.Fatal(err)
	}
	// evt01 finishes, evt02 fails once.
	if err := s.SaveJob(ctx, moffman.Job{CalendarID: "c", EventID: "evt01", Step: moffman.StepDone, Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	retry := t0.Add(time.Hour)
	if err := s.SaveJob(ctx, moffman.Job{CalendarID: "c", EventID: "evt02", Step: moffman.StepDetected,
		Attempts: 1, LastError: "byroapi: 502", NextAttempt: retry}); err != nil {
		t.Fatal(err)
	}

	clk.Advance(time.Minute)
	// Both seen again, plus a new one: only the new one is added.
	if err := s.CommitSync(ctx, "c", []moffman.Job{
		{CalendarID: "c", EventID: "evt01", OfficeID: "prague"},
		{CalendarID: "c", EventID: "evt02", OfficeID: "prague"},
		{CalendarID: "c", EventID: "evt03", OfficeID: "brno", Created: t0.Add(-time.Hour)},
	}, "tok2"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := s.SyncToken(ctx, "c"); tok != "tok2" {
		t.Errorf("token = %q", tok)
	}
	due, err := s.DueJobs(ctx, clk.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []moffman.Job{{CalendarID: "c", EventID: "evt03", OfficeID: "brno", Step: moffman.StepDetected,
		Created: t0.Add(-time.Hour)}}
	if len(due) != 1 || !jobEqual(due[0], want[0]) {
		t.Errorf("due = %+v\nwant  %+v", due, want)
	}
	due, _ = s.DueJobs(ctx, retry, 10)
	if len(due) != 2 || due[0].EventID != "evt03" || due[1].EventID != "evt02" || due[1].Attempts != 1 ||
		due[1].LastError != "byroapi: 502" || !due[1].NextAttempt.Equal(retry) || !due[1].Created.Equal(t0) {
		t.Errorf("due at retry = %+v", due)
	}
}

func jobEqual(a, b moffman.Job) bool {
	return a.CalendarID == b.CalendarID && a.EventID == b.EventID && a.OfficeID == b.OfficeID &&
		a.Step == b.Step && a.Attempts == b.Attempts && a.LastError == b.LastError &&
		a.NextAttempt.Equal(b.NextAttempt) && a.Created.Equal(b.Created)
}

func TestCommitSyncAtomic(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.CommitSync(ctx, "c", nil, "old"); err != nil {
		t.Fatal(err)
	}
	cancel()
	err := s.CommitSync(ctx, "c", []moffman.Job{{CalendarID: "c", EventID: "evt01"}}, "new")
	if err == nil {
		t.Fatal("CommitSync with a cancelled context succeeded")
	}
	ctx = context.Background()
	if tok, _ := s.SyncToken(ctx, "c"); tok != "old" {
		t.Errorf("token = %q after failed commit", tok)
	}
	if due, _ := s.DueJobs(ctx, time.Now(), 0); len(due) != 0 {
		t.Errorf("jobs after failed commit: %+v", due)
	}
}

func TestDueJobsOrderAndLimit(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	var jobs []moffman.Job
	for i, created := range []int{3, 1, 4, 0, 2} {
		jobs = append(jobs, moffman.Job{CalendarID: "c", EventID: fmt.Sprintf("evt%d", i), OfficeID: "o",
			Created: base.Add(time.Duration(created) * time.Minute), NextAttempt: base.Add(time.Duration(i) * time.Hour)})
	}
	jobs = append(jobs, moffman.Job{CalendarID: "c", EventID: "dropped", Step: moffman.StepDropped, Created: base.Add(-time.Hour)})
	if err := s.CommitSync(ctx, "c", jobs, "t"); err != nil {
		t.Fatal(err)
	}
	order := func(due []moffman.Job) string {
		var s []string
		for _, j := range due {
			s = append(s, j.EventID)
		}
		return fmt.Sprint(s)
	}
	for _, tc := range []struct {
		now   time.Time
		limit int
		want  string
	}{
		{base.Add(10 * time.Hour), 10, "[evt3 evt1 evt4 evt0 evt2]"},
		{base.Add(10 * time.Hour), 2, "[evt3 evt1]"},
		{base.Add(10 * time.Hour), 0, "[evt3 evt1 evt4 evt0 evt2]"},
		{base.Add(2 * time.Hour), 10, "[evt1 evt0 evt2]"}, // next attempt exactly now is due
		{base.Add(-time.Second), 10, "[]"},
	} {
		due, err := s.DueJobs(ctx, tc.now, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := order(due); got != tc.want {
			t.Errorf("DueJobs(%v, %d) = %s, want %s", tc.now, tc.limit, got, tc.want)
		}
	}
}

func TestSaveJobNotFound(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	err := s.SaveJob(context.Background(), moffman.Job{CalendarID: "c", EventID: "nope1", Step: moffman.StepDone})
	wantCode(t, err, moffman.NotFound)
}

func TestJobStatsAndPrune(t *testing.T) {
	t.Parallel()
	clk := &testClock{t: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)}
	s := openTest(t, WithClock(clk.Now))
	ctx := context.Background()
	t0 := clk.Now()
	job := func(id, office string, minutes int) moffman.Job {
		return moffman.Job{CalendarID: "c", EventID: id, OfficeID: office, Created: t0.Add(time.Duration(minutes) * time.Minute)}
	}
	if err := s.CommitSync(ctx, "c", []moffman.Job{
		job("a1", "prague", 5), job("a2", "prague", 2), job("a3", "prague", 1), job("b1", "brno", 7),
	}, "t"); err != nil {
		t.Fatal(err)
	}
	save := func(id string, step moffman.JobStep, lastErr string) {
		t.Helper()
		clk.Advance(time.Second)
		if err := s.SaveJob(ctx, moffman.Job{CalendarID: "c", EventID: id, Step: step, LastError: lastErr}); err != nil {
			t.Fatal(err)
		}
	}
	save("a3", moffman.StepDone, "")
	save("a1", moffman.StepDetected, "first failure")
	save("a2", moffman.StepFormDelivered, "second failure")
	save("b1", moffman.StepDetected, "")

	stats, err := s.JobStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]moffman.JobStats{
		"prague": {Pending: 2, Oldest: t0.Add(2 * time.Minute), LastError: "second failure"},
		"brno":   {Pending: 1, Oldest: t0.Add(7 * time.Minute)},
	}
	if !reflect.DeepEqual(stats, want) {
		t.Errorf("JobStats = %+v\nwant %+v", stats, want)
	}

	// Prune removes only finished jobs older than the cut.
	cut := clk.Now()
	save("b1", moffman.StepDropped, "")
	n, err := s.PruneJobs(ctx, cut)
	if err != nil || n != 1 {
		t.Errorf("PruneJobs = %d, %v; want 1 (a3)", n, err)
	}
	// The pruned job's key is free again; the kept finished one still blocks.
	if err := s.CommitSync(ctx, "c", []moffman.Job{job("a3", "prague", 0), job("b1", "brno", 0)}, "t"); err != nil {
		t.Fatal(err)
	}
	due, _ := s.DueJobs(ctx, clk.Now(), 0)
	if len(due) != 3 || due[0].EventID != "a3" {
		t.Errorf("due after prune = %+v", due)
	}
}

func TestDirectory(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	if _, ok, err := s.LoadDirectory(ctx); ok || err != nil {
		t.Fatalf("fresh LoadDirectory = %v, %v", ok, err)
	}
	lists := moffman.DirectoryLists{
		Offices:     []moffman.Office{{Name: "prague", CalendarID: "p@group.calendar.google.com"}},
		ManualUsers: []moffman.Person{{Email: "a@b.c", FirstName: "Á", LastName: "B", EmployeeNumber: "7"}},
	}
	for _, l := range []moffman.DirectoryLists{{}, lists} {
		if err := s.SaveDirectory(ctx, l); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.LoadDirectory(ctx)
		if err != nil || !ok || !reflect.DeepEqual(got, l) {
			t.Errorf("LoadDirectory = %+v %v %v, want %+v", got, ok, err, l)
		}
	}
}
