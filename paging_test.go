package moffman_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/google"
	"github.com/moffman/moffman/googlefake"
	"github.com/moffman/moffman/internal/pgtest"
	"github.com/moffman/moffman/postgres"
	"github.com/moffman/moffman/sqlite"
)

// pagingBackends runs a test on every backend that pages with its own
// tokens: the embedded SQLite store, PostgreSQL and Google (googlefake
// through the adapter).
func pagingBackends(t *testing.T, test func(t *testing.T, s *moffman.Reservations)) {
	offices := []moffman.Office{{Name: "brno", CalendarID: brnoCal}, {Name: "prague", CalendarID: pragueCal}}
	open := map[string]func(t *testing.T) moffman.Calendar{
		"sqlite": func(t *testing.T) moffman.Calendar {
			s, err := sqlite.Open(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) moffman.Calendar {
			s, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"google": func(t *testing.T) moffman.Calendar {
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
			c, err := google.NewCalendar(ctx, google.Options{
				KeyJSON: fake.KeyJSON(), CalendarEndpoint: fake.CalendarEndpoint(),
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
	}
	for _, name := range []string{"sqlite", "postgres", "google"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := moffman.NewDirectory(moffman.DirectoryLists{Offices: offices})
			test(t, &moffman.Reservations{Calendar: open[name](t), Directory: dir, Colors: moffman.Colors{Unapproved: "4", Approved: "5"}})
		})
	}
}

// fillOffice reserves n visits in an office, several on each day and some
// longer than a day, for the person emails[i % len(emails)].
func fillOffice(t *testing.T, s *moffman.Reservations, office string, n int, emails ...string) {
	t.Helper()
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range n {
		start := day.AddDate(0, 0, i/3)
		email := emails[i%len(emails)]
		_, err := s.Reserve(context.Background(), moffman.ReservationRequest{
			OfficeID: office, UserName: "Person " + email, UserEmail: email, Approved: i%2 == 0,
			Start: start.Format(moffman.DateLayout), End: start.AddDate(0, 0, 1+i%4).Format(moffman.DateLayout),
			RequestDT: fmt.Sprintf("req %d", i),
		})
		if err != nil {
			t.Fatalf("reserve %d in %s: %v", i, office, err)
		}
	}
}

// walk follows every page of a listing and returns the ids in the order
// seen and the number of pages.
func walk(t *testing.T, list func(token string) (moffman.ReservationPage, error)) ([]moffman.Reservation, int) {
	t.Helper()
	var all []moffman.Reservation
	token, pages := "", 0
	for {
		page, err := list(token)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		all = append(all, page.Reservations...)
		if page.NextPageToken == "" {
			return all, pages
		}
		if pages > 1000 {
			t.Fatal("the walk does not end")
		}
		token = page.NextPageToken
	}
}

func TestListPageWalksEveryReservationOnce(t *testing.T) {
	pagingBackends(t, func(t *testing.T, s *moffman.Reservations) {
		ctx := context.Background()
		fillOffice(t, s, "prague", 37, "a@acme.com")
		fillOffice(t, s, "brno", 4, "a@acme.com")
		q := moffman.PageQuery{From: moffman.FirstDate, To: moffman.LastDate}
		// What the store holds, in one listing.
		events, _, err := moffman.ListAll(ctx, s.Calendar, pragueCal, moffman.ListQuery{MaxResults: 2500})
		if err != nil || len(events) != 37 {
			t.Fatalf("store holds %d events, %v", len(events), err)
		}
		for _, limit := range []int{1, 5, 36, 37, 500} {
			q.Limit = limit
			got, pages := walk(t, func(token string) (moffman.ReservationPage, error) {
				q.PageToken = token
				page, err := s.ListPage(ctx, "prague", q)
				if len(page.Reservations) > limit {
					t.Errorf("limit %d: a page of %d", limit, len(page.Reservations))
				}
				return page, err
			})
			if len(got) != len(events) {
				t.Errorf("limit %d: %d reservations in %d pages, the store holds %d", limit, len(got), pages, len(events))
				continue
			}
			for i, r := range got {
				if r.ID != events[i].ID || r.OfficeID != "prague" {
					t.Errorf("limit %d: reservation %d is %s (%s), want %s", limit, i, r.ID, r.Start, events[i].ID)
					break
				}
			}
			if want := (37 + limit - 1) / limit; pages < want {
				t.Errorf("limit %d: %d pages, want at least %d", limit, pages, want)
			}
		}
		// A window and cancelled reservations: the walk sees what the window holds.
		if err := s.Cancel(ctx, "prague", events[3].ID); err != nil {
			t.Fatal(err)
		}
		q = moffman.PageQuery{From: "2026-03-05", To: "2026-03-09", Limit: 2}
		want, _, err := moffman.ListAll(ctx, s.Calendar, pragueCal, moffman.ListQuery{
			TimeMin: time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), TimeMax: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC),
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := walk(t, func(token string) (moffman.ReservationPage, error) {
			q.PageToken = token
			return s.ListPage(ctx, "prague", q)
		})
		if ids(got) != eventIDs(want) || len(want) == 0 {
			t.Errorf("window walk: %s\nwant %s", ids(got), eventIDs(want))
		}
		q.IncludeCancelled, q.PageToken = true, ""
		withCancelled, _ := walk(t, func(token string) (moffman.ReservationPage, error) {
			q.PageToken = token
			return s.ListPage(ctx, "prague", q)
		})
		if len(withCancelled) != len(got)+1 {
			t.Errorf("with cancelled: %d, want %d", len(withCancelled), len(got)+1)
		}
	})
}

func TestPersonPageWalksEveryOffice(t *testing.T) {
	pagingBackends(t, func(t *testing.T, s *moffman.Reservations) {
		ctx := context.Background()
		fillOffice(t, s, "prague", 30, "a@acme.com", "b@acme.com", "A@Acme.com")
		fillOffice(t, s, "brno", 9, "b@acme.com", "a@acme.com")
		// What the store holds for a@acme.com: brno's, then prague's,
		// each by start then id.
		var want []string
		for _, o := range s.Directory.Offices() {
			events, _, err := moffman.ListAll(ctx, s.Calendar, o.CalendarID, moffman.ListQuery{MaxResults: 2500})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range events {
				if strings.EqualFold(ev.Private[moffman.PropUserEmail], "a@acme.com") {
					want = append(want, ev.ID)
				}
			}
		}
		if len(want) != 20+4 {
			t.Fatalf("a@acme.com has %d reservations, want 24", len(want))
		}
		for _, limit := range []int{1, 3, 7, 24, 2500} {
			q := moffman.PageQuery{From: "2026-03-01", To: "2026-04-01", Limit: limit}
			got, _ := walk(t, func(token string) (moffman.ReservationPage, error) {
				q.PageToken = token
				page, err := s.PersonPage(ctx, "A@acme.COM", q)
				if len(page.Reservations) > limit {
					t.Errorf("limit %d: a page of %d", limit, len(page.Reservations))
				}
				return page, err
			})
			if ids(got) != strings.Join(want, ",") {
				t.Errorf("limit %d:\n got %s\nwant %s", limit, ids(got), strings.Join(want, ","))
			}
			if len(got) > 0 && (got[0].OfficeID != "brno" || got[len(got)-1].OfficeID != "prague") {
				t.Errorf("limit %d: from %s to %s, want brno first and prague last", limit, got[0].OfficeID, got[len(got)-1].OfficeID)
			}
		}
	})
}

// A token is good for the listing it came from only.
func TestPageTokensAreBoundToTheirQuery(t *testing.T) {
	pagingBackends(t, testPageTokensAreBound)
}

func testPageTokensAreBound(t *testing.T, s *moffman.Reservations) {
	ctx := context.Background()
	fillOffice(t, s, "prague", 6, "a@acme.com")
	fillOffice(t, s, "brno", 6, "a@acme.com")
	q := moffman.PageQuery{From: "2026-03-01", To: "2026-04-01", Limit: 2}
	first, err := s.ListPage(ctx, "prague", q)
	if err != nil || first.NextPageToken == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	tok := first.NextPageToken
	person, err := s.PersonPage(ctx, "a@acme.com", q)
	if err != nil || person.NextPageToken == "" {
		t.Fatalf("person's first page: %+v, %v", person, err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	withTok := q
	withTok.PageToken = tok
	for name, c := range map[string]struct {
		office string
		q      moffman.PageQuery
	}{
		"another office":       {"brno", withTok},
		"another from":         {"prague", moffman.PageQuery{From: "2026-03-02", To: q.To, PageToken: tok}},
		"another to":           {"prague", moffman.PageQuery{From: q.From, To: "2026-05-01", PageToken: tok}},
		"include_cancelled":    {"prague", moffman.PageQuery{From: q.From, To: q.To, IncludeCancelled: true, PageToken: tok}},
		"garbage":              {"prague", moffman.PageQuery{From: q.From, To: q.To, PageToken: "garbage!"}},
		"not base64 of ours":   {"prague", moffman.PageQuery{From: q.From, To: q.To, PageToken: "aGVsbG8"}},
		"cut short":            {"prague", moffman.PageQuery{From: q.From, To: q.To, PageToken: tok[:len(tok)-3]}},
		"one byte changed":     {"prague", moffman.PageQuery{From: q.From, To: q.To, PageToken: base64.RawURLEncoding.EncodeToString(append([]byte{raw[0] ^ 1}, raw[1:]...))}},
		"a person's token":     {"prague", moffman.PageQuery{From: q.From, To: q.To, PageToken: person.NextPageToken}},
		"the calendar's token": {"prague", moffman.PageQuery{From: q.From, To: q.To, PageToken: rawCalendarToken(t, s)}},
	} {
		_, err := s.ListPage(ctx, c.office, c.q)
		if !moffman.IsCode(err, moffman.Invalid) || !strings.Contains(moffman.ErrorMessage(err), "page_token") {
			t.Errorf("%s: %v, want invalid naming page_token", name, err)
		}
	}
	// The person's token: another person, window or an office's token.
	for name, c := range map[string]struct {
		email string
		q     moffman.PageQuery
	}{
		"another person": {"b@acme.com", moffman.PageQuery{From: q.From, To: q.To, PageToken: person.NextPageToken}},
		"another window": {"a@acme.com", moffman.PageQuery{From: q.From, To: "2026-03-31", PageToken: person.NextPageToken}},
		"an office's":    {"a@acme.com", moffman.PageQuery{From: q.From, To: q.To, PageToken: tok}},
		"garbage":        {"a@acme.com", moffman.PageQuery{From: q.From, To: q.To, PageToken: "%%%"}},
		"zero bytes":     {"a@acme.com", moffman.PageQuery{From: q.From, To: q.To, PageToken: "AAAA"}},
	} {
		_, err := s.PersonPage(ctx, c.email, c.q)
		if !moffman.IsCode(err, moffman.Invalid) || !strings.Contains(moffman.ErrorMessage(err), "page_token") {
			t.Errorf("person, %s: %v, want invalid naming page_token", name, err)
		}
	}
	// The same e-mail in another case is the same person: the token holds.
	if _, err := s.PersonPage(ctx, "A@ACME.com", moffman.PageQuery{From: q.From, To: q.To, PageToken: person.NextPageToken}); err != nil {
		t.Errorf("the person's token with the e-mail in capitals: %v", err)
	}
	// The limit may change between pages.
	if _, err := s.ListPage(ctx, "prague", moffman.PageQuery{From: q.From, To: q.To, Limit: 5, PageToken: tok}); err != nil {
		t.Errorf("another limit: %v", err)
	}
}

// rawCalendarToken is a page token as the calendar itself hands it out.
func rawCalendarToken(t *testing.T, s *moffman.Reservations) string {
	page, err := s.Calendar.List(context.Background(), pragueCal, moffman.ListQuery{MaxResults: 1})
	if err != nil || page.NextPageToken == "" {
		t.Fatalf("calendar page: %+v, %v", page, err)
	}
	return page.NextPageToken
}

func TestLimitBounds(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]int{"": moffman.DefaultPageLimit, "1": 1, "2500": 2500, "500": 500} {
		if got, err := moffman.ParseLimit(s); err != nil || got != want {
			t.Errorf("ParseLimit(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"0", "-1", "2501", "1e3", "ten", " 5", "99999999999999999999"} {
		if _, err := moffman.ParseLimit(s); !moffman.IsCode(err, moffman.Invalid) || !strings.Contains(moffman.ErrorMessage(err), "limit") {
			t.Errorf("ParseLimit(%q): %v, want invalid naming limit", s, err)
		}
	}
	r, _ := newReservations(t)
	for _, n := range []int{-1, 2501} {
		_, err := r.ListPage(context.Background(), "prague", moffman.PageQuery{From: "2026-03-01", To: "2026-04-01", Limit: n})
		if !moffman.IsCode(err, moffman.Invalid) || !strings.Contains(moffman.ErrorMessage(err), "limit") {
			t.Errorf("ListPage with limit %d: %v", n, err)
		}
		_, err = r.PersonPage(context.Background(), "a@acme.com", moffman.PageQuery{From: "2026-03-01", To: "2026-04-01", Limit: n})
		if !moffman.IsCode(err, moffman.Invalid) || !strings.Contains(moffman.ErrorMessage(err), "limit") {
			t.Errorf("PersonPage with limit %d: %v", n, err)
		}
	}
}

// A person with a few reservations among many: each page reads a bounded
// number of calendar pages, short pages say that more follows, and the
// walk still finds every reservation.
func TestPersonPageBoundsItsWork(t *testing.T) {
	t.Parallel()
	s, store := newReservations(t)
	counting := &listCounter{Calendar: store}
	s.Calendar = counting
	ctx := context.Background()
	emails := make([]string, 30)
	for i := range emails {
		emails[i] = fmt.Sprintf("p%02d@acme.com", i)
	}
	fillOffice(t, s, "prague", 90, emails...) // p00 has 3
	q := moffman.PageQuery{From: "2026-03-01", To: "2026-04-01", Limit: 2}
	var got []moffman.Reservation
	for pages := 0; ; pages++ {
		counting.calls = 0
		page, err := s.PersonPage(ctx, "p00@acme.com", q)
		if err != nil {
			t.Fatal(err)
		}
		if counting.calls > 10 {
			t.Errorf("page %d read %d calendar pages, want at most 10", pages, counting.calls)
		}
		got = append(got, page.Reservations...)
		if q.PageToken = page.NextPageToken; q.PageToken == "" || pages > 100 {
			break
		}
	}
	if len(got) != 3 {
		t.Errorf("p00 has %d reservations in the walk, want 3", len(got))
	}
}

type listCounter struct {
	moffman.Calendar
	calls int
}

func (c *listCounter) List(ctx context.Context, id string, q moffman.ListQuery) (moffman.EventPage, error) {
	c.calls++
	return c.Calendar.List(ctx, id, q)
}

func TestPageOffices(t *testing.T) {
	t.Parallel()
	var offices []moffman.Office
	for i := range 7 {
		offices = append(offices, moffman.Office{Name: fmt.Sprintf("o%d", i), CalendarID: fmt.Sprintf("c%d", i)})
	}
	var seen []string
	token := ""
	for {
		page, next, err := moffman.PageOffices(offices, 3, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page {
			seen = append(seen, o.Name)
		}
		if next == "" {
			break
		}
		token = next
	}
	if strings.Join(seen, ",") != "o0,o1,o2,o3,o4,o5,o6" {
		t.Errorf("offices walked: %v", seen)
	}
	if all, next, err := moffman.PageOffices(offices, 0, ""); err != nil || len(all) != 7 || next != "" {
		t.Errorf("default limit: %d offices, next %q, %v", len(all), next, err)
	}
	if _, _, err := moffman.PageOffices(offices, 3, "garbage"); !moffman.IsCode(err, moffman.Invalid) {
		t.Errorf("garbage token: %v", err)
	}
}

func ids(rs []moffman.Reservation) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return strings.Join(out, ",")
}

func eventIDs(evs []moffman.Event) string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return strings.Join(out, ",")
}

// The "who's in" views hold a bounded number of reservations: a window
// with more is refused with a message, and one with exactly that many is
// served whole, across calendar pages.
func TestVisitsAreBounded(t *testing.T) {
	t.Parallel()
	s, store := newReservations(t)
	const limit = 2600 // more than a calendar page (2,500)
	moffman.SetVisitLimit(s, limit)
	ctx := context.Background()
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range limit {
		start := day.AddDate(0, 0, i%300)
		_, err := store.Insert(ctx, pragueCal, moffman.Event{
			ID: fmt.Sprintf("ev%08d", i), Summary: "Someone", ColorID: "5",
			Start: start.Format(moffman.DateLayout), End: start.AddDate(0, 0, 1).Format(moffman.DateLayout),
			Private: map[string]string{moffman.PropProcessed: "true"},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	visits, err := s.Visits(ctx, "prague", "2026-01-01", "2027-01-01")
	if err != nil || len(visits) != limit {
		t.Fatalf("%d visits, %v; want %d", len(visits), err, limit)
	}
	if _, err := store.Insert(ctx, pragueCal, moffman.Event{ID: "onemore1", Summary: "One more", Start: "2026-06-01", End: "2026-06-02"}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Visits(ctx, "prague", "2026-01-01", "2027-01-01")
	if !moffman.IsCode(err, moffman.Invalid) || !strings.Contains(moffman.ErrorMessage(err), "shorter") {
		t.Errorf("one more than the limit: %v, want invalid asking for a shorter window", err)
	}
	if _, err := s.Attendance(ctx, "prague", "2026-01-01", "2027-01-01"); !moffman.IsCode(err, moffman.Invalid) {
		t.Errorf("attendance of the same window: %v, want invalid", err)
	}
	// A shorter window is served.
	if _, err := s.Attendance(ctx, "prague", "2026-01-01", "2026-02-01"); err != nil {
		t.Errorf("a month: %v", err)
	}
}

// offsetCalendar hands out page tokens that are bare offsets, bound to
// nothing, as a backend may: the core's own binding is then all that
// keeps a token to its listing.
type offsetCalendar struct{ moffman.Calendar }

func (c offsetCalendar) List(ctx context.Context, id string, q moffman.ListQuery) (moffman.EventPage, error) {
	off := 0
	if q.PageToken != "" {
		var err error
		if off, err = strconv.Atoi(q.PageToken); err != nil {
			return moffman.EventPage{}, moffman.Errorf(moffman.Invalid, "bad token")
		}
	}
	size := q.MaxResults
	q.PageToken, q.MaxResults = "", 2500
	all, _, err := moffman.ListAll(ctx, c.Calendar, id, q)
	if err != nil {
		return moffman.EventPage{}, err
	}
	var page moffman.EventPage
	if off < len(all) {
		page.Events = all[off:min(off+size, len(all))]
	}
	if off+size < len(all) {
		page.NextPageToken = strconv.Itoa(off + size)
	}
	return page, nil
}

func TestPageTokensAreBoundByTheCore(t *testing.T) {
	t.Parallel()
	s, store := newReservations(t)
	s.Calendar = offsetCalendar{store}
	ctx := context.Background()
	fillOffice(t, s, "prague", 6, "a@acme.com")
	fillOffice(t, s, "brno", 6, "a@acme.com")
	q := moffman.PageQuery{From: "2026-03-01", To: "2026-04-01", Limit: 2}
	first, err := s.ListPage(ctx, "prague", q)
	if err != nil || first.NextPageToken == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	q.PageToken = first.NextPageToken
	if page, err := s.ListPage(ctx, "prague", q); err != nil || len(page.Reservations) != 2 {
		t.Fatalf("second page: %+v, %v", page, err)
	}
	for name, c := range map[string]struct {
		office string
		q      moffman.PageQuery
	}{
		"another office":    {"brno", q},
		"another window":    {"prague", moffman.PageQuery{From: q.From, To: "2026-03-20", PageToken: q.PageToken}},
		"include_cancelled": {"prague", moffman.PageQuery{From: q.From, To: q.To, IncludeCancelled: true, PageToken: q.PageToken}},
	} {
		if _, err := s.ListPage(ctx, c.office, c.q); !moffman.IsCode(err, moffman.Invalid) || !strings.Contains(moffman.ErrorMessage(err), "page_token") {
			t.Errorf("%s: %v, want invalid naming page_token", name, err)
		}
	}
}
