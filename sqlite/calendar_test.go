package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

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
	clk := &testClock{t: time.Date(2024, 3, 1, 10, 0, 0, 123456789, time.FixedZone("x", 3600))}
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

func TestInsertValidation(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	for _, id := range []string{
		"abcd",                    // too short
		"abcdw",                   // w is not base32hex
		"ABCDE",                   // upper case
		"abc-de",                  // dash
		strings.Repeat("a", 1025), // too long
	} {
		_, err := s.Insert(ctx, "c", event(id, "2024-01-01", "2024-01-02"))
		wantCode(t, err, moffman.Invalid)
		if !strings.Contains(err.Error(), strconv.Quote(id)) {
			t.Errorf("error %q does not name id %q", err, id)
		}
	}
	for _, ev := range []moffman.Event{
		event("abcde", "2024-02-30", "2024-03-01"),                           // not a real date
		event("abcde", "2024-01-01", "2024-1-2"),                             // not YYYY-MM-DD
		event("abcde", "2024-01-02", "2024-01-02"),                           // empty range
		event("abcde", "2024-01-03", "2024-01-02"),                           // reversed
		event("abcde", "", ""),                                               // missing
		{ID: "abcde", Start: "2024-01-01", End: "2024-01-02", ColorID: "12"}, // no such colour
	} {
		_, err := s.Insert(ctx, "c", ev)
		wantCode(t, err, moffman.Invalid)
	}
	mustInsert(t, s, "c", event(strings.Repeat("v", 1024), "2024-01-01", "2024-01-02"))
	mustInsert(t, s, "c", event("01234", "2024-01-01", "2024-01-02"))
}

