package moffman_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/byroapi"
	"github.com/moffman/moffman/sqlite"
)

// Trust: the manual flow heals by itself from calendars unshared for a
// while, users added late, events restored from the trash and a form
// service that does not answer, with exactly one form per event.

// lockedCalendar answers NotFound for every call while locked, as Google
// does for a calendar no longer shared with the account.
type lockedCalendar struct {
	moffman.Calendar
	mu     sync.Mutex
	locked bool
}

func (c *lockedCalendar) set(locked bool) { c.mu.Lock(); c.locked = locked; c.mu.Unlock() }

func (c *lockedCalendar) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locked {
		return moffman.Errorf(moffman.NotFound, "calendar not found")
	}
	return nil
}

func (c *lockedCalendar) Get(ctx context.Context, cal, id string) (moffman.Event, error) {
	if err := c.err(); err != nil {
		return moffman.Event{}, err
	}
	return c.Calendar.Get(ctx, cal, id)
}

func (c *lockedCalendar) Patch(ctx context.Context, cal, id string, p moffman.EventPatch) (moffman.Event, error) {
	if err := c.err(); err != nil {
		return moffman.Event{}, err
	}
	return c.Calendar.Patch(ctx, cal, id, p)
}

func (c *lockedCalendar) Insert(ctx context.Context, cal string, ev moffman.Event) (moffman.Event, error) {
	if err := c.err(); err != nil {
		return moffman.Event{}, err
	}
	return c.Calendar.Insert(ctx, cal, ev)
}

func (c *lockedCalendar) Delete(ctx context.Context, cal, id string) error {
	if err := c.err(); err != nil {
		return err
	}
	return c.Calendar.Delete(ctx, cal, id)
}

func (c *lockedCalendar) List(ctx context.Context, cal string, q moffman.ListQuery) (moffman.EventPage, error) {
	if err := c.err(); err != nil {
		return moffman.EventPage{}, err
	}
	return c.Calendar.List(ctx, cal, q)
}

func (c *lockedCalendar) Subscribe(ctx context.Context, cal string) error {
	if err := c.err(); err != nil {
		return err
	}
	return c.Calendar.Subscribe(ctx, cal)
}

// access returns functions that take the office calendar away from the
// service account and give it back: googlefake's sharing on Google, a
// locked wrapper (installed as e.cal) on the embedded store.
func (e *manualEnv) access() (lose, regain func()) {
	if e.fake != nil {
		return func() { e.fake.Unshare(cal) }, func() { e.fake.Share(cal) }
	}
	locked := &lockedCalendar{Calendar: e.calendar}
	e.cal = locked
	return func() { locked.set(true) }, func() { locked.set(false) }
}

// afterForm runs a function right after each form Byroapi accepted.
type afterForm struct {
	moffman.FormIssuer
	then func()
}

func (f afterForm) IssueForm(ctx context.Context, p moffman.Person, ev moffman.Event) error {
	err := f.FormIssuer.IssueForm(ctx, p, ev)
	if err == nil {
		f.then()
	}
	return err
}

func TestAccessLostThenRegainedFinishesWithOneForm(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		t.Run("before the form", func(t *testing.T) {
			e := newManualEnv(t, backend)
			clock := e.withClock()
			lose, regain := e.access()
			ev := e.manual(cal, jan, monday, "2026-12-01")
			m := e.sync()
			ctx := context.Background()
			if err := m.SyncOffice(ctx, moffman.Office{Name: "prague", CalendarID: cal}); err != nil {
				t.Fatal(err)
			}
			lose()
			for range 3 { // the event's calendar answers 404 to every attempt
				if _, err := m.ProcessDueJobs(ctx); err != nil {
					t.Fatal(err)
				}
				job, ok := e.pendingJob(ev.ID)
				if !ok || job.Step != moffman.StepDetected || !strings.Contains(job.LastError, "not reachable now") {
					t.Fatalf("while the calendar is unshared the job is %+v (pending %v), want it kept at detected with its error", job, ok)
				}
				clock.set(job.NextAttempt)
			}
			regain()
			if n, err := m.ProcessDueJobs(ctx); n != 1 || err != nil {
				t.Fatalf("after access returned: %d finished, %v", n, err)
			}
			e.wantApproved(cal, ev.ID)
			if n := e.forms.total(); n != 1 {
				t.Errorf("%d forms, want 1", n)
			}
			if st, _ := m.Status(ctx); st[0].FormsDelivered != 1 || st[0].EventsApproved != 1 || st[0].Jobs.Pending != 0 {
				t.Errorf("status = %+v, want 1 form delivered, 1 event approved, none pending", st[0])
			}
		})
		t.Run("before the approval", func(t *testing.T) {
			e := newManualEnv(t, backend)
			clock := e.withClock()
			lose, regain := e.access()
			ev := e.manual(cal, jan, monday, "2026-12-01")
			m := e.sync()
			m.Forms = afterForm{FormIssuer: m.Forms, then: lose}
			m.RunOnce(context.Background())
			job, ok := e.pendingJob(ev.ID)
			if !ok || job.Step != moffman.StepFormDelivered {
				t.Fatalf("after the form, with the calendar unshared, the job is %+v (pending %v)", job, ok)
			}
			regain()
			clock.set(job.NextAttempt)
			if n, err := m.ProcessDueJobs(context.Background()); n != 1 || err != nil {
				t.Fatalf("after access returned: %d finished, %v", n, err)
			}
			e.wantApproved(cal, ev.ID)
			if n := e.forms.total(); n != 1 {
				t.Errorf("%d forms, want 1", n)
			}
		})
	})
}

