package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// A page after a cursor must seek the index at the cursor: the plan's
// range on events_by_start is the row value (start_date, id), not the
// window's start with the cursor applied as a filter, which would make
// the n-th page cost every page before it.
func TestListWindowSeeksTheCursor(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	rows, err := s.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+listWindowQuery,
		"office", "9999-12-31", "0001-01-01", false, "2024-06-01", "abcde", 1001)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "USING INDEX events_by_start (calendar_id=? AND (start_date,id)>(?,?)") {
		t.Errorf("the window listing does not seek the cursor in the index:\n%s", text)
	}
}

// The one bound is the later of cursor and window: a cursor before the
// window (a token of a wider listing) still lists only the window, and a
// cursor inside it continues after itself.
func TestListWindowBoundIsTheLaterOfCursorAndWindow(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	for _, ev := range []moffman.Event{
		event("first", "2024-01-01", "2024-01-02"),
		event("long1", "2024-01-05", "2024-03-01"), // overlaps the window from before it
		event("feb01", "2024-02-01", "2024-02-02"),
		event("feb02", "2024-02-02", "2024-02-03"),
		event("late1", "2024-04-01", "2024-04-02"),
	} {
		if _, err := s.Insert(ctx, "office", ev); err != nil {
			t.Fatal(err)
		}
	}
	// A token after "first" from a listing of everything.
	first, err := s.List(ctx, "office", moffman.ListQuery{MaxResults: 1})
	if err != nil || len(first.Events) != 1 || first.Events[0].ID != "first" {
		t.Fatalf("first page %+v, %v", first, err)
	}
	feb := moffman.ListQuery{
		TimeMin: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), TimeMax: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		PageToken: first.NextPageToken,
	}
	got, _, err := moffman.ListAll(ctx, s, "office", feb)
	if err != nil {
		t.Fatal(err)
	}
	if ids := eventIDs(got); ids != "long1,feb01,feb02" {
		t.Errorf("window after an earlier cursor: %s, want long1,feb01,feb02", ids)
	}
	feb.PageToken, feb.MaxResults = "", 2
	page, err := s.List(ctx, "office", feb)
	if err != nil || eventIDs(page.Events) != "long1,feb01" || page.NextPageToken == "" {
		t.Fatalf("first page of the window: %+v, %v", page, err)
	}
	feb.PageToken = page.NextPageToken
	page, err = s.List(ctx, "office", feb)
	if err != nil || eventIDs(page.Events) != "feb02" || page.NextPageToken != "" {
		t.Errorf("second page of the window: %+v, %v", page, err)
	}
}

func eventIDs(evs []moffman.Event) string {
	ids := make([]string, len(evs))
	for i, ev := range evs {
		ids[i] = ev.ID
	}
	return strings.Join(ids, ",")
}
