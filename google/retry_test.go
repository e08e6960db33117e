package google

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/googlefake"
)

func TestRetryServerErrorThenSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.FailNext(googlefake.MethodEventsInsert, 2, 503, "")
	if _, err := e.cal.Insert(t.Context(), testCal, pendingEvent()); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, e.fake, googlefake.MethodEventsInsert, 3)
	wantCalls(t, e.fake, googlefake.MethodEventsGet, 0) // 503s stored nothing: no 409 to resolve
	want := "calendar events.insert retry; calendar events.insert retry; calendar events.insert ok"
	if got := e.calls.String(); got != want {
		t.Errorf("OnCall reports %q, want %q", got, want)
	}
	if !strings.Contains(e.logs.String(), "retrying") {
		t.Error("retries were not logged")
	}
}

func TestRetryRateLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.FailNext(googlefake.MethodEventsGet, 1, 403, "rateLimitExceeded")
	e.fake.FailNext(googlefake.MethodEventsGet, 1, 403, "userRateLimitExceeded")
	_, err := e.cal.Get(t.Context(), testCal, eventID)
	wantCode(t, err, moffman.NotFound) // the third attempt reached the calendar
	wantCalls(t, e.fake, googlefake.MethodEventsGet, 3)

	// A permission 403 and a daily quota are final.
	e.fake.ResetCalls()
	e.fake.FailNext(googlefake.MethodEventsGet, 1, 403, "forbidden")
	_, err = e.cal.Get(t.Context(), testCal, eventID)
	wantCode(t, err, moffman.Forbidden)
	if msg := moffman.ErrorMessage(err); !strings.Contains(msg, e.fake.ServiceAccountEmail()) || !strings.Contains(msg, testCal) {
		t.Errorf("message %q should name the account and the calendar", msg)
	}
	e.fake.FailNext(googlefake.MethodEventsGet, 1, 403, "quotaExceeded")
	_, err = e.cal.Get(t.Context(), testCal, eventID)
	wantCode(t, err, moffman.Unavailable)
	wantCalls(t, e.fake, googlefake.MethodEventsGet, 2)
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.Retry.Budget = 5 * time.Second })
	e.fake.InjectFault(googlefake.MethodEventsInsert, 1, googlefake.Fault{Status: 429, RetryAfter: time.Second})
	start := time.Now()
	if _, err := e.cal.Insert(t.Context(), testCal, pendingEvent()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %s, before the 1s Retry-After", d)
	}
	wantCalls(t, e.fake, googlefake.MethodEventsInsert, 2)
}

// A Retry-After beyond the budget ends the operation at once.
func TestRetryAfterBeyondBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.Retry.Budget = time.Second })
	e.fake.InjectFault(googlefake.MethodEventsInsert, 1, googlefake.Fault{Status: 429, RetryAfter: 30 * time.Second})
	start := time.Now()
	_, err := e.cal.Insert(t.Context(), testCal, pendingEvent())
	wantCode(t, err, moffman.Unavailable)
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("gave up after %s", d)
	}
	wantCalls(t, e.fake, googlefake.MethodEventsInsert, 1)
}

func TestPersistentServerError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.Retry = RetryPolicy{Attempts: 4, BaseDelay: time.Millisecond, Budget: time.Second} })
	e.fake.FailNext(googlefake.MethodEventsInsert, 100, 500, "")
	start := time.Now()
	_, err := e.cal.Insert(t.Context(), testCal, pendingEvent())
	wantCode(t, err, moffman.Unavailable)
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s, beyond the budget", d)
	}
	wantCalls(t, e.fake, googlefake.MethodEventsInsert, 4)
	msg := moffman.ErrorMessage(err)
	for _, want := range []string{"events.insert", testCal, "4 attempts", "HTTP 500 (backendError)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if got := e.calls.String(); strings.Count(got, "retry") != 3 || !strings.HasSuffix(got, "events.insert error") {
		t.Errorf("OnCall reports %q", got)
	}
}

// The budget bounds an operation however many attempts are allowed.
func TestBudgetBoundsRetries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.Retry = RetryPolicy{Attempts: 1000, BaseDelay: 20 * time.Millisecond, MaxDelay: 20 * time.Millisecond, Budget: 300 * time.Millisecond}
	})
	e.fake.FailNext(googlefake.MethodEventsList, 1000, 502, "")
	start := time.Now()
	_, err := e.cal.List(t.Context(), testCal, moffman.ListQuery{})
	wantCode(t, err, moffman.Unavailable)
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Errorf("took %s, budget 300ms", d)
	}
	if n := e.fake.Calls(googlefake.MethodEventsList); n < 2 || n >= 1000 {
		t.Errorf("%d attempts", n)
	}
}