func TestCancelledAfterItsFormIsNotApproved(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		clock := e.withClock()
		ev := e.manual(cal, jan, monday, "2026-12-01")
		m := e.sync()
		m.Calendar = &failingPatch{Calendar: e.calendar} // the form goes out, the approval fails
		ctx := context.Background()
		m.RunOnce(ctx)
		job, ok := e.pendingJob(ev.ID)
		if !ok || job.Step != moffman.StepFormDelivered {
			t.Fatalf("job %+v (pending %v), want form_delivered", job, ok)
		}
		// The person deletes the event before the approval is retried.
		if err := e.calendar.Delete(ctx, cal, ev.ID); err != nil {
			t.Fatal(err)
		}
		m.Calendar = e.calendar
		clock.set(job.NextAttempt)
		if n, err := m.ProcessDueJobs(ctx); n != 1 || err != nil {
			t.Fatalf("%d finished, %v; want the job dropped", n, err)
		}
		if got := e.get(cal, ev.ID); got.Status != moffman.StatusCancelled || !got.IsManual() || got.Summary != "office" {
			t.Errorf("the cancelled event was changed: %+v", got)
		}
	})
}

func TestManualUserAddedLate(t *testing.T) {
	t.Parallel()
	petra := moffman.Person{Email: "petra@acme.com", FirstName: "Petra", LastName: "Svobodová"}
	forBackends(t, func(t *testing.T, backend string) {
		t.Run("reload", func(t *testing.T) {
			e := newManualEnv(t, backend)
			ctx := context.Background()
			e.sync().RunOnce(ctx) // a token: petra's event comes as a change
			early := e.manual(cal, petra.Email, monday, "2026-12-01")
			rec := &listRecorder{Calendar: e.calendar}
			e.cal = rec
			m := e.sync()
			m.RunOnce(ctx) // petra is no manual user yet: her event is passed over
			if got := e.get(cal, early.ID); !got.IsManual() {
				t.Fatalf("an event of someone not a manual user was processed: %+v", got)
			}

			e.dir.SetDynamic(moffman.DirectoryLists{ManualUsers: []moffman.Person{petra}})
			m.RunOnce(ctx)
			m.RunOnce(ctx)
			if got := e.get(cal, early.ID); got.State() != moffman.StateApproved || got.Summary != "Petra Svobodová" {
				t.Errorf("petra's early event after she was added: %+v, want approved", got)
			}
			if n := e.forms.count(petra.Email, monday); n != 1 {
				t.Errorf("%d forms for petra's event, want 1", n)
			}
			var full []bool
			for _, q := range rec.queries {
				full = append(full, !q.TimeMin.IsZero())
			}
			if want := []bool{false, true, false}; !equalBools(full, want) {
				t.Errorf("listings full/incremental = %v, want %v: one full listing after the change", full, want)
			}
		})
		t.Run("restart with a longer list", func(t *testing.T) {
			e := newManualEnv(t, backend)
			ctx := context.Background()
			e.sync().RunOnce(ctx)
			early := e.manual(cal, petra.Email, monday, "2026-12-01")
			e.sync().RunOnce(ctx)
			e.reopen()
			e.dir = moffman.NewDirectory(moffman.DirectoryLists{
				Offices: []moffman.Office{{Name: "prague", CalendarID: cal}}, ManualUsers: []moffman.Person{jan1234, petra}})
			e.sync().RunOnce(ctx)
			if got := e.get(cal, early.ID); got.State() != moffman.StateApproved {
				t.Errorf("after a restart with petra added her event is %+v, want approved", got)
			}
			e.reopen()
			rec := &listRecorder{Calendar: e.calendar}
			e.cal = rec
			e.sync().RunOnce(ctx)
			if len(rec.queries) != 1 || rec.queries[0].SyncToken == "" {
				t.Errorf("a restart with the same list listed %+v, want one incremental listing", rec.queries)
			}
			if n := e.forms.total(); n != 1 {
				t.Errorf("%d forms, want 1", n)
			}
		})
	})
}

