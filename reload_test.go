package moffman_test

import (
	"cmp"
	"context"
	"path/filepath"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/sqlite"
)

// sheet is a DirectorySource whose answer the test sets.
type sheet struct {
	lists moffman.DirectoryLists
	err   error
}

func (s *sheet) Load(context.Context) (moffman.DirectoryLists, error) { return s.lists, s.err }

func TestReloadKeepsLastGoodListsAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	static := moffman.DirectoryLists{Offices: []moffman.Office{{Name: "prague", CalendarID: "prague-cal"}}}
	src := &sheet{lists: moffman.DirectoryLists{
		Offices:     []moffman.Office{{Name: "brno", CalendarID: "brno-cal"}, {Name: "prague", CalendarID: "prague-new"}},
		ManualUsers: []moffman.Person{{Email: "Jan.Novak@acme.com", FirstName: "Jan", LastName: "Novák"}},
	}}
	dir := moffman.NewDirectory(static)
	r := &moffman.Reloader{Source: src, Directory: dir, Store: store, Calendar: store}
	if err := r.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if o, _ := dir.Office("prague"); o.CalendarID != "prague-new" {
		t.Errorf("the spreadsheet row does not win over the static one: %+v", o)
	}
	if _, ok := dir.ManualUser("jan.novak@ACME.com"); !ok {
		t.Error("manual users are not matched case-insensitively")
	}

	// A failed reload reports the error and keeps the lists.
	src.err = moffman.Errorf(moffman.Unavailable, "sheets is down")
	if err := r.Reload(ctx); moffman.ErrorCode(err) != moffman.Unavailable {
		t.Errorf("failed reload returned %v, want unavailable", err)
	}
	if _, ok := dir.Office("brno"); !ok {
		t.Error("a failed reload dropped the last good lists")
	}

	// A restart while the spreadsheet is down still knows them.
	store.Close()
	store, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	dir = moffman.NewDirectory(static)
	r = &moffman.Reloader{Source: src, Directory: dir, Store: store, Calendar: store}
	if err := r.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(ctx); err == nil {
		t.Fatal("reload should still fail")
	}
	if _, ok := dir.Office("brno"); !ok || dir.ManualUserCount() != 1 {
		t.Errorf("after a restart with the spreadsheet down: offices %v, %d users", dir.Offices(), dir.ManualUserCount())
	}

	// The next good reload replaces the spreadsheet rows as a whole.
	src.err = nil
	src.lists = moffman.DirectoryLists{}
	if err := r.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := dir.Office("brno"); ok {
		t.Error("a removed spreadsheet row is still known")
	}
	if o, ok := dir.Office("prague"); !ok || o.CalendarID != "prague-cal" {
		t.Errorf("the static office is lost or wrong: %+v", o)
	}
}

// unshared refuses one calendar as Google does for a calendar not shared
// with the service account (NotFound, the default) or one the account may
// not subscribe to (Forbidden).
type unshared struct {
	moffman.Calendar
	id   string
	code moffman.Code
}

func (u unshared) Subscribe(ctx context.Context, id string) error {
	if id == u.id {
		return moffman.Errorf(cmp.Or(u.code, moffman.NotFound), "calendar %s not accessible", id)
	}
	return u.Calendar.Subscribe(ctx, id)
}

func TestUnsharedCalendarFailsOnlyItsOffice(t *testing.T) {
	t.Parallel()
	for _, code := range []moffman.Code{moffman.NotFound, moffman.Forbidden, moffman.Upstream} {
		t.Run(string(code), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store, err := sqlite.Open(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			dir := moffman.NewDirectory(moffman.DirectoryLists{Offices: []moffman.Office{{Name: "prague", CalendarID: "prague-cal"}, {Name: "hidden", CalendarID: "hidden-cal"}}})
			cal := unshared{Calendar: store, id: "hidden-cal", code: code}
			if err := (&moffman.Reloader{Directory: dir, Store: store, Calendar: cal}).Reload(ctx); err != nil {
				t.Fatal(err)
			}
			res := &moffman.Reservations{Calendar: cal, Directory: dir, Colors: moffman.Colors{Unapproved: "4", Approved: "5"}}
			req := moffman.ReservationRequest{OfficeID: "hidden", UserName: "A", Start: "2022-06-28", End: "2022-06-29"}
			if _, err := res.Reserve(ctx, req); moffman.ErrorCode(err) != moffman.Unavailable {
				t.Errorf("reserve in the office whose subscription failed (%s): %v, want unavailable", code, err)
			}
			req.OfficeID = "prague"
			if _, err := res.Reserve(ctx, req); err != nil {
				t.Errorf("reserve in a shared office: %v", err)
			}
		})
	}
}

