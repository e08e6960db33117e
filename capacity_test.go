package moffman_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/google"
	"github.com/moffman/moffman/googlefake"
)

const (
	eva  = "eva.dvorak@acme.com"
	petr = "petr.maly@acme.com"
)

func desks(n int) *int { return &n }

// capacityEnv is a manualEnv whose office prague has the capacity (nil:
// unlimited) and closures, three manual users, the REST service and the
// sync over the same calendars, a clock the test moves (the calendar's
// created times follow it) and cancellations wired to the waitlist.
type capacityEnv struct {
	*manualEnv
	res   *moffman.Reservations
	m     *moffman.ManualSync
	clock *testClock
}

func newCapacityEnv(t *testing.T, backend string, capacity *int, closures ...moffman.Closure) *capacityEnv {
	e := &capacityEnv{manualEnv: newManualEnv(t, backend, moffman.Office{Name: "prague", CalendarID: cal, Capacity: capacity})}
	e.clock = e.withClock()
	if e.fake != nil {
		e.fake.SetNow(e.clock.now)
	}
	e.dir.SetDynamic(moffman.DirectoryLists{Closures: closures, ManualUsers: []moffman.Person{
		{Email: eva, FirstName: "Eva", LastName: "Dvořák"}, {Email: petr, FirstName: "Petr", LastName: "Malý"},
	}})
	e.res = &moffman.Reservations{Calendar: e.calendar, Directory: e.dir, Colors: moffman.Colors{Unapproved: "4", Approved: "5"},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e.m = e.sync()
	e.m.Reservations = e.res
	e.m.Colors.Waitlisted = "8"
	e.res.RoomFreed = e.m.RoomFreed
	return e
}

// approve has the REST API approve a reservation of name for [start, end).
func (e *capacityEnv) approve(name, start, end string) (moffman.Reservation, error) {
	return e.res.Reserve(context.Background(), moffman.ReservationRequest{OfficeID: "prague", UserName: name,
		UserEmail: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@acme.com", Approved: true, Start: start, End: end, RequestDT: "08:00"})
}

// manualAt puts a manual event into the calendar, one minute after the
// previous one, so that the waitlist's order is the order of the calls.
func (e *capacityEnv) manualAt(creator, start, end string) moffman.Event {
	e.clock.add(time.Minute)
	return e.manual(cal, creator, start, end)
}

func (e *capacityEnv) forms(user string) int {
	n := 0
	for _, r := range e.manualEnv.forms.Delivered() {
		if r.UserID == user {
			n++
		}
	}
	return n
}

func (e *capacityEnv) wantWaitlisted(id string) {
	e.t.Helper()
	ev := e.get(cal, id)
	if ev.State() != moffman.StateWaitlisted || ev.ColorID != "8" || ev.Private[moffman.PropProcessed] != "waitlisted" {
		e.t.Errorf("event %s = %+v, want waitlisted in colour 8", id, ev)
	}
}

func (e *capacityEnv) wantState(id string, want moffman.State) {
	e.t.Helper()
	if ev := e.get(cal, id); ev.State() != want {
		e.t.Errorf("event %s is %s (%+v), want %s", id, ev.State(), ev, want)
	}
}

func fullDates(t *testing.T, err error) []string {
	t.Helper()
	var full *moffman.CapacityError
	if !errors.As(err, &full) || !moffman.IsCode(err, moffman.Conflict) {
		t.Fatalf("got %v, want a Conflict naming the full days", err)
	}
	var out []string
	for _, d := range full.Days {
		out = append(out, d.Date)
	}
	return out
}

func TestNoCapacityChangesNothing(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newCapacityEnv(t, backend, nil)
		for i := range 5 {
			if _, err := e.approve(fmt.Sprintf("Person %d", i), monday, "2026-12-01"); err != nil {
				t.Fatalf("approval %d in an unlimited office: %v", i, err)
			}
		}
		ev := e.manualAt(jan, monday, "2026-12-01")
		e.m.RunOnce(context.Background())
		e.wantApproved(cal, ev.ID)
		got := e.get(cal, ev.ID)
		if _, ok := got.Private[moffman.PropDesk]; ok || e.forms(jan) != 1 {
			t.Errorf("manual event %+v with %d forms; want it approved as before, one form and no desk marker", got, e.forms(jan))
		}
		days, err := e.res.Availability(context.Background(), "prague", monday, "2026-12-02")
		if err != nil {
			t.Fatal(err)
		}
		if d := days[0]; d.Capacity != nil || d.Free != nil || d.Closed || d.Approved != 6 || d.Pending != 0 {
			t.Errorf("monday %+v, want 6 approved, unlimited", d)
		}
	})
}

func TestApprovalOverCapacityNamesTheFullDays(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newCapacityEnv(t, backend, desks(1))
		ctx := context.Background()
		if _, err := e.approve("Anna Black", monday, "2026-12-02"); err != nil {
			t.Fatal(err)
		}
		// Pending registrations are always accepted.
		pending := moffman.ReservationRequest{OfficeID: "prague", UserName: "Bob White", Start: monday, End: "2026-12-03", RequestDT: "09:00"}
		if _, err := e.res.Reserve(ctx, pending); err != nil {
			t.Fatalf("pending registration on full days: %v", err)
		}
		pending.Approved = true
		_, err := e.res.Reserve(ctx, pending)
		if got := fullDates(t, err); !slices.Equal(got, []string{monday, "2026-12-01"}) {
			t.Errorf("full days %v, want monday and tuesday", got)
		}
		if msg := moffman.ErrorMessage(err); !strings.Contains(msg, "2026-11-30 (1 of 1 desks taken)") {
			t.Errorf("message %q", msg)
		}
		// Nothing changed: still pending.
		e.wantState(moffman.EventID("Bob White", "09:00", monday, "2026-12-03"), moffman.StatePending)
		// Repeating an approval takes no second desk.
		if _, err := e.approve("Anna Black", monday, "2026-12-02"); err != nil {
			t.Errorf("repeated approval: %v", err)
		}
		// Wednesday has room.
		if _, err := e.approve("Carl Green", "2026-12-02", "2026-12-03"); err != nil {
			t.Errorf("approval on a free day: %v", err)
		}
		// An event approved by hand in the calendar takes its desk too.
		if _, err := e.calendar.Insert(ctx, cal, moffman.Event{Summary: "By Hand", Start: "2026-12-03", End: "2026-12-04",
			Private: map[string]string{moffman.PropProcessed: "true"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.approve("Dora Blue", "2026-12-03", "2026-12-04"); !slices.Equal(fullDates(t, err), []string{"2026-12-03"}) {
			t.Errorf("approval over a hand-made approved event: %v", err)
		}
		days, err := e.res.Availability(ctx, "prague", monday, "2026-12-05")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"2026-11-30 1/1 p1 free0", "2026-12-01 1/1 p1 free0", "2026-12-02 1/1 p1 free0", "2026-12-03 1/1 p0 free0", "2026-12-04 0/1 p0 free1"}
		var got []string
		for _, d := range days {
			got = append(got, fmt.Sprintf("%s %d/%d p%d free%d", d.Date, d.Approved, *d.Capacity, d.Pending, *d.Free))
		}
		if !slices.Equal(got, want) {
			t.Errorf("availability\n%v, want\n%v", got, want)
		}
	})
}

func TestClosureRefusesApprovals(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newCapacityEnv(t, backend, nil, moffman.Closure{Office: "prague", From: "2026-12-24", To: "2026-12-27", Reason: "Christmas"})
		_, err := e.approve("Anna Black", "2026-12-22", "2026-12-25")
		if got := fullDates(t, err); !slices.Equal(got, []string{"2026-12-24"}) {
			t.Errorf("full days %v, want the closed 24th", got)
		}
		if msg := moffman.ErrorMessage(err); !strings.Contains(msg, "2026-12-24 (closed: Christmas)") {
			t.Errorf("message %q should name the closure", msg)
		}
		if _, err := e.approve("Anna Black", "2026-12-22", "2026-12-24"); err != nil {
			t.Errorf("approval before the closure: %v", err)
		}
		days, err := e.res.Availability(context.Background(), "prague", "2026-12-23", "2026-12-25")
		if err != nil {
			t.Fatal(err)
		}
		if d := days[1]; !d.Closed || d.Reason != "Christmas" || d.Free == nil || *d.Free != 0 || d.Capacity != nil {
			t.Errorf("the 24th: %+v, want closed for Christmas, 0 free", d)
		}
		if d := days[0]; d.Closed || d.Free != nil || d.Approved != 1 {
			t.Errorf("the 23rd: %+v, want open, unlimited, 1 approved", d)
		}
	})
}