// TestManualUserRemovedThenAddedAgain: a person taken off the manual users
// and added again later has the event put in meanwhile processed: adding
// her again lists the calendar in full once more.
func TestManualUserRemovedThenAddedAgain(t *testing.T) {
	t.Parallel()
	petra := moffman.Person{Email: "petra@acme.com", FirstName: "Petra", LastName: "Svobodová"}
	with := moffman.DirectoryLists{ManualUsers: []moffman.Person{petra}}
	e := newManualEnv(t, "embedded")
	ctx := context.Background()
	rec := &listRecorder{Calendar: e.calendar}
	e.cal = rec
	m := e.sync()
	m.RunOnce(ctx)
	e.dir.SetDynamic(with)
	m.RunOnce(ctx) // added: listed in full for her
	e.dir.SetDynamic(moffman.DirectoryLists{})
	m.RunOnce(ctx) // removed: nothing to look for, so no full listing
	if last := rec.queries[len(rec.queries)-1]; last.SyncToken == "" {
		t.Errorf("the run after petra was removed listed %+v, want an incremental listing", last)
	}
	ev := e.manual(cal, petra.Email, monday, "2026-12-01")
	m.RunOnce(ctx) // her event comes as a change while she is no manual user
	if got := e.get(cal, ev.ID); !got.IsManual() {
		t.Fatalf("the event of someone not a manual user was processed: %+v", got)
	}

	e.dir.SetDynamic(with)
	m.RunOnce(ctx)
	if got := e.get(cal, ev.ID); got.State() != moffman.StateApproved || got.Summary != "Petra Svobodová" {
		t.Errorf("after petra was added again her event is %+v, want approved", got)
	}
}

// calendarDown fails the listings of one calendar while down, and records
// whether each listing of every calendar was full or incremental.
type calendarDown struct {
	moffman.Calendar
	id   string
	mu   sync.Mutex
	down bool
	full map[string][]bool
}

func (c *calendarDown) List(ctx context.Context, calendarID string, q moffman.ListQuery) (moffman.EventPage, error) {
	c.mu.Lock()
	c.full[calendarID] = append(c.full[calendarID], q.SyncToken == "")
	down := c.down && calendarID == c.id
	c.mu.Unlock()
	if down {
		return moffman.EventPage{}, moffman.Errorf(moffman.Unavailable, "calendar is down")
	}
	return c.Calendar.List(ctx, calendarID, q)
}

