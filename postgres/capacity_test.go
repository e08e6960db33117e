package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/pgtest"
)

// Two replicas (two stores on one database, each with its own
// Reservations) race for the last desks: the advisory lock lets exactly
// the capacity through.
func TestCapacityLockAcrossReplicas(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	const cal = "prague@group.calendar.google.com"
	capacity := 2
	var replicas []*moffman.Reservations
	for range 2 {
		s := openURL(t, url)
		replicas = append(replicas, &moffman.Reservations{Calendar: s, Lock: s.CapacityLock(),
			Colors:    moffman.Colors{Unapproved: "4", Approved: "5"},
			Directory: moffman.NewDirectory(moffman.DirectoryLists{Offices: []moffman.Office{{Name: "prague", CalendarID: cal, Capacity: &capacity}}})})
	}
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = replicas[i%2].Reserve(context.Background(), moffman.ReservationRequest{OfficeID: "prague",
				UserName: fmt.Sprintf("Racer %02d", i), Approved: true, Start: "2026-11-30", End: "2026-12-01", RequestDT: "08:00"})
		})
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
	days, err := replicas[0].Availability(context.Background(), "prague", "2026-11-30", "2026-12-01")
	if err != nil {
		t.Fatal(err)
	}
	if won != capacity || days[0].Approved != capacity {
		t.Errorf("%d approvals succeeded, %d stored; want exactly %d of %d", won, days[0].Approved, capacity, n)
	}
}
