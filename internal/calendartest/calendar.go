package calendartest

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// TestCalendar runs the Calendar contract against fresh backends from
// newBackend, one per subtest.
func TestCalendar(t *testing.T, newBackend func(t *testing.T) Backend) {
	tests := []struct {
		name string
		test func(*testing.T, Backend)
	}{
		{"InsertGet", testInsertGet},
		{"GeneratedID", testGeneratedID},
		{"IDAlphabet", testIDAlphabet},
		{"InvalidEvent", testInvalidEvent},
		{"Conflict", testConflict},
		{"PatchMerges", testPatch},
		{"PatchValidation", testPatchValidation},
		{"Delete", testDelete},
		{"ListWindow", testListWindow},
		{"ListPaging", testListPaging},
		{"SyncTokens", testSyncTokens},
		{"SyncTokenGone", testSyncTokenGone},
		{"SyncTokenExpired", testSyncTokenExpired},
		{"SyncTokenOfEmptyCalendar", testSyncEmptyCalendar},
		{"SyncConcurrentWrites", testSyncConcurrentWrites},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Subscribe", testSubscribe},
		{"CreatorRecorded", testCreatorRecorded},
		{"ManualEvent", testManualEvent},
		{"CancelledContext", testCancelledContext},
	}
	var names []string
	for _, c := range tests {
		names = append(names, c.name)
	}
	for _, c := range tests {
		run(t, c.name, names, newBackend, c.test)
	}
}

func testInsertGet(t *testing.T, b Backend) {
	cal, c := b.Calendar, b.NewCalendar(t)
	in := moffman.Event{ID: "abcde0123", Summary: "Some User", Start: "2024-03-04", End: "2024-03-05",
		ColorID: "5", Private: map[string]string{moffman.PropProcessed: "true", moffman.PropUserEmail: "u@x.cz"}}
	got := mustInsert(t, cal, c, in)
	if got.ID != in.ID || got.Summary != in.Summary || got.Start != in.Start || got.End != in.End ||
		got.ColorID != in.ColorID || !maps.Equal(got.Private, in.Private) {
		t.Errorf("Insert returned %+v\nwant the fields of  %+v", got, in)
	}
	if got.Status != moffman.StatusConfirmed || got.ETag == "" || got.Created.IsZero() || got.Updated.IsZero() {
		t.Errorf("Insert returned status %q, etag %q, created %v, updated %v", got.Status, got.ETag, got.Created, got.Updated)
	}
	read := mustGet(t, cal, c, in.ID)
	if fmt.Sprint(read) != fmt.Sprint(got) {
		t.Errorf("Get = %+v\nwant  %+v", read, got)
	}
	_, err := cal.Get(context.Background(), c, "nosuchevent")
	wantCode(t, "Get of an unknown id", err, moffman.NotFound)
	_, err = cal.Get(context.Background(), b.NewCalendar(t), in.ID)
	wantCode(t, "Get from another calendar", err, moffman.NotFound)
}

var idPattern = regexp.MustCompile(`^[a-v0-9]{5,}$`)

func testGeneratedID(t *testing.T, b Backend) {
	cal, c := b.Calendar, b.NewCalendar(t)
	first := mustInsert(t, cal, c, moffman.Event{Summary: "office", Start: "2024-03-04", End: "2024-03-06"})
	second := mustInsert(t, cal, c, moffman.Event{Summary: "office", Start: "2024-03-04", End: "2024-03-06"})
	for _, ev := range []moffman.Event{first, second} {
		if !idPattern.MatchString(ev.ID) || len(ev.ID) > 1024 {
			t.Errorf("generated id %q is not 5-1024 of [a-v0-9]", ev.ID)
		}
	}
	if first.ID == second.ID || first.ETag == second.ETag {
		t.Errorf("two inserts share id %q or etag %q", first.ID, first.ETag)
	}
	if got := mustGet(t, cal, c, second.ID); got.Summary != "office" || got.End != "2024-03-06" {
		t.Errorf("Get of a generated id = %+v", got)
	}
}