// TestManualUserAddedWhileAnOfficeIsDown: after manual users are added,
// an office whose full listing failed is listed in full at the next run;
// one already listed in full goes back to incremental listings.
func TestManualUserAddedWhileAnOfficeIsDown(t *testing.T) {
	t.Parallel()
	const brno = "brno@group.calendar.google.com"
	petra := moffman.Person{Email: "petra@acme.com", FirstName: "Petra", LastName: "Svobodová"}
	e := newManualEnv(t, "embedded", moffman.Office{Name: "prague", CalendarID: cal}, moffman.Office{Name: "brno", CalendarID: brno})
	ctx := context.Background()
	e.sync().RunOnce(ctx) // tokens for both
	early := e.manual(brno, petra.Email, monday, "2026-12-01")
	down := &calendarDown{Calendar: e.calendar, id: brno, down: true, full: map[string][]bool{}}
	e.cal = down
	m := e.sync()
	e.dir.SetDynamic(moffman.DirectoryLists{ManualUsers: []moffman.Person{petra}})
	m.RunOnce(ctx) // prague listed in full; brno's listing fails
	down.mu.Lock()
	down.down = false
	down.mu.Unlock()
	m.RunOnce(ctx)
	m.RunOnce(ctx)
	if want := []bool{true, false, false}; !equalBools(down.full[cal], want) {
		t.Errorf("prague's listings full/incremental = %v, want %v", down.full[cal], want)
	}
	if want := []bool{true, true, false}; !equalBools(down.full[brno], want) {
		t.Errorf("brno's listings full/incremental = %v, want %v", down.full[brno], want)
	}
	if got := e.get(brno, early.ID); got.State() != moffman.StateApproved {
		t.Errorf("petra's event in brno is %+v, want approved", got)
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRestoredEventIsProcessed: an event deleted while its form failed is
// dropped; restored from the trash it is processed like a new one. Only
// Google has a trash: the embedded store cannot restore an event (its
// re-opening rule is in the StateStore contract).
func TestRestoredEventIsProcessed(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "google")
	clock := e.withClock()
	e.fake.SetNow(clock.now)
	ev := e.manual(cal, jan, monday, "2026-12-01")
	e.forms.setDown(true)
	m := e.sync()
	ctx := context.Background()
	m.RunOnce(ctx)
	clock.add(time.Minute)
	if err := e.calendar.Delete(ctx, cal, ev.ID); err != nil {
		t.Fatal(err)
	}
	m.RunOnce(ctx)
	if _, ok := e.pendingJob(ev.ID); ok {
		t.Fatal("the job of a cancelled event is still pending")
	}
	e.forms.setDown(false)
	clock.add(time.Hour)
	if err := e.fake.Restore(cal, ev.ID); err != nil {
		t.Fatal(err)
	}
	m.RunOnce(ctx)
	e.wantApproved(cal, ev.ID)
	if n := e.forms.total(); n != 1 {
		t.Errorf("%d forms, want 1", n)
	}
	m.RunOnce(ctx)
	if n := e.forms.total(); n != 1 {
		t.Errorf("%d forms after another run, want 1", n)
	}
}

// silentForms is a Byroapi that reads each request and hangs up without
// an answer until it is told to answer again.
type silentForms struct {
	mu       sync.Mutex
	silent   bool
	received int
	srv      *httptest.Server
}

func newSilentForms(t *testing.T) *silentForms {
	f := &silentForms{silent: true}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		f.mu.Lock()
		f.received++
		silent := f.silent
		f.mu.Unlock()
		if !silent {
			return // 200
		}
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// issuer is a Byroapi client of the fake.
func (f *silentForms) issuer(t *testing.T) moffman.FormIssuer {
	issuer, err := byroapi.New(byroapi.Config{Template: "attendance", URL: f.srv.URL}, f.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return issuer
}

func (f *silentForms) count() int { f.mu.Lock(); defer f.mu.Unlock(); return f.received }

func (f *silentForms) answer() { f.mu.Lock(); f.silent = false; f.mu.Unlock() }

func TestUnknownOutcomeIsRepeatedSparinglyThenWaitsForAnOperator(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		clock := e.withClock()
		forms := newSilentForms(t)
		issuer := forms.issuer(t)
		ev := e.manual(cal, jan, monday, "2026-12-01")
		m := e.sync()
		m.Forms = issuer
		ctx := context.Background()
		m.RunOnce(ctx)
		for sent := 1; sent <= 3; sent++ {
			if n := forms.count(); n != sent {
				t.Fatalf("%d form requests, want %d", n, sent)
			}
			job, err := e.store.Job(ctx, cal, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			if sent == 3 {
				if job.Step != moffman.StepNeedsOperator || !strings.Contains(job.LastError, "operator") {
					t.Fatalf("after 3 unanswered requests the job is %+v, want it waiting for an operator", job)
				}
				break
			}
			if job.Step != moffman.StepDetected || job.UnknownOutcomes != sent {
				t.Fatalf("after %d unanswered requests the job is %+v", sent, job)
			}
			wantRetryWithin(t, job, clock.now(), 10*time.Minute, 10*time.Minute)
			clock.add(10*time.Minute - time.Second)
			if _, err := m.ProcessDueJobs(ctx); err != nil {
				t.Fatal(err)
			}
			if n := forms.count(); n != sent {
				t.Fatalf("an unanswered request was repeated within 10 minutes (%d requests)", n)
			}
			clock.add(time.Second)
			if _, err := m.ProcessDueJobs(ctx); err != nil {
				t.Fatal(err)
			}
		}
		clock.add(24 * time.Hour)
		m.RunOnce(ctx)
		if n := forms.count(); n != 3 {
			t.Errorf("%d form requests a day later, want 3: the job waits for an operator", n)
		}
		status, err := m.Status(ctx)
		if err != nil || len(status[0].Jobs.NeedsOperator) != 1 || status[0].Jobs.NeedsOperator[0].EventID != ev.ID {
			t.Errorf("status = %+v, %v; want the waiting job listed", status, err)
		}
		if got := e.get(cal, ev.ID); !got.IsManual() {
			t.Errorf("approved before an operator acted: %+v", got)
		}

		// The operator sends it once more.
		forms.answer()
		if job, err := m.RetryJob(ctx, cal, ev.ID); err != nil || job.Step != moffman.StepDetected || !job.NextAttempt.Equal(clock.now()) {
			t.Fatalf("RetryJob = %+v, %v; want the job due now at detected", job, err)
		}
		if _, err := m.RetryJob(ctx, cal, ev.ID); !moffman.IsCode(err, moffman.Conflict) {
			t.Errorf("a second retry = %v, want Conflict: the job no longer waits", err)
		}
		if _, err := m.RetryJob(ctx, cal, "nosuchevent"); !moffman.IsCode(err, moffman.NotFound) {
			t.Errorf("retry of an unknown job = %v, want NotFound", err)
		}
		if n, err := m.ProcessDueJobs(ctx); n != 1 || err != nil {
			t.Fatalf("after the retry: %d finished, %v", n, err)
		}
		if n := forms.count(); n != 4 {
			t.Errorf("%d form requests, want 4", n)
		}
		if got := e.get(cal, ev.ID); got.State() != moffman.StateApproved {
			t.Errorf("after the operator's retry the event is %+v, want approved", got)
		}
	})
}

// TestOperatorRetrySendsOnlyOnceMore: a retried job whose request again
// has no answer waits for the operator again at once.
func TestOperatorRetrySendsOnlyOnceMore(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	clock := e.withClock()
	forms := newSilentForms(t)
	issuer := forms.issuer(t)
	ev := e.manual(cal, jan, monday, "2026-12-01")
	m := e.sync()
	m.Forms = issuer
	ctx := context.Background()
	for range 3 {
		m.RunOnce(ctx)
		clock.add(11 * time.Minute)
	}
	if _, err := m.RetryJob(ctx, cal, ev.ID); err != nil {
		t.Fatal(err)
	}
	m.RunOnce(ctx)
	if job, _ := e.store.Job(ctx, cal, ev.ID); job.Step != moffman.StepNeedsOperator || forms.count() != 4 {
		t.Errorf("after a retry without an answer: job %+v, %d requests; want waiting again after 4", job, forms.count())
	}
}

func TestUnreachableOfficeCalendarAnswers503(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		lose, regain := e.access()
		res := &moffman.Reservations{Calendar: e.cal, Directory: e.dir, Colors: moffman.Colors{Unapproved: "4", Approved: "5"},
			Account: "moffman@acme.iam.gserviceaccount.com", Logger: e.sync().Logger}
		ctx := context.Background()
		req := moffman.ReservationRequest{OfficeID: "prague", UserName: "Jan Novák", Start: monday, End: "2026-12-01", RequestDT: "1"}
		r, err := res.Reserve(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		// A reservation that does not exist is still "no reservation".
		if err := res.Cancel(ctx, "prague", "0123456789abcdef"); !moffman.IsCode(err, moffman.NotFound) || !strings.Contains(err.Error(), "no reservation") {
			t.Errorf("Cancel of a missing reservation = %v, want NotFound", err)
		}

		lose()
		wantUnavailable := func(what string, err error) {
			t.Helper()
			msg := moffman.ErrorMessage(err)
			if !moffman.IsCode(err, moffman.Unavailable) || !strings.Contains(msg, cal) ||
				!strings.Contains(msg, "moffman@acme.iam.gserviceaccount.com") || strings.Contains(msg, "no reservation") {
				t.Errorf("%s with the calendar unshared = %v (%s), want Unavailable naming the calendar and the account", what, err, moffman.ErrorCode(err))
			}
		}
		_, err = res.Get(ctx, "prague", r.ID)
		wantUnavailable("Get", err)
		wantUnavailable("Cancel", res.Cancel(ctx, "prague", r.ID))
		_, err = res.List(ctx, "prague", "2026-11-01", "2026-12-31", false)
		wantUnavailable("List", err)
		req.Approved = true
		_, err = res.Reserve(ctx, req)
		wantUnavailable("approving Reserve", err)
		req.Approved, req.RequestDT = false, "2"
		_, err = res.Reserve(ctx, req)
		wantUnavailable("pending Reserve", err)

		regain()
		if err := res.Cancel(ctx, "prague", r.ID); err != nil {
			t.Errorf("Cancel after access returned = %v", err)
		}
	})
}

// TestSyncResubscribesAFailedCalendar: a calendar whose subscription
// failed at the reload heals at the next sync, without a config_update.
func TestSyncResubscribesAFailedCalendar(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newManualEnv(t, backend)
		lose, regain := e.access()
		ctx := context.Background()
		reloader := &moffman.Reloader{Directory: e.dir, Store: e.store, Calendar: e.cal, Logger: e.sync().Logger}
		lose()
		if err := reloader.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if e.dir.CalendarError(cal) == nil {
			t.Fatal("the reload did not notice the unshared calendar")
		}
		res := &moffman.Reservations{Calendar: e.cal, Directory: e.dir}
		req := moffman.ReservationRequest{OfficeID: "prague", UserName: "Jan", Start: monday, End: "2026-12-01"}
		if _, err := res.Reserve(ctx, req); !moffman.IsCode(err, moffman.Unavailable) {
			t.Errorf("Reserve in the unsubscribed office = %v, want Unavailable", err)
		}
		m := e.sync()
		m.RunOnce(ctx) // still unshared: the office's run fails
		if e.dir.CalendarError(cal) == nil {
			t.Error("a failed re-subscription cleared the calendar error")
		}
		if status, _ := m.Status(ctx); status[0].LastError == "" || status[0].FailedRuns != 1 {
			t.Errorf("status while unshared = %+v, want a failed run", status[0])
		}

		regain()
		ev := e.manual(cal, jan, monday, "2026-12-01")
		m.RunOnce(ctx)
		if err := e.dir.CalendarError(cal); err != nil {
			t.Errorf("after sharing again the calendar error is %v", err)
		}
		e.wantApproved(cal, ev.ID)
		if _, err := res.Reserve(ctx, req); err != nil {
			t.Errorf("Reserve after the sync re-subscribed: %v", err)
		}
	})
}

