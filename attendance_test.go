package moffman_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/sqlite"
)

const (
	pragueCal = "prague@group.calendar.google.com"
	brnoCal   = "brno@group.calendar.google.com"
)

// newReservations is the service over a real in-memory store with two
// offices and one manual user.
func newReservations(t *testing.T) (*moffman.Reservations, *sqlite.Store) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	dir := moffman.NewDirectory(moffman.DirectoryLists{
		Offices: []moffman.Office{{Name: "prague", CalendarID: pragueCal}, {Name: "brno", CalendarID: brnoCal}},
		ManualUsers: []moffman.Person{
			{Email: "jan.novak@acme.com", FirstName: "Jan", LastName: "Novák"},
		},
	})
	return &moffman.Reservations{Calendar: store, Directory: dir, Colors: moffman.Colors{Unapproved: "4", Approved: "5"}}, store
}

func reserve(t *testing.T, s *moffman.Reservations, office, name, email, start, end string, approved bool) moffman.Reservation {
	t.Helper()
	r, err := s.Reserve(context.Background(), moffman.ReservationRequest{
		OfficeID: office, UserName: name, UserEmail: email, Approved: approved,
		Start: start, End: end, RequestDT: "10:00:00 2026/11/01",
	})
	if err != nil {
		t.Fatalf("reserve %s: %v", name, err)
	}
	return r
}

func insert(t *testing.T, store *sqlite.Store, cal string, ev moffman.Event) {
	t.Helper()
	if _, err := store.Insert(context.Background(), cal, ev); err != nil {
		t.Fatalf("insert %s: %v", ev.Summary, err)
	}
}

