package moffman_test

import (
	"context"
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
