package caldav

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/byroapi"
	"github.com/moffman/moffman/byroapi/byroapitest"
	"github.com/moffman/moffman/sqlite"
)

// forms counts the forms the Byroapi fake took, by subject, which the
// test sets to name the event's days.
type forms struct{ *byroapitest.Server }

func (f forms) count(subject string) int {
	n := 0
	for _, r := range f.Delivered() {
		var req byroapi.Request
		if json.Unmarshal(r.Body, &req) == nil && req.Result.Email.Subject == subject {
			n++
		}
	}
	return n
}

func (f forms) total() int { return len(f.Delivered()) }

// TestEndToEnd runs moffman's services over the adapter over each server:
// REST reservations pending and approved, a manual user's event approved
// with one form, cancelled manual events left without one, and a refused
// sync token followed by a full resync.
func TestEndToEnd(t *testing.T) {
	for _, name := range serverNames {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := server(t, name)
			e := newE2E(t, s)
			e.reservations(t)
			e.manual(t)
			e.refusedToken(t)
		})
	}
}

type e2e struct {
	s      *testServer
	cal    *Calendar
	calID  string // a full URL, as an office id may be
	rel    string // the same calendar as a path under the URL
	office moffman.Office
	forms  forms
	sync   *moffman.ManualSync
	store  *sqlite.Store
}

const janEmail = "jan.novak@acme.com"

