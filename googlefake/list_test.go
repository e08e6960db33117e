package googlefake

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/api/calendar/v3"
)

func TestListWindow(t *testing.T) {
	t.Parallel()
	_, svc, calID := startWithCalendar(t)
	// A one-day visit on 28 June: [2022-06-28T00:00Z, 2022-06-29T00:00Z).
	mustInsert(t, svc, calID, allDay("visit0628", "visit", "2022-06-28", "2022-06-29"))
	tests := []struct {
		timeMin, timeMax string
		in               bool
	}{
		{"2022-06-29T00:00:00Z", "", false},      // end == timeMin: out
		{"2022-06-28T23:59:59Z", "", true},       // end > timeMin
		{"2022-06-29T01:00:00+02:00", "", true},  // 23:00Z the day before
		{"", "2022-06-28T00:00:00Z", false},      // start == timeMax: out
		{"", "2022-06-28T00:00:01Z", true},       // start < timeMax
		{"", "2022-06-28T01:00:00+02:00", false}, // 27 June 23:00Z
		{"2022-06-28T10:00:00Z", "2022-06-28T11:00:00Z", true},
		{"2022-06-20T00:00:00Z", "2022-06-28T00:00:00.000Z", false},
		{"2022-06-29T00:00:00Z", "2022-07-10T00:00:00Z", false},
	}
	for _, tt := range tests {
		call := svc.Events.List(calID)
		if tt.timeMin != "" {
			call.TimeMin(tt.timeMin)
		}
		if tt.timeMax != "" {
			call.TimeMax(tt.timeMax)
		}
		l, err := call.Do()
		if err != nil {
			t.Fatalf("[%s, %s): %v", tt.timeMin, tt.timeMax, err)
		}
		if got := len(l.Items) == 1; got != tt.in {
			t.Errorf("[%s, %s): included = %v, want %v", tt.timeMin, tt.timeMax, got, tt.in)
		}
	}
}

func TestListBadParameters(t *testing.T) {
	t.Parallel()
	_, svc, calID := startWithCalendar(t)
	_, err := svc.Events.List(calID).TimeMin("2022-06-28").Do()
	wantAPIError(t, err, http.StatusBadRequest, "badRequest")
	_, err = svc.Events.List(calID).TimeMin("2022-06-28T00:00:00").Do()
	wantAPIError(t, err, http.StatusBadRequest, "badRequest")
	_, err = svc.Events.List(calID).TimeMin("2022-06-28T00:00:00Z").TimeMax("2022-06-28T00:00:00Z").Do()
	ge := wantAPIError(t, err, http.StatusBadRequest, "timeRangeEmpty")
	if ge.Errors[0].Message != "The specified time range is empty." {
		t.Errorf("message %q", ge.Errors[0].Message)
	}
	_, err = svc.Events.List(calID).TimeMin("2022-06-29T00:00:00Z").TimeMax("2022-06-28T00:00:00Z").Do()
	wantAPIError(t, err, http.StatusBadRequest, "timeRangeEmpty")
	_, err = svc.Events.List(calID).MaxResults(0).Do()
	wantAPIError(t, err, http.StatusBadRequest, "invalid")
	_, err = svc.Events.List(calID).OrderBy("startTime").Do()
	wantAPIError(t, err, http.StatusBadRequest, "badRequest")
	if _, err := svc.Events.List(calID).OrderBy("startTime").SingleEvents(true).Do(); err != nil {
		t.Error(err)
	}
	_, err = svc.Events.List(calID).PageToken("garbage").Do()
	wantAPIError(t, err, http.StatusBadRequest, "invalid")
}