func TestAttendance(t *testing.T) {
	t.Parallel()
	s, store := newReservations(t)
	ctx := context.Background()
	// An approved visit that starts before the window and ends inside it.
	reserve(t, s, "prague", "Zoe Approved", "zoe@acme.com", "2026-11-29", "2026-12-02", true)
	reserve(t, s, "prague", "adam Pending", "Adam@Acme.com", "2026-12-01", "2026-12-02", false)
	// Pending and approved on one day: listed once, approved.
	reserve(t, s, "prague", "Bob Twice", "bob@acme.com", "2026-12-01", "2026-12-02", false)
	reserve(t, s, "prague", "Bob Twice", "bob@acme.com", "2026-12-01", "2026-12-03", true)
	// Cancelled, in another office, or after the window: left out.
	gone := reserve(t, s, "prague", "Carl Cancelled", "carl@acme.com", "2026-12-01", "2026-12-02", true)
	if err := s.Cancel(ctx, "prague", gone.ID); err != nil {
		t.Fatal(err)
	}
	reserve(t, s, "brno", "Brno Person", "b@acme.com", "2026-12-01", "2026-12-02", true)
	reserve(t, s, "prague", "Later Person", "l@acme.com", "2026-12-03", "2026-12-04", true)
	// A manual event by a known manual user shows the directory's name; by
	// anyone else, what they typed. Both wait for approval.
	insert(t, store, pragueCal, moffman.Event{Summary: "office", Start: "2026-12-01", End: "2026-12-02", CreatorEmail: "JAN.NOVAK@acme.com"})
	insert(t, store, pragueCal, moffman.Event{Summary: "Visitor Kim", Start: "2026-12-02", End: "2026-12-03", CreatorEmail: "kim@else.com"})
	// Written by the Python service: no e-mail.
	insert(t, store, pragueCal, moffman.Event{Summary: "Old Timer", Start: "2026-12-01", End: "2026-12-02", Private: map[string]string{moffman.PropProcessed: "true"}})

	got, err := s.Attendance(ctx, "prague", "2026-11-30", "2026-12-03")
	if err != nil {
		t.Fatal(err)
	}
	approved := func(name, email string) moffman.Attendee {
		return moffman.Attendee{Name: name, Email: email, Status: moffman.StateApproved}
	}
	pending := func(name, email string) moffman.Attendee {
		return moffman.Attendee{Name: name, Email: email, Status: moffman.StatePending}
	}
	want := moffman.Attendance{OfficeID: "prague", From: "2026-11-30", To: "2026-12-03", Days: []moffman.AttendanceDay{
		{Date: "2026-11-30", People: []moffman.Attendee{approved("Zoe Approved", "zoe@acme.com")}, Approved: 1},
		{Date: "2026-12-01", People: []moffman.Attendee{
			pending("adam Pending", "Adam@Acme.com"),
			approved("Bob Twice", "bob@acme.com"),
			pending("Jan Novák", "JAN.NOVAK@acme.com"),
			approved("Old Timer", ""),
			approved("Zoe Approved", "zoe@acme.com"),
		}, Approved: 3, Pending: 2},
		{Date: "2026-12-02", People: []moffman.Attendee{
			approved("Bob Twice", "bob@acme.com"),
			pending("Visitor Kim", "kim@else.com"),
		}, Approved: 1, Pending: 1},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attendance:\n got %+v\nwant %+v", got, want)
	}

	// A day with nobody is there, with an empty list.
	got, err = s.Attendance(ctx, "brno", "2026-12-05", "2026-12-06")
	if err != nil || len(got.Days) != 1 || got.Days[0].People == nil || len(got.Days[0].People) != 0 {
		t.Errorf("empty day: %+v, %v", got, err)
	}
}

func TestAttendanceErrors(t *testing.T) {
	t.Parallel()
	s, _ := newReservations(t)
	ctx := context.Background()
	for _, c := range []struct {
		office, from, to string
		code             moffman.Code
		msg              string
	}{
		{"nowhere", "2026-12-01", "2026-12-08", moffman.NotFound, `unknown office "nowhere"`},
		{"prague", "", "2026-12-08", moffman.Invalid, "from and to are required"},
		{"prague", "2026-13-01", "2026-12-08", moffman.Invalid, "from must be a real date"},
		{"prague", "2026-12-08", "2026-12-01", moffman.Invalid, "must be after from"},
		{"prague", "2026-01-01", "2027-01-03", moffman.Invalid, "from 2026-01-01 to 2027-01-03 spans 367 days; at most 366"},
	} {
		_, err := s.Attendance(ctx, c.office, c.from, c.to)
		if !moffman.IsCode(err, c.code) || !strings.Contains(moffman.ErrorMessage(err), c.msg) {
			t.Errorf("Attendance(%s, %s, %s) = %v, want %s with %q", c.office, c.from, c.to, err, c.code, c.msg)
		}
	}
	// The longest window allowed.
	got, err := s.Attendance(ctx, "prague", "2028-01-01", "2029-01-01")
	if err != nil || len(got.Days) != 366 {
		t.Errorf("366 days: %d days, %v", len(got.Days), err)
	}
}

func TestPersonReservations(t *testing.T) {
	t.Parallel()
	s, _ := newReservations(t)
	ctx := context.Background()
	b := reserve(t, s, "brno", "Some User", "user@acme.com", "2026-12-02", "2026-12-03", true)
	p := reserve(t, s, "prague", "Some User", "User@ACME.com", "2026-12-01", "2026-12-02", false)
	c := reserve(t, s, "prague", "Some User", "user@acme.com", "2026-12-04", "2026-12-05", false)
	reserve(t, s, "prague", "Someone Else", "else@acme.com", "2026-12-01", "2026-12-02", true)
	reserve(t, s, "prague", "Some User", "user@acme.com", "2027-01-04", "2027-01-05", true) // outside
	if err := s.Cancel(ctx, "prague", c.ID); err != nil {
		t.Fatal(err)
	}

	person := func(email string, includeCancelled bool) ([]moffman.Reservation, error) {
		page, err := s.PersonPage(ctx, email, moffman.PageQuery{From: "2026-11-30", To: "2026-12-07", IncludeCancelled: includeCancelled})
		if page.NextPageToken != "" {
			t.Errorf("%s: a next page of a short list", email)
		}
		return page.Reservations, err
	}
	got, err := person("USER@acme.com", false)
	if err != nil {
		t.Fatal(err)
	}
	// Office by office (by name), then by start.
	if len(got) != 2 || got[0].ID != b.ID || got[1].ID != p.ID || got[0].OfficeID != "brno" || got[1].OfficeID != "prague" {
		t.Errorf("reservations = %+v, want brno %s then prague %s", got, b.ID, p.ID)
	}
	got, err = person("user@acme.com", true)
	if err != nil || len(got) != 3 || got[2].State != moffman.StateCancelled {
		t.Errorf("with cancelled: %+v, %v", got, err)
	}
	got, err = person("nobody@acme.com", false)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("nobody: %#v, %v", got, err)
	}

	for _, email := range []string{"", "user", "user@", "Some User <user@acme.com>", strings.Repeat("a", 250) + "@acme.com"} {
		if _, err := person(email, false); !moffman.IsCode(err, moffman.Invalid) {
			t.Errorf("e-mail %q: %v, want invalid", email, err)
		}
	}
	if _, err := s.PersonPage(ctx, "user@acme.com", moffman.PageQuery{From: "2026-01-01", To: "2027-06-01"}); !moffman.IsCode(err, moffman.Invalid) {
		t.Errorf("long window: %v, want invalid", err)
	}
}

func TestParseWindowMaxDays(t *testing.T) {
	t.Parallel()
	if _, _, err := moffman.ParseWindow("2026-01-01", "2027-01-02", moffman.WindowRule{MaxDays: moffman.MaxWindowDays}); err != nil {
		t.Errorf("366 days: %v", err)
	}
	if _, _, err := moffman.ParseWindow("2026-01-01", "2027-01-03", moffman.WindowRule{MaxDays: moffman.MaxWindowDays}); !moffman.IsCode(err, moffman.Invalid) {
		t.Errorf("367 days: %v", err)
	}
}
