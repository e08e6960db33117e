package moffman_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/sqlite"
)

// racingInsert has a pending insert of the same reservation land between
// the approval's patch (which finds nothing) and its insert.
type racingInsert struct {
	moffman.Calendar
	once    sync.Once
	pending moffman.Event
}

func (r *racingInsert) Insert(ctx context.Context, cal string, ev moffman.Event) (moffman.Event, error) {
	r.once.Do(func() { _, _ = r.Calendar.Insert(ctx, cal, r.pending) })
	return r.Calendar.Insert(ctx, cal, ev)
}

func TestApprovalRacingAPendingInsertApprovesIt(t *testing.T) {
	t.Parallel()
	store, err := sqlite.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	req := moffman.ReservationRequest{OfficeID: "prague", UserName: "Jan Novák", Start: monday, End: "2026-12-01", RequestDT: "08:00", Approved: true}
	id := moffman.EventID(req.UserName, req.RequestDT, req.Start, req.End)
	race := &racingInsert{Calendar: store, pending: moffman.Event{ID: id, Summary: "(Jan Novák)", Start: req.Start, End: req.End,
		ColorID: "4", Private: map[string]string{moffman.PropProcessed: "false"}}}
	res := &moffman.Reservations{Calendar: race, Colors: moffman.Colors{Unapproved: "4", Approved: "5"},
		Directory: moffman.NewDirectory(moffman.DirectoryLists{Offices: []moffman.Office{{Name: "prague", CalendarID: cal}}})}
	r, err := res.Reserve(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(context.Background(), cal, id)
	if err != nil || r.State != moffman.StateApproved || got.State() != moffman.StateApproved || got.ColorID != "5" {
		t.Errorf("after the race: answered %+v, stored %+v (%v); want approved", r, got, err)
	}
}

func TestReservationOfExactlyMaxDays(t *testing.T) {
	t.Parallel()
	req := moffman.ReservationRequest{OfficeID: "prague", UserName: "Jan", Start: "2026-11-30", End: "2026-12-07"} // 7 days
	if err := req.Validate(7); err != nil {
		t.Errorf("7 days with max_reservation_days 7: %v, want accepted", err)
	}
	if err := req.Validate(6); !moffman.IsCode(err, moffman.Invalid) {
		t.Errorf("7 days with max_reservation_days 6: %v, want Invalid", err)
	}
	if err := req.Validate(0); err != nil {
		t.Errorf("7 days without a limit: %v", err)
	}
}

func TestValidateBoundaries(t *testing.T) {
	t.Parallel()
	ok := moffman.ReservationRequest{OfficeID: "prague", UserName: "Jan", Start: "2026-11-30", End: "2026-12-01"}
	long := func(n int) string { return strings.Repeat("a", n) }
	email := func(n int) string { return long(n-len("@acme.com")) + "@acme.com" }
	for _, tc := range []struct {
		name   string
		change func(r *moffman.ReservationRequest)
		valid  bool
	}{
		{"as is", func(r *moffman.ReservationRequest) {}, true},
		{"no name", func(r *moffman.ReservationRequest) { r.UserName = " " }, false},
		{"name of 200", func(r *moffman.ReservationRequest) { r.UserName = long(200) }, true},
		{"name of 201", func(r *moffman.ReservationRequest) { r.UserName = long(201) }, false},
		{"e-mail of 254", func(r *moffman.ReservationRequest) { r.UserEmail = email(254) }, true},
		{"e-mail of 255", func(r *moffman.ReservationRequest) { r.UserEmail = email(255) }, false},
		{"not an e-mail", func(r *moffman.ReservationRequest) { r.UserEmail = "nope" }, false},
		{"e-mail with a name", func(r *moffman.ReservationRequest) { r.UserEmail = "Jan <jan@acme.com>" }, false},
		{"request_dt of 200", func(r *moffman.ReservationRequest) { r.RequestDT = long(200) }, true},
		{"request_dt of 201", func(r *moffman.ReservationRequest) { r.RequestDT = long(201) }, false},
	} {
		r := ok
		tc.change(&r)
		if err := r.Validate(0); (err == nil) != tc.valid {
			t.Errorf("%s: Validate = %v, want valid %v", tc.name, err, tc.valid)
		}
	}
}

func TestOfficeIDBoundaries(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("o", 200)
	res := &moffman.Reservations{Directory: moffman.NewDirectory(moffman.DirectoryLists{
		Offices: []moffman.Office{{Name: long, CalendarID: cal}}})}
	store, err := sqlite.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	res.Calendar = store
	ctx := context.Background()
	if _, err := res.List(ctx, long, "2026-11-01", "2026-12-01", false); err != nil {
		t.Errorf("an office id of 200 characters: %v", err)
	}
	for _, id := range []string{long + "o", "pra\xffgue", "pra\ngue", "\tprague"} {
		if _, err := res.List(ctx, id, "2026-11-01", "2026-12-01", false); !moffman.IsCode(err, moffman.Invalid) {
			t.Errorf("office id %q: %v, want Invalid", id, err)
		}
	}
}

func TestReservationUserNameOfPendingAndCancelled(t *testing.T) {
	t.Parallel()
	store, err := sqlite.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	res := &moffman.Reservations{Calendar: store, Colors: moffman.Colors{Unapproved: "4", Approved: "5"},
		Directory: moffman.NewDirectory(moffman.DirectoryLists{Offices: []moffman.Office{{Name: "prague", CalendarID: cal}}})}
	ctx := context.Background()
	pending := moffman.ReservationRequest{OfficeID: "prague", UserName: "Jan", Start: monday, End: "2026-12-01", RequestDT: "1"}
	approved := pending
	approved.UserName, approved.Approved = "(Eva)", true // a name in brackets stays as it is once approved
	for _, req := range []moffman.ReservationRequest{pending, approved} {
		r, err := res.Reserve(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		want := map[bool]string{false: "Jan", true: "(Eva)"}[req.Approved]
		if r.UserName != want {
			t.Errorf("%+v: user name %q, want %q", req, r.UserName, want)
		}
		if err := res.Cancel(ctx, "prague", r.ID); err != nil {
			t.Fatal(err)
		}
		if r, _ := res.Get(ctx, "prague", r.ID); r.State != moffman.StateCancelled || r.UserName != want {
			t.Errorf("cancelled %+v: %+v, want user name %q", req, r, want)
		}
	}
}