// failingSaves refuses every job write with an Internal error while on,
// as a full disk would.
type failingSaves struct {
	moffman.StateStore
	mu  sync.Mutex
	on  bool
	err error
}

func (s *failingSaves) set(on bool) { s.mu.Lock(); s.on = on; s.mu.Unlock() }

func (s *failingSaves) fail() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.on {
		return moffman.WrapError(moffman.Internal, errors.New("disk I/O error"), "store: save job")
	}
	return nil
}

func (s *failingSaves) SaveJob(ctx context.Context, j moffman.Job) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.StateStore.SaveJob(ctx, j)
}

func (s *failingSaves) CommitSync(ctx context.Context, cal string, jobs []moffman.Job, next string) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.StateStore.CommitSync(ctx, cal, jobs, next)
}

func TestReadinessWhileTheStoreCannotWrite(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	health := &moffman.Health{}
	store := &failingSaves{StateStore: e.store}
	m := e.sync()
	m.Store, m.Health = store, health
	ctx := context.Background()
	if err := health.Err(); err != nil {
		t.Fatalf("a fresh health record says %v", err)
	}
	store.set(true)
	m.RunOnce(ctx)
	if err := health.Err(); !moffman.IsCode(err, moffman.Unavailable) || !strings.Contains(err.Error(), "store") {
		t.Errorf("readiness while the store cannot write = %v, want Unavailable naming the store", err)
	}
	store.set(false)
	m.RunOnce(ctx)
	if err := health.Err(); err != nil {
		t.Errorf("readiness after the store healed = %v", err)
	}

	// The embedded calendar is the store too: a failed insert counts.
	res := &moffman.Reservations{Calendar: failingInsert{e.store}, Directory: e.dir, Health: health}
	req := moffman.ReservationRequest{OfficeID: "prague", UserName: "Jan", Start: monday, End: "2026-12-01"}
	if _, err := res.Reserve(ctx, req); err == nil || health.Err() == nil {
		t.Errorf("a failed insert: %v, readiness %v; want both failing", err, health.Err())
	}
	res.Calendar = e.store
	if _, err := res.Reserve(ctx, req); err != nil || health.Err() != nil {
		t.Errorf("after the store healed: %v, readiness %v", err, health.Err())
	}
}

