package moffman_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/byroapi"
	"github.com/moffman/moffman/byroapi/byroapitest"
	"github.com/moffman/moffman/google"
	"github.com/moffman/moffman/googlefake"
	"github.com/moffman/moffman/sqlite"
)

// formService is the Byroapi fake (byroapitest), read the way these
// tests count forms.
type formService struct{ *byroapitest.Server }

func newFormService(t *testing.T) *formService { return &formService{byroapitest.Start(t)} }

func (f *formService) setDown(down bool) { f.SetDown(down) }

// count returns the forms accepted for one user and first day.
func (f *formService) count(user, dateFrom string) int {
	n := 0
	for _, r := range f.Delivered() {
		if r.UserID == user && r.DateFrom == dateFrom {
			n++
		}
	}
	return n
}

// total returns how many forms were accepted.
func (f *formService) total() int { return len(f.Delivered()) }

func (f *formService) issuer(t *testing.T) *byroapi.Client {
	c, err := byroapi.New(byroapi.Config{
		Template: "attendance", URL: f.URL, DateFormat: "YYYY-MM-DD",
		EndDateCorrective: moffman.Shift{Days: -1}, CCToCreator: true, Subject: "{user_name}", Contents: "{date_from}",
	}, f.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	cal    = "prague@group.calendar.google.com"
	jan    = "jan.novak@acme.com"
	today  = "2026-11-27"
	monday = "2026-11-30"
)

var jan1234 = moffman.Person{Email: jan, FirstName: "Jan", LastName: "Novák", EmployeeNumber: "1234"}

type manualEnv struct {
	t        *testing.T
	path     string
	store    *sqlite.Store
	forms    *formService
	dir      *moffman.Directory
	fake     *googlefake.Server // nil when the calendars are the embedded store's
	calendar moffman.Calendar   // the office calendars: the store, or Google through the adapter
	cal      moffman.Calendar   // what ManualSync talks to; calendar unless wrapped
	clock    *testClock         // nil: a fixed time, and the store's own clock
}

// testClock is a clock the test moves, shared by ManualSync and the store.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *testClock) add(d time.Duration) { c.set(c.now().Add(d)) }

// forBackends runs a test on the embedded store and on Google (googlefake
// through the adapter): the sync must behave the same on both.
func forBackends(t *testing.T, test func(t *testing.T, backend string)) {
	for _, backend := range []string{"embedded", "google"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			test(t, backend)
		})
	}
}

