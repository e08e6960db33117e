package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/eventstore"
)

func ids(evs []moffman.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.ID)
	}
	return strings.Join(s, ",")
}

func TestInsertGetPatchDelete(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 5, 1, 8, 0, 0, 123456789, time.UTC)
	s := openTest(t, WithClock(func() time.Time { return at }), WithAccount("svc@example.com"))
	ctx := context.Background()

	ev := event("event1", "2024-05-06", "2024-05-08")
	ev.ColorID = "3"
	ev.Private = map[string]string{"a": "1", "b": "2"}
	ins := mustInsert(t, s, "cal", ev)
	if ins.CreatorEmail != "svc@example.com" || ins.Status != moffman.StatusConfirmed || ins.ETag == "" ||
		!ins.Created.Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("inserted %+v", ins)
	}
	got, err := s.Get(ctx, "cal", "event1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Start != "2024-05-06" || got.End != "2024-05-08" || got.Summary != "s event1" || got.ColorID != "3" ||
		got.Private["a"] != "1" || got.ETag != ins.ETag || !got.Updated.Equal(ins.Updated) {
		t.Errorf("Get = %+v, want as inserted %+v", got, ins)
	}

	_, err = s.Insert(ctx, "cal", event("event1", "2024-06-01", "2024-06-02"))
	wantCode(t, err, moffman.Conflict)
	// The same id in another calendar is a different event.
	mustInsert(t, s, "other", event("event1", "2024-06-01", "2024-06-02"))

	at = at.Add(time.Hour)
	summary := "patched"
	p, err := s.Patch(ctx, "cal", "event1", moffman.EventPatch{Summary: &summary, Private: map[string]string{"b": "x", "c": "3"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary != "patched" || p.Start != "2024-05-06" || p.ColorID != "3" || p.ETag == ins.ETag ||
		!p.Updated.Equal(at.Truncate(time.Millisecond)) || !p.Created.Equal(ins.Created) ||
		fmt.Sprint(p.Private) != "map[a:1 b:x c:3]" {
		t.Errorf("patched %+v", p)
	}
	end := "2024-05-05"
	_, err = s.Patch(ctx, "cal", "event1", moffman.EventPatch{End: &end})
	wantCode(t, err, moffman.Invalid)
	_, err = s.Patch(ctx, "cal", "nosuch", moffman.EventPatch{Summary: &summary})
	wantCode(t, err, moffman.NotFound)

	if err := s.Delete(ctx, "cal", "event1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "cal", "event1"); err != nil {
		t.Errorf("cancelling twice: %v", err)
	}
	wantCode(t, s.Delete(ctx, "cal", "nosuch"), moffman.NotFound)
	got, err = s.Get(ctx, "cal", "event1")
	if err != nil || got.Status != moffman.StatusCancelled {
		t.Errorf("Get after delete = %+v, %v", got, err)
	}
	_, err = s.Insert(ctx, "cal", event("event1", "2024-06-01", "2024-06-02"))
	wantCode(t, err, moffman.Conflict)
}

func TestInsertValidation(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	for _, ev := range []moffman.Event{
		event("UPPER", "2024-01-01", "2024-01-02"),
		event("abc", "2024-01-01", "2024-01-02"),
		event("event1", "2024-02-30", "2024-03-01"),
		event("event1", "2024-01-02", "2024-01-02"),
		event("event1", "0000-01-01", "0000-01-02"),
		{ID: "event1", Start: "2024-01-01", End: "2024-01-02", ColorID: "12"},
	} {
		_, err := s.Insert(context.Background(), "cal", ev)
		wantCode(t, err, moffman.Invalid)
	}
	got := mustInsert(t, s, "cal", event("", "2024-01-01", "2024-01-02"))
	if !moffman.ValidEventID(got.ID) {
		t.Errorf("generated id %q", got.ID)
	}
}

func TestListWindowAndPaging(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	mustInsert(t, s, "cal", event("long0", "2024-01-01", "2024-03-01")) // spans the window
	for i := range 7 {
		d := time.Date(2024, 2, 1+i, 0, 0, 0, 0, time.UTC)
		mustInsert(t, s, "cal", event(fmt.Sprintf("dai%02d", i), d.Format(moffman.DateLayout), d.AddDate(0, 0, 1).Format(moffman.DateLayout)))
	}
	mustInsert(t, s, "cal", event("after", "2024-02-10", "2024-02-11"))
	if err := s.Delete(ctx, "cal", "dai03"); err != nil {
		t.Fatal(err)
	}

	// [Feb 2 12:00, Feb 5): dai01 (Feb 2) overlaps, dai04 (Feb 5) does not.
	q := moffman.ListQuery{TimeMin: time.Date(2024, 2, 2, 12, 0, 0, 0, time.UTC), TimeMax: time.Date(2024, 2, 5, 0, 0, 0, 0, time.UTC)}
	evs, _, err := moffman.ListAll(ctx, s, "cal", q)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(evs); got != "long0,dai01,dai02" {
		t.Errorf("window = %s", got)
	}
	q.ShowDeleted = true
	evs, _, _ = moffman.ListAll(ctx, s, "cal", q)
	if got := ids(evs); got != "long0,dai01,dai02,dai03" {
		t.Errorf("window with deleted = %s", got)
	}

	var pages []string
	q = moffman.ListQuery{MaxResults: 3}
	for {
		page, err := s.List(ctx, "cal", q)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, ids(page.Events))
		if page.NextPageToken == "" {
			if page.NextSyncToken == "" {
				t.Error("last page without a sync token")
			}
			break
		}
		if page.NextSyncToken != "" {
			t.Error("sync token before the last page")
		}
		q.PageToken = page.NextPageToken
	}
	if got := strings.Join(pages, "|"); got != "long0,dai00,dai01|dai02,dai04,dai05|dai06,after" {
		t.Errorf("pages = %s", got)
	}
	_, err = s.List(ctx, "other", moffman.ListQuery{PageToken: q.PageToken})
	wantCode(t, err, moffman.Invalid)
}

func TestSyncTokens(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	mustInsert(t, s, "cal", event("event1", "2024-01-01", "2024-01-02"))
	_, tok, err := moffman.ListAll(ctx, s, "cal", moffman.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	mustInsert(t, s, "cal", event("event2", "2024-01-01", "2024-01-02"))
	if err := s.Delete(ctx, "cal", "event1"); err != nil {
		t.Fatal(err)
	}
	mustInsert(t, s, "other", event("event3", "2024-01-01", "2024-01-02"))
	evs, tok2, err := moffman.ListAll(ctx, s, "cal", moffman.ListQuery{SyncToken: tok, MaxResults: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(evs); got != "event2,event1" || evs[1].Status != moffman.StatusCancelled {
		t.Errorf("changes = %s", got)
	}
	evs, _, _ = moffman.ListAll(ctx, s, "cal", moffman.ListQuery{SyncToken: tok2})
	if len(evs) != 0 {
		t.Errorf("changes after the last token = %s", ids(evs))
	}
	_, err = s.List(ctx, "other", moffman.ListQuery{SyncToken: tok2})
	wantCode(t, err, moffman.Gone)
	_, err = s.List(ctx, "cal", moffman.ListQuery{SyncToken: eventstore.SyncToken("cal", 999)})
	wantCode(t, err, moffman.Gone)
	_, err = s.List(ctx, "cal", moffman.ListQuery{SyncToken: "garbage"})
	wantCode(t, err, moffman.Gone)
}

// TestSyncTokensMissNoConcurrentWrite checks what makes PostgreSQL differ
// from SQLite: many transactions commit at once, and incremental listings
// running beside them must still report every write, so that following the
// token chain ends with every event's latest version.
func TestSyncTokensMissNoConcurrentWrite(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	if err := s.Subscribe(ctx, "cal"); err != nil {
		t.Fatal(err)
	}
	_, tok, err := moffman.ListAll(ctx, s, "cal", moffman.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 6, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("a%di%03d", w, i)
				if _, err := s.Insert(ctx, "cal", event(id, "2024-01-01", "2024-01-02")); err != nil {
					t.Error(err)
					return
				}
				if i%3 == 0 {
					summary := "changed"
					if _, err := s.Patch(ctx, "cal", id, moffman.EventPatch{Summary: &summary}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	lastSeen := map[string]string{} // id -> etag
	follow := func() {
		evs, next, err := moffman.ListAll(ctx, s, "cal", moffman.ListQuery{SyncToken: tok, MaxResults: 7})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			lastSeen[e.ID] = e.ETag
		}
		tok = next
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		follow()
	}
	follow()
	all, _, err := moffman.ListAll(ctx, s, "cal", moffman.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*each {
		t.Fatalf("%d events stored, want %d", len(all), writers*each)
	}
	for _, e := range all {
		if lastSeen[e.ID] != e.ETag {
			t.Errorf("event %s: the change listings last reported etag %q, the store has %q", e.ID, lastSeen[e.ID], e.ETag)
		}
	}
}

func TestSubscribe(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	for range 2 {
		if err := s.Subscribe(context.Background(), "new@cal"); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.List(context.Background(), "new@cal", moffman.ListQuery{})
	if err != nil || len(page.Events) != 0 || page.NextSyncToken == "" {
		t.Errorf("listing a subscribed empty calendar = %+v, %v", page, err)
	}
}