func testIDAlphabet(t *testing.T, b Backend) {
	cal, c := b.Calendar, b.NewCalendar(t)
	for _, id := range []string{
		"abcd",                    // too short
		"abcdw",                   // w is not base32hex
		"ABCDE",                   // upper case
		"abc-de",                  // dash
		strings.Repeat("a", 1025), // too long
	} {
		_, err := cal.Insert(context.Background(), c, event(id, "2024-01-01", "2024-01-02"))
		wantCode(t, fmt.Sprintf("Insert(%.12q)", id), err, moffman.Invalid)
	}
	for _, id := range []string{strings.Repeat("v", 1024), "01234", "abcdefghijklmnopqrstuv0123456789"} {
		mustInsert(t, cal, c, event(id, "2024-01-01", "2024-01-02"))
		if got := mustGet(t, cal, c, id); got.ID != id {
			t.Errorf("Get(%.12q).ID = %.12q", id, got.ID)
		}
	}
}

func testInvalidEvent(t *testing.T, b Backend) {
	cal, c := b.Calendar, b.NewCalendar(t)
	for what, ev := range map[string]moffman.Event{
		"not a real date":  event("abcde", "2024-02-30", "2024-03-01"),
		"not YYYY-MM-DD":   event("abcde", "2024-01-01", "2024-1-2"),
		"empty range":      event("abcde", "2024-01-02", "2024-01-02"),
		"reversed range":   event("abcde", "2024-01-03", "2024-01-02"),
		"missing dates":    event("abcde", "", ""),
		"no such colour":   {ID: "abcde", Start: "2024-01-01", End: "2024-01-02", ColorID: "12"},
		"colour not a num": {ID: "abcde", Start: "2024-01-01", End: "2024-01-02", ColorID: "red"},
	} {
		_, err := cal.Insert(context.Background(), c, ev)
		wantCode(t, what, err, moffman.Invalid)
	}
	// None of them was stored.
	if evs, _, err := moffman.ListAll(context.Background(), cal, c, moffman.ListQuery{ShowDeleted: true}); err != nil || len(evs) != 0 {
		t.Errorf("after refused inserts the calendar holds %s (%v)", ids(evs), err)
	}
}

func testConflict(t *testing.T, b Backend) {
	cal, c, other := b.Calendar, b.NewCalendar(t), b.NewCalendar(t)
	ctx := context.Background()
	mustInsert(t, cal, c, event("event1", "2024-01-01", "2024-01-02"))
	_, err := cal.Insert(ctx, c, event("event1", "2024-02-01", "2024-02-02"))
	wantCode(t, "Insert of a used id", err, moffman.Conflict)
	if got := mustGet(t, cal, c, "event1"); got.Start != "2024-01-01" {
		t.Errorf("a refused insert changed the event: %+v", got)
	}
	mustInsert(t, cal, other, event("event1", "2024-01-01", "2024-01-02")) // another calendar: fine
	if err := cal.Delete(ctx, c, "event1"); err != nil {
		t.Fatal(err)
	}
	_, err = cal.Insert(ctx, c, event("event1", "2024-01-01", "2024-01-02"))
	wantCode(t, "Insert of a cancelled event's id", err, moffman.Conflict)
}

