package googlefake

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"
)

func TestFailNext(t *testing.T) {
	t.Parallel()
	s, svc, calID := startWithCalendar(t)
	s.FailNext(MethodEventsInsert, 2, http.StatusTooManyRequests, "rateLimitExceeded")
	s.InjectFault(MethodEventsInsert, 1, Fault{Status: http.StatusForbidden, Reason: "userRateLimitExceeded", RetryAfter: 1500 * time.Millisecond})
	s.FailNext(MethodEventsInsert, 1, http.StatusInternalServerError, "")

	ev := allDay("fault0001", "x", "2024-01-01", "2024-01-02")
	for i := range 2 {
		_, err := svc.Events.Insert(calID, ev).Do()
		ge := wantAPIError(t, err, http.StatusTooManyRequests, "rateLimitExceeded")
		if ge.Message != "Rate Limit Exceeded" {
			t.Errorf("call %d: message %q", i, ge.Message)
		}
	}
	_, err := svc.Events.Insert(calID, ev).Do()
	ge := wantAPIError(t, err, http.StatusForbidden, "userRateLimitExceeded")
	if got := ge.Header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2", got)
	}
	_, err = svc.Events.Insert(calID, ev).Do()
	wantAPIError(t, err, http.StatusInternalServerError, "backendError")
	mustInsert(t, svc, calID, ev)

	if got := s.Calls(MethodEventsInsert); got != 5 {
		t.Errorf("insert calls = %d, want 5", got)
	}
	if _, ok := s.Event(calID, ev.Id); !ok {
		t.Error("the call after the faults did not store the event")
	}
	// Faults are per method.
	if _, err := svc.Events.Get(calID, ev.Id).Do(); err != nil {
		t.Error(err)
	}
	s.ResetCalls()
	if s.Calls(MethodEventsInsert) != 0 || s.Calls(MethodEventsGet) != 0 {
		t.Error("ResetCalls left counts")
	}
}

func TestFailNextToken(t *testing.T) {
	t.Parallel()
	s := start(t)
	s.FailNext(MethodToken, 1, http.StatusServiceUnavailable, "")
	svc := calendarClient(t, s)
	if _, err := svc.Colors.Get().Do(); err == nil {
		t.Fatal("call with a failing token endpoint succeeded")
	}
	if _, err := svc.Colors.Get().Do(); err != nil {
		t.Fatalf("second call: %v", err)
	}
	if got := s.Calls(MethodToken); got != 2 {
		t.Errorf("token calls = %d, want 2", got)
	}
}

func TestFailNextUnknownMethodPanics(t *testing.T) {
	t.Parallel()
	s := start(t)
	defer func() {
		if recover() == nil {
			t.Error("no panic for a misspelt method")
		}
	}()
	s.FailNext("calendar.event.insert", 1, 500, "")
}

func TestSheetsFaultAndUnknownRoute(t *testing.T) {
	t.Parallel()
	s := start(t)
	s.SetSheetValues("sheet1", "Offices", [][]string{{"a", "b"}})
	s.FailNext(MethodSheetsValuesGet, 1, http.StatusInternalServerError, "backendError")
	svc := sheetsClient(t, s)
	_, err := svc.Spreadsheets.Values.Get("sheet1", "Offices").Do()
	wantAPIError(t, err, http.StatusInternalServerError, "backendError")
	if _, err := svc.Spreadsheets.Values.Get("sheet1", "Offices").Do(); err != nil {
		t.Fatal(err)
	}
	_, err = rawGet(t, s, "/calendar/v3/nothing/here", "")
	wantAPIError(t, err, http.StatusNotFound, "notFound")
	if s.Calls(MethodUnknown) != 1 || s.Calls(MethodSheetsValuesGet) != 2 {
		t.Errorf("calls unknown=%d values.get=%d", s.Calls(MethodUnknown), s.Calls(MethodSheetsValuesGet))
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	s, svc, calID := startWithCalendar(t)
	if _, err := svc.Events.List(calID).Do(); err != nil { // fetch the token first
		t.Fatal(err)
	}
	s.SetLatency(time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := svc.Events.List(calID).Context(ctx).Do()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
}

// TestConcurrentUse is for the race detector: writers, listers and syncers
// on one calendar at once.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s, svc, calID := startWithCalendar(t)
	_, token := fullSync(t, svc.Events.List(calID))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				id := fmt.Sprintf("conc%d%03d", w, i)
				if _, err := svc.Events.Insert(calID, allDay(id, "x", "2024-01-01", "2024-01-02")).Do(); err != nil {
					t.Error(err)
					return
				}
				if _, err := svc.Events.Patch(calID, id, &calendar.Event{ColorId: "5"}).Do(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 10 {
				if _, err := svc.Events.List(calID).MaxResults(7).SyncToken(token).Do(); err != nil {
					t.Error(err)
				}
				s.Events(calID)
				s.Calls(MethodEventsInsert)
			}
		})
	}
	wg.Wait()
	items, _ := fullSync(t, svc.Events.List(calID).SyncToken(token))
	if len(items) != 40 {
		t.Errorf("%d changes after concurrent writes, want 40", len(items))
	}
}
