package moffman_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/testlog"
	"github.com/moffman/moffman/sqlite"
)

var farFuture = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// pendingJob returns the unfinished job of an event as the store has it.
func (e *manualEnv) pendingJob(eventID string) (moffman.Job, bool) {
	e.t.Helper()
	jobs, err := e.store.DueJobs(context.Background(), farFuture, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, j := range jobs {
		if j.EventID == eventID {
			return j, true
		}
	}
	return moffman.Job{}, false
}

// wantRetryWithin checks that a failed job waits between lo and hi from now.
func wantRetryWithin(t *testing.T, job moffman.Job, now time.Time, lo, hi time.Duration) {
	t.Helper()
	// The store keeps milliseconds: allow the truncation below lo.
	if wait := job.NextAttempt.Sub(now); wait < lo-time.Millisecond || wait > hi {
		t.Errorf("attempt %d retries after %v, want within [%v, %v]", job.Attempts, wait, lo, hi)
	}
}

// TestRetryBackoffBounds: while Byroapi refuses forms, the first retry
// comes after about a second, the waits double, and none is longer than
// five minutes; each wait is jittered within [d/2, d].
func TestRetryBackoffBounds(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	clock := e.withClock()
	ev := e.manual(cal, jan, monday, "2026-12-01")
	e.forms.setDown(true)
	m := e.sync()
	m.RunOnce(context.Background())
	for attempt := 1; attempt <= 14; attempt++ {
		job, ok := e.pendingJob(ev.ID)
		if !ok || job.Attempts != attempt {
			t.Fatalf("after failure %d the job is %+v (pending %v), want %d attempts", attempt, job, ok, attempt)
		}
		d := min(time.Second<<(attempt-1), 5*time.Minute)
		wantRetryWithin(t, job, clock.now(), d/2, d)
		// Not attempted before its time, attempted at it.
		clock.set(job.NextAttempt.Add(-time.Millisecond))
		if _, err := m.ProcessDueJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		if again, _ := e.pendingJob(ev.ID); again.Attempts != attempt {
			t.Fatalf("attempt %d retried before its time", attempt)
		}
		clock.set(job.NextAttempt)
		if _, err := m.ProcessDueJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFailedJobsDoNotRetryInLockStep: many forms refused at the same moment
// are not all retried at the same moment.
func TestFailedJobsDoNotRetryInLockStep(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	e.withClock()
	for i := range 20 {
		day := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%10)
		e.manual(cal, jan, day.Format(moffman.DateLayout), day.AddDate(0, 0, 1).Format(moffman.DateLayout))
	}
	e.forms.setDown(true)
	e.sync().RunOnce(context.Background())
	jobs, err := e.store.DueJobs(context.Background(), farFuture, 0)
	if err != nil || len(jobs) != 20 {
		t.Fatalf("%d jobs pending, %v; want 20", len(jobs), err)
	}
	times := map[time.Time]bool{}
	for _, j := range jobs {
		times[j.NextAttempt] = true
	}
	if len(times) < 2 {
		t.Errorf("all 20 failed jobs retry at %v", jobs[0].NextAttempt)
	}
}

// failingPatch fails every approval with a calendar error until healed.
type failingPatch struct {
	moffman.Calendar
	mu     sync.Mutex
	failID string // "": every event
	healed bool
}

func (f *failingPatch) Patch(ctx context.Context, calendarID, id string, p moffman.EventPatch) (moffman.Event, error) {
	f.mu.Lock()
	fail := !f.healed && (f.failID == "" || f.failID == id)
	f.mu.Unlock()
	if fail {
		return moffman.Event{}, moffman.Errorf(moffman.Unavailable, "calendar unavailable")
	}
	return f.Calendar.Patch(ctx, calendarID, id, p)
}

func (f *failingPatch) heal() { f.mu.Lock(); f.healed = true; f.mu.Unlock() }

// TestRetriedStepSucceedsThenNextFails: once the form goes out after two
// refusals, the approval's first failure counts as its own first attempt,
// shows its own error and retries after about a second, not after the
// form's longer backoff.
func TestRetriedStepSucceedsThenNextFails(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	clock := e.withClock()
	ev := e.manual(cal, jan, monday, "2026-12-01")
	e.forms.setDown(true)
	m := e.sync()
	ctx := context.Background()
	m.RunOnce(ctx)
	clock.add(time.Minute)
	if _, err := m.ProcessDueJobs(ctx); err != nil {
		t.Fatal(err)
	}
	if job, _ := e.pendingJob(ev.ID); job.Attempts != 2 || job.Step != moffman.StepDetected {
		t.Fatalf("after two refused forms the job is %+v", job)
	}

	e.forms.setDown(false)
	patch := &failingPatch{Calendar: e.calendar}
	m.Calendar = patch
	clock.add(time.Minute)
	if _, err := m.ProcessDueJobs(ctx); err != nil {
		t.Fatal(err)
	}
	job, ok := e.pendingJob(ev.ID)
	if !ok || job.Step != moffman.StepFormDelivered || job.Attempts != 1 {
		t.Fatalf("after the form and a failed approval the job is %+v (pending %v), want form_delivered, 1 attempt", job, ok)
	}
	if !strings.Contains(job.LastError, "calendar unavailable") {
		t.Errorf("last error %q, want the approval's error", job.LastError)
	}
	wantRetryWithin(t, job, clock.now(), 500*time.Millisecond, time.Second)
	status, err := m.Status(ctx)
	if err != nil || !strings.Contains(status[0].Jobs.LastError, "calendar unavailable") {
		t.Errorf("status = %+v, %v; want the approval's error", status, err)
	}

	patch.heal()
	clock.add(time.Second)
	if n, err := m.ProcessDueJobs(ctx); n != 1 || err != nil {
		t.Fatalf("after the calendar healed: %d finished, %v", n, err)
	}
	e.wantApproved(cal, ev.ID)
	if n := e.forms.total(); n != 1 {
		t.Errorf("%d forms, want 1", n)
	}
}

// failingCommit refuses to commit a sync, as a full disk would.
type failingCommit struct{ moffman.StateStore }

func (failingCommit) CommitSync(context.Context, string, []moffman.Job, string) error {
	return errors.New("disk full")
}

// TestFailedCommitIsNotSuccess: when the store cannot record what a sync
// found, no job exists, the sync token stays where it was so the next run
// lists the same changes, and the status says why.
func TestFailedCommitIsNotSuccess(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		ctx := context.Background()
		office := moffman.Office{Name: "prague", CalendarID: cal}
		m := e.sync()
		m.RunOnce(ctx)
		token, err := e.store.SyncToken(ctx, cal)
		if err != nil || token == "" {
			t.Fatalf("token after the first run = %q, %v", token, err)
		}
		ev := e.manual(cal, jan, monday, "2026-12-01")

		m.Store = failingCommit{e.store}
		if err := m.SyncOffice(ctx, office); err == nil {
			t.Fatal("SyncOffice succeeded though the store refused the commit")
		}
		status, err := m.Status(ctx)
		if err != nil || !strings.Contains(status[0].LastError, "disk full") || status[0].ManualDetected != 0 {
			t.Errorf("status after a failed commit = %+v, %v", status, err)
		}
		if _, ok := e.pendingJob(ev.ID); ok {
			t.Error("a job exists though its commit failed")
		}
		if now, _ := e.store.SyncToken(ctx, cal); now != token {
			t.Errorf("token moved from %q to %q though the commit failed", token, now)
		}

		m.Store = e.store
		m.RunOnce(ctx)
		e.wantApproved(cal, ev.ID)
		if n := e.forms.total(); n != 1 {
			t.Errorf("%d forms, want 1", n)
		}
		if status, _ := m.Status(ctx); status[0].LastError != "" {
			t.Errorf("status after the store healed = %+v", status[0])
		}
	})
}

