package calendartest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// NewStateStore opens a fresh, empty state store whose clock (the time it
// records writes at) is now.
type NewStateStore func(t *testing.T, now func() time.Time) moffman.StateStore

// TestStateStore runs the StateStore contract against fresh stores from
// newStore, one per subtest.
func TestStateStore(t *testing.T, newStore NewStateStore) {
	for _, c := range []struct {
		name string
		test func(*testing.T, moffman.StateStore, *Clock)
	}{
		{"SyncToken", testSyncTokenStore},
		{"CommitSyncKeepsExistingJobs", testCommitSyncKeepsExistingJobs},
		{"CommitSyncAtomic", testCommitSyncAtomic},
		{"DueJobsOrderAndLimit", testDueJobsOrderAndLimit},
		{"SaveJobOfUnknownJob", testSaveJobNotFound},
		{"JobStatsAndPrune", testJobStatsAndPrune},
		{"Directory", testDirectory},
		{"JobByKey", testJobByKey},
		{"NeedsOperatorIsNotDue", testNeedsOperatorIsNotDue},
		{"CommitSyncReopensRestoredEvent", testCommitSyncReopensRestoredEvent},
		{"ManualUsers", testManualUsers},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			clk := NewClock(time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC))
			c.test(t, newStore(t, clk.Now), clk)
		})
	}
}

func testSyncTokenStore(t *testing.T, s moffman.StateStore, _ *Clock) {
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
	if tok, _ := s.SyncToken(ctx, "other"); tok != "" {
		t.Errorf("another calendar's token = %q", tok)
	}
}

