package google

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/option"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/googlefake"
)

// The request from DESIGN.md and its deterministic id (shared/testdata).
const (
	userName  = "Some User"
	requestDT = "11:38:00 2020/06/25"
	eventID   = "30f3552b9a2751e69401d63fca065a11"
)

func pendingEvent() moffman.Event {
	return moffman.Event{
		ID: eventID, Summary: "(" + userName + ")", Start: "2022-06-28", End: "2022-06-29", ColorID: "4",
		Private: map[string]string{moffman.PropProcessed: "false", moffman.PropRequestDT: requestDT},
	}
}

func approvePatch() moffman.EventPatch {
	return moffman.EventPatch{
		Summary: ptr(userName), ColorID: ptr("5"),
		Private: map[string]string{moffman.PropProcessed: "true", moffman.PropRequestDT: requestDT},
	}
}

// wantStored compares what the fake holds with what the Python service
// would have written.
func wantStored(t *testing.T, got googlefake.Event, summary, color, processed string) {
	t.Helper()
	if got.Summary != summary || got.ColorID != color || got.Start == nil || got.Start.Date != "2022-06-28" ||
		got.End == nil || got.End.Date != "2022-06-29" || got.Status != "confirmed" {
		t.Errorf("stored %+v start %+v end %+v, want summary %q colorId %q 2022-06-28..2022-06-29 confirmed",
			got, got.Start, got.End, summary, color)
	}
	if got.ExtendedProperties == nil || got.ExtendedProperties.Private[moffman.PropProcessed] != processed {
		t.Errorf("stored private properties %+v, want event_processed %q", got.ExtendedProperties, processed)
	}
}

func TestInsertPending(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	got, err := e.cal.Insert(t.Context(), testCal, pendingEvent())
	if err != nil {
		t.Fatal(err)
	}
	wantStored(t, e.stored(t, eventID), "(Some User)", "4", "false")

	// Exactly the Python service's fields, nothing else.
	body := e.rec.last(t, "POST")
	if k := keys(body); k != "colorId,end,extendedProperties,id,start,summary" {
		t.Errorf("insert body fields %s: %v", k, body)
	}
	if k := keys(body["start"].(map[string]any)); k != "date" {
		t.Errorf("start fields %s", k)
	}
	if k := keys(body["extendedProperties"].(map[string]any)); k != "private" {
		t.Errorf("extendedProperties fields %s", k)
	}

	// The answer is mapped back completely.
	if got.ID != eventID || got.Summary != "(Some User)" || got.Start != "2022-06-28" || got.End != "2022-06-29" ||
		got.ColorID != "4" || got.Status != moffman.StatusConfirmed || got.CreatorEmail != e.fake.ServiceAccountEmail() ||
		got.ETag == "" || got.Created.IsZero() || got.Updated.IsZero() || got.State() != moffman.StatePending ||
		!maps.Equal(got.Private, pendingEvent().Private) {
		t.Errorf("returned %+v", got)
	}
	wantCalls(t, e.fake, googlefake.MethodEventsInsert, 1)
}

func TestPatchApprove(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before, err := e.cal.Insert(t.Context(), testCal, pendingEvent())
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.cal.Patch(t.Context(), testCal, eventID, approvePatch())
	if err != nil {
		t.Fatal(err)
	}
	wantStored(t, e.stored(t, eventID), "Some User", "5", "true")
	if body := e.rec.last(t, "PATCH"); keys(body) != "colorId,extendedProperties,summary" {
		t.Errorf("patch sent %v, want only summary, colorId, extendedProperties", body)
	}
	if got.State() != moffman.StateApproved || got.ETag == before.ETag || got.Private[moffman.PropRequestDT] != requestDT {
		t.Errorf("returned %+v", got)
	}
	wantCalls(t, e.fake, googlefake.MethodEventsPatch, 1)
}

func TestInsertApproved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ev := pendingEvent()
	ev.Summary, ev.ColorID, ev.Private[moffman.PropProcessed] = userName, "5", "true"
	if _, err := e.cal.Insert(t.Context(), testCal, ev); err != nil {
		t.Fatal(err)
	}
	wantStored(t, e.stored(t, eventID), "Some User", "5", "true")
}

// An event the Python service wrote carries only event_processed; approving
// it adds moffman's properties and keeps the rest.
func TestPatchPythonEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	raw := rawClient(t, e)
	_, err := raw.Events.Insert(testCal, &calendar.Event{
		Id: eventID, Summary: "(Some User)", ColorId: "4",
		Start:              &calendar.EventDateTime{Date: "2022-06-28"},
		End:                &calendar.EventDateTime{Date: "2022-06-29"},
		ExtendedProperties: &calendar.EventExtendedProperties{Private: map[string]string{"event_processed": "false"}},
	}).Do()
	if err != nil {
		t.Fatal(err)
	}
	old, err := e.cal.Get(t.Context(), testCal, eventID)
	if err != nil || old.State() != moffman.StatePending || len(old.Private) != 1 {
		t.Fatalf("get %+v, %v", old, err)
	}
	got, err := e.cal.Patch(t.Context(), testCal, eventID, approvePatch())
	if err != nil {
		t.Fatal(err)
	}
	wantStored(t, e.stored(t, eventID), "Some User", "5", "true")
	if got.Private[moffman.PropRequestDT] != requestDT || got.Start != "2022-06-28" {
		t.Errorf("returned %+v", got)
	}
}