// countingCalendar counts subscriptions per calendar.
type countingCalendar struct {
	moffman.Calendar
	subscribes map[string]int
}

func (c *countingCalendar) Subscribe(ctx context.Context, id string) error {
	c.subscribes[id]++
	return c.Calendar.Subscribe(ctx, id)
}

func TestRefreshSubscribesOnlyNewCalendars(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cal := &countingCalendar{Calendar: store, subscribes: map[string]int{}}
	src := &sheet{lists: moffman.DirectoryLists{Offices: []moffman.Office{{Name: "brno", CalendarID: "brno-cal"}}}}
	dir := moffman.NewDirectory(moffman.DirectoryLists{Offices: []moffman.Office{{Name: "prague", CalendarID: "prague-cal"}}})
	r := &moffman.Reloader{Source: src, Directory: dir, Store: store, Calendar: cal}
	if err := r.Reload(ctx); err != nil { // at start: every calendar
		t.Fatal(err)
	}
	src.lists.Offices = append(src.lists.Offices, moffman.Office{Name: "ostrava", CalendarID: "ostrava-cal"})
	if err := r.Refresh(ctx); err != nil { // periodic: only the new one
		t.Fatal(err)
	}
	want := map[string]int{"prague-cal": 1, "brno-cal": 1, "ostrava-cal": 1}
	for id, n := range want {
		if cal.subscribes[id] != n {
			t.Errorf("after Reload and Refresh: %v, want %v", cal.subscribes, want)
			break
		}
	}
	if err := r.Reload(ctx); err != nil { // config_update: every calendar again
		t.Fatal(err)
	}
	if cal.subscribes["prague-cal"] != 2 || cal.subscribes["ostrava-cal"] != 2 {
		t.Errorf("config_update did not check every calendar: %v", cal.subscribes)
	}
}

// A reload tells RoomFreed exactly the offices whose capacity it changed,
// and nothing when no office has a capacity; the lists it saved keep the
// capacities across a restart.
func TestReloadTellsChangedCapacities(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	two, three := 2, 3
	src := &sheet{lists: moffman.DirectoryLists{Offices: []moffman.Office{{Name: "brno", CalendarID: "b"}, {Name: "prague", CalendarID: "p"}}}}
	var told []string
	r := &moffman.Reloader{Source: src, Directory: moffman.NewDirectory(moffman.DirectoryLists{}), Store: store, Calendar: store,
		RoomFreed: func(office string) { told = append(told, office) }}
	reload := func(want ...string) {
		t.Helper()
		told = nil
		if err := r.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if len(told) != len(want) || (len(want) > 0 && told[0] != want[0]) {
			t.Errorf("told %v, want %v", told, want)
		}
	}
	reload()
	src.lists.Offices[1].Capacity = &two
	reload("prague")
	reload()
	src.lists.Offices[1].Capacity = &three
	reload("prague")
	src.lists.Offices[1].Capacity = nil
	reload("prague")
	src.lists.Offices[1].Capacity = &two
	reload("prague")
	saved, ok, err := store.LoadDirectory(ctx)
	if err != nil || !ok || saved.Offices[1].Capacity == nil || *saved.Offices[1].Capacity != 2 {
		t.Errorf("saved lists %+v (%v, %v), want prague's capacity 2", saved, ok, err)
	}
}