type failingInsert struct{ moffman.Calendar }

func (failingInsert) Insert(context.Context, string, moffman.Event) (moffman.Event, error) {
	return moffman.Event{}, moffman.WrapError(moffman.Internal, errors.New("database disk image is malformed"), "store: insert")
}

func TestReadinessAfterMoreThanThreeFailedSyncs(t *testing.T) {
	t.Parallel()
	e := newManualEnv(t, "embedded")
	health := &moffman.Health{}
	lose, regain := e.access()
	m := e.sync()
	m.Health = health
	ctx := context.Background()
	m.RunOnce(ctx)
	lose()
	for run := 1; run <= 4; run++ {
		m.RunOnce(ctx)
		err := health.Err()
		if run <= 3 && err != nil {
			t.Errorf("not ready after %d failed runs: %v", run, err)
		}
		if run == 4 && (err == nil || !strings.Contains(err.Error(), "prague")) {
			t.Errorf("readiness after 4 failed runs = %v, want the office named", err)
		}
	}
	regain()
	m.RunOnce(ctx)
	if err := health.Err(); err != nil {
		t.Errorf("readiness after a good run = %v", err)
	}
}

func TestReadinessWatchesCredentials(t *testing.T) {
	t.Parallel()
	health := &moffman.Health{}
	var mu sync.Mutex
	var refused error
	health.Watch(moffman.ReasonCredentials, func() error { mu.Lock(); defer mu.Unlock(); return refused })
	if err := health.Err(); err != nil {
		t.Fatalf("ready with accepted credentials? %v", err)
	}
	mu.Lock()
	refused = errors.New("Google refuses the service account key: invalid_grant")
	mu.Unlock()
	if err := health.Err(); err == nil || !strings.Contains(err.Error(), "credentials: Google refuses") {
		t.Errorf("readiness with refused credentials = %v", err)
	}
	mu.Lock()
	refused = nil
	mu.Unlock()
	if err := health.Err(); err != nil {
		t.Errorf("readiness after the credentials healed = %v", err)
	}
	var none *moffman.Health // services without a health record
	none.Set("x", "y")
	if none.Err() != nil {
		t.Error("a nil health record reports a failure")
	}
}