// Many approvals race for three desks: exactly three win.
func TestRaceForTheLastDesk(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newCapacityEnv(t, backend, desks(3))
		const n = 16
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { _, errs[i] = e.approve(fmt.Sprintf("Racer %02d", i), monday, "2026-12-01") })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !moffman.IsCode(err, moffman.Conflict):
				t.Errorf("unexpected error: %v", err)
			}
		}
		list, err := e.res.List(context.Background(), "prague", monday, "2026-12-01", false)
		if err != nil {
			t.Fatal(err)
		}
		approved := 0
		for _, r := range list {
			if r.State == moffman.StateApproved {
				approved++
			}
		}
		if won != 3 || approved != 3 {
			t.Errorf("%d approvals succeeded and %d are stored, want exactly 3 of %d", won, approved, n)
		}
	})
}

func TestWaitlistPromotedOldestFirstAfterCancellation(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newCapacityEnv(t, backend, desks(1))
		ctx := context.Background()
		anna, err := e.approve("Anna Black", monday, "2026-12-01")
		if err != nil {
			t.Fatal(err)
		}
		first := e.manualAt(jan, monday, "2026-12-01")
		second := e.manualAt(eva, monday, "2026-12-01")
		e.m.RunOnce(ctx)
		e.wantWaitlisted(first.ID)
		e.wantWaitlisted(second.ID)
		if n := e.manualEnv.forms.total(); n != 0 {
			t.Errorf("%d forms for waitlisted events, want none", n)
		}
		a, err := e.res.Attendance(ctx, "prague", monday, "2026-12-01")
		if err != nil {
			t.Fatal(err)
		}
		if d := a.Days[0]; d.Approved != 1 || d.Waitlisted != 2 || d.Pending != 0 {
			t.Errorf("attendance %+v, want 1 approved and 2 waitlisted", d)
		}
		// Waitlisted people are named as the directory knows them, not by
		// whatever they typed as the event's title.
		for _, p := range a.Days[0].People {
			if p.Status == moffman.StateWaitlisted && p.Name != "Jan Novák" && p.Name != "Eva Dvořák" {
				t.Errorf("waitlisted attendee %+v, want the directory's name", p)
			}
		}
		days, err := e.res.Availability(ctx, "prague", monday, "2026-12-01")
		if err != nil {
			t.Fatal(err)
		}
		if d := days[0]; d.Approved != 1 || d.Waitlisted != 2 || *d.Free != 0 {
			t.Errorf("availability %+v, want 1 approved, 2 waitlisted, none free", d)
		}

		if err := e.res.Cancel(ctx, "prague", anna.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.m.RecheckWaitlists(ctx); err != nil {
			t.Fatal(err)
		}
		e.wantApproved(cal, first.ID)
		e.wantWaitlisted(second.ID)
		if e.forms(jan) != 1 || e.forms(eva) != 0 {
			t.Errorf("forms: jan %d, eva %d; want 1 and 0", e.forms(jan), e.forms(eva))
		}
		// Later runs send nothing more and keep the order.
		e.m.RunOnce(ctx)
		e.clock.add(3 * time.Hour) // past the waitlisted job's own re-check
		e.m.RunOnce(ctx)
		e.wantWaitlisted(second.ID)
		if n := e.manualEnv.forms.total(); n != 1 {
			t.Errorf("%d forms after more runs, want 1", n)
		}
		// A REST approval finds the promoted event's desk taken.
		if _, err := e.approve("Carl Green", monday, "2026-12-01"); !slices.Equal(fullDates(t, err), []string{monday}) {
			t.Errorf("approval after the promotion: %v", err)
		}
	})
}

