package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/calendartest"
	"github.com/moffman/moffman/internal/eventstore"
)

// openTest opens a file-backed store in a temporary directory.
func openTest(t testing.TB, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "moffman.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func event(id, start, end string) moffman.Event {
	return moffman.Event{ID: id, Summary: "s " + id, Start: start, End: end}
}

func mustInsert(t testing.TB, s *Store, cal string, ev moffman.Event) moffman.Event {
	t.Helper()
	got, err := s.Insert(context.Background(), cal, ev)
	if err != nil {
		t.Fatalf("Insert(%q): %v", ev.ID, err)
	}
	return got
}

func wantCode(t *testing.T, err error, code moffman.Code) {
	t.Helper()
	if moffman.ErrorCode(err) != code {
		t.Fatalf("error = %v (code %q), want code %q", err, moffman.ErrorCode(err), code)
	}
}

func ids(evs []moffman.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.ID)
	}
	return strings.Join(s, ",")
}

func TestInsertGet(t *testing.T) {
	t.Parallel()
	clk := calendartest.NewClock(time.Date(2024, 3, 1, 10, 0, 0, 123456789, time.FixedZone("x", 3600)))
	s := openTest(t, WithClock(clk.Now), WithAccount("svc@example.com"))
	ctx := context.Background()

	in := moffman.Event{ID: "abcde0123", Summary: "Some User", Start: "2024-03-04", End: "2024-03-05",
		ColorID: "5", Private: map[string]string{moffman.PropProcessed: "true"}}
	got := mustInsert(t, s, "cal@x", in)
	wantTime := time.Date(2024, 3, 1, 9, 0, 0, 123000000, time.UTC)
	if !got.Created.Equal(wantTime) || got.Created.Location() != time.UTC || !got.Updated.Equal(wantTime) {
		t.Errorf("created/updated = %v/%v, want %v UTC", got.Created, got.Updated, wantTime)
	}
	if got.Status != moffman.StatusConfirmed || got.CreatorEmail != "svc@example.com" || got.ETag == "" {
		t.Errorf("inserted = %+v", got)
	}
	read, err := s.Get(ctx, "cal@x", "abcde0123")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(read) != fmt.Sprint(got) {
		t.Errorf("Get = %+v\nwant  %+v", read, got)
	}

	manual := mustInsert(t, s, "cal@x", moffman.Event{Summary: "office", Start: "2024-03-04", End: "2024-03-06",
		CreatorEmail: "person@example.com"})
	if !regexp.MustCompile(`^[a-v0-9]{26,}$`).MatchString(manual.ID) {
		t.Errorf("generated id %q", manual.ID)
	}
	if manual.CreatorEmail != "person@example.com" || manual.Private != nil {
		t.Errorf("manual = %+v", manual)
	}
	if manual.ETag == got.ETag {
		t.Errorf("two writes share etag %s", got.ETag)
	}

	_, err = s.Get(ctx, "cal@x", "nosuchevent")
	wantCode(t, err, moffman.NotFound)
	_, err = s.Get(ctx, "other@x", "abcde0123")
	wantCode(t, err, moffman.NotFound)
}

// TestSyncTokenBinding checks what only the embedded store's tokens can
// get wrong: a token from the future (a replaced or reset store) is Gone,
// and page tokens are bound to their calendar (the rest of sync and
// paging is the contract in internal/calendartest).
func TestSyncTokenBinding(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	mustInsert(t, s, "c", event("old01", "2024-01-01", "2024-01-02"))
	mustInsert(t, s, "c", event("old02", "2024-01-01", "2024-01-02"))
	for _, bad := range []string{eventstore.SyncToken("other", 1), eventstore.SyncToken("c", 1000)} {
		_, err := s.List(ctx, "c", moffman.ListQuery{SyncToken: bad})
		wantCode(t, err, moffman.Gone)
	}
	first, err := s.List(ctx, "c", moffman.ListQuery{MaxResults: 1})
	if err != nil || first.NextPageToken == "" {
		t.Fatalf("first page = %+v, %v", first, err)
	}
	_, err = s.List(ctx, "other", moffman.ListQuery{PageToken: first.NextPageToken})
	wantCode(t, err, moffman.Invalid)
}

func TestMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, err := Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mustInsert(t, a, "c", event("event1", "2024-01-01", "2024-01-02"))
	if _, err := b.Get(ctx, "c", "event1"); !moffman.IsCode(err, moffman.NotFound) {
		t.Errorf("memory stores share data: %v", err)
	}
	evs, tok, err := moffman.ListAll(ctx, a, "c", moffman.ListQuery{})
	if err != nil || ids(evs) != "event1" || tok == "" {
		t.Errorf("list = %s %q %v", ids(evs), tok, err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := a.Insert(ctx, "c", event(fmt.Sprintf("par%02d", i), "2024-01-01", "2024-01-02")); err != nil {
				t.Error(err)
			}
			if _, err := a.List(ctx, "c", moffman.ListQuery{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := a.CommitSync(ctx, "c", []moffman.Job{{CalendarID: "c", EventID: "event1"}}, tok); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.SyncToken(ctx, "c"); got != tok {
		t.Errorf("SyncToken = %q", got)
	}
}