// seed adds n all-day events on consecutive days of January 2024.
func seed(t *testing.T, s *Server, calID string, n int) {
	t.Helper()
	for i := range n {
		_, err := s.AddManualEvent(calID, "user@acme.com", ManualEvent{
			ID:      fmt.Sprintf("ev%05d", i),
			Summary: fmt.Sprint("day ", i),
			Start:   fmt.Sprintf("2024-01-%02d", i%28+1),
			End:     fmt.Sprintf("2024-01-%02d", i%28+2),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	s, svc, calID := startWithCalendar(t)
	seed(t, s, calID, 7)
	var seen []string
	var sizes []int
	pageToken := ""
	for {
		l, err := svc.Events.List(calID).MaxResults(3).PageToken(pageToken).Do()
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(l.Items))
		seen = append(seen, ids(l.Items))
		if l.NextPageToken == "" {
			if l.NextSyncToken == "" {
				t.Error("no nextSyncToken on the last page")
			}
			break
		}
		if l.NextSyncToken != "" {
			t.Errorf("nextSyncToken on page %d, which is not the last", len(sizes))
		}
		if len(sizes) == 1 {
			// Writes between pages do not disturb the pages already cut.
			mustInsert(t, svc, calID, allDay("inserted1", "late", "2024-01-01", "2024-01-02"))
		}
		pageToken = l.NextPageToken
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("page sizes %v, want [3 3 1]", sizes)
	}
	if want := []string{"ev00000,ev00001,ev00002", "ev00003,ev00004,ev00005", "ev00006"}; !slices.Equal(seen, want) {
		t.Errorf("pages %v, want %v", seen, want)
	}
}

func TestMaxResults(t *testing.T) {
	t.Parallel()
	s, svc, calID := startWithCalendar(t)
	seed(t, s, calID, 2600)
	l, err := svc.Events.List(calID).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 250 || l.NextPageToken == "" {
		t.Errorf("default page: %d items, next %q", len(l.Items), l.NextPageToken)
	}
	l, err = svc.Events.List(calID).MaxResults(5000).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 2500 || l.NextPageToken == "" || l.NextSyncToken != "" {
		t.Errorf("capped page: %d items, next %q, sync %q", len(l.Items), l.NextPageToken, l.NextSyncToken)
	}
}

// fullSync lists every page of calID and returns the items and the sync token.
func fullSync(t *testing.T, call *calendar.EventsListCall) ([]*calendar.Event, string) {
	t.Helper()
	var items []*calendar.Event
	token := ""
	err := call.Pages(t.Context(), func(l *calendar.Events) error {
		items = append(items, l.Items...)
		if l.NextPageToken != "" && l.NextSyncToken != "" {
			t.Error("a page with both nextPageToken and nextSyncToken")
		}
		token = l.NextSyncToken
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return items, token
}

func TestIncrementalSync(t *testing.T) {
	t.Parallel()
	s, svc, calID := startWithCalendar(t)
	seed(t, s, calID, 5)
	_, token := fullSync(t, svc.Events.List(calID).TimeMin("2024-01-01T00:00:00Z").MaxResults(2))
	if token == "" {
		t.Fatal("no sync token")
	}

	mustInsert(t, svc, calID, allDay("neuevent1", "new", "2025-05-01", "2025-05-02")) // outside any window
	if _, err := svc.Events.Patch(calID, "ev00001", &calendar.Event{Summary: "patched"}).Do(); err != nil {
		t.Fatal(err)
	}
	if err := svc.Events.Delete(calID, "ev00003").Do(); err != nil {
		t.Fatal(err)
	}
	manual, err := s.AddManualEvent(calID, "user@acme.com", ManualEvent{Start: "2024-02-01", End: "2024-02-02"})
	if err != nil {
		t.Fatal(err)
	}

	items, next := fullSync(t, svc.Events.List(calID).SyncToken(token).MaxResults(1))
	if got, want := ids(items), "neuevent1,ev00001,ev00003,"+manual; got != want {
		t.Errorf("changes = %s, want %s", got, want)
	}
	if items[2].Status != "cancelled" {
		t.Errorf("deleted event has status %q", items[2].Status)
	}
	if next == "" || next == token {
		t.Fatalf("next sync token %q (was %q)", next, token)
	}
	// The old token still works (it is not expired), and nothing changed since the new one.
	if items, _ := fullSync(t, svc.Events.List(calID).SyncToken(token)); len(items) != 4 {
		t.Errorf("old token: %d changes, want 4", len(items))
	}
	items, again := fullSync(t, svc.Events.List(calID).SyncToken(next).ShowDeleted(true))
	if len(items) != 0 || again != next {
		t.Errorf("no changes: got %s and token %q, want none and the same token", ids(items), again)
	}
}

func TestSyncTokenInvalid(t *testing.T) {
	t.Parallel()
	s, svc, calID := startWithCalendar(t)
	s.AddCalendar("other@group.calendar.google.com", true)
	_, token := fullSync(t, svc.Events.List(calID))

	_, err := svc.Events.List("other@group.calendar.google.com").SyncToken(token).Do()
	wantAPIError(t, err, http.StatusGone, "fullSyncRequired")
	_, err = svc.Events.List(calID).SyncToken("garbage").Do()
	wantAPIError(t, err, http.StatusGone, "fullSyncRequired")
	if _, err := svc.Events.List(calID).SyncToken(token).Do(); err != nil {
		t.Fatal(err)
	}
	s.ExpireSyncTokens()
	_, err = svc.Events.List(calID).SyncToken(token).Do()
	ge := wantAPIError(t, err, http.StatusGone, "fullSyncRequired")
	if !strings.Contains(ge.Body, `"domain":"calendar"`) {
		t.Errorf("body %s", ge.Body)
	}
	// A full sync hands out a working token again.
	_, token = fullSync(t, svc.Events.List(calID))
	if _, err := svc.Events.List(calID).SyncToken(token).Do(); err != nil {
		t.Fatal(err)
	}
}

func TestSyncTokenRestrictions(t *testing.T) {
	t.Parallel()
	_, svc, calID := startWithCalendar(t)
	_, token := fullSync(t, svc.Events.List(calID))
	calls := map[string]*calendar.EventsListCall{
		"timeMin":                 svc.Events.List(calID).TimeMin("2024-01-01T00:00:00Z"),
		"timeMax":                 svc.Events.List(calID).TimeMax("2024-01-01T00:00:00Z"),
		"q":                       svc.Events.List(calID).Q("x"),
		"orderBy":                 svc.Events.List(calID).OrderBy("updated"),
		"updatedMin":              svc.Events.List(calID).UpdatedMin("2024-01-01T00:00:00Z"),
		"privateExtendedProperty": svc.Events.List(calID).PrivateExtendedProperty("a=b"),
		"showDeleted=false":       svc.Events.List(calID).ShowDeleted(false),
	}
	for name, call := range calls {
		_, err := call.SyncToken(token).Do()
		if err == nil {
			t.Errorf("%s with a sync token: no error", name)
			continue
		}
		wantAPIError(t, err, http.StatusBadRequest, "syncTokenWithRequestRestrictions")
	}
	if _, err := svc.Events.List(calID).SyncToken(token).ShowDeleted(true).SingleEvents(true).MaxResults(5).Do(); err != nil {
		t.Errorf("allowed parameters: %v", err)
	}
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	s, svc, calID := startWithCalendar(t)
	for i, props := range []map[string]string{
		{"event_processed": "true", "office": "prague"},
		{"event_processed": "true"},
		{"event_processed": "false", "office": "prague"},
		nil,
	} {
		ev := allDay(fmt.Sprintf("filter%d", i), fmt.Sprint("Person ", i), "2024-01-01", "2024-01-02")
		if props != nil {
			ev.ExtendedProperties = &calendar.EventExtendedProperties{Private: props}
		}
		mustInsert(t, svc, calID, ev)
	}
	l, err := svc.Events.List(calID).PrivateExtendedProperty("event_processed=true", "office=prague").Do()
	if err != nil {
		t.Fatal(err)
	}
	if ids(l.Items) != "filter0" {
		t.Errorf("both properties: %s", ids(l.Items))
	}
	l, err = svc.Events.List(calID).PrivateExtendedProperty("event_processed=true").Do()
	if err != nil {
		t.Fatal(err)
	}
	if ids(l.Items) != "filter0,filter1" {
		t.Errorf("one property: %s", ids(l.Items))
	}
	l, err = svc.Events.List(calID).Q("person 3").Do()
	if err != nil {
		t.Fatal(err)
	}
	if ids(l.Items) != "filter3" {
		t.Errorf("q: %s", ids(l.Items))
	}

	// updatedMin reports later changes, deletions included, in update order.
	mid := s.Events(calID)[3].Updated
	if _, err := svc.Events.Patch(calID, "filter0", &calendar.Event{Summary: "x"}).Do(); err != nil {
		t.Fatal(err)
	}
	if err := svc.Events.Delete(calID, "filter1").Do(); err != nil {
		t.Fatal(err)
	}
	l, err = svc.Events.List(calID).UpdatedMin(mid).OrderBy("updated").Do()
	if err != nil {
		t.Fatal(err)
	}
	if ids(l.Items) != "filter3,filter0,filter1" {
		t.Errorf("updatedMin %s: %s", mid, ids(l.Items))
	}
}