func newE2E(t *testing.T, s *testServer) *e2e {
	e := &e2e{s: s, cal: s.calendar(t), forms: forms{byroapitest.Start(t)}}
	e.rel = s.newCalendar(t)
	e.calID = s.url + e.rel + "/"
	e.office = moffman.Office{Name: "prague", CalendarID: e.calID}
	store, err := sqlite.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e.store = store
	forms, err := byroapi.New(byroapi.Config{Template: "approval", URL: e.forms.URL,
		Subject: "{id} {date_from_attachment}"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := moffman.NewDirectory(moffman.DirectoryLists{
		Offices:     []moffman.Office{e.office},
		ManualUsers: []moffman.Person{{Email: janEmail, FirstName: "Jan", LastName: "Novák", EmployeeNumber: "1234"}},
	})
	e.sync = &moffman.ManualSync{Calendar: e.cal, Store: store, Directory: dir, Forms: forms,
		Colors:   moffman.Colors{Unapproved: "4", Approved: "5"},
		CheckMin: moffman.Shift{Weeks: -1}, CheckMax: moffman.Shift{Weeks: 2}, Logger: slog.New(slog.DiscardHandler)}
	if err := e.cal.Subscribe(context.Background(), e.calID); err != nil {
		t.Fatal(err)
	}
	return e
}

// day is today plus n days, as YYYY-MM-DD.
func day(n int) string { return time.Now().UTC().AddDate(0, 0, n).Format(moffman.DateLayout) }

func (e *e2e) reservations(t *testing.T) {
	ctx := context.Background()
	svc := &moffman.Reservations{Calendar: e.cal, Directory: moffman.NewDirectory(moffman.DirectoryLists{Offices: []moffman.Office{e.office}}),
		Colors: moffman.Colors{Unapproved: "4", Approved: "5"}}
	req := moffman.ReservationRequest{OfficeID: "prague", UserName: "Some User", UserEmail: "user@acme.com",
		Start: day(3), End: day(4), RequestDT: "10:00:00 2024/01/02"}
	r, err := svc.Reserve(ctx, req)
	if err != nil || r.State != moffman.StatePending {
		t.Fatalf("pending reservation = %+v, %v", r, err)
	}
	wantLines(t, "pending reservation", e.s.raw(t, e.rel, r.ID), "UID:"+r.ID, "SUMMARY:(Some User)",
		"X-MOFFMAN-EVENT-PROCESSED:false", "COLOR:salmon", "X-MOFFMAN-MOFFMAN-USER-EMAIL:user@acme.com")
	req.Approved = true
	if r, err = svc.Reserve(ctx, req); err != nil || r.State != moffman.StateApproved {
		t.Fatalf("approved reservation = %+v, %v", r, err)
	}
	wantLines(t, "approved reservation", e.s.raw(t, e.rel, r.ID), "SUMMARY:Some User",
		"X-MOFFMAN-EVENT-PROCESSED:true", "COLOR:khaki")
	if got, err := svc.Get(ctx, "prague", r.ID); err != nil || got.State != moffman.StateApproved || got.UserEmail != "user@acme.com" {
		t.Errorf("Get = %+v, %v", got, err)
	}
	// A reservation is moffman's own: the manual sync sends it no form.
	e.sync.RunOnce(ctx)
	if n := e.forms.total(); n != 0 {
		t.Errorf("%d forms for a REST reservation", n)
	}
}

func (e *e2e) manual(t *testing.T) {
	ctx := context.Background()
	jan := e.s.addManual(t, e.rel, janEmail, moffman.Event{Summary: "office", Start: day(5), End: day(6)})
	stranger := e.s.addManual(t, e.rel, "someone@else.com", moffman.Event{Summary: "office", Start: day(7), End: day(8)})
	e.sync.RunOnce(ctx)
	e.sync.RunOnce(ctx) // nothing new: no second form
	if n := e.forms.count(janEmail + " " + day(5)); n != 1 || e.forms.total() != 1 {
		t.Errorf("forms for the manual event: %d (of %d), want exactly 1", n, e.forms.total())
	}
	ics := e.s.raw(t, e.rel, jan)
	wantLines(t, "approved manual event", ics, "SUMMARY:Jan Novák", "X-MOFFMAN-EVENT-PROCESSED:true",
		"COLOR:khaki", "BEGIN:VALARM", "TRANSP:TRANSPARENT")
	if ev, err := e.cal.Get(ctx, e.calID, jan); err != nil || ev.CreatorEmail != janEmail || ev.State() != moffman.StateApproved {
		t.Errorf("approved manual event = %+v, %v", ev, err)
	}
	if ev, err := e.cal.Get(ctx, e.calID, stranger); err != nil || !ev.IsManual() || ev.Summary != "office" {
		t.Errorf("an event by someone who is no manual user = %+v, %v; want it untouched", ev, err)
	}

	// Cancelled by its author before moffman saw it: no form.
	early := e.s.addManual(t, e.rel, janEmail, moffman.Event{Summary: "office", Start: day(9), End: day(10)})
	e.s.putManual(t, e.rel, early, janEmail, moffman.Event{Summary: "office", Start: day(9), End: day(10),
		Status: moffman.StatusCancelled}, "", "", http.StatusCreated, http.StatusNoContent)
	// Detected, then removed before its form went out: no form either.
	late := e.s.addManual(t, e.rel, janEmail, moffman.Event{Summary: "office", Start: day(11), End: day(12)})
	if err := e.sync.SyncOffice(ctx, e.office); err != nil {
		t.Fatal(err)
	}
	e.s.do(t, http.MethodDelete, e.rel+"/"+late+".ics", nil, nil, http.StatusOK, http.StatusNoContent)
	if _, err := e.sync.ProcessDueJobs(ctx); err != nil {
		t.Fatal(err)
	}
	e.sync.RunOnce(ctx)
	if n := e.forms.total(); n != 1 {
		t.Errorf("%d forms after two cancelled manual events, want still 1", n)
	}
	if st := e.status(t); st.FullSync || st.LastError != "" {
		t.Errorf("the later runs were full syncs or failed: %+v", st)
	}
}

// refusedToken re-creates the calendar, as an admin restoring it would:
// the server refuses the old token (Radicale 403, Xandikos 500) and the
// next run lists the window again, finding the new manual event.
func (e *e2e) refusedToken(t *testing.T) {
	ctx := context.Background()
	old, err := e.store.SyncToken(ctx, e.calID)
	if err != nil || old == "" {
		t.Fatalf("stored token %q, %v", old, err)
	}
	e.s.do(t, http.MethodDelete, e.rel+"/", nil, nil, http.StatusOK, http.StatusNoContent)
	e.s.do(t, "MKCALENDAR", e.rel+"/", nil, nil, http.StatusCreated)
	_, err = e.cal.List(ctx, e.calID, moffman.ListQuery{SyncToken: old})
	if !moffman.IsCode(err, moffman.Gone) {
		t.Fatalf("List with the token of the removed calendar: %v, want Gone", err)
	}
	e.s.addManual(t, e.rel, janEmail, moffman.Event{Summary: "office", Start: day(13), End: day(14)})
	e.sync.RunOnce(ctx)
	if st := e.status(t); !st.FullSync || st.LastError != "" {
		t.Errorf("after the refused token: %+v, want a full sync without error", st)
	}
	if n := e.forms.count(janEmail + " " + day(13)); n != 1 {
		t.Errorf("%d forms for the event found by the full resync, want 1", n)
	}
	if tok, _ := e.store.SyncToken(ctx, e.calID); tok == "" || tok == old {
		t.Errorf("token after the resync = %q (old %q)", tok, old)
	}
}

func (e *e2e) status(t *testing.T) moffman.OfficeSyncStatus {
	t.Helper()
	st, err := e.sync.Status(context.Background())
	if err != nil || len(st) != 1 {
		t.Fatalf("status = %+v, %v", st, err)
	}
	return st[0]
}
