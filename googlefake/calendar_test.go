package googlefake

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"
)

func TestCalendarListInsert(t *testing.T) {
	t.Parallel()
	s := start(t)
	svc := calendarClient(t, s)
	s.AddCalendar("a@group.calendar.google.com", true)
	s.AddCalendar("b#x@group.calendar.google.com", true)
	s.AddCalendar("c@group.calendar.google.com", true)
	s.AddCalendar("unshared@group.calendar.google.com", false)

	for _, id := range []string{"unshared@group.calendar.google.com", "nobody@group.calendar.google.com"} {
		_, err := svc.CalendarList.Insert(&calendar.CalendarListEntry{Id: id}).Do()
		wantAPIError(t, err, http.StatusNotFound, "notFound")
	}
	for _, id := range []string{"a@group.calendar.google.com", "b#x@group.calendar.google.com", "c@group.calendar.google.com", "a@group.calendar.google.com"} {
		got, err := svc.CalendarList.Insert(&calendar.CalendarListEntry{Id: id}).Do()
		if err != nil {
			t.Fatalf("insert %s: %v", id, err)
		}
		if got.Id != id || got.AccessRole != "writer" {
			t.Errorf("entry = %+v", got)
		}
	}
	var listed []string
	pages := 0
	err := svc.CalendarList.List().MaxResults(2).Pages(t.Context(), func(l *calendar.CalendarList) error {
		pages++
		for _, e := range l.Items {
			listed = append(listed, e.Id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(listed, " "); got != "a@group.calendar.google.com b#x@group.calendar.google.com c@group.calendar.google.com" || pages != 2 {
		t.Errorf("listed %q in %d pages", got, pages)
	}
	if got := s.CalendarList(); len(got) != 3 {
		t.Errorf("CalendarList() = %v", got)
	}
}

func TestEventsNeedSharedCalendar(t *testing.T) {
	t.Parallel()
	s := start(t)
	svc := calendarClient(t, s)
	s.AddCalendar("unshared@group.calendar.google.com", false)
	for _, id := range []string{"unshared@group.calendar.google.com", "missing@group.calendar.google.com"} {
		_, err := svc.Events.Insert(id, allDay("", "x", "2024-01-01", "2024-01-02")).Do()
		wantAPIError(t, err, http.StatusNotFound, "notFound")
		_, err = svc.Events.List(id).Do()
		wantAPIError(t, err, http.StatusNotFound, "notFound")
	}
}

func TestColors(t *testing.T) {
	t.Parallel()
	s := start(t)
	c, err := calendarClient(t, s).Colors.Get().Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Event) != 11 || len(c.Calendar) != 24 {
		t.Errorf("%d event and %d calendar colours, want 11 and 24", len(c.Event), len(c.Calendar))
	}
	if got := c.Event["5"]; got.Background != "#fbd75b" || got.Foreground != "#1d1d1d" {
		t.Errorf("event colour 5 = %+v", got)
	}
	if got := c.Event["4"]; got.Background != "#ff887c" {
		t.Errorf("event colour 4 = %+v", got)
	}
}

func TestInsertAndGet(t *testing.T) {
	t.Parallel()
	s, svc, calID := startWithCalendar(t)
	in := allDay("0123456789abcdefghijklmnopqrstuv", "(Some User)", "2022-06-28", "2022-06-29")
	in.ColorId = "4"
	in.ExtendedProperties = &calendar.EventExtendedProperties{Private: map[string]string{"event_processed": "false"}}
	ins := mustInsert(t, svc, calID, in)

	got, err := svc.Events.Get(calID, in.Id).Do()
	if err != nil {
		t.Fatal(err)
	}
	if got.Id != in.Id || got.Kind != "calendar#event" || got.Status != "confirmed" || got.Summary != "(Some User)" ||
		got.ColorId != "4" || got.Start.Date != "2022-06-28" || got.End.Date != "2022-06-29" ||
		got.ExtendedProperties.Private["event_processed"] != "false" {
		t.Errorf("got %+v", got)
	}
	if got.Creator.Email != s.ServiceAccountEmail() || !got.Creator.Self || got.Organizer.Email != calID {
		t.Errorf("creator %+v organizer %+v", got.Creator, got.Organizer)
	}
	if got.Etag != ins.Etag || !strings.HasPrefix(got.Etag, `"`) || !strings.HasSuffix(got.Etag, `"`) {
		t.Errorf("etag %s (insert answered %s)", got.Etag, ins.Etag)
	}
	if got.Created != got.Updated {
		t.Errorf("created %s != updated %s", got.Created, got.Updated)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", got.Updated); err != nil {
		t.Errorf("updated %q is not RFC 3339 UTC with millis", got.Updated)
	}
	if got.HtmlLink == "" || got.ICalUID == "" {
		t.Errorf("htmlLink %q iCalUID %q", got.HtmlLink, got.ICalUID)
	}
	if st, ok := s.Event(calID, in.Id); !ok || st.Summary != "(Some User)" || st.Etag != got.Etag {
		t.Errorf("Event() = %+v, %v", st, ok)
	}
	_, err = svc.Events.Get(calID, "unknownid").Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")
}

func TestInsertValidation(t *testing.T) {
	t.Parallel()
	_, svc, calID := startWithCalendar(t)
	tests := []struct {
		name   string
		ev     *calendar.Event
		reason string
	}{
		{"upper case id", allDay("ABCDEF", "x", "2024-01-01", "2024-01-02"), "invalid"},
		{"letter beyond v", allDay("abcdw", "x", "2024-01-01", "2024-01-02"), "invalid"},
		{"dash in id", allDay("abc-def", "x", "2024-01-01", "2024-01-02"), "invalid"},
		{"id too short", allDay("abcd", "x", "2024-01-01", "2024-01-02"), "invalid"},
		{"id too long", allDay(strings.Repeat("a", 1025), "x", "2024-01-01", "2024-01-02"), "invalid"},
		{"no start", &calendar.Event{End: &calendar.EventDateTime{Date: "2024-01-02"}}, "required"},
		{"no end", &calendar.Event{Start: &calendar.EventDateTime{Date: "2024-01-02"}}, "required"},
		{"empty range", allDay("", "x", "2024-01-02", "2024-01-02"), "timeRangeEmpty"},
		{"end before start", allDay("", "x", "2024-01-03", "2024-01-02"), "timeRangeEmpty"},
		{"bad date", allDay("", "x", "2024-13-01", "2024-01-02"), "invalid"},
		{"bad colour", &calendar.Event{ColorId: "12", Start: &calendar.EventDateTime{Date: "2024-01-01"}, End: &calendar.EventDateTime{Date: "2024-01-02"}}, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := svc.Events.Insert(calID, tt.ev).Do()
			wantAPIError(t, err, http.StatusBadRequest, tt.reason)
		})
	}
	t.Run("longest id and dateTime", func(t *testing.T) {
		t.Parallel()
		ev := &calendar.Event{Id: strings.Repeat("v", 1024),
			Start: &calendar.EventDateTime{DateTime: "2024-01-01T10:00:00+01:00"},
			End:   &calendar.EventDateTime{DateTime: "2024-01-01T11:00:00+01:00"}}
		mustInsert(t, svc, calID, ev)
	})
}

// Google answers 409 "duplicate" for a used id, a cancelled event's too
// (the adapters' side of it, Conflict, is the contract in
// internal/calendartest).
func TestDuplicateIDAlsoWhenDeleted(t *testing.T) {
	t.Parallel()
	_, svc, calID := startWithCalendar(t)
	ev := allDay("abcde12345", "x", "2024-01-01", "2024-01-02")
	mustInsert(t, svc, calID, ev)
	_, err := svc.Events.Insert(calID, ev).Do()
	wantAPIError(t, err, http.StatusConflict, "duplicate")
	if err := svc.Events.Delete(calID, ev.Id).Do(); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Events.Insert(calID, ev).Do()
	wantAPIError(t, err, http.StatusConflict, "duplicate")
}

func TestPatchMerges(t *testing.T) {
	t.Parallel()
	s, svc, calID := startWithCalendar(t)
	in := allDay("patchme01", "(Some User)", "2022-06-28", "2022-06-29")
	in.ColorId = "4"
	in.Description = "kept"
	in.ExtendedProperties = &calendar.EventExtendedProperties{
		Private: map[string]string{"event_processed": "false", "other": "kept"},
		Shared:  map[string]string{"s": "kept"},
	}
	before := mustInsert(t, svc, calID, in)

	got, err := svc.Events.Patch(calID, in.Id, &calendar.Event{
		Summary:            "Some User",
		ColorId:            "5",
		ExtendedProperties: &calendar.EventExtendedProperties{Private: map[string]string{"event_processed": "true"}},
	}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary != "Some User" || got.ColorId != "5" || got.Description != "kept" ||
		got.Start.Date != "2022-06-28" || got.End.Date != "2022-06-29" {
		t.Errorf("after patch: %+v", got)
	}
	if p := got.ExtendedProperties; p.Private["event_processed"] != "true" || p.Private["other"] != "kept" || p.Shared["s"] != "kept" {
		t.Errorf("properties after patch: %+v", p)
	}
	if got.Etag == before.Etag || got.Updated <= before.Updated || got.Created != before.Created {
		t.Errorf("etag %s→%s updated %s→%s created %s→%s", before.Etag, got.Etag, before.Updated, got.Updated, before.Created, got.Created)
	}
	// NullFields clears a field; an identical patch still counts as a write.
	again, err := svc.Events.Patch(calID, in.Id, &calendar.Event{NullFields: []string{"Description"}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if again.Description != "" || again.Summary != "Some User" || again.Etag == got.Etag || again.Updated <= got.Updated {
		t.Errorf("after null patch: %+v", again)
	}
	_, err = svc.Events.Patch(calID, in.Id, &calendar.Event{End: &calendar.EventDateTime{Date: "2022-06-27"}}).Do()
	wantAPIError(t, err, http.StatusBadRequest, "timeRangeEmpty")
	if st, _ := s.Event(calID, in.Id); st.End.Date != "2022-06-29" || st.Etag != again.Etag {
		t.Errorf("a failed patch changed the event: %+v", st)
	}
	_, err = svc.Events.Patch(calID, "nosuchevent", &calendar.Event{Summary: "x"}).Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")
}

func TestUpdateReplaces(t *testing.T) {
	t.Parallel()
	_, svc, calID := startWithCalendar(t)
	in := allDay("updateme1", "old", "2022-06-28", "2022-06-29")
	in.ColorId = "4"
	in.ExtendedProperties = &calendar.EventExtendedProperties{Private: map[string]string{"event_processed": "false"}}
	before := mustInsert(t, svc, calID, in)

	got, err := svc.Events.Update(calID, in.Id, allDay("", "new", "2022-07-01", "2022-07-03")).Do()
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary != "new" || got.ColorId != "" || got.ExtendedProperties != nil || got.Start.Date != "2022-07-01" ||
		got.Id != in.Id || got.Created != before.Created || got.Etag == before.Etag || got.Sequence != 1 {
		t.Errorf("after update: %+v", got)
	}
	_, err = svc.Events.Update(calID, in.Id, &calendar.Event{Summary: "no dates"}).Do()
	wantAPIError(t, err, http.StatusBadRequest, "required")
}

func TestDeleteCancels(t *testing.T) {
	t.Parallel()
	s, svc, calID := startWithCalendar(t)
	keep := mustInsert(t, svc, calID, allDay("keepme01", "keep", "2024-01-01", "2024-01-02"))
	gone := mustInsert(t, svc, calID, allDay("deleteme1", "gone", "2024-01-01", "2024-01-02"))
	if err := svc.Events.Delete(calID, gone.Id).Do(); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Events.Get(calID, gone.Id).Do()
	if err != nil {
		t.Fatalf("get of a cancelled event: %v", err)
	}
	if got.Status != "cancelled" || got.Updated <= gone.Updated || got.Etag == gone.Etag {
		t.Errorf("after delete: %+v", got)
	}
	err = svc.Events.Delete(calID, gone.Id).Do()
	wantAPIError(t, err, http.StatusGone, "deleted")
	err = svc.Events.Delete(calID, "nosuchevent").Do()
	wantAPIError(t, err, http.StatusNotFound, "notFound")

	l, err := svc.Events.List(calID).Do()
	if err != nil {
		t.Fatal(err)
	}
	if ids(l.Items) != keep.Id {
		t.Errorf("list = %s, want only %s", ids(l.Items), keep.Id)
	}
	l, err = svc.Events.List(calID).ShowDeleted(true).Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 2 {
		t.Errorf("list showDeleted = %s, want both", ids(l.Items))
	}
	if len(s.Events(calID)) != 2 {
		t.Errorf("Events() = %d events, want 2", len(s.Events(calID)))
	}
}

func TestAddManualEvent(t *testing.T) {
	t.Parallel()
	s, svc, calID := startWithCalendar(t)
	id, err := s.AddManualEvent(calID, "user@acme.com", ManualEvent{Summary: "office", Start: "2024-01-01", End: "2024-01-02", ColorID: "2"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Events.Get(calID, id).Do()
	if err != nil {
		t.Fatal(err)
	}
	if got.Creator.Email != "user@acme.com" || got.Creator.Self || got.ColorId != "2" || got.ExtendedProperties != nil {
		t.Errorf("manual event: %+v creator %+v", got, got.Creator)
	}
	if _, err := s.AddManualEvent("missing", "u@acme.com", ManualEvent{Start: "2024-01-01", End: "2024-01-02"}); err == nil {
		t.Error("AddManualEvent into a missing calendar succeeded")
	}
	if _, err := s.AddManualEvent(calID, "u@acme.com", ManualEvent{ID: id, Start: "2024-01-01", End: "2024-01-02"}); err == nil {
		t.Error("AddManualEvent with a duplicate id succeeded")
	}
}

func TestEscapedCalendarID(t *testing.T) {
	t.Parallel()
	s := start(t)
	const odd = "en.czech#holiday@group.v.calendar.google.com"
	s.AddCalendar(odd, true)
	svc := calendarClient(t, s)
	ev := mustInsert(t, svc, odd, allDay("", "x", "2024-01-01", "2024-01-02"))
	if _, err := svc.Events.Get(odd, ev.Id).Do(); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Event(odd, ev.Id); !ok {
		t.Error("event not stored under the unescaped id")
	}
	_, err := rawGet(t, s, "/calendar/v3/calendars/"+url.PathEscape(odd)+"/events", bearer(t, s, calendar.CalendarScope))
	if err != nil {
		t.Fatal(err)
	}
}

func TestIfMatch(t *testing.T) {
	t.Parallel()
	_, svc, calID := startWithCalendar(t)
	ev := mustInsert(t, svc, calID, allDay("ifmatch01", "x", "2024-01-01", "2024-01-02"))
	call := svc.Events.Patch(calID, ev.Id, &calendar.Event{Summary: "y"})
	call.Header().Set("If-Match", ev.Etag)
	got, err := call.Do()
	if err != nil {
		t.Fatal(err)
	}
	call = svc.Events.Patch(calID, ev.Id, &calendar.Event{Summary: "z"})
	call.Header().Set("If-Match", ev.Etag) // stale now
	_, err = call.Do()
	wantAPIError(t, err, http.StatusPreconditionFailed, "conditionNotMet")
	del := svc.Events.Delete(calID, ev.Id)
	del.Header().Set("If-Match", got.Etag)
	if err := del.Do(); err != nil {
		t.Fatal(err)
	}
}