func TestInsertConflict(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	mustInsert(t, s, "a", event("event1", "2024-01-01", "2024-01-02"))
	_, err := s.Insert(ctx, "a", event("event1", "2024-02-01", "2024-02-02"))
	wantCode(t, err, moffman.Conflict)
	// The same id in another calendar is fine.
	mustInsert(t, s, "b", event("event1", "2024-01-01", "2024-01-02"))
	// A cancelled event keeps its id.
	if err := s.Delete(ctx, "a", "event1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Insert(ctx, "a", event("event1", "2024-01-01", "2024-01-02"))
	wantCode(t, err, moffman.Conflict)
}

func TestPatch(t *testing.T) {
	t.Parallel()
	clk := &testClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, WithClock(clk.Now))
	ctx := context.Background()
	orig := mustInsert(t, s, "c", moffman.Event{ID: "evt01", Summary: "(A B)", Start: "2024-01-10", End: "2024-01-11",
		ColorID: "4", Private: map[string]string{"event_processed": "false", "keep": "me"}, CreatorEmail: "a@b"})

	clk.Advance(time.Minute)
	summary, color := "A B", "5"
	got, err := s.Patch(ctx, "c", "evt01", moffman.EventPatch{Summary: &summary, ColorID: &color,
		Private: map[string]string{"event_processed": "true", "new": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := orig
	want.Summary, want.ColorID = "A B", "5"
	want.Private = map[string]string{"event_processed": "true", "keep": "me", "new": "1"}
	want.Updated = orig.Updated.Add(time.Minute)
	want.ETag = got.ETag
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Patch = %+v\nwant    %+v", got, want)
	}
	if got.ETag == orig.ETag {
		t.Error("etag unchanged by patch")
	}
	if read, _ := s.Get(ctx, "c", "evt01"); fmt.Sprint(read) != fmt.Sprint(got) {
		t.Errorf("Get after patch = %+v", read)
	}

	// An empty patch is still a write.
	clk.Advance(time.Second)
	again, err := s.Patch(ctx, "c", "evt01", moffman.EventPatch{})
	if err != nil {
		t.Fatal(err)
	}
	if again.ETag == got.ETag || !again.Updated.After(got.Updated) || again.Summary != "A B" {
		t.Errorf("empty patch = %+v", again)
	}

	end := "2024-01-12"
	if got, err := s.Patch(ctx, "c", "evt01", moffman.EventPatch{End: &end}); err != nil || got.End != end || got.Start != "2024-01-10" {
		t.Errorf("patch end = %+v, %v", got, err)
	}
	start := "2024-01-12"
	_, err = s.Patch(ctx, "c", "evt01", moffman.EventPatch{Start: &start})
	wantCode(t, err, moffman.Invalid) // start == end
	bad := "2024-13-01"
	_, err = s.Patch(ctx, "c", "evt01", moffman.EventPatch{Start: &bad})
	wantCode(t, err, moffman.Invalid)
	_, err = s.Patch(ctx, "c", "nosuchevt", moffman.EventPatch{Summary: &summary})
	wantCode(t, err, moffman.NotFound)
}

func TestDelete(t *testing.T) {
	t.Parallel()
	clk := &testClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := openTest(t, WithClock(clk.Now))
	ctx := context.Background()
	ins := mustInsert(t, s, "c", event("evt01", "2024-01-10", "2024-01-11"))

	clk.Advance(time.Hour)
	if err := s.Delete(ctx, "c", "evt01"); err != nil {
		t.Fatal(err)
	}
	del, err := s.Get(ctx, "c", "evt01")
	if err != nil {
		t.Fatal(err)
	}
	if del.Status != moffman.StatusCancelled || del.ETag == ins.ETag || !del.Updated.Equal(ins.Updated.Add(time.Hour)) {
		t.Errorf("after delete = %+v", del)
	}

	clk.Advance(time.Hour)
	if err := s.Delete(ctx, "c", "evt01"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if again, _ := s.Get(ctx, "c", "evt01"); fmt.Sprint(again) != fmt.Sprint(del) {
		t.Errorf("second delete changed the event: %+v", again)
	}
	wantCode(t, s.Delete(ctx, "c", "nosuchevt"), moffman.NotFound)
}

func TestListWindow(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	mustInsert(t, s, "c", event("before", "2024-01-08", "2024-01-10")) // ends at timeMin
	mustInsert(t, s, "c", event("across", "2024-01-09", "2024-01-11"))
	mustInsert(t, s, "c", event("first", "2024-01-10", "2024-01-11"))
	mustInsert(t, s, "c", event("vlast", "2024-01-16", "2024-01-17"))
	mustInsert(t, s, "c", event("after", "2024-01-17", "2024-01-18")) // starts at timeMax
	mustInsert(t, s, "c", event("gone1", "2024-01-12", "2024-01-13"))
	mustInsert(t, s, "c", event("alast", "2024-01-16", "2024-01-17"))
	mustInsert(t, s, "other", event("other", "2024-01-12", "2024-01-13"))
	if err := s.Delete(ctx, "c", "gone1"); err != nil {
		t.Fatal(err)
	}
	day := func(d int, h int) time.Time { return time.Date(2024, 1, d, h, 0, 0, 0, time.UTC) }

	for _, tc := range []struct {
		name string
		q    moffman.ListQuery
		want string
	}{
		{"midnights", moffman.ListQuery{TimeMin: day(10, 0), TimeMax: day(17, 0)}, "across,first,alast,vlast"},
		{"deleted", moffman.ListQuery{TimeMin: day(10, 0), TimeMax: day(17, 0), ShowDeleted: true}, "across,first,gone1,alast,vlast"},
		{"inside days", moffman.ListQuery{TimeMin: day(10, 12), TimeMax: day(16, 1)}, "across,first,alast,vlast"},
		{"late min", moffman.ListQuery{TimeMin: day(11, 0)}, "alast,vlast,after"},
		{"zone", moffman.ListQuery{TimeMin: time.Date(2024, 1, 11, 0, 30, 0, 0, time.FixedZone("CET", 3600))}, "across,first,alast,vlast,after"},
		{"unbounded", moffman.ListQuery{}, "before,across,first,alast,vlast,after"},
		{"max only", moffman.ListQuery{TimeMax: day(9, 0)}, "before"},
	} {
		evs, _, err := moffman.ListAll(ctx, s, "c", tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := ids(evs); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	_, err := s.List(ctx, "c", moffman.ListQuery{TimeMin: day(12, 0), TimeMax: day(11, 0)})
	wantCode(t, err, moffman.Invalid)
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("evt%02d", i)
		mustInsert(t, s, "c", event(id, fmt.Sprintf("2024-01-%02d", 10+i/2), "2024-01-20"))
		want = append(want, id)
	}
	q := moffman.ListQuery{MaxResults: 2}
	var got []string
	var pages int
	var sync string
	for {
		page, err := s.List(ctx, "c", q)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, ids(page.Events))
		if page.NextPageToken == "" {
			sync = page.NextSyncToken
			break
		}
		if page.NextSyncToken != "" {
			t.Error("sync token on a page that is not the last")
		}
		if pages == 1 {
			// A write between pages must not shift the pages, and must
			// come out of the next incremental listing.
			mustInsert(t, s, "c", event("aaaaa", "2024-01-01", "2024-01-02"))
		}
		q.PageToken = page.NextPageToken
	}
	if pages != 4 || strings.Join(got, ",") != strings.Join(want, ",") || sync == "" {
		t.Errorf("pages %d %v sync %q", pages, got, sync)
	}
	evs, _, err := moffman.ListAll(ctx, s, "c", moffman.ListQuery{SyncToken: sync})
	if err != nil || ids(evs) != "aaaaa" {
		t.Errorf("incremental after paging = %s, %v", ids(evs), err)
	}

	// maxResults is capped, not refused.
	page, err := s.List(ctx, "c", moffman.ListQuery{MaxResults: 100000})
	if err != nil || len(page.Events) != 8 || page.NextPageToken != "" {
		t.Errorf("huge maxResults: %d events, %v", len(page.Events), err)
	}
	// Page tokens are bound to their calendar and must be well formed.
	first, _ := s.List(ctx, "c", moffman.ListQuery{MaxResults: 1})
	_, err = s.List(ctx, "other", moffman.ListQuery{PageToken: first.NextPageToken})
	wantCode(t, err, moffman.Invalid)
	_, err = s.List(ctx, "c", moffman.ListQuery{PageToken: "garbage!"})
	wantCode(t, err, moffman.Invalid)
}

func TestSyncTokens(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	mustInsert(t, s, "c", event("old01", "2024-01-01", "2024-01-02"))
	mustInsert(t, s, "c", event("old02", "2024-01-01", "2024-01-02"))
	mustInsert(t, s, "c", event("old03", "2024-01-01", "2024-01-02"))
	_, tok, err := moffman.ListAll(ctx, s, "c", moffman.ListQuery{TimeMin: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || tok == "" {
		t.Fatalf("full listing: token %q, %v", tok, err)
	}

	// Nothing changed yet.
	page, err := s.List(ctx, "c", moffman.ListQuery{SyncToken: tok})
	if err != nil || len(page.Events) != 0 || page.NextSyncToken == "" {
		t.Fatalf("empty incremental = %+v, %v", page, err)
	}

	title := "changed"
	mustInsert(t, s, "c", event("nev01", "2030-01-01", "2030-01-02")) // outside any window: still reported
	if _, err := s.Patch(ctx, "c", "old02", moffman.EventPatch{Summary: &title}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "c", "old01"); err != nil {
		t.Fatal(err)
	}
	mustInsert(t, s, "other", event("elsecal1", "2024-01-01", "2024-01-02"))
	mustInsert(t, s, "c", event("nev02", "2024-01-05", "2024-01-06"))

	var got []moffman.Event
	q := moffman.ListQuery{SyncToken: tok, MaxResults: 2}
	pages := 0
	for {
		page, err := s.List(ctx, "c", q)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, page.Events...)
		if page.NextPageToken == "" {
			tok = page.NextSyncToken
			break
		}
		q.PageToken = page.NextPageToken
	}
	if ids(got) != "nev01,old02,old01,nev02" || pages != 2 {
		t.Errorf("incremental = %s in %d pages", ids(got), pages)
	}
	if got[2].Status != moffman.StatusCancelled || got[1].Summary != "changed" {
		t.Errorf("incremental events = %+v", got)
	}

	evs, tok2, err := moffman.ListAll(ctx, s, "c", moffman.ListQuery{SyncToken: tok})
	if err != nil || len(evs) != 0 || tok2 == "" {
		t.Errorf("after catching up: %s %q %v", ids(evs), tok2, err)
	}

	// Gone: another calendar's token, garbage, a token from the future.
	otherTok := syncToken("other", 1)
	for _, bad := range []string{otherTok, "garbage", syncToken("c", 1000)} {
		_, err = s.List(ctx, "c", moffman.ListQuery{SyncToken: bad})
		wantCode(t, err, moffman.Gone)
	}
	// A sync token with a window is a bad request.
	_, err = s.List(ctx, "c", moffman.ListQuery{SyncToken: tok, TimeMin: time.Now()})
	wantCode(t, err, moffman.Invalid)
	_, err = s.List(ctx, "c", moffman.ListQuery{SyncToken: tok, TimeMax: time.Now()})
	wantCode(t, err, moffman.Invalid)

	// A calendar never written to still gets a token that works.
	_, empty, err := moffman.ListAll(ctx, s, "new", moffman.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	mustInsert(t, s, "new", event("first", "2024-01-01", "2024-01-02"))
	if evs, _, err := moffman.ListAll(ctx, s, "new", moffman.ListQuery{SyncToken: empty}); err != nil || ids(evs) != "first" {
		t.Errorf("from empty calendar: %s, %v", ids(evs), err)
	}
}

// TestSyncConcurrentWrites lists incrementally while events are inserted
// and checks that following the sync tokens misses none of them.
func TestSyncConcurrentWrites(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	_, tok, err := moffman.ListAll(ctx, s, "c", moffman.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			if _, err := s.Insert(ctx, "c", event(fmt.Sprintf("evt%04d", i), "2024-01-01", "2024-01-02")); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	seen := map[string]bool{}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		evs, next, err := moffman.ListAll(ctx, s, "c", moffman.ListQuery{SyncToken: tok, MaxResults: 7})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			seen[e.ID] = true
		}
		tok = next
	}
	if len(seen) != n {
		t.Errorf("saw %d of %d events", len(seen), n)
	}
}

func TestSubscribe(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	for range 2 {
		if err := s.Subscribe(context.Background(), "any calendar id|with odd chars"); err != nil {
			t.Fatal(err)
		}
	}
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

func TestConcurrentInserts(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	const workers, each = 16, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.Insert(ctx, fmt.Sprintf("cal%d", w%3), event(fmt.Sprintf("u%02di%02d", w, i), "2024-01-01", "2024-01-02")); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.List(ctx, "cal0", moffman.ListQuery{MaxResults: 5}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	total := 0
	etags := map[string]bool{}
	for c := range 3 {
		evs, _, err := moffman.ListAll(ctx, s, fmt.Sprintf("cal%d", c), moffman.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		total += len(evs)
		for _, e := range evs {
			etags[fmt.Sprint(c, e.ETag)] = true
		}
	}
	if total != workers*each || len(etags) != total {
		t.Errorf("%d events, %d etags, want %d", total, len(etags), workers*each)
	}
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Insert(ctx, "c", event("event1", "2024-01-01", "2024-01-02")); err == nil {
		t.Error("insert with a cancelled context succeeded")
	}
	if _, err := s.List(ctx, "c", moffman.ListQuery{}); err == nil {
		t.Error("list with a cancelled context succeeded")
	}
	// The store still works afterwards.
	mustInsert(t, s, "c", event("event1", "2024-01-01", "2024-01-02"))
}