// TestDetectionSkipsCancelledAndForeignEvents: of the changes a sync lists,
// only a live, unprocessed event of a manual user becomes a job.
func TestDetectionSkipsCancelledAndForeignEvents(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		ctx := context.Background()
		m := e.sync()
		m.RunOnce(ctx) // stores a token: the events below come as changes

		wanted := e.manual(cal, jan, monday, "2026-12-01")
		cancelled := e.manual(cal, jan, "2026-12-02", "2026-12-03")
		if err := e.calendar.Delete(ctx, cal, cancelled.ID); err != nil {
			t.Fatal(err)
		}
		e.manual(cal, "someone@else.com", "2026-12-03", "2026-12-04")
		// Already moffman's, created in jan's name (the embedded store keeps
		// the creator given; Google records the service account).
		if _, err := e.calendar.Insert(ctx, cal, moffman.Event{Summary: "Jan Novák", Start: "2026-12-04", End: "2026-12-05",
			CreatorEmail: jan, Private: map[string]string{moffman.PropProcessed: "true", moffman.PropUserEmail: jan}}); err != nil {
			t.Fatal(err)
		}

		if err := m.SyncOffice(ctx, moffman.Office{Name: "prague", CalendarID: cal}); err != nil {
			t.Fatal(err)
		}
		jobs, err := e.store.DueJobs(ctx, farFuture, 0)
		if err != nil || len(jobs) != 1 || jobs[0].EventID != wanted.ID {
			t.Errorf("jobs after the sync = %+v, %v; want one for %s", jobs, err, wanted.ID)
		}
		status, _ := m.Status(ctx)
		if status[0].EventsSeen != 4 || status[0].ManualDetected != 1 {
			t.Errorf("status = %+v, want 4 events seen, 1 manual detected", status[0])
		}
	})
}