// Raising the capacity in the spreadsheet gives the waitlist its desks at
// the next reload, oldest first, one form each.
func TestWaitlistPromotedAfterCapacityRaisedInTheSheet(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newCapacityEnv(t, backend, nil)
		sheet := e.fake
		if sheet == nil { // the embedded calendars with the offices in a spreadsheet
			var err error
			if sheet, err = googlefake.New(); err != nil {
				t.Fatal(err)
			}
			if _, err := sheet.Listen(t.Context(), "127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
		}
		const sheetID = "offices-sheet"
		sheet.SetSheetValues(sheetID, "Offices", [][]string{{"prague", cal, "0"}})
		source, err := google.NewSheets(t.Context(), google.Options{KeyJSON: sheet.KeyJSON(), SheetsEndpoint: sheet.SheetsEndpoint(),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, google.SheetRange{SpreadsheetID: sheetID, Range: "Offices!A1:C"}, google.SheetRange{})
		if err != nil {
			t.Fatal(err)
		}
		reloader := &moffman.Reloader{Source: keepUsers{source, e.dir}, Directory: e.dir, Store: e.store, Calendar: e.calendar,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RoomFreed: e.m.RoomFreed}
		ctx := context.Background()
		if err := reloader.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		evs := []moffman.Event{e.manualAt(petr, monday, "2026-12-02"), e.manualAt(jan, monday, "2026-12-01"), e.manualAt(eva, "2026-12-01", "2026-12-02")}
		e.m.RunOnce(ctx)
		for _, ev := range evs {
			e.wantWaitlisted(ev.ID)
		}
		sheet.SetSheetValues(sheetID, "Offices", [][]string{{"prague", cal, "1"}})
		if err := reloader.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.m.RecheckWaitlists(ctx); err != nil {
			t.Fatal(err)
		}
		// Petr's is the oldest and takes Monday and Tuesday's one desk.
		e.wantState(evs[0].ID, moffman.StateApproved)
		e.wantWaitlisted(evs[1].ID)
		e.wantWaitlisted(evs[2].ID)
		sheet.SetSheetValues(sheetID, "Offices", [][]string{{"prague", cal, "2"}})
		if err := reloader.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.m.RecheckWaitlists(ctx); err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			e.wantState(ev.ID, moffman.StateApproved)
		}
		if e.forms(petr) != 1 || e.forms(jan) != 1 || e.forms(eva) != 1 {
			t.Errorf("forms: petr %d, jan %d, eva %d; want one each", e.forms(petr), e.forms(jan), e.forms(eva))
		}
	})
}

