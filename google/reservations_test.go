package google

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/api/calendar/v3"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/googlefake"
	"github.com/moffman/moffman/internal/httpstatus"
)

// The REST way end to end: moffman.Reservations over the adapter over the
// fake, counting Google calls per operation.
func TestReservationsEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	svc := &moffman.Reservations{
		Calendar:  e.cal,
		Directory: moffman.NewDirectory(moffman.DirectoryLists{Offices: []moffman.Office{{Name: "prague", CalendarID: testCal}}}),
		Colors:    moffman.Colors{Unapproved: "4", Approved: "5"},
		Logger:    e.opts.Logger,
	}
	req := moffman.ReservationRequest{OfficeID: "prague", UserName: userName, UserEmail: "user@acme.com",
		Start: "2022-06-28", End: "2022-06-29", RequestDT: requestDT}

	step := func(name string, want map[string]int, do func() error) {
		t.Helper()
		e.fake.ResetCalls()
		if err := do(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, m := range []string{googlefake.MethodEventsInsert, googlefake.MethodEventsGet,
			googlefake.MethodEventsPatch, googlefake.MethodEventsDelete, googlefake.MethodEventsList, googlefake.MethodToken} {
			if got := e.fake.Calls(m); got != want[m] {
				t.Errorf("%s: %d %s calls, want %d", name, got, m, want[m])
			}
		}
		t.Logf("%s: %v", name, want)
	}
	reserve := func(approved bool) func() error {
		return func() error {
			r := req
			r.Approved = approved
			_, err := svc.Reserve(ctx, r)
			return err
		}
	}

	step("pending (first call, with the token)", map[string]int{googlefake.MethodEventsInsert: 1, googlefake.MethodToken: 1}, reserve(false))
	wantStored(t, e.stored(t, eventID), "(Some User)", "4", "false")
	step("pending again", map[string]int{googlefake.MethodEventsInsert: 1, googlefake.MethodEventsGet: 1}, reserve(false))
	step("approve existing", map[string]int{googlefake.MethodEventsPatch: 1}, reserve(true))
	wantStored(t, e.stored(t, eventID), "Some User", "5", "true")
	step("approve again", map[string]int{googlefake.MethodEventsPatch: 1}, reserve(true))
	step("pending after approval", map[string]int{googlefake.MethodEventsInsert: 1, googlefake.MethodEventsGet: 1}, reserve(false))
	wantStored(t, e.stored(t, eventID), "Some User", "5", "true") // not turned back

	// Approving a reservation never seen pending: patch 404, then insert.
	other := req
	other.RequestDT = "09:00:00 2020/06/26"
	otherID := moffman.EventID(other.UserName, other.RequestDT, other.Start, other.End)
	step("approve missing", map[string]int{googlefake.MethodEventsPatch: 1, googlefake.MethodEventsInsert: 1}, func() error {
		r := other
		r.Approved = true
		_, err := svc.Reserve(ctx, r)
		return err
	})
	if ev, ok := e.fake.Event(testCal, otherID); !ok || ev.Summary != userName || ev.ColorID != "5" {
		t.Errorf("approved directly: %+v", ev)
	}

	step("get", map[string]int{googlefake.MethodEventsGet: 1}, func() error {
		r, err := svc.Get(ctx, "prague", eventID)
		if err == nil && (r.State != moffman.StateApproved || r.UserEmail != "user@acme.com") {
			err = fmt.Errorf("got %+v", r)
		}
		return err
	})
	step("list", map[string]int{googlefake.MethodEventsList: 1}, func() error {
		rs, err := svc.List(ctx, "prague", "2022-06-01", "2022-07-01", false)
		if err == nil && len(rs) != 2 {
			err = fmt.Errorf("listed %+v", rs)
		}
		return err
	})
	step("cancel", map[string]int{googlefake.MethodEventsDelete: 1}, func() error { return svc.Cancel(ctx, "prague", eventID) })
	step("cancel again", map[string]int{googlefake.MethodEventsDelete: 1}, func() error { return svc.Cancel(ctx, "prague", eventID) })
	if ev := e.stored(t, eventID); ev.Status != "cancelled" {
		t.Errorf("status %q after cancel", ev.Status)
	}
}