// TestPruneKeepsRecentAndUnfinishedJobs: a run deletes jobs that finished
// more than 30 days ago and keeps younger finished jobs and unfinished ones.
func TestPruneKeepsRecentAndUnfinishedJobs(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	clock := e.withClock()
	ctx := context.Background()
	e.manual(cal, jan, monday, "2026-12-01") // approved on day 0
	stuck := e.manual(cal, jan, "2026-12-02", "2026-12-03")
	m := e.sync()
	m.Calendar = &failingPatch{Calendar: e.calendar, failID: stuck.ID} // never approved
	m.RunOnce(ctx)

	clock.add(5 * 24 * time.Hour)
	e.manual(cal, jan, "2026-12-07", "2026-12-08") // approved on day 5
	m.RunOnce(ctx)

	clock.add(26 * 24 * time.Hour) // day 31: the first approval is 31 days old, the second 26
	m.RunOnce(ctx)
	if _, ok := e.pendingJob(stuck.ID); !ok {
		t.Error("the unfinished job was pruned")
	}
	// What the run left: pruning the rest now counts the finished jobs kept.
	if n, err := e.store.PruneJobs(ctx, farFuture); n != 1 || err != nil {
		t.Errorf("%d finished jobs left after the day-31 run, %v; want 1 (the day-5 one)", n, err)
	}
}

// countingForms is an in-process form service: the Run test lives in a
// synctest bubble, where the network would stall the fake clock.
type countingForms struct {
	mu     sync.Mutex
	down   bool
	issued int
}

func (f *countingForms) IssueForm(context.Context, moffman.Person, moffman.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return moffman.Errorf(moffman.Upstream, "form service refused")
	}
	f.issued++
	return nil
}