func newManualEnv(t *testing.T, backend string, offices ...moffman.Office) *manualEnv {
	if len(offices) == 0 {
		offices = []moffman.Office{{Name: "prague", CalendarID: cal}}
	}
	e := &manualEnv{t: t, path: filepath.Join(t.TempDir(), "store.db"), forms: newFormService(t),
		dir: moffman.NewDirectory(moffman.DirectoryLists{Offices: offices, ManualUsers: []moffman.Person{jan1234}})}
	if backend == "google" {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		fake, err := googlefake.New()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fake.Listen(ctx, "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		for _, o := range offices {
			fake.AddCalendar(o.CalendarID, true)
		}
		e.fake = fake
		e.calendar, err = google.NewCalendar(ctx, google.Options{
			KeyJSON: fake.KeyJSON(), CalendarEndpoint: fake.CalendarEndpoint(),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	e.reopen()
	return e
}

// reopen closes the store and opens it again, as a restarted process would.
func (e *manualEnv) reopen() {
	if e.store != nil {
		e.store.Close()
	}
	opts := []sqlite.Option{sqlite.WithAccount("moffman@service")}
	if e.clock != nil {
		opts = append(opts, sqlite.WithClock(e.clock.now))
	}
	s, err := sqlite.Open(context.Background(), e.path, opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { s.Close() })
	e.store = s
	if e.fake == nil {
		e.calendar = s
	}
	e.cal = e.calendar
}

func (e *manualEnv) sync() *moffman.ManualSync {
	m := &moffman.ManualSync{
		Calendar: e.cal, Store: e.store, Directory: e.dir, Forms: e.forms.issuer(e.t),
		Colors:   moffman.Colors{Unapproved: "4", Approved: "5"},
		CheckMin: moffman.Shift{Weeks: -1}, CheckMax: moffman.Shift{Weeks: 2},
		Now:    func() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if e.clock != nil {
		m.Now = e.clock.now
	}
	return m
}

// withClock has ManualSync and the store read the time from a clock the
// test moves, starting at the fixed time the other tests use.
func (e *manualEnv) withClock() *testClock {
	e.clock = &testClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	e.reopen()
	return e.clock
}

// manual puts an event into the calendar as a person would.
func (e *manualEnv) manual(calendarID, creator, start, end string) moffman.Event {
	e.t.Helper()
	if e.fake != nil {
		id, err := e.fake.AddManualEvent(calendarID, creator, googlefake.ManualEvent{Summary: "office", Start: start, End: end, ColorID: "2"})
		if err != nil {
			e.t.Fatal(err)
		}
		return e.get(calendarID, id)
	}
	ev, err := e.store.Insert(context.Background(), calendarID, moffman.Event{
		Summary: "office", Start: start, End: end, ColorID: "2", CreatorEmail: creator,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return ev
}

func (e *manualEnv) get(calendarID, id string) moffman.Event {
	e.t.Helper()
	ev, err := e.calendar.Get(context.Background(), calendarID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return ev
}

func (e *manualEnv) wantApproved(calendarID, id string) {
	e.t.Helper()
	ev := e.get(calendarID, id)
	if ev.State() != moffman.StateApproved || ev.Summary != "Jan Novák" || ev.ColorID != "5" || ev.Private[moffman.PropProcessed] != "true" {
		e.t.Errorf("event %s = %+v, want approved as Jan Novák in colour 5", id, ev)
	}
}

func TestManualEventApprovedWithOneForm(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		ev := e.manual(cal, jan, monday, "2026-12-02")
		stranger := e.manual(cal, "someone@else.com", monday, "2026-12-01")
		e.sync().RunOnce(context.Background())

		e.wantApproved(cal, ev.ID)
		if n := e.forms.count(jan, monday); n != 1 {
			t.Errorf("%d forms for the event, want 1", n)
		}
		if got := e.get(cal, stranger.ID); got.State() != moffman.StateManual || got.Summary != "office" {
			t.Errorf("an unregistered creator's event was touched: %+v", got)
		}
		// A second run finds nothing new.
		e.sync().RunOnce(context.Background())
		if n := e.forms.total(); n != 1 {
			t.Errorf("%d forms after a second run, want 1", n)
		}
	})
}

func TestMovedAndCancelledBeforeForm(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		moved := e.manual(cal, jan, monday, "2026-12-01")
		gone := e.manual(cal, jan, "2026-12-03", "2026-12-04")
		m := e.sync()
		ctx := context.Background()
		if err := m.SyncOffice(ctx, moffman.Office{Name: "prague", CalendarID: cal}); err != nil {
			t.Fatal(err)
		}
		newStart, newEnd := "2026-12-08", "2026-12-09"
		if _, err := e.calendar.Patch(ctx, cal, moved.ID, moffman.EventPatch{Start: &newStart, End: &newEnd}); err != nil {
			t.Fatal(err)
		}
		if err := e.calendar.Delete(ctx, cal, gone.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := m.ProcessDueJobs(ctx); err != nil {
			t.Fatal(err)
		}
		if e.forms.count(jan, monday) != 0 || e.forms.count(jan, newStart) != 1 {
			t.Errorf("the moved event's form must carry the new dates: %+v", e.forms.Delivered())
		}
		if e.forms.count(jan, "2026-12-03") != 0 {
			t.Error("a form was sent for a cancelled event")
		}
		if got := e.get(cal, gone.ID); got.Status != moffman.StatusCancelled || got.Summary != "office" {
			t.Errorf("cancelled event changed: %+v", got)
		}
		e.wantApproved(cal, moved.ID)
	})
}

func TestByroapiDownThenBack(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		ev := e.manual(cal, jan, monday, "2026-12-01")
		e.forms.setDown(true)
		now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		m := e.sync()
		m.Now = func() time.Time { return now }
		m.RunOnce(context.Background())
		if got := e.get(cal, ev.ID); got.State() != moffman.StateManual {
			t.Fatalf("approved before its form was delivered: %+v", got)
		}
		status, err := m.Status(context.Background())
		if err != nil || len(status) != 1 || status[0].Jobs.Pending != 1 || status[0].Jobs.LastError == "" {
			t.Fatalf("status while Byroapi is down = %+v, %v", status, err)
		}
		// Retries are not due yet; later they are.
		if n, _ := m.ProcessDueJobs(context.Background()); n != 0 {
			t.Errorf("%d jobs finished before the retry time", n)
		}
		e.forms.setDown(false)
		now = now.Add(time.Hour)
		if n, err := m.ProcessDueJobs(context.Background()); n != 1 || err != nil {
			t.Fatalf("after Byroapi came back: %d finished, %v", n, err)
		}
		e.wantApproved(cal, ev.ID)
		if n := e.forms.total(); n != 1 {
			t.Errorf("%d forms, want exactly 1", n)
		}
	})
}

func TestManyPagesAndExpiredToken(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		m := e.sync()
		ctx := context.Background()
		m.RunOnce(ctx) // stores a sync token
		var ids []string
		for i := range 600 { // more than two pages of 250
			day := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%14)
			ev := e.manual(cal, jan, day.Format(moffman.DateLayout), day.AddDate(0, 0, 1).Format(moffman.DateLayout))
			ids = append(ids, ev.ID)
		}
		m.RunOnce(ctx)
		for _, id := range ids {
			if got := e.get(cal, id); got.State() != moffman.StateApproved {
				t.Fatalf("event %s not approved after an incremental sync of 600 events", id)
			}
		}
		if n := e.forms.total(); n != 600 {
			t.Errorf("%d forms, want 600", n)
		}

		// A token the calendar no longer accepts falls back to the window.
		if err := e.store.CommitSync(ctx, cal, nil, "not-a-token"); err != nil {
			t.Fatal(err)
		}
		late := e.manual(cal, jan, "2026-12-05", "2026-12-06")
		m.RunOnce(ctx)
		e.wantApproved(cal, late.ID)
		status, _ := m.Status(ctx)
		if !status[0].FullSync || status[0].LastError != "" {
			t.Errorf("status after an expired token = %+v", status[0])
		}
		if n := e.forms.total(); n != 601 {
			t.Errorf("%d forms after the full sync, want 601 (no repeats)", n)
		}
	})
}

