// Package calendartest states the contracts of moffman's storage ports,
// moffman.Calendar and moffman.StateStore, once, as tests that every
// backend runs against itself.
//
// A new backend proves itself from its own test file:
//
//	func TestCalendarContract(t *testing.T) {
//		calendartest.TestCalendar(t, func(t *testing.T) calendartest.Backend {
//			cal := openMyBackend(t)
//			return calendartest.Backend{Calendar: cal, NewCalendar: ..., AddManual: ...}
//		})
//	}
//
//	func TestStateStoreContract(t *testing.T) {
//		calendartest.TestStateStore(t, func(t *testing.T, now func() time.Time) moffman.StateStore {
//			return openMyStore(t, withClock(now))
//		})
//	}
//
// Each contract test is a subtest with a stable name. A backend that cannot
// express a part of the contract lists that name in Backend.Skip with the
// reason; the same gap is documented at the port's method in ports.go.
package calendartest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// Backend is one fresh instance of a Calendar backend for one contract test.
type Backend struct {
	Calendar moffman.Calendar

	// NewCalendar returns the id of a new, empty calendar that Calendar
	// can use (subscribed already where the backend needs it).
	NewCalendar func(t *testing.T) string

	// AddManual puts an event into a calendar the way a person does, not
	// through moffman, with creator as its author, and returns its id.
	// Nil when the backend has no such way; the tests of manual events
	// are then skipped.
	AddManual func(t *testing.T, calendarID, creator string, ev moffman.Event) string

	// Skip names the contract tests this backend cannot pass, each with
	// the reason.
	Skip map[string]string
}

// run runs one contract subtest on a fresh backend, unless it is skipped.
func run(t *testing.T, name string, newBackend func(*testing.T) Backend, test func(*testing.T, Backend)) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		if why, ok := b.Skip[name]; ok {
			t.Skip(why)
		}
		test(t, b)
	})
}

// Clock is a settable clock for state stores.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func event(id, start, end string) moffman.Event {
	return moffman.Event{ID: id, Summary: "s " + id, Start: start, End: end}
}

func mustInsert(t testing.TB, cal moffman.Calendar, calID string, ev moffman.Event) moffman.Event {
	t.Helper()
	got, err := cal.Insert(context.Background(), calID, ev)
	if err != nil {
		t.Fatalf("Insert(%q): %v", ev.ID, err)
	}
	return got
}

func mustGet(t testing.TB, cal moffman.Calendar, calID, id string) moffman.Event {
	t.Helper()
	got, err := cal.Get(context.Background(), calID, id)
	if err != nil {
		t.Fatalf("Get(%q): %v", id, err)
	}
	return got
}

func wantCode(t *testing.T, what string, err error, code moffman.Code) {
	t.Helper()
	if moffman.ErrorCode(err) != code {
		t.Errorf("%s: error = %v (code %q), want code %q", what, err, moffman.ErrorCode(err), code)
	}
}

func ids(evs []moffman.Event) string {
	var s []string
	for _, e := range evs {
		s = append(s, e.ID)
	}
	return strings.Join(s, ",")
}