// keepUsers adds the directory's manual users to a source listing offices
// only, so the reload keeps them.
type keepUsers struct {
	moffman.DirectorySource
	dir *moffman.Directory
}

func (k keepUsers) Load(ctx context.Context) (moffman.DirectoryLists, error) {
	l, err := k.DirectorySource.Load(ctx)
	for _, email := range k.dir.ManualUserEmails() {
		p, _ := k.dir.ManualUser(email)
		l.ManualUsers = append(l.ManualUsers, p)
	}
	return l, err
}

func TestWaitlistAndClosures(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		closure := moffman.Closure{Office: "prague", From: monday, To: "2026-12-01", Reason: "inventory"}
		e := newCapacityEnv(t, backend, nil, closure)
		ctx := context.Background()
		ev := e.manualAt(jan, monday, "2026-12-02")
		e.m.RunOnce(ctx)
		e.wantWaitlisted(ev.ID)
		// The closure is lifted.
		e.dir.SetDynamic(moffman.DirectoryLists{ManualUsers: []moffman.Person{{Email: eva, FirstName: "Eva", LastName: "Dvořák"}}})
		e.m.RoomFreed("prague")
		if err := e.m.RecheckWaitlists(ctx); err != nil {
			t.Fatal(err)
		}
		e.wantApproved(cal, ev.ID)
		if n := e.forms(jan); n != 1 {
			t.Errorf("%d forms, want 1", n)
		}
	})
}

// A waitlisted event whose days have passed is not revived by a desk
// freed later.
func TestWaitlistDoesNotRevivePastDays(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newCapacityEnv(t, backend, desks(1))
		ctx := context.Background()
		anna, err := e.approve("Anna Black", monday, "2026-12-01")
		if err != nil {
			t.Fatal(err)
		}
		ev := e.manualAt(jan, monday, "2026-12-01")
		e.m.RunOnce(ctx)
		e.wantWaitlisted(ev.ID)
		e.clock.set(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) // Monday is over
		if err := e.res.Cancel(ctx, "prague", anna.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.m.RecheckWaitlists(ctx); err != nil {
			t.Fatal(err)
		}
		e.clock.add(3 * time.Hour)
		if _, err := e.m.ProcessDueJobs(ctx); err != nil {
			t.Fatal(err)
		}
		e.wantWaitlisted(ev.ID)
		if n := e.manualEnv.forms.total(); n != 0 {
			t.Errorf("%d forms for a past day, want none", n)
		}
		job, err := e.store.Job(ctx, cal, ev.ID)
		if err != nil || job.Step != moffman.StepDropped {
			t.Errorf("job %+v (%v), want dropped", job, err)
		}
	})
}