// listRecorder remembers the queries ManualSync listed with.
type listRecorder struct {
	moffman.Calendar
	mu      sync.Mutex
	queries []moffman.ListQuery
}

func (l *listRecorder) List(ctx context.Context, calendarID string, q moffman.ListQuery) (moffman.EventPage, error) {
	l.mu.Lock()
	l.queries = append(l.queries, q)
	l.mu.Unlock()
	return l.Calendar.List(ctx, calendarID, q)
}

func TestRestartUsesStoredToken(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		e.manual(cal, jan, monday, "2026-12-01")
		e.sync().RunOnce(context.Background())
		e.reopen()
		rec := &listRecorder{Calendar: e.calendar}
		e.cal = rec
		e.sync().RunOnce(context.Background())
		if len(rec.queries) != 1 || rec.queries[0].SyncToken == "" || !rec.queries[0].TimeMin.IsZero() {
			t.Errorf("after a restart the sync listed %+v, want one incremental list", rec.queries)
		}
		if n := e.forms.total(); n != 1 {
			t.Errorf("%d forms after the restart, want 1", n)
		}
	})
}

// crash stands for a process killed at one point: from then on none of
// its calls reach the store, the calendar or Byroapi.
type crash struct {
	mu      sync.Mutex
	crashed bool
}

func (c *crash) now() { c.mu.Lock(); c.crashed = true; c.mu.Unlock() }

func (c *crash) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crashed {
		return errors.New("process killed")
	}
	return nil
}

// crashingStore fails every write after the crash.
type crashingStore struct {
	moffman.StateStore
	c *crash
}

func (s crashingStore) SaveJob(ctx context.Context, j moffman.Job) error {
	if err := s.c.err(); err != nil {
		return err
	}
	return s.StateStore.SaveJob(ctx, j)
}

// crashingCalendar crashes just before or just after a patch.
type crashingCalendar struct {
	moffman.Calendar
	c                       *crash
	beforePatch, afterPatch bool
}

func (cc crashingCalendar) Patch(ctx context.Context, calendarID, id string, p moffman.EventPatch) (moffman.Event, error) {
	if cc.beforePatch {
		cc.c.now()
	}
	if err := cc.c.err(); err != nil {
		return moffman.Event{}, err
	}
	ev, err := cc.Calendar.Patch(ctx, calendarID, id, p)
	if cc.afterPatch {
		cc.c.now()
	}
	return ev, err
}

// crashingForms has the form delivered, then crashes before moffman
// records that.
type crashingForms struct {
	moffman.FormIssuer
	c *crash
}

func (f crashingForms) IssueForm(ctx context.Context, p moffman.Person, ev moffman.Event) error {
	err := f.FormIssuer.IssueForm(ctx, p, ev)
	f.c.now()
	return err
}