// A calendar shared read-only: Google refuses every write with 403
// requiredAccessLevel. The reservation answers 503 naming the calendar and
// the account (it heals when the calendar is shared for writing), not a 502
// as for a broken upstream; reads keep working.
func TestReservationsOnReadOnlyCalendar(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	account := e.fake.ServiceAccountEmail()
	svc := &moffman.Reservations{
		Calendar:  e.cal,
		Directory: moffman.NewDirectory(moffman.DirectoryLists{Offices: []moffman.Office{{Name: "prague", CalendarID: testCal}}}),
		Colors:    moffman.Colors{Unapproved: "4", Approved: "5"},
		Account:   account,
		Logger:    e.opts.Logger,
	}
	req := moffman.ReservationRequest{OfficeID: "prague", UserName: userName, Start: "2022-06-28", End: "2022-06-29", RequestDT: requestDT}
	existing, err := svc.Reserve(ctx, req)
	if err != nil {
		t.Fatal(err)
	}

	e.fake.ShareReadOnly(testCal)
	want503 := func(what string, err error) {
		t.Helper()
		msg := moffman.ErrorMessage(err)
		if httpstatus.Of(err) != http.StatusServiceUnavailable || !strings.Contains(msg, testCal) || !strings.Contains(msg, account) {
			t.Errorf("%s on a read-only calendar = %v (HTTP %d), want 503 naming the calendar and %s", what, err, httpstatus.Of(err), account)
		}
	}
	fresh := req
	fresh.RequestDT = "09:00:00 2020/06/26"
	_, err = svc.Reserve(ctx, fresh)
	want503("pending Reserve", err)
	fresh.Approved = true
	_, err = svc.Reserve(ctx, fresh)
	want503("approving Reserve", err)
	want503("Cancel", svc.Cancel(ctx, "prague", existing.ID))
	if r, err := svc.Get(ctx, "prague", existing.ID); err != nil || r.State != moffman.StatePending {
		t.Errorf("Get on a read-only calendar = %+v, %v; reading is allowed", r, err)
	}
	if _, ok := e.fake.Event(testCal, moffman.EventID(fresh.UserName, fresh.RequestDT, fresh.Start, fresh.End)); ok {
		t.Error("a refused write left an event")
	}

	e.fake.Share(testCal)
	r, err := svc.Reserve(ctx, fresh)
	if err != nil || r.State != moffman.StateApproved {
		t.Fatalf("approving Reserve after sharing for writing = %+v, %v", r, err)
	}
	if err := svc.Cancel(ctx, "prague", existing.ID); err != nil {
		t.Errorf("Cancel after sharing for writing: %v", err)
	}
}

// BenchmarkInsertViaAdapter and BenchmarkInsertDirectClient insert the same
// event through the adapter and through the bare official client, against
// the same fake: the difference is what the adapter adds.
func BenchmarkInsertViaAdapter(b *testing.B) {
	e := benchEnv(b)
	ev := pendingEvent()
	i := 0
	for b.Loop() {
		i++
		ev.ID = fmt.Sprintf("bench%08d", i)
		if _, err := e.cal.Insert(b.Context(), testCal, ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInsertDirectClient(b *testing.B) {
	e := benchEnv(b)
	raw := rawClient(b, e)
	i := 0
	for b.Loop() {
		i++
		body := &calendar.Event{
			Id: fmt.Sprintf("bench%08d", i), Summary: "(Some User)", ColorId: "4",
			Start:              &calendar.EventDateTime{Date: "2022-06-28"},
			End:                &calendar.EventDateTime{Date: "2022-06-29"},
			ExtendedProperties: &calendar.EventExtendedProperties{Private: pendingEvent().Private},
		}
		if _, err := raw.Events.Insert(testCal, body).Context(b.Context()).Do(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEnv is the adapter with its default transport and policy, as in
// production, over a fresh fake.
func benchEnv(b testing.TB) *env {
	b.Helper()
	fake, err := googlefake.New()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := fake.Listen(b.Context(), "127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	fake.AddCalendar(testCal, true)
	e := &env{fake: fake}
	e.cal, err = NewCalendar(b.Context(), Options{KeyJSON: fake.KeyJSON(), CalendarEndpoint: fake.CalendarEndpoint()})
	if err != nil {
		b.Fatal(err)
	}
	return e
}