// A closure lifted in the configuration takes effect at a restart: the
// office has no capacity, so it is no longer limited, and its first sync
// run gives the waitlisted event its desk and its one form at once, not
// at the job's own re-check hours later.
func TestWaitlistRecheckedAtStartAfterLastClosureLifted(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		closure := moffman.Closure{Office: "prague", From: monday, To: "2026-12-01", Reason: "inventory"}
		e := newCapacityEnv(t, backend, nil, closure)
		ctx := context.Background()
		ev := e.manualAt(jan, monday, "2026-12-02")
		e.m.RunOnce(ctx)
		e.wantWaitlisted(ev.ID)

		// The restart: the closure is gone from the configuration, and a
		// new sync runs over the same store and calendar.
		e.dir.SetDynamic(moffman.DirectoryLists{ManualUsers: []moffman.Person{{Email: eva, FirstName: "Eva", LastName: "Dvořák"}}})
		e.clock.add(time.Minute) // well before the job's own re-check
		restarted := e.sync()
		restarted.Reservations, restarted.Colors.Waitlisted = e.res, "8"
		restarted.RunOnce(ctx)
		e.wantApproved(cal, ev.ID)
		if n := e.forms(jan); n != 1 {
			t.Errorf("%d forms, want 1", n)
		}
		restarted.RunOnce(ctx)
		if n := e.forms(jan); n != 1 {
			t.Errorf("%d forms after another run, want 1", n)
		}
	})
}

// A manual user removed while their event holds a desk, its form not yet
// out, gives the desk back: the marker goes, the waitlist takes the desk
// with one form, and the removed user's event gets none.
func TestRemovedManualUserGivesTheDeskBack(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newCapacityEnv(t, backend, desks(1))
		ctx := context.Background()
		e.manualEnv.forms.setDown(true)
		held := e.manualAt(eva, monday, "2026-12-01")
		e.m.RunOnce(ctx)
		if ev := e.get(cal, held.ID); ev.Private[moffman.PropDesk] != moffman.DeskHeld || ev.State() == moffman.StateApproved {
			t.Fatalf("eva's event %+v, want a desk held and not approved (Byroapi is down)", ev)
		}
		// Holding a desk, it is still Eva's own event: named as the directory has her.
		if a, err := e.res.Attendance(ctx, "prague", monday, "2026-12-01"); err != nil || len(a.Days[0].People) != 1 || a.Days[0].People[0].Name != "Eva Dvořák" {
			t.Errorf("attendance while eva's desk is held: %+v, %v; want Eva Dvořák", a, err)
		}
		waiting := e.manualAt(petr, monday, "2026-12-01")
		e.m.RunOnce(ctx)
		e.wantWaitlisted(waiting.ID)

		// Eva is no longer a manual user; Byroapi is back.
		e.dir.SetDynamic(moffman.DirectoryLists{ManualUsers: []moffman.Person{{Email: petr, FirstName: "Petr", LastName: "Malý"}}})
		e.manualEnv.forms.setDown(false)
		e.clock.add(10 * time.Minute) // past the form step's backoff
		if _, err := e.m.ProcessDueJobs(ctx); err != nil {
			t.Fatal(err)
		}
		ev := e.get(cal, held.ID)
		if _, ok := ev.Private[moffman.PropDesk]; ok || ev.State() != moffman.StateManual {
			t.Errorf("eva's event after her removal %+v, want no desk marker and still manual", ev)
		}
		if job, err := e.store.Job(ctx, cal, held.ID); err != nil || job.Step != moffman.StepDropped {
			t.Errorf("eva's job %+v (%v), want dropped", job, err)
		}
		if err := e.m.RecheckWaitlists(ctx); err != nil {
			t.Fatal(err)
		}
		e.wantState(waiting.ID, moffman.StateApproved)
		if e.forms(eva) != 0 || e.forms(petr) != 1 {
			t.Errorf("forms: eva %d, petr %d; want 0 and 1", e.forms(eva), e.forms(petr))
		}
		// The day's one desk is petr's now.
		if _, err := e.approve("Carl Green", monday, "2026-12-01"); !slices.Equal(fullDates(t, err), []string{monday}) {
			t.Errorf("approval after the desk went to the waitlist: %v", err)
		}
	})
}