func (f *countingForms) set(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

func (f *countingForms) count() int { f.mu.Lock(); defer f.mu.Unlock(); return f.issued }

// TestRunSyncsEveryIntervalAndPollsJobs: Run syncs at once and then every
// Interval, retries due jobs every JobPoll between syncs, and returns when
// its context ends. The bubble's fake clock makes the hour pass at once.
func TestRunSyncsEveryIntervalAndPollsJobs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		store, err := sqlite.Open(ctx, "") // in memory: no checkpointer ticking in the bubble
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		rec := &listRecorder{Calendar: store}
		forms := &countingForms{}
		claims := &breakableClaims{StateStore: store}
		m := &moffman.ManualSync{
			Calendar: rec, Store: claims, Forms: forms,
			Directory: moffman.NewDirectory(moffman.DirectoryLists{
				Offices: []moffman.Office{{Name: "prague", CalendarID: cal}}, ManualUsers: []moffman.Person{jan1234}}),
			Colors:   moffman.Colors{Approved: "5"},
			CheckMin: moffman.Shift{Weeks: -1}, CheckMax: moffman.Shift{Weeks: 2},
			Interval: time.Hour, JobPoll: 5 * time.Second,
		}
		logs := recordLogs(m)
		listings := func() int { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.queries) }
		stopped := make(chan error, 1)
		go func() { stopped <- m.Run(ctx) }()
		synctest.Wait()
		if n := listings(); n != 1 {
			t.Fatalf("%d listings at start, want 1", n)
		}

		// An event put in after the first sync waits for the next one.
		day := time.Now().UTC().AddDate(0, 0, 3)
		ev, err := store.Insert(ctx, cal, moffman.Event{Summary: "office", Start: day.Format(moffman.DateLayout),
			End: day.AddDate(0, 0, 1).Format(moffman.DateLayout), CreatorEmail: jan})
		if err != nil {
			t.Fatal(err)
		}
		forms.set(true)
		time.Sleep(time.Hour - time.Second)
		synctest.Wait()
		if n, got := listings(), mustGet(t, store, ev.ID); n != 1 || !got.IsManual() {
			t.Fatalf("just before the interval: %d listings, event %+v; want 1 and untouched", n, got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n := listings(); n != 2 {
			t.Fatalf("%d listings after one interval, want 2", n)
		}

		// The sync's form was refused; the poll retries it before the next sync.
		forms.set(false)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if n, got := listings(), mustGet(t, store, ev.ID); n != 2 || got.IsManual() || forms.count() != 1 {
			t.Errorf("a poll after the refusal: %d listings, %d forms, event %+v; want 2, 1, approved", n, forms.count(), got)
		}
		if got := logs.String(); strings.Contains(got, "level=ERROR") {
			t.Errorf("good polls logged errors:\n%s", got)
		}
		// A poll that cannot claim jobs says so.
		claims.set(true)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if got := logs.String(); !strings.Contains(got, `level=ERROR msg="processing manual-event jobs failed"`) {
			t.Errorf("a failed poll was not logged:\n%s", got)
		}

		cancel()
		synctest.Wait()
		select {
		case err := <-stopped:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		default:
			t.Fatal("Run did not return when its context ended")
		}
		time.Sleep(3 * time.Hour)
		if n := listings(); n != 2 {
			t.Errorf("%d listings after Run returned, want 2", n)
		}
	})
}