// Fields set to empty values are sent: an empty summary as "", an empty
// colour as null (back to the calendar's colour).
func TestPatchSendsEmptyFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.cal.Insert(t.Context(), testCal, pendingEvent()); err != nil {
		t.Fatal(err)
	}
	got, err := e.cal.Patch(t.Context(), testCal, eventID, moffman.EventPatch{Summary: ptr(""), ColorID: ptr("")})
	if err != nil {
		t.Fatal(err)
	}
	body := e.rec.last(t, "PATCH")
	if s, ok := body["summary"]; !ok || s != "" || body["colorId"] != nil || keys(body) != "colorId,summary" {
		t.Errorf("patch sent %v", body)
	}
	if got.Summary != "" || got.ColorID != "" || got.Private[moffman.PropProcessed] != "false" {
		t.Errorf("returned %+v", got)
	}
	// An empty patch changes nothing.
	if _, err := e.cal.Patch(t.Context(), testCal, eventID, moffman.EventPatch{}); err != nil {
		t.Fatal(err)
	}
	if body := e.rec.last(t, "PATCH"); len(body) != 0 {
		t.Errorf("empty patch sent %v", body)
	}
}

func TestGetDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.cal.Insert(ctx, testCal, pendingEvent()); err != nil {
		t.Fatal(err)
	}
	if err := e.cal.Delete(ctx, testCal, eventID); err != nil {
		t.Fatal(err)
	}
	got, err := e.cal.Get(ctx, testCal, eventID)
	if err != nil || got.Status != moffman.StatusCancelled || got.State() != moffman.StateCancelled {
		t.Fatalf("get after delete: %+v, %v", got, err)
	}
	// Google answers 410 deleted; already cancelled is success.
	e.fake.ResetCalls()
	if err := e.cal.Delete(ctx, testCal, eventID); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	wantCalls(t, e.fake, googlefake.MethodEventsDelete, 1)

	_, err = e.cal.Get(ctx, testCal, "nosuchevent0")
	wantCode(t, err, moffman.NotFound)
	wantCode(t, e.cal.Delete(ctx, testCal, "nosuchevent0"), moffman.NotFound)
	_, err = e.cal.Patch(ctx, testCal, "nosuchevent0", approvePatch())
	wantCode(t, err, moffman.NotFound)
	_, err = e.cal.Get(ctx, "unknown@group.calendar.google.com", eventID)
	wantCode(t, err, moffman.NotFound)
}

func TestInsertErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.cal.Insert(ctx, testCal, pendingEvent()); err != nil {
		t.Fatal(err)
	}
	e.fake.ResetCalls()
	_, err := e.cal.Insert(ctx, testCal, pendingEvent())
	wantCode(t, err, moffman.Conflict)
	wantCalls(t, e.fake, googlefake.MethodEventsInsert, 1)

	// A deleted event keeps its id.
	if err := e.cal.Delete(ctx, testCal, eventID); err != nil {
		t.Fatal(err)
	}
	_, err = e.cal.Insert(ctx, testCal, pendingEvent())
	wantCode(t, err, moffman.Conflict)

	// 400 is final and carries Google's message.
	e.fake.ResetCalls()
	bad := pendingEvent()
	bad.ID = "UPPER-case"
	_, err = e.cal.Insert(ctx, testCal, bad)
	wantCode(t, err, moffman.Invalid)
	wantCalls(t, e.fake, googlefake.MethodEventsInsert, 1)
	if msg := moffman.ErrorMessage(err); !strings.Contains(msg, "HTTP 400") || !strings.Contains(msg, "events.insert") {
		t.Errorf("message %q lacks Google's answer", msg)
	}

	// Unknown or unshared calendar.
	e.fake.AddCalendar("private@group.calendar.google.com", false)
	_, err = e.cal.Insert(ctx, "private@group.calendar.google.com", pendingEvent())
	wantCode(t, err, moffman.NotFound)
	if msg := moffman.ErrorMessage(err); !strings.Contains(msg, e.fake.ServiceAccountEmail()) {
		t.Errorf("message %q does not name the service account", msg)
	}
}

// Without an id the adapter makes one, so that a retry cannot duplicate.
func TestInsertGeneratesID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ev := pendingEvent()
	ev.ID = ""
	got, err := e.cal.Insert(t.Context(), testCal, ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := moffman.ValidateEventID(got.ID); err != nil || len(got.ID) != 26 {
		t.Errorf("generated id %q: %v", got.ID, err)
	}
	if e.rec.last(t, "POST")["id"] != got.ID {
		t.Error("the id was not sent")
	}
}

