package calendartest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// TestStateStore runs the StateStore contract against fresh, empty stores
// from newStore, one per subtest. The stores keep their own clock (real
// time): the tests only compare times they wrote themselves, and sleep a
// few milliseconds where the order of two writes matters.
func TestStateStore(t *testing.T, newStore func(t *testing.T) moffman.StateStore) {
	for _, c := range []struct {
		name string
		test func(*testing.T, moffman.StateStore)
	}{
		{"SyncToken", testSyncTokenStore},
		{"CommitSyncKeepsExistingJobs", testCommitSyncKeepsExistingJobs},
		{"CommitSyncAtomic", testCommitSyncAtomic},
		{"DueJobsOrderAndLimit", testDueJobsOrderAndLimit},
		{"SaveJob", testSaveJob},
		{"SaveJobOfUnknownJob", testSaveJobNotFound},
		{"JobStats", testJobStats},
		{"PruneJobs", testPruneJobs},
		{"Directory", testDirectory},
		{"ClaimsDisjoint", testClaimsDisjoint},
		{"StaleClaimRefused", testStaleClaimRefused},
		{"ClaimsReleased", testClaimsReleased},
		{"JobByKey", testJobByKey},
		{"NeedsOperatorIsNotDue", testNeedsOperatorIsNotDue},
		{"CommitSyncReopensRestoredEvent", testCommitSyncReopensRestoredEvent},
		{"ManualUsers", testManualUsers},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.test(t, newStore(t))
		})
	}
}

// base is a time every store keeps exactly (whole milliseconds, UTC).
func base() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// tick separates two writes in the stores' clocks, which may count whole
// milliseconds.
func tick() { time.Sleep(5 * time.Millisecond) }

func detected(id, office string, created time.Time) moffman.Job {
	return moffman.Job{CalendarID: "c", EventID: id, OfficeID: office, Step: moffman.StepDetected, Created: created, NextAttempt: created}
}