func testPatch(t *testing.T, b Backend) {
	cal, c := b.Calendar, b.NewCalendar(t)
	ctx := context.Background()
	orig := mustInsert(t, cal, c, moffman.Event{ID: "evt01", Summary: "(A B)", Start: "2024-01-10", End: "2024-01-11",
		ColorID: "4", Private: map[string]string{moffman.PropProcessed: "false", "keep": "me"}})
	summary, color := "A B", "5"
	got, err := cal.Patch(ctx, c, "evt01", moffman.EventPatch{Summary: &summary, ColorID: &color,
		Private: map[string]string{moffman.PropProcessed: "true", "new": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{moffman.PropProcessed: "true", "keep": "me", "new": "1"}
	if got.Summary != "A B" || got.ColorID != "5" || got.Start != orig.Start || got.End != orig.End || !maps.Equal(got.Private, want) {
		t.Errorf("Patch = %+v\nwant summary A B, colour 5, dates kept, private %v", got, want)
	}
	if got.ETag == orig.ETag || got.Updated.Before(orig.Updated) || !got.Created.Equal(orig.Created) {
		t.Errorf("Patch: etag %q→%q, updated %v→%v, created %v→%v", orig.ETag, got.ETag, orig.Updated, got.Updated, orig.Created, got.Created)
	}
	if read := mustGet(t, cal, c, "evt01"); fmt.Sprint(read) != fmt.Sprint(got) {
		t.Errorf("Get after patch = %+v\nwant %+v", read, got)
	}
	again, err := cal.Patch(ctx, c, "evt01", moffman.EventPatch{}) // an empty patch is still a write
	if err != nil || again.ETag == got.ETag || again.Summary != "A B" || !maps.Equal(again.Private, want) {
		t.Errorf("empty patch = %+v, %v", again, err)
	}
	end := "2024-01-12"
	if moved, err := cal.Patch(ctx, c, "evt01", moffman.EventPatch{End: &end}); err != nil || moved.End != end || moved.Start != "2024-01-10" {
		t.Errorf("patch of the end = %+v, %v", moved, err)
	}
	// DropPrivate removes properties, one the event lacks harmlessly,
	// beside a merge; dropping the last leaves none.
	dropped, err := cal.Patch(ctx, c, "evt01", moffman.EventPatch{Private: map[string]string{"new": "2"}, DropPrivate: []string{"keep", "absent"}})
	want = map[string]string{moffman.PropProcessed: "true", "new": "2"}
	if err != nil || !maps.Equal(dropped.Private, want) || dropped.Summary != "A B" {
		t.Errorf("patch dropping keep = %+v, %v; want private %v", dropped, err, want)
	}
	if read := mustGet(t, cal, c, "evt01"); !maps.Equal(read.Private, want) {
		t.Errorf("Get after dropping keep: private %v, want %v", read.Private, want)
	}
	none, err := cal.Patch(ctx, c, "evt01", moffman.EventPatch{DropPrivate: []string{moffman.PropProcessed, "new"}})
	if err != nil || len(none.Private) != 0 || len(mustGet(t, cal, c, "evt01").Private) != 0 {
		t.Errorf("patch dropping every property = %+v, %v; want none left", none, err)
	}
}

func testPatchValidation(t *testing.T, b Backend) {
	cal, c := b.Calendar, b.NewCalendar(t)
	ctx := context.Background()
	orig := mustInsert(t, cal, c, event("evt01", "2024-01-10", "2024-01-12"))
	start, bad, summary := "2024-01-12", "2024-13-01", "x"
	_, err := cal.Patch(ctx, c, "evt01", moffman.EventPatch{Start: &start})
	wantCode(t, "Patch making start == end", err, moffman.Invalid)
	_, err = cal.Patch(ctx, c, "evt01", moffman.EventPatch{Start: &bad})
	wantCode(t, "Patch to a bad date", err, moffman.Invalid)
	_, err = cal.Patch(ctx, c, "nosuchevt", moffman.EventPatch{Summary: &summary})
	wantCode(t, "Patch of an unknown id", err, moffman.NotFound)
	_, err = cal.Patch(ctx, c, "evt01", moffman.EventPatch{Private: map[string]string{"k": "v"}, DropPrivate: []string{"k"}})
	wantCode(t, "Patch setting and dropping one property", err, moffman.Invalid)
	if got := mustGet(t, cal, c, "evt01"); got.ETag != orig.ETag || got.Start != orig.Start {
		t.Errorf("refused patches changed the event: %+v", got)
	}
}

func testDelete(t *testing.T, b Backend) {
	cal, c := b.Calendar, b.NewCalendar(t)
	ctx := context.Background()
	ins := mustInsert(t, cal, c, event("evt01", "2024-01-10", "2024-01-11"))
	if err := cal.Delete(ctx, c, "evt01"); err != nil {
		t.Fatal(err)
	}
	del := mustGet(t, cal, c, "evt01")
	if del.Status != moffman.StatusCancelled || del.ETag == ins.ETag || del.Updated.Before(ins.Updated) || del.Start != ins.Start {
		t.Errorf("after delete = %+v", del)
	}
	if err := cal.Delete(ctx, c, "evt01"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if again := mustGet(t, cal, c, "evt01"); again.Status != moffman.StatusCancelled {
		t.Errorf("after a second delete = %+v", again)
	}
	wantCode(t, "Delete of an unknown id", cal.Delete(ctx, c, "nosuchevt"), moffman.NotFound)
}

func testListWindow(t *testing.T, b Backend) {
	cal, c, other := b.Calendar, b.NewCalendar(t), b.NewCalendar(t)
	ctx := context.Background()
	mustInsert(t, cal, c, event("before", "2024-01-08", "2024-01-10")) // ends at timeMin
	mustInsert(t, cal, c, event("across", "2024-01-09", "2024-01-11"))
	mustInsert(t, cal, c, event("first", "2024-01-10", "2024-01-11"))
	mustInsert(t, cal, c, event("vlast", "2024-01-16", "2024-01-17"))
	mustInsert(t, cal, c, event("after", "2024-01-17", "2024-01-18")) // starts at timeMax
	mustInsert(t, cal, c, event("gone1", "2024-01-12", "2024-01-13"))
	mustInsert(t, cal, c, event("alast", "2024-01-16", "2024-01-17"))
	mustInsert(t, cal, other, event("other", "2024-01-12", "2024-01-13"))
	if err := cal.Delete(ctx, c, "gone1"); err != nil {
		t.Fatal(err)
	}
	day := func(d, h int) time.Time { return time.Date(2024, 1, d, h, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name string
		q    moffman.ListQuery
		want string // ordered by start, then id
	}{
		{"midnights", moffman.ListQuery{TimeMin: day(10, 0), TimeMax: day(17, 0)}, "across,first,alast,vlast"},
		{"deleted", moffman.ListQuery{TimeMin: day(10, 0), TimeMax: day(17, 0), ShowDeleted: true}, "across,first,gone1,alast,vlast"},
		{"inside days", moffman.ListQuery{TimeMin: day(10, 12), TimeMax: day(16, 1)}, "across,first,alast,vlast"},
		{"late min", moffman.ListQuery{TimeMin: day(11, 0)}, "alast,vlast,after"},
		{"zone", moffman.ListQuery{TimeMin: time.Date(2024, 1, 11, 0, 30, 0, 0, time.FixedZone("CET", 3600))}, "across,first,alast,vlast,after"},
		{"unbounded", moffman.ListQuery{}, "before,across,first,alast,vlast,after"},
		{"max only", moffman.ListQuery{TimeMax: day(9, 0)}, "before"},
	} {
		evs, _, err := moffman.ListAll(ctx, cal, c, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := ids(evs); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	_, err := cal.List(ctx, c, moffman.ListQuery{TimeMin: day(12, 0), TimeMax: day(11, 0)})
	wantCode(t, "List with timeMin after timeMax", err, moffman.Invalid)
}

func testListPaging(t *testing.T, b Backend) {
	cal, c := b.Calendar, b.NewCalendar(t)
	ctx := context.Background()
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("evt%02d", i)
		mustInsert(t, cal, c, event(id, fmt.Sprintf("2024-01-%02d", 10+i/2), "2024-01-20"))
		want = append(want, id)
	}
	q := moffman.ListQuery{MaxResults: 2}
	var got []string
	pages, sync := 0, ""
	for {
		page, err := cal.List(ctx, c, q)
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
			t.Error("a sync token on a page that is not the last")
		}
		if pages == 1 { // a write between pages must come out of the next incremental listing
			mustInsert(t, cal, c, event("aaaaa", "2024-01-01", "2024-01-02"))
		}
		q.PageToken = page.NextPageToken
	}
	if pages != 4 || strings.Join(got, ",") != strings.Join(want, ",") || sync == "" {
		t.Errorf("%d pages %v, sync token %q; want 4 pages of %v and a token", pages, got, sync, want)
	}
	evs, _, err := moffman.ListAll(ctx, cal, c, moffman.ListQuery{SyncToken: sync})
	if err != nil || ids(evs) != "aaaaa" {
		t.Errorf("incremental after paging = %s, %v; want aaaaa", ids(evs), err)
	}
	page, err := cal.List(ctx, c, moffman.ListQuery{MaxResults: 100000}) // capped, not refused
	if err != nil || len(page.Events) != 8 || page.NextPageToken != "" {
		t.Errorf("huge MaxResults: %d events, %v", len(page.Events), err)
	}
	_, err = cal.List(ctx, c, moffman.ListQuery{PageToken: "garbage!"})
	wantCode(t, "List with a garbage page token", err, moffman.Invalid)
}

func testSyncTokens(t *testing.T, b Backend) {
	cal, c, other := b.Calendar, b.NewCalendar(t), b.NewCalendar(t)
	ctx := context.Background()
	for _, id := range []string{"old01", "old02", "old03"} {
		mustInsert(t, cal, c, event(id, "2024-01-01", "2024-01-02"))
	}
	_, tok, err := moffman.ListAll(ctx, cal, c, moffman.ListQuery{TimeMin: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || tok == "" {
		t.Fatalf("full listing: token %q, %v", tok, err)
	}
	if evs, next, err := moffman.ListAll(ctx, cal, c, moffman.ListQuery{SyncToken: tok}); err != nil || len(evs) != 0 || next == "" {
		t.Fatalf("incremental with no change = %s, token %q, %v", ids(evs), next, err)
	}
	title := "changed"
	mustInsert(t, cal, c, event("nev01", "2030-01-01", "2030-01-02")) // outside any window: still reported
	if _, err := cal.Patch(ctx, c, "old02", moffman.EventPatch{Summary: &title}); err != nil {
		t.Fatal(err)
	}
	if err := cal.Delete(ctx, c, "old01"); err != nil {
		t.Fatal(err)
	}
	mustInsert(t, cal, other, event("elsecal1", "2024-01-01", "2024-01-02"))
	mustInsert(t, cal, c, event("nev02", "2024-01-05", "2024-01-06"))

	got, next, err := moffman.ListAll(ctx, cal, c, moffman.ListQuery{SyncToken: tok, MaxResults: 2})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]moffman.Event{}
	for _, e := range got {
		byID[e.ID] = e
	}
	if len(got) != 4 || len(byID) != 4 || byID["old02"].Summary != "changed" || byID["old01"].Status != moffman.StatusCancelled ||
		byID["nev01"].ID == "" || byID["nev02"].ID == "" {
		t.Errorf("incremental = %s (%+v); want nev01, old02 changed, old01 cancelled, nev02 once each", ids(got), got)
	}
	if evs, again, err := moffman.ListAll(ctx, cal, c, moffman.ListQuery{SyncToken: next}); err != nil || len(evs) != 0 || again == "" {
		t.Errorf("after catching up: %s, token %q, %v", ids(evs), again, err)
	}
	_, err = cal.List(ctx, c, moffman.ListQuery{SyncToken: tok, TimeMin: time.Now()})
	wantCode(t, "sync token with TimeMin", err, moffman.Invalid)
	_, err = cal.List(ctx, c, moffman.ListQuery{SyncToken: tok, TimeMax: time.Now()})
	wantCode(t, "sync token with TimeMax", err, moffman.Invalid)
}

// testSyncTokenGone: a token the backend did not issue for this calendar
// asks for a full sync.
func testSyncTokenGone(t *testing.T, b Backend) {
	cal, c, other := b.Calendar, b.NewCalendar(t), b.NewCalendar(t)
	ctx := context.Background()
	// The calendar has more changes than the other one, so that a token
	// read as a mere position would fall inside its history.
	for _, id := range []string{"mine1", "mine2", "mine3"} {
		mustInsert(t, cal, c, event(id, "2024-01-01", "2024-01-02"))
	}
	mustInsert(t, cal, other, event("elsecal1", "2024-01-01", "2024-01-02"))
	_, otherTok, err := moffman.ListAll(ctx, cal, other, moffman.ListQuery{})
	if err != nil || otherTok == "" {
		t.Fatalf("listing the other calendar: token %q, %v", otherTok, err)
	}
	_, err = cal.List(ctx, c, moffman.ListQuery{SyncToken: "garbage"})
	wantCode(t, "List with a garbage sync token", err, moffman.Gone)
	_, err = cal.List(ctx, c, moffman.ListQuery{SyncToken: otherTok})
	wantCode(t, "List with another calendar's sync token", err, moffman.Gone)
	if evs, _, err := moffman.ListAll(ctx, cal, other, moffman.ListQuery{SyncToken: otherTok}); err != nil || len(evs) != 0 {
		t.Errorf("the token in its own calendar = %s, %v; want no changes", ids(evs), err)
	}
}

// testSyncTokenExpired: once the backend expired its tokens, the next
// incremental listing is Gone and a full listing gives a working token.
func testSyncTokenExpired(t *testing.T, b Backend) {
	need(t, b.ExpireSyncTokens != nil, "ExpireSyncTokens")
	cal, c := b.Calendar, b.NewCalendar(t)
	ctx := context.Background()
	mustInsert(t, cal, c, event("old01", "2024-01-01", "2024-01-02"))
	_, tok, err := moffman.ListAll(ctx, cal, c, moffman.ListQuery{})
	if err != nil || tok == "" {
		t.Fatalf("full listing: token %q, %v", tok, err)
	}
	b.ExpireSyncTokens(t, c)
	_, err = cal.List(ctx, c, moffman.ListQuery{SyncToken: tok})
	wantCode(t, "List with an expired sync token", err, moffman.Gone)
	evs, fresh, err := moffman.ListAll(ctx, cal, c, moffman.ListQuery{})
	if err != nil || ids(evs) != "old01" || fresh == "" {
		t.Fatalf("full listing after expiry = %s, token %q, %v", ids(evs), fresh, err)
	}
	mustInsert(t, cal, c, event("fresh1", "2024-01-01", "2024-01-02"))
	if evs, _, err := moffman.ListAll(ctx, cal, c, moffman.ListQuery{SyncToken: fresh}); err != nil || ids(evs) != "fresh1" {
		t.Errorf("incremental from the fresh token = %s, %v; want new01", ids(evs), err)
	}
}

func testSyncEmptyCalendar(t *testing.T, b Backend) {
	cal, c := b.Calendar, b.NewCalendar(t)
	ctx := context.Background()
	_, tok, err := moffman.ListAll(ctx, cal, c, moffman.ListQuery{})
	if err != nil || tok == "" {
		t.Fatalf("listing an empty calendar: token %q, %v", tok, err)
	}
	mustInsert(t, cal, c, event("first", "2024-01-01", "2024-01-02"))
	if evs, _, err := moffman.ListAll(ctx, cal, c, moffman.ListQuery{SyncToken: tok}); err != nil || ids(evs) != "first" {
		t.Errorf("incremental from an empty calendar = %s, %v; want first", ids(evs), err)
	}
}

// testSyncConcurrentWrites follows the sync tokens while events are
// inserted and checks that none is missed.
func testSyncConcurrentWrites(t *testing.T, b Backend) {
	cal, c := b.Calendar, b.NewCalendar(t)
	ctx := context.Background()
	_, tok, err := moffman.ListAll(ctx, cal, c, moffman.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 60
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			if _, err := cal.Insert(ctx, c, event(fmt.Sprintf("evt%04d", i), "2024-01-01", "2024-01-02")); err != nil {
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
		evs, next, err := moffman.ListAll(ctx, cal, c, moffman.ListQuery{SyncToken: tok, MaxResults: 7})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			seen[e.ID] = true
		}
		tok = next
	}
	if len(seen) != n {
		t.Errorf("following the sync tokens saw %d of %d events", len(seen), n)
	}
}

// testConcurrentWriters inserts and patches from many goroutines at once:
// no write is lost and every write has its own etag.
func testConcurrentWriters(t *testing.T, b Backend) {
	cal := b.Calendar
	cals := []string{b.NewCalendar(t), b.NewCalendar(t)}
	ctx := context.Background()
	const workers, each = 8, 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			c := cals[w%len(cals)]
			for i := range each {
				id := fmt.Sprintf("u%02di%02d", w, i)
				if _, err := cal.Insert(ctx, c, event(id, "2024-01-01", "2024-01-02")); err != nil {
					t.Error(err)
					return
				}
				summary := "patched " + id
				if _, err := cal.Patch(ctx, c, id, moffman.EventPatch{Summary: &summary,
					Private: map[string]string{"writer": id}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	total, etags := 0, map[string]bool{}
	for _, c := range cals {
		evs, _, err := moffman.ListAll(ctx, cal, c, moffman.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			total++
			etags[c+e.ETag] = true
			if e.Summary != "patched "+e.ID || e.Private["writer"] != e.ID {
				t.Errorf("event %s lost its patch: %+v", e.ID, e)
			}
		}
	}
	if total != workers*each || len(etags) != total {
		t.Errorf("%d events with %d distinct etags, want %d", total, len(etags), workers*each)
	}
}

func testSubscribe(t *testing.T, b Backend) {
	c := b.NewCalendar(t)
	for range 2 {
		if err := b.Calendar.Subscribe(context.Background(), c); err != nil {
			t.Fatalf("Subscribe(%q): %v", c, err)
		}
	}
	mustInsert(t, b.Calendar, c, event("afters", "2024-01-01", "2024-01-02"))
}

// testCreatorRecorded: an event moffman inserts is created by the
// backend's account, and a patch keeps the creator.
func testCreatorRecorded(t *testing.T, b Backend) {
	need(t, b.Account != "", "Account")
	cal, c := b.Calendar, b.NewCalendar(t)
	ins := mustInsert(t, cal, c, event("mine1", "2024-01-01", "2024-01-02"))
	summary := "patched"
	patched, err := cal.Patch(context.Background(), c, "mine1", moffman.EventPatch{Summary: &summary})
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := moffman.ListAll(context.Background(), cal, c, moffman.ListQuery{})
	if err != nil || len(evs) != 1 {
		t.Fatalf("listing = %s, %v", ids(evs), err)
	}
	for what, got := range map[string]string{"Insert": ins.CreatorEmail, "Get": mustGet(t, cal, c, "mine1").CreatorEmail,
		"Patch": patched.CreatorEmail, "List": evs[0].CreatorEmail} {
		if got != b.Account {
			t.Errorf("%s: creator %q, want the account %q", what, got, b.Account)
		}
	}
}

// testManualEvent reads an event a person put into the calendar: it is
// manual (no marker), and its creator is the person.
func testManualEvent(t *testing.T, b Backend) {
	need(t, b.AddManual != nil, "AddManual")
	cal, c := b.Calendar, b.NewCalendar(t)
	id := b.AddManual(t, c, "person@example.com", moffman.Event{Summary: "office", Start: "2024-03-04", End: "2024-03-06"})
	got := mustGet(t, cal, c, id)
	if !got.IsManual() || got.CreatorEmail != "person@example.com" || got.Status != moffman.StatusConfirmed ||
		got.Start != "2024-03-04" || got.End != "2024-03-06" || got.Summary != "office" {
		t.Errorf("manual event = %+v", got)
	}
	evs, _, err := moffman.ListAll(context.Background(), cal, c, moffman.ListQuery{})
	if err != nil || len(evs) != 1 || evs[0].CreatorEmail != "person@example.com" || !evs[0].IsManual() {
		t.Errorf("listing the manual event = %+v, %v", evs, err)
	}
	name := "Per Son"
	approved, err := cal.Patch(context.Background(), c, id, moffman.EventPatch{Summary: &name,
		Private: map[string]string{moffman.PropProcessed: "true"}})
	if err != nil || approved.IsManual() || approved.CreatorEmail != "person@example.com" {
		t.Errorf("approving the manual event = %+v, %v", approved, err)
	}
}

func testCancelledContext(t *testing.T, b Backend) {
	cal, c := b.Calendar, b.NewCalendar(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := cal.Insert(ctx, c, event("event1", "2024-01-01", "2024-01-02")); err == nil {
		t.Error("Insert with a cancelled context succeeded")
	}
	if _, err := cal.List(ctx, c, moffman.ListQuery{}); err == nil {
		t.Error("List with a cancelled context succeeded")
	}
	mustInsert(t, cal, c, event("event2", "2024-01-01", "2024-01-02")) // the backend still works
}