func TestCrashAtEachStepThenRestart(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		cases := []struct {
			name      string
			crash     func(e *manualEnv, m *moffman.ManualSync, c *crash)
			wantForms int
		}{
			{"after detection", nil, 1},
			{"after the form was recorded, before the approval", func(e *manualEnv, m *moffman.ManualSync, c *crash) {
				m.Calendar = crashingCalendar{Calendar: e.calendar, c: c, beforePatch: true}
			}, 1},
			{"after the approval, before it was recorded", func(e *manualEnv, m *moffman.ManualSync, c *crash) {
				m.Calendar = crashingCalendar{Calendar: e.calendar, c: c, afterPatch: true}
			}, 1},
			// The documented window: Byroapi accepted the form, the process
			// died before recording it. Without an idempotency key at Byroapi
			// the restart must send it again rather than risk losing it.
			{"after Byroapi accepted, before it was recorded", func(e *manualEnv, m *moffman.ManualSync, c *crash) {
				m.Forms = crashingForms{FormIssuer: m.Forms, c: c}
			}, 2},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				e := newManualEnv(t, backend)
				ev := e.manual(cal, jan, monday, "2026-12-01")
				m := e.sync()
				ctx := context.Background()
				if err := m.SyncOffice(ctx, moffman.Office{Name: "prague", CalendarID: cal}); err != nil {
					t.Fatal(err)
				}
				if tc.crash != nil {
					c := &crash{}
					m.Store = crashingStore{StateStore: e.store, c: c}
					tc.crash(e, m, c)
					if _, err := m.ProcessDueJobs(ctx); err == nil {
						t.Fatal("the crash did not happen")
					}
				}
				e.reopen()
				e.sync().RunOnce(ctx)
				e.wantApproved(cal, ev.ID)
				if n := e.forms.total(); n != tc.wantForms {
					t.Errorf("%d forms, want %d", n, tc.wantForms)
				}
				status, _ := e.sync().Status(ctx)
				if status[0].Jobs.Pending != 0 {
					t.Errorf("%d jobs left", status[0].Jobs.Pending)
				}
			})
		}
	})
}

func TestHundredOffices(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		var offices []moffman.Office
		for i := range 100 {
			offices = append(offices, moffman.Office{Name: fmt.Sprintf("office%03d", i), CalendarID: fmt.Sprintf("office%03d@group.calendar.google.com", i)})
		}
		e := newManualEnv(t, backend, offices...)
		var ids []string
		for _, o := range offices {
			ids = append(ids, e.manual(o.CalendarID, jan, monday, "2026-12-01").ID)
		}
		e.sync().RunOnce(context.Background())
		for i, o := range offices {
			e.wantApproved(o.CalendarID, ids[i])
		}
		if n := e.forms.total(); n != 100 {
			t.Errorf("%d forms, want 100", n)
		}
	})
}

func TestNoFormsConfigured(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		ev := e.manual(cal, jan, monday, "2026-12-01")
		m := e.sync()
		m.Forms = nil
		m.RunOnce(context.Background())
		e.wantApproved(cal, ev.ID)
		if n := e.forms.total(); n != 0 {
			t.Errorf("%d forms sent without a form configuration", n)
		}
	})
}

// slowForms holds each form delivery until the test lets it go.
type slowForms struct {
	moffman.FormIssuer
	started chan struct{}
	release chan struct{}
}

func (f slowForms) IssueForm(ctx context.Context, p moffman.Person, ev moffman.Event) error {
	f.started <- struct{}{}
	<-f.release
	return f.FormIssuer.IssueForm(ctx, p, ev)
}

// TestShutdownDuringFormDelivery stops the sync while Byroapi is answering:
// the step under way finishes and is recorded, so a restart approves the
// event without sending the form again.
func TestShutdownDuringFormDelivery(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		ev := e.manual(cal, jan, monday, "2026-12-01")
		m := e.sync()
		forms := slowForms{FormIssuer: m.Forms, started: make(chan struct{}), release: make(chan struct{})}
		m.Forms = forms
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { m.RunOnce(ctx); close(done) }()
		<-forms.started
		cancel() // shutdown begins while the form is on its way
		close(forms.release)
		<-done

		if e.forms.total() != 1 {
			t.Fatalf("%d forms delivered, want 1", e.forms.total())
		}
		e.reopen()
		e.sync().RunOnce(context.Background())
		e.wantApproved(cal, ev.ID)
		if n := e.forms.total(); n != 1 {
			t.Errorf("%d forms after the restart, want 1 (the delivered form was recorded)", n)
		}
	})
}

// TestFullSyncWindowIsWholeDays: the checking range runs from midnight UTC
// of today plus checking_range's start to midnight plus its end, whatever
// the time of the run: the last day inside is detected, the first day
// after it is not.
func TestFullSyncWindowIsWholeDays(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		// The run is at 10:00 on 2026-11-27; the range is one week back, two ahead.
		first := e.manual(cal, jan, "2026-11-20", "2026-11-21")
		last := e.manual(cal, jan, "2026-12-10", "2026-12-11")
		after := e.manual(cal, jan, "2026-12-11", "2026-12-12")
		before := e.manual(cal, jan, "2026-11-19", "2026-11-20")
		if err := e.sync().SyncOffice(context.Background(), moffman.Office{Name: "prague", CalendarID: cal}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			ev   moffman.Event
			want bool
		}{{"first day", first, true}, {"last day", last, true}, {"day after", after, false}, {"day before", before, false}} {
			if _, ok := e.pendingJob(c.ev.ID); ok != c.want {
				t.Errorf("%s (%s): detected %v, want %v", c.name, c.ev.Start, ok, c.want)
			}
		}
	})
}