// TestList checks what the contract (internal/calendartest) cannot see:
// one events.list call per page, and Google's own errors mapped.
func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	day := func(d int) string { return time.Date(2022, 6, d, 0, 0, 0, 0, time.UTC).Format(moffman.DateLayout) }
	for d := 1; d <= 7; d++ {
		ev := pendingEvent()
		ev.ID, ev.Start, ev.End = fmt.Sprintf("event%04d", d), day(d), day(d+1)
		if _, err := e.cal.Insert(ctx, testCal, ev); err != nil {
			t.Fatal(err)
		}
	}
	// The window [2 June, 7 June) holds events 2..6: pages of 2 are three calls.
	e.fake.ResetCalls()
	q := moffman.ListQuery{TimeMin: time.Date(2022, 6, 2, 0, 0, 0, 0, time.UTC), TimeMax: time.Date(2022, 6, 7, 0, 0, 0, 0, time.UTC), MaxResults: 2}
	evs, _, err := moffman.ListAll(ctx, e.cal, testCal, q)
	if err != nil {
		t.Fatal(err)
	}
	if got := idList(evs); got != "event0002,event0003,event0004,event0005,event0006" {
		t.Errorf("window: %s", got)
	}
	wantCalls(t, e.fake, googlefake.MethodEventsList, 3)

	_, err = e.cal.List(ctx, "unknown@group.calendar.google.com", moffman.ListQuery{})
	wantCode(t, err, moffman.NotFound)
}

func idList(evs []moffman.Event) string {
	var ids []string
	for _, ev := range evs {
		ids = append(ids, ev.ID)
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

func TestSubscribe(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	for range 2 { // twice is no error
		if err := e.cal.Subscribe(ctx, testCal); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.fake.CalendarList(); len(got) != 1 || got[0] != testCal {
		t.Errorf("calendar list %v", got)
	}
	if body := e.rec.last(t, "POST"); keys(body) != "id" || body["id"] != testCal {
		t.Errorf("calendarList.insert sent %v", body)
	}

	const private = "secret@group.calendar.google.com"
	e.fake.AddCalendar(private, false)
	for _, id := range []string{private, "missing@group.calendar.google.com"} {
		err := e.cal.Subscribe(ctx, id)
		wantCode(t, err, moffman.NotFound)
		msg := moffman.ErrorMessage(err)
		if !strings.Contains(msg, id) || !strings.Contains(msg, e.fake.ServiceAccountEmail()) || !strings.Contains(msg, "share") {
			t.Errorf("message %q should name the calendar and say to share it with the account", msg)
		}
	}

	e.fake.FailNext(googlefake.MethodCalendarListInsert, 1, 403, "forbidden")
	wantCode(t, e.cal.Subscribe(ctx, testCal), moffman.Forbidden)
	e.fake.FailNext(googlefake.MethodCalendarListInsert, 1, 409, "duplicate")
	if err := e.cal.Subscribe(ctx, testCal); err != nil {
		t.Errorf("409: %v", err)
	}
}

// One token for any number of calls, concurrent ones included.
func TestOneToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			ev := pendingEvent()
			ev.ID = fmt.Sprintf("concurrent%03d", i)
			if _, err := e.cal.Insert(ctx, testCal, ev); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range 20 {
		if _, err := e.cal.Get(ctx, testCal, fmt.Sprintf("concurrent%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.cal.List(ctx, testCal, moffman.ListQuery{}); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, e.fake, googlefake.MethodToken, 1)
	wantCalls(t, e.fake, googlefake.MethodUnknown, 0) // no discovery or other stray requests
	wantCalls(t, e.fake, googlefake.MethodEventsInsert, 20)
	wantCalls(t, e.fake, googlefake.MethodEventsGet, 20)
}

func TestBadKey(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"", "{", `{"type": "authorized_user", "client_email": "x@y"}`} {
		if _, err := NewCalendar(t.Context(), Options{KeyJSON: []byte(key)}); moffman.ErrorCode(err) != moffman.Invalid {
			t.Errorf("key %q: %v", key, err)
		}
	}
}

// A revoked key: the token endpoint refuses, which is final.
func TestTokenRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.FailNext(googlefake.MethodToken, 1, 400, "invalid_grant")
	_, err := e.cal.Get(t.Context(), testCal, eventID)
	wantCode(t, err, moffman.Upstream)
	wantCalls(t, e.fake, googlefake.MethodToken, 1)
	if !strings.Contains(moffman.ErrorMessage(err), "key") {
		t.Errorf("message %q", moffman.ErrorMessage(err))
	}
}

func rawClient(t testing.TB, e *env) *calendar.Service {
	t.Helper()
	svc, err := calendar.NewService(context.Background(),
		option.WithEndpoint(e.fake.CalendarEndpoint()),
		option.WithAuthCredentialsJSON(option.ServiceAccount, e.fake.KeyJSON()),
		option.WithScopes(calendar.CalendarScope))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