// A waitlisted event whose creator is no longer a manual user waits for
// nothing: it keeps no place in the queue ahead of younger waitlisted
// events when a desk frees up.
func TestRemovedManualUserLeavesTheWaitlist(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newCapacityEnv(t, backend, desks(1))
		ctx := context.Background()
		anna, err := e.approve("Anna Black", monday, "2026-12-01")
		if err != nil {
			t.Fatal(err)
		}
		older := e.manualAt(eva, monday, "2026-12-01")
		e.m.RunOnce(ctx)
		e.wantWaitlisted(older.ID)
		e.clock.add(time.Minute)
		younger := e.manualAt(petr, monday, "2026-12-01")
		e.m.RunOnce(ctx)
		e.wantWaitlisted(younger.ID)

		// Eva leaves the manual users while she waits; then Anna cancels.
		e.dir.SetDynamic(moffman.DirectoryLists{ManualUsers: []moffman.Person{{Email: petr, FirstName: "Petr", LastName: "Malý"}}})
		if err := e.res.Cancel(ctx, "prague", anna.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.m.RecheckWaitlists(ctx); err != nil {
			t.Fatal(err)
		}
		e.wantState(younger.ID, moffman.StateApproved)
		if e.forms(eva) != 0 || e.forms(petr) != 1 {
			t.Errorf("forms: eva %d, petr %d; want 0 and 1", e.forms(eva), e.forms(petr))
		}
	})
}

// An approval repeated after the capacity was lowered below the day's
// load keeps its desk, while a new one is refused; an approved event moved
// by hand to other days takes no desk on the days it left when its
// approval is repeated there.
func TestRepeatedApprovalAfterTheCapacityWasLowered(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, backend string) {
		e := newCapacityEnv(t, backend, desks(2))
		ctx := context.Background()
		if _, err := e.approve("Anna Black", monday, "2026-12-01"); err != nil {
			t.Fatal(err)
		}
		bob, err := e.approve("Bob White", monday, "2026-12-01")
		if err != nil {
			t.Fatal(err)
		}
		e.dir.SetDynamic(moffman.DirectoryLists{Offices: []moffman.Office{{Name: "prague", CalendarID: cal, Capacity: desks(1)}}})
		if _, err := e.approve("Anna Black", monday, "2026-12-01"); err != nil {
			t.Errorf("a repeated approval after the capacity was lowered: %v, want it to keep its desk", err)
		}
		if _, err := e.approve("Carl Green", monday, "2026-12-01"); !slices.Equal(fullDates(t, err), []string{monday}) {
			t.Errorf("a new approval on the over-full day: %v, want 409 naming %s", err, monday)
		}

		// Bob's event is moved by hand to Wednesday; his approval for
		// Monday, repeated, would bring him back to a full day.
		wed, thu := "2026-12-02", "2026-12-03"
		if _, err := e.calendar.Patch(ctx, cal, bob.ID, moffman.EventPatch{Start: &wed, End: &thu}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.approve("Bob White", monday, "2026-12-01"); !slices.Equal(fullDates(t, err), []string{monday}) {
			t.Errorf("repeating a moved event's approval onto a full day: %v, want 409 naming %s", err, monday)
		}
	})
}

// Reservations without a RoomFreed hook (no manual sync wired) cancel in
// a limited office like anywhere else.
func TestCancelWithoutAWaitlistHook(t *testing.T) {
	t.Parallel()
	e := newCapacityEnv(t, "embedded", desks(1))
	e.res.RoomFreed = nil
	r, err := e.approve("Anna Black", monday, "2026-12-01")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.res.Cancel(context.Background(), "prague", r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.approve("Bob White", monday, "2026-12-01"); err != nil {
		t.Errorf("approval after the cancellation: %v, want the freed desk", err)
	}
}

// A waitlisted event given a desk whose form has not gone out yet is still
// its person's own event, named as the directory has them.
func TestPromotedEventAwaitingItsFormIsNamedByTheDirectory(t *testing.T) {
	t.Parallel()
	e := newCapacityEnv(t, "embedded", desks(1))
	ctx := context.Background()
	anna, err := e.approve("Anna Black", monday, "2026-12-01")
	if err != nil {
		t.Fatal(err)
	}
	ev := e.manualAt(eva, monday, "2026-12-01")
	e.m.RunOnce(ctx)
	e.wantWaitlisted(ev.ID)
	e.manualEnv.forms.setDown(true)
	if err := e.res.Cancel(ctx, "prague", anna.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.m.RecheckWaitlists(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.get(cal, ev.ID); got.Private[moffman.PropDesk] != moffman.DeskHeld || got.State() == moffman.StateApproved {
		t.Fatalf("event %+v, want its desk held and no approval yet (Byroapi is down)", got)
	}
	a, err := e.res.Attendance(ctx, "prague", monday, "2026-12-01")
	if err != nil || len(a.Days[0].People) != 1 || a.Days[0].People[0].Name != "Eva Dvořák" {
		t.Errorf("attendance %+v, %v; want Eva Dvořák", a, err)
	}
}