func mustGet(t *testing.T, c moffman.Calendar, id string) moffman.Event {
	t.Helper()
	ev, err := c.Get(context.Background(), cal, id)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestStepThatSucceedsClearsItsFailures: a job whose refused form finally
// goes out no longer reports the refusal, even when shutdown stops it before
// the approval.
func TestStepThatSucceedsClearsItsFailures(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	clock := e.withClock()
	ev := e.manual(cal, jan, monday, "2026-12-01")
	e.forms.setDown(true)
	m := e.sync()
	m.RunOnce(context.Background())
	if status, _ := m.Status(context.Background()); status[0].Jobs.LastError == "" {
		t.Fatalf("status while the form is refused = %+v, want its error", status[0])
	}

	e.forms.setDown(false)
	forms := slowForms{FormIssuer: m.Forms, started: make(chan struct{}), release: make(chan struct{})}
	m.Forms = forms
	clock.add(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _, _ = m.ProcessDueJobs(ctx); close(done) }()
	<-forms.started
	cancel() // the form step finishes; the approval waits for the next run
	close(forms.release)
	<-done

	job, ok := e.pendingJob(ev.ID)
	if !ok || job.Step != moffman.StepFormDelivered || job.Attempts != 0 || job.LastError != "" {
		t.Errorf("after the form went out the job is %+v (pending %v), want form_delivered with no failures", job, ok)
	}
	if status, _ := m.Status(context.Background()); status[0].Jobs.LastError != "" {
		t.Errorf("status still reports %q after the form went out", status[0].Jobs.LastError)
	}
}

// breakableClaims fails claiming jobs while broken.
type breakableClaims struct {
	moffman.StateStore
	mu     sync.Mutex
	broken bool
}

func (b *breakableClaims) set(broken bool) { b.mu.Lock(); b.broken = broken; b.mu.Unlock() }

func (b *breakableClaims) ClaimJobs(ctx context.Context, now time.Time, limit int, holder string, claimFor time.Duration) ([]moffman.Job, error) {
	b.mu.Lock()
	broken := b.broken
	b.mu.Unlock()
	if broken {
		return nil, errors.New("jobs table unreadable")
	}
	return b.StateStore.ClaimJobs(ctx, now, limit, holder, claimFor)
}

// brokenJobStore fails claiming and pruning jobs, as a store that cannot
// be read would.
type brokenJobStore struct{ moffman.StateStore }

func (brokenJobStore) ClaimJobs(context.Context, time.Time, int, string, time.Duration) ([]moffman.Job, error) {
	return nil, errors.New("jobs table unreadable")
}

func (brokenJobStore) PruneJobs(context.Context, time.Time) (int, error) {
	return 0, errors.New("jobs table unreadable")
}

// recordLogs has m log into a buffer at every level and returns it.
func recordLogs(m *moffman.ManualSync) *testlog.Buffer {
	logs := &testlog.Buffer{}
	m.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return logs
}

// TestRunOnceLogs: what an operator reads in the configured log. A good
// run warns of nothing and reports the events it detected, once; a
// calendar that cannot be listed, jobs that cannot be claimed and finished
// jobs that cannot be pruned are each logged; a run cut short by shutdown
// logs no errors.
func TestRunOnceLogs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newManualEnv(t, "embedded")
	e.manual(cal, jan, monday, "2026-12-01")
	m := e.sync()
	logs := recordLogs(m)
	m.RunOnce(ctx)
	m.RunOnce(ctx) // nothing new
	got := logs.String()
	if n := strings.Count(got, `msg="manual events detected"`); n != 1 || !strings.Contains(got, `msg="manual events detected" office=prague count=1`) {
		t.Errorf("%d reports of the detected event in two runs, want 1:\n%s", n, got)
	}
	if strings.Contains(got, "level=WARN") || strings.Contains(got, "level=ERROR") {
		t.Errorf("good runs logged warnings or errors:\n%s", got)
	}

	m.Calendar = &failingList{Calendar: e.cal, down: true}
	m.Store = brokenJobStore{e.store}
	logs = recordLogs(m)
	m.RunOnce(ctx)
	got = logs.String()
	for _, want := range []string{
		`level=ERROR msg="manual-event sync failed" office=prague`,
		`level=ERROR msg="processing manual-event jobs failed"`,
		`level=WARN msg="pruning finished jobs failed"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("a failing run did not log %q:\n%s", want, got)
		}
	}

	logs = recordLogs(m)
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	m.RunOnce(stopped)
	if got := logs.String(); strings.Contains(got, "level=ERROR") || strings.Contains(got, "level=WARN") {
		t.Errorf("a run after shutdown began logged errors:\n%s", got)
	}
}