// TestRunDefaults: without Interval and JobPoll, Run syncs every two hours
// and polls due jobs every five seconds.
func TestRunDefaults(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		store, err := sqlite.Open(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		rec := &listRecorder{Calendar: store}
		forms := &countingForms{down: true}
		m := &moffman.ManualSync{Calendar: rec, Store: store, Forms: forms,
			Directory: moffman.NewDirectory(moffman.DirectoryLists{
				Offices: []moffman.Office{{Name: "prague", CalendarID: cal}}, ManualUsers: []moffman.Person{jan1234}}),
			CheckMin: moffman.Shift{Weeks: -1}, CheckMax: moffman.Shift{Weeks: 2},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}
		day := time.Now().UTC().AddDate(0, 0, 3)
		if _, err := store.Insert(ctx, cal, moffman.Event{Summary: "office", Start: day.Format(moffman.DateLayout),
			End: day.AddDate(0, 0, 1).Format(moffman.DateLayout), CreatorEmail: jan}); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = m.Run(ctx); close(done) }()
		synctest.Wait()
		forms.set(false) // the refused form is retried by the poll, within 5 seconds
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if forms.count() != 1 {
			t.Errorf("%d forms 5 s after a refusal, want 1", forms.count())
		}
		time.Sleep(2*time.Hour - 6*time.Second)
		synctest.Wait()
		listings := func() int { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.queries) }
		n := listings()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if m := listings(); n != 1 || m != 2 {
			t.Errorf("listings just before and after 2 h: %d, %d; want 1, 2", n, m)
		}
		cancel()
		<-done
	})
}