func testSyncTokenStore(t *testing.T, s moffman.StateStore) {
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
	if err := s.CommitSync(ctx, "c", nil, "t3"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := s.SyncToken(ctx, "other"); tok != "" {
		t.Errorf("a calendar never committed has token %q", tok)
	}
}

// testCommitSyncKeepsExistingJobs: a job seen again, finished or not, is
// left exactly as it is; only new keys are added.
func testCommitSyncKeepsExistingJobs(t *testing.T, s moffman.StateStore) {
	ctx := context.Background()
	t0 := base()
	if err := s.CommitSync(ctx, "c", []moffman.Job{detected("evt01", "prague", t0), detected("evt02", "prague", t0)}, "tok1"); err != nil {
		t.Fatal(err)
	}
	// evt01 finishes, evt02 fails once.
	done := detected("evt01", "prague", t0)
	done.Step, done.Attempts = moffman.StepDone, 1
	if err := s.SaveJob(ctx, done); err != nil {
		t.Fatal(err)
	}
	retry := t0.Add(time.Hour)
	failed := detected("evt02", "prague", t0)
	failed.Attempts, failed.LastError, failed.NextAttempt = 1, "byroapi: 502", retry
	if err := s.SaveJob(ctx, failed); err != nil {
		t.Fatal(err)
	}
	// Both seen again, plus a new one: only the new one is added.
	later := t0.Add(time.Minute)
	newJob := detected("evt03", "brno", t0.Add(-time.Hour))
	newJob.NextAttempt = later
	if err := s.CommitSync(ctx, "c", []moffman.Job{detected("evt01", "prague", later), detected("evt02", "prague", later), newJob}, "tok2"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := s.SyncToken(ctx, "c"); tok != "tok2" {
		t.Errorf("token = %q, want tok2", tok)
	}
	due, err := s.DueJobs(ctx, later, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || !jobEqual(due[0], newJob) {
		t.Errorf("due = %+v\nwant  [%+v]", due, newJob)
	}
	due, _ = s.DueJobs(ctx, retry, 10)
	if len(due) != 2 || !jobEqual(due[0], newJob) || !jobEqual(due[1], failed) {
		t.Errorf("due at the retry = %+v\nwant [%+v %+v]", due, newJob, failed)
	}
	// Committing the same jobs again changes nothing.
	if err := s.CommitSync(ctx, "c", []moffman.Job{newJob, detected("evt02", "prague", later)}, "tok2"); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.DueJobs(ctx, retry, 10); len(again) != 2 || !jobEqual(again[1], failed) {
		t.Errorf("due after a repeated commit = %+v", again)
	}
}

func jobEqual(a, b moffman.Job) bool {
	return a.CalendarID == b.CalendarID && a.EventID == b.EventID && a.OfficeID == b.OfficeID &&
		a.Step == b.Step && a.Attempts == b.Attempts && a.LastError == b.LastError &&
		a.NextAttempt.Equal(b.NextAttempt) && a.Created.Equal(b.Created)
}

// testCommitSyncAtomic: a commit that fails stores neither the jobs nor
// the token.
func testCommitSyncAtomic(t *testing.T, s moffman.StateStore) {
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.CommitSync(ctx, "c", nil, "old"); err != nil {
		t.Fatal(err)
	}
	cancel()
	err := s.CommitSync(ctx, "c", []moffman.Job{detected("evt01", "o", base())}, "new")
	if err == nil {
		t.Fatal("CommitSync with a cancelled context succeeded")
	}
	ctx = context.Background()
	if tok, _ := s.SyncToken(ctx, "c"); tok != "old" {
		t.Errorf("token = %q after a failed commit, want old", tok)
	}
	if due, _ := s.DueJobs(ctx, base().Add(time.Hour), 0); len(due) != 0 {
		t.Errorf("jobs after a failed commit: %+v", due)
	}
}

func testDueJobsOrderAndLimit(t *testing.T, s moffman.StateStore) {
	ctx := context.Background()
	t0 := base()
	var jobs []moffman.Job
	for i, created := range []int{3, 1, 4, 0, 2} {
		j := detected(fmt.Sprintf("evt%d", i), "o", t0.Add(time.Duration(created)*time.Minute))
		j.NextAttempt = t0.Add(time.Duration(i) * time.Hour)
		jobs = append(jobs, j)
	}
	dropped := detected("dropped", "o", t0.Add(-time.Hour))
	dropped.Step = moffman.StepDropped
	done := detected("done1", "o", t0.Add(-time.Hour))
	done.Step = moffman.StepDone
	jobs = append(jobs, dropped, done)
	if err := s.CommitSync(ctx, "c", jobs, "t"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		now   time.Time
		limit int
		want  string
	}{
		{t0.Add(10 * time.Hour), 10, "[evt3 evt1 evt4 evt0 evt2]"},
		{t0.Add(10 * time.Hour), 2, "[evt3 evt1]"},
		{t0.Add(10 * time.Hour), 0, "[evt3 evt1 evt4 evt0 evt2]"},
		{t0.Add(10 * time.Hour), -1, "[evt3 evt1 evt4 evt0 evt2]"},
		{t0.Add(2 * time.Hour), 10, "[evt1 evt0 evt2]"}, // a next attempt exactly now is due
		{t0.Add(-time.Second), 10, "[]"},
	} {
		due, err := s.DueJobs(ctx, tc.now, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, j := range due {
			got = append(got, j.EventID)
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("DueJobs(t0%+v, %d) = %v, want %s", tc.now.Sub(t0), tc.limit, got, tc.want)
		}
	}
}

// testSaveJob: every field SaveJob stores comes back from DueJobs, and a
// job saved finished is no longer due.
func testSaveJob(t *testing.T, s moffman.StateStore) {
	ctx := context.Background()
	t0 := base()
	if err := s.CommitSync(ctx, "c", []moffman.Job{detected("evt01", "prague", t0), detected("evt02", "prague", t0.Add(time.Second))}, "t"); err != nil {
		t.Fatal(err)
	}
	saved := detected("evt01", "prague", t0)
	saved.Step, saved.Attempts, saved.LastError, saved.NextAttempt = moffman.StepFormDelivered, 3, "smtp: 451", t0.Add(time.Minute)
	if err := s.SaveJob(ctx, saved); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueJobs(ctx, t0.Add(time.Minute), 0)
	if err != nil || len(due) != 2 || !jobEqual(due[0], saved) {
		t.Fatalf("due = %+v, %v\nwant first %+v", due, err, saved)
	}
	// A retry that succeeds clears the error.
	saved.Attempts, saved.LastError = 0, ""
	if err := s.SaveJob(ctx, saved); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueJobs(ctx, t0.Add(time.Minute), 1); len(due) != 1 || !jobEqual(due[0], saved) {
		t.Errorf("due after clearing the error = %+v, want %+v", due, saved)
	}
	for _, step := range []moffman.JobStep{moffman.StepDone, moffman.StepDropped} {
		saved.Step = step
		if err := s.SaveJob(ctx, saved); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.DueJobs(ctx, t0.Add(time.Hour), 0); len(due) != 1 || due[0].EventID != "evt02" {
			t.Errorf("due after saving evt01 %s = %+v, want only evt02", step, due)
		}
	}
}

func testSaveJobNotFound(t *testing.T, s moffman.StateStore) {
	err := s.SaveJob(context.Background(), moffman.Job{CalendarID: "c", EventID: "nope1", Step: moffman.StepDone})
	wantCode(t, "SaveJob of a job never committed", err, moffman.NotFound)
	if due, _ := s.DueJobs(context.Background(), base().Add(time.Hour), 0); len(due) != 0 {
		t.Errorf("SaveJob of an unknown job created %+v", due)
	}
}

// testJobStats: per office, the unfinished jobs, the oldest creation and
// the error written last; waitlisted jobs counted apart, in neither the
// pending count nor the oldest.
func testJobStats(t *testing.T, s moffman.StateStore) {
	ctx := context.Background()
	if stats, err := s.JobStats(ctx); err != nil || len(stats) != 0 {
		t.Fatalf("JobStats of an empty store = %+v, %v", stats, err)
	}
	t0 := base()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	if err := s.CommitSync(ctx, "c", []moffman.Job{
		detected("a1", "prague", at(5)), detected("a2", "prague", at(2)), detected("a3", "prague", at(1)), detected("b1", "brno", at(7)),
	}, "t"); err != nil {
		t.Fatal(err)
	}
	save := func(j moffman.Job, step moffman.JobStep, lastErr string) {
		t.Helper()
		tick()
		j.Step, j.LastError = step, lastErr
		if err := s.SaveJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	save(detected("a3", "prague", at(1)), moffman.StepDone, "")
	save(detected("a2", "prague", at(2)), moffman.StepFormDelivered, "first failure")
	save(detected("a1", "prague", at(5)), moffman.StepDetected, "second failure")
	save(detected("b1", "brno", at(7)), moffman.StepDetected, "")
	stats, err := s.JobStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]moffman.JobStats{
		"prague": {Pending: 2, Oldest: at(2), LastError: "second failure"}, // the oldest unfinished; the error written last
		"brno":   {Pending: 1, Oldest: at(7)},
	}
	if !statsEqual(stats, want) {
		t.Errorf("JobStats = %+v\nwant %+v", stats, want)
	}
	save(detected("b1", "brno", at(7)), moffman.StepDropped, "")
	save(detected("a2", "prague", at(2)), moffman.StepFormDelivered, "third failure")
	stats, _ = s.JobStats(ctx)
	want = map[string]moffman.JobStats{"prague": {Pending: 2, Oldest: at(2), LastError: "third failure"}}
	if !statsEqual(stats, want) {
		t.Errorf("JobStats after b1 dropped = %+v\nwant %+v", stats, want)
	}
	// The oldest one waits for a desk: it leaves the pending count and
	// the oldest; an office whose jobs all wait has no oldest.
	if err := s.CommitSync(ctx, "c", []moffman.Job{detected("w1", "ostrava", at(0)), detected("w2", "ostrava", at(3))}, "t"); err != nil {
		t.Fatal(err)
	}
	save(detected("a2", "prague", at(2)), moffman.StepWaitlisted, "")
	save(detected("w1", "ostrava", at(0)), moffman.StepWaitlisted, "")
	save(detected("w2", "ostrava", at(3)), moffman.StepWaitlisted, "")
	stats, _ = s.JobStats(ctx)
	want = map[string]moffman.JobStats{
		"prague":  {Pending: 1, Oldest: at(5), Waitlisted: 1, LastError: "second failure"},
		"ostrava": {Waitlisted: 2},
	}
	if !statsEqual(stats, want) {
		t.Errorf("JobStats with waitlisted jobs = %+v\nwant %+v", stats, want)
	}
	// Given its desk, it is pending again, the oldest once more.
	save(detected("a2", "prague", at(2)), moffman.StepDetected, "")
	stats, _ = s.JobStats(ctx)
	if st := stats["prague"]; st.Pending != 2 || !st.Oldest.Equal(at(2)) || st.Waitlisted != 0 {
		t.Errorf("JobStats of prague after its waitlisted job got a desk = %+v, want 2 pending, the oldest at %v", st, at(2))
	}
}

func statsEqual(a, b map[string]moffman.JobStats) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || x.Pending != y.Pending || !x.Oldest.Equal(y.Oldest) || x.Waitlisted != y.Waitlisted || x.LastError != y.LastError {
			return false
		}
	}
	return true
}

// testPruneJobs: only finished jobs last written before the cut go, and
// their keys are free again; unfinished jobs are never pruned.
func testPruneJobs(t *testing.T, s moffman.StateStore) {
	ctx := context.Background()
	t0 := base()
	if err := s.CommitSync(ctx, "c", []moffman.Job{
		detected("old1", "o", t0), detected("new1", "o", t0), detected("open", "o", t0),
	}, "t"); err != nil {
		t.Fatal(err)
	}
	finish := func(id string, step moffman.JobStep) {
		t.Helper()
		j := detected(id, "o", t0)
		j.Step = step
		if err := s.SaveJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	finish("old1", moffman.StepDone)
	tick()
	cut := time.Now()
	tick()
	finish("new1", moffman.StepDropped)
	if n, err := s.PruneJobs(ctx, cut); err != nil || n != 1 {
		t.Errorf("PruneJobs(cut) = %d, %v; want 1 (old1)", n, err)
	}
	if n, err := s.PruneJobs(ctx, cut); err != nil || n != 0 {
		t.Errorf("PruneJobs(cut) again = %d, %v; want 0", n, err)
	}
	// old1's key is free again; new1 (finished, kept) still blocks its key.
	if err := s.CommitSync(ctx, "c", []moffman.Job{detected("old1", "o", t0), detected("new1", "o", t0)}, "t"); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueJobs(ctx, t0.Add(time.Hour), 0); len(due) != 2 || due[0].EventID == "new1" || due[1].EventID == "new1" {
		t.Errorf("due after the prune = %+v; want old1 and open", due)
	}
	tick()
	if n, err := s.PruneJobs(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Errorf("PruneJobs(an hour ahead) = %d, %v; want 1 (new1), never the unfinished", n, err)
	}
	if due, _ := s.DueJobs(ctx, t0.Add(time.Hour), 0); len(due) != 2 {
		t.Errorf("unfinished jobs after pruning = %+v; want old1 and open", due)
	}
}

func testDirectory(t *testing.T, s moffman.StateStore) {
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
func testJobByKey(t *testing.T, s moffman.StateStore) {
	clk := NewClock(base()) // the jobs' times; the store keeps its own clock
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
func testNeedsOperatorIsNotDue(t *testing.T, s moffman.StateStore) {
	clk := NewClock(base()) // the jobs' times; the store keeps its own clock
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
func testCommitSyncReopensRestoredEvent(t *testing.T, s moffman.StateStore) {
	clk := NewClock(base()) // the jobs' times; the store keeps its own clock
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

func testManualUsers(t *testing.T, s moffman.StateStore) {
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