func testCommitSyncKeepsExistingJobs(t *testing.T, s moffman.StateStore, clk *Clock) {
	ctx := context.Background()
	t0 := clk.Now()
	if err := s.CommitSync(ctx, "c", []moffman.Job{
		{CalendarID: "c", EventID: "evt01", OfficeID: "prague", Step: moffman.StepDetected, Created: t0, NextAttempt: t0},
		{CalendarID: "c", EventID: "evt02", OfficeID: "prague", Step: moffman.StepDetected, Created: t0, NextAttempt: t0},
	}, "tok1"); err != nil {
		t.Fatal(err)
	}
	// evt01 finishes, evt02 fails once.
	if err := s.SaveJob(ctx, moffman.Job{CalendarID: "c", EventID: "evt01", OfficeID: "prague", Step: moffman.StepDone, Attempts: 1, Created: t0}); err != nil {
		t.Fatal(err)
	}
	retry := t0.Add(time.Hour)
	if err := s.SaveJob(ctx, moffman.Job{CalendarID: "c", EventID: "evt02", OfficeID: "prague", Step: moffman.StepDetected,
		Attempts: 1, LastError: "byroapi: 502", NextAttempt: retry, Created: t0}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	// Both seen again, plus a new one: only the new one is added.
	if err := s.CommitSync(ctx, "c", []moffman.Job{
		{CalendarID: "c", EventID: "evt01", OfficeID: "prague", Step: moffman.StepDetected, Created: clk.Now(), NextAttempt: clk.Now()},
		{CalendarID: "c", EventID: "evt02", OfficeID: "prague", Step: moffman.StepDetected, Created: clk.Now(), NextAttempt: clk.Now()},
		{CalendarID: "c", EventID: "evt03", OfficeID: "brno", Step: moffman.StepDetected, Created: t0.Add(-time.Hour), NextAttempt: clk.Now()},
	}, "tok2"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := s.SyncToken(ctx, "c"); tok != "tok2" {
		t.Errorf("token = %q, want tok2", tok)
	}
	due, err := s.DueJobs(ctx, clk.Now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := moffman.Job{CalendarID: "c", EventID: "evt03", OfficeID: "brno", Step: moffman.StepDetected,
		Created: t0.Add(-time.Hour), NextAttempt: clk.Now()}
	if len(due) != 1 || !jobEqual(due[0], want) {
		t.Errorf("due = %+v\nwant  [%+v]", due, want)
	}
	due, _ = s.DueJobs(ctx, retry, 10)
	if len(due) != 2 || due[0].EventID != "evt03" || due[1].EventID != "evt02" || due[1].Attempts != 1 ||
		due[1].LastError != "byroapi: 502" || !due[1].NextAttempt.Equal(retry) || !due[1].Created.Equal(t0) {
		t.Errorf("due at the retry = %+v", due)
	}
}

func jobEqual(a, b moffman.Job) bool {
	return a.CalendarID == b.CalendarID && a.EventID == b.EventID && a.OfficeID == b.OfficeID &&
		a.Step == b.Step && a.Attempts == b.Attempts && a.LastError == b.LastError &&
		a.NextAttempt.Equal(b.NextAttempt) && a.Created.Equal(b.Created)
}

func testCommitSyncAtomic(t *testing.T, s moffman.StateStore, clk *Clock) {
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.CommitSync(ctx, "c", nil, "old"); err != nil {
		t.Fatal(err)
	}
	cancel()
	err := s.CommitSync(ctx, "c", []moffman.Job{{CalendarID: "c", EventID: "evt01", Step: moffman.StepDetected, Created: clk.Now(), NextAttempt: clk.Now()}}, "new")
	if err == nil {
		t.Fatal("CommitSync with a cancelled context succeeded")
	}
	ctx = context.Background()
	if tok, _ := s.SyncToken(ctx, "c"); tok != "old" {
		t.Errorf("token = %q after a failed commit, want old", tok)
	}
	if due, _ := s.DueJobs(ctx, clk.Now().Add(time.Hour), 0); len(due) != 0 {
		t.Errorf("jobs after a failed commit: %+v", due)
	}
}

func testDueJobsOrderAndLimit(t *testing.T, s moffman.StateStore, clk *Clock) {
	ctx := context.Background()
	base := clk.Now()
	var jobs []moffman.Job
	for i, created := range []int{3, 1, 4, 0, 2} {
		jobs = append(jobs, moffman.Job{CalendarID: "c", EventID: fmt.Sprintf("evt%d", i), OfficeID: "o", Step: moffman.StepDetected,
			Created: base.Add(time.Duration(created) * time.Minute), NextAttempt: base.Add(time.Duration(i) * time.Hour)})
	}
	jobs = append(jobs, moffman.Job{CalendarID: "c", EventID: "dropped", Step: moffman.StepDropped, Created: base.Add(-time.Hour), NextAttempt: base})
	if err := s.CommitSync(ctx, "c", jobs, "t"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		now   time.Time
		limit int
		want  string
	}{
		{base.Add(10 * time.Hour), 10, "[evt3 evt1 evt4 evt0 evt2]"},
		{base.Add(10 * time.Hour), 2, "[evt3 evt1]"},
		{base.Add(10 * time.Hour), 0, "[evt3 evt1 evt4 evt0 evt2]"},
		{base.Add(2 * time.Hour), 10, "[evt1 evt0 evt2]"}, // a next attempt exactly now is due
		{base.Add(-time.Second), 10, "[]"},
	} {
		due, err := s.DueJobs(ctx, tc.now, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, j := range due {
			got = append(got, j.EventID)
		}
		if fmt.Sprint(got) != tc.want && !(tc.want == "[]" && len(got) == 0) {
			t.Errorf("DueJobs(%v, %d) = %v, want %s", tc.now, tc.limit, got, tc.want)
		}
	}
}

func testSaveJobNotFound(t *testing.T, s moffman.StateStore, _ *Clock) {
	err := s.SaveJob(context.Background(), moffman.Job{CalendarID: "c", EventID: "nope1", Step: moffman.StepDone})
	wantCode(t, "SaveJob of a job never committed", err, moffman.NotFound)
}

func testJobStatsAndPrune(t *testing.T, s moffman.StateStore, clk *Clock) {
	ctx := context.Background()
	t0 := clk.Now()
	job := func(id, office string, minutes int) moffman.Job {
		at := t0.Add(time.Duration(minutes) * time.Minute)
		return moffman.Job{CalendarID: "c", EventID: id, OfficeID: office, Step: moffman.StepDetected, Created: at, NextAttempt: at}
	}
	if err := s.CommitSync(ctx, "c", []moffman.Job{
		job("a1", "prague", 5), job("a2", "prague", 2), job("a3", "prague", 1), job("b1", "brno", 7),
	}, "t"); err != nil {
		t.Fatal(err)
	}
	save := func(j moffman.Job, step moffman.JobStep, lastErr string) {
		t.Helper()
		clk.Advance(time.Second)
		j.Step, j.LastError = step, lastErr
		if err := s.SaveJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	save(job("a3", "prague", 1), moffman.StepDone, "")
	save(job("a1", "prague", 5), moffman.StepDetected, "first failure")
	save(job("a2", "prague", 2), moffman.StepFormDelivered, "second failure")
	save(job("b1", "brno", 7), moffman.StepDetected, "")

	stats, err := s.JobStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]moffman.JobStats{
		"prague": {Pending: 2, Oldest: t0.Add(2 * time.Minute), LastError: "second failure"}, // the last written error
		"brno":   {Pending: 1, Oldest: t0.Add(7 * time.Minute)},
	}
	if !statsEqual(stats, want) {
		t.Errorf("JobStats = %+v\nwant %+v", stats, want)
	}
	// Prune removes only finished jobs last written before the cut.
	cut := clk.Now()
	save(job("b1", "brno", 7), moffman.StepDropped, "")
	n, err := s.PruneJobs(ctx, cut)
	if err != nil || n != 1 {
		t.Errorf("PruneJobs = %d, %v; want 1 (a3)", n, err)
	}
	// The pruned job's key is free again; the kept finished one still blocks.
	if err := s.CommitSync(ctx, "c", []moffman.Job{job("a3", "prague", 0), job("b1", "brno", 0)}, "t"); err != nil {
		t.Fatal(err)
	}
	due, _ := s.DueJobs(ctx, t0.Add(time.Hour), 0)
	if len(due) != 3 || due[0].EventID != "a3" {
		t.Errorf("due after prune = %+v; want a3, a2, a1", due)
	}
}

func statsEqual(a, b map[string]moffman.JobStats) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || x.Pending != y.Pending || !x.Oldest.Equal(y.Oldest) || x.LastError != y.LastError {
			return false
		}
	}
	return true
}

func testDirectory(t *testing.T, s moffman.StateStore, _ *Clock) {
	ctx := context.Background()
	if _, ok, err := s.LoadDirectory(ctx); ok || err != nil {
		t.Fatalf("fresh LoadDirectory = %v, %v; want none saved", ok, err)
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
		if err != nil || !ok || !reflect.DeepEqual(normalize(got), normalize(l)) {
			t.Errorf("LoadDirectory = %+v %v %v, want %+v", got, ok, err, l)
		}
	}
}

// normalize treats nil and empty lists alike.
func normalize(l moffman.DirectoryLists) moffman.DirectoryLists {
	if len(l.Offices) == 0 {
		l.Offices = nil
	}
	if len(l.ManualUsers) == 0 {
		l.ManualUsers = nil
	}
	return l
}

// testJobByKey: Job returns a job as stored, every field included; NotFound
// for a key never committed.
func testJobByKey(t *testing.T, s moffman.StateStore, clk *Clock) {
	ctx := context.Background()
	t0 := clk.Now()
	_, err := s.Job(ctx, "c", "evt01")
	wantCode(t, "Job of a job never committed", err, moffman.NotFound)
	updated := t0.Add(-time.Hour)
	if err := s.CommitSync(ctx, "c", []moffman.Job{{CalendarID: "c", EventID: "evt01", OfficeID: "prague",
		Step: moffman.StepDetected, Created: t0, NextAttempt: t0, EventUpdated: updated}}, "t"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Job(ctx, "c", "evt01")
	want := moffman.Job{CalendarID: "c", EventID: "evt01", OfficeID: "prague", Step: moffman.StepDetected,
		Created: t0, NextAttempt: t0, EventUpdated: updated}
	if err != nil || !jobEqual(got, want) || !got.EventUpdated.Equal(updated) {
		t.Errorf("Job = %+v, %v\nwant %+v", got, err, want)
	}
	want.Step, want.Attempts, want.LastError, want.UnknownOutcomes = moffman.StepDone, 2, "late", 2
	want.NextAttempt, want.EventUpdated = t0.Add(time.Minute), time.Time{}
	if err := s.SaveJob(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err = s.Job(ctx, "c", "evt01")
	if err != nil || !jobEqual(got, want) || got.UnknownOutcomes != 2 || !got.EventUpdated.IsZero() {
		t.Errorf("Job after SaveJob = %+v, %v\nwant %+v (a finished job is found too)", got, err, want)
	}
	_, err = s.Job(ctx, "other", "evt01")
	wantCode(t, "Job of another calendar's key", err, moffman.NotFound)
}

// testNeedsOperatorIsNotDue: a job waiting for an operator is never due,
// and JobStats counts and lists it.
func testNeedsOperatorIsNotDue(t *testing.T, s moffman.StateStore, clk *Clock) {
	ctx := context.Background()
	t0 := clk.Now()
	job := func(id string, minutes int) moffman.Job {
		at := t0.Add(time.Duration(minutes) * time.Minute)
		return moffman.Job{CalendarID: "c", EventID: id, OfficeID: "prague", Step: moffman.StepDetected, Created: at, NextAttempt: t0}
	}
	if err := s.CommitSync(ctx, "c", []moffman.Job{job("w1", 2), job("w2", 1), job("d1", 3)}, "t"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"w1", "w2"} {
		w := job(id, map[string]int{"w1": 2, "w2": 1}[id])
		w.Step, w.UnknownOutcomes, w.LastError = moffman.StepNeedsOperator, 3, "no answer"
		if err := s.SaveJob(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	due, err := s.DueJobs(ctx, t0.Add(24*time.Hour), 0)
	if err != nil || len(due) != 1 || due[0].EventID != "d1" {
		t.Errorf("due = %+v, %v; want only d1", due, err)
	}
	stats, err := s.JobStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := stats["prague"]
	if st.Pending != 3 || len(st.NeedsOperator) != 2 || st.NeedsOperator[0].EventID != "w2" ||
		st.NeedsOperator[1].EventID != "w1" || st.NeedsOperator[0].UnknownOutcomes != 3 || st.NeedsOperator[0].LastError != "no answer" {
		t.Errorf("JobStats = %+v; want 3 pending, w2 and w1 waiting, oldest first", st)
	}
}

// testCommitSyncReopensRestoredEvent: a dropped job is re-opened by a
// detection that saw its event updated after the drop, and only then.
func testCommitSyncReopensRestoredEvent(t *testing.T, s moffman.StateStore, clk *Clock) {
	ctx := context.Background()
	t0 := clk.Now()
	cancelledAt := t0.Add(-time.Hour)
	for _, j := range []moffman.Job{
		{CalendarID: "c", EventID: "drop1", OfficeID: "prague", Step: moffman.StepDropped, Attempts: 4, LastError: "x",
			Created: t0.Add(-2 * time.Hour), NextAttempt: t0, EventUpdated: cancelledAt},
		{CalendarID: "c", EventID: "done1", OfficeID: "prague", Step: moffman.StepDone, Created: t0, NextAttempt: t0, EventUpdated: cancelledAt},
		{CalendarID: "c", EventID: "open1", OfficeID: "prague", Step: moffman.StepFormDelivered, Attempts: 1, Created: t0,
			NextAttempt: t0.Add(time.Hour), EventUpdated: cancelledAt},
	} {
		if err := s.CommitSync(ctx, "c", []moffman.Job{j}, "t"); err != nil {
			t.Fatal(err)
		}
	}
	detect := func(id string, updated time.Time) moffman.Job {
		return moffman.Job{CalendarID: "c", EventID: id, OfficeID: "prague", Step: moffman.StepDetected,
			Created: clk.Now(), NextAttempt: clk.Now(), EventUpdated: updated}
	}
	// Listed again unchanged: nothing changes.
	if err := s.CommitSync(ctx, "c", []moffman.Job{detect("drop1", cancelledAt)}, "t"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Job(ctx, "c", "drop1"); got.Step != moffman.StepDropped {
		t.Errorf("a dropped job listed with the same updated time became %+v", got)
	}
	// Restored: a newer updated time re-opens the dropped job only.
	clk.Advance(time.Minute)
	restored := t0.Add(time.Minute)
	if err := s.CommitSync(ctx, "c", []moffman.Job{detect("drop1", restored), detect("done1", restored), detect("open1", restored)}, "t2"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Job(ctx, "c", "drop1")
	if want := detect("drop1", restored); err != nil || !jobEqual(got, want) || !got.EventUpdated.Equal(restored) {
		t.Errorf("the restored event's job = %+v, %v\nwant %+v", got, err, want)
	}
	if got, _ := s.Job(ctx, "c", "done1"); got.Step != moffman.StepDone {
		t.Errorf("a done job was re-opened: %+v", got)
	}
	if got, _ := s.Job(ctx, "c", "open1"); got.Step != moffman.StepFormDelivered || got.Attempts != 1 {
		t.Errorf("an unfinished job was replaced: %+v", got)
	}
	// A job dropped without an event time is re-opened by any listing.
	zero := moffman.Job{CalendarID: "c", EventID: "drop2", OfficeID: "prague", Step: moffman.StepDropped, Created: t0, NextAttempt: t0}
	if err := s.CommitSync(ctx, "c", []moffman.Job{zero}, "t3"); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitSync(ctx, "c", []moffman.Job{detect("drop2", cancelledAt)}, "t4"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Job(ctx, "c", "drop2"); got.Step != moffman.StepDetected {
		t.Errorf("a job dropped without an event time stayed %+v", got)
	}
}

func testManualUsers(t *testing.T, s moffman.StateStore, _ *Clock) {
	ctx := context.Background()
	if got, ok, err := s.ManualUsers(ctx); ok || err != nil || len(got) != 0 {
		t.Fatalf("fresh ManualUsers = %v, %v, %v; want none saved", got, ok, err)
	}
	for _, want := range [][]string{{"a@b.c", "d@e.f"}, {}} {
		if err := s.SaveManualUsers(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.ManualUsers(ctx)
		if err != nil || !ok || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ManualUsers = %v, %v, %v; want %v saved", got, ok, err, want)
		}
	}
}