func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) {
		o.Retry = RetryPolicy{Attempts: 2, BaseDelay: time.Millisecond, AttemptTimeout: 50 * time.Millisecond, Budget: 2 * time.Second}
	})
	if err := e.cal.Subscribe(t.Context(), testCal); err != nil { // fetches the token
		t.Fatal(err)
	}
	e.fake.SetLatency(time.Second)
	_, err := e.cal.Get(t.Context(), testCal, eventID)
	wantCode(t, err, moffman.Unavailable)
	if msg := moffman.ErrorMessage(err); !strings.Contains(msg, "no answer within 50ms") {
		t.Errorf("message %q", msg)
	}
	wantCalls(t, e.fake, googlefake.MethodEventsGet, 2)
}

func TestCallerCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *Options) { o.Retry.BaseDelay, o.Retry.MaxDelay = time.Minute, time.Minute })
	e.fake.FailNext(googlefake.MethodEventsGet, 100, 503, "")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.cal.Get(ctx, testCal, eventID)
	wantCode(t, err, moffman.Unavailable)
	if d := time.Since(start); d > time.Second {
		t.Errorf("ignored the caller's deadline: %s", d)
	}
}

// An insert whose answer was lost got stored; the retry meets 409 and
// returns the stored event, which is the one it wrote.
func TestInsertLostAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.cal.Subscribe(t.Context(), testCal); err != nil { // not a POST to lose later
		t.Fatal(err)
	}
	e.fake.ResetCalls()
	e.rec.lose("POST", 1)
	got, err := e.cal.Insert(t.Context(), testCal, pendingEvent())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != eventID || got.Summary != "(Some User)" || got.State() != moffman.StatePending {
		t.Errorf("returned %+v", got)
	}
	wantCalls(t, e.fake, googlefake.MethodEventsInsert, 2)
	wantCalls(t, e.fake, googlefake.MethodEventsGet, 1)
}

// A retried insert meeting someone else's event stays a Conflict.
func TestInsertRetryMeetsOtherEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	raw := rawClient(t, e)
	if _, err := raw.Events.Insert(testCal, &calendar.Event{Id: eventID, Summary: "someone else",
		Start: &calendar.EventDateTime{Date: "2022-06-28"}, End: &calendar.EventDateTime{Date: "2022-06-29"}}).Do(); err != nil {
		t.Fatal(err)
	}
	e.fake.ResetCalls()
	e.fake.FailNext(googlefake.MethodEventsInsert, 1, 503, "")
	_, err := e.cal.Insert(t.Context(), testCal, pendingEvent())
	wantCode(t, err, moffman.Conflict)
	wantCalls(t, e.fake, googlefake.MethodEventsInsert, 2)
	wantCalls(t, e.fake, googlefake.MethodEventsGet, 1)
}

func TestTokenEndpointOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.FailNext(googlefake.MethodToken, 1, 503, "")
	if _, err := e.cal.Insert(t.Context(), testCal, pendingEvent()); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, e.fake, googlefake.MethodToken, 2)
	wantCalls(t, e.fake, googlefake.MethodEventsInsert, 1)
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		" 0 ":                           0,
		"-3":                            0,
		"soon":                          0,
		"Fri, 02 Jan 2026 03:04:35 GMT": 30 * time.Second,
		"Fri, 02 Jan 2026 03:00:00 GMT": 0, // in the past
	} {
		if got := retryAfter(http.Header{"Retry-After": {v}}, now); got != want {
			t.Errorf("Retry-After %q: %s, want %s", v, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{}.withDefaults()
	for attempt := 1; attempt <= 70; attempt++ {
		ceil := min(p.MaxDelay, p.BaseDelay<<min(attempt-1, 20))
		for range 20 {
			if d := backoff(p, attempt); d < 0 || d > ceil {
				t.Fatalf("attempt %d: %s outside [0, %s]", attempt, d, ceil)
			}
		}
	}
}

func TestDateOfTimedEvent(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		start, end, wantStart, wantEnd string
	}{
		{"2022-06-28T09:00:00+02:00", "2022-06-28T17:00:00+02:00", "2022-06-28", "2022-06-29"},
		{"2022-06-28T09:00:00Z", "2022-06-30T00:00:00Z", "2022-06-28", "2022-06-30"},
		{"2022-06-28T23:30:00-05:00", "2022-06-29T01:00:00-05:00", "2022-06-28", "2022-06-30"},
	} {
		ev := fromGoogle(&calendar.Event{Start: &calendar.EventDateTime{DateTime: c.start}, End: &calendar.EventDateTime{DateTime: c.end}})
		if ev.Start != c.wantStart || ev.End != c.wantEnd {
			t.Errorf("%s..%s: %s..%s, want %s..%s", c.start, c.end, ev.Start, ev.End, c.wantStart, c.wantEnd)
		}
	}
}
