// Package calendartest states the contracts of moffman's storage ports,
// moffman.Calendar and moffman.StateStore, once, as tests that every
// backend runs against itself. The port's comments in ports.go say what
// is promised; these tests are how a backend proves it keeps it.
//
// A new backend runs the suites from its own _test.go file:
//
//	func TestCalendarContract(t *testing.T) {
//		calendartest.TestCalendar(t, func(t *testing.T) calendartest.Backend {
//			cal := openMyBackend(t) // fresh per subtest; close it in t.Cleanup
//			return calendartest.Backend{
//				Calendar:    cal,
//				NewCalendar: func(t *testing.T) string { return makeEmptyCalendar(t, cal) },
//				AddManual:   ...,             // an event as a person adds it
//				Account:     "me@example.com", // the creator of moffman's inserts
//				Skip: map[string]string{
//					"SyncTokenExpired": "tokens of this backend never expire",
//				},
//			}
//		})
//	}
//
//	func TestStateStoreContract(t *testing.T) {
//		calendartest.TestStateStore(t, func(t *testing.T) moffman.StateStore {
//			return openMyStore(t) // fresh and empty per subtest
//		})
//	}
//
// Every contract test is a parallel subtest with a stable name
// (TestCalendarContract/SyncTokens …), and each gets a fresh backend.
//
// Skips: a backend that cannot express a part of the contract names that
// subtest in Backend.Skip with the reason, and the same gap is documented
// at the port's method in ports.go. A Skip key that names no test fails,
// so a typo cannot silently skip nothing. A test that needs an optional
// hook (AddManual, Account, ExpireSyncTokens) fails when the hook is unset
// and the test is not in Skip: every gap is stated, none is implied.
//
// Backends that need a server (PostgreSQL, a CalDAV server) skip the whole
// suite with t.Skip in their constructor when the server is missing, and
// never when CI=true (the project rule).
package calendartest

import (
	"context"
	"slices"
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
	// through moffman, with creator as its author, and returns its id
	// (ev.ID may be empty). Needed by "ManualEvent".
	AddManual func(t *testing.T, calendarID, creator string, ev moffman.Event) string

	// Account is the creator the backend records for an event moffman
	// inserts without CreatorEmail (Google: the service account).
	// Needed by "CreatorRecorded".
	Account string

	// ExpireSyncTokens makes the backend refuse every sync token it
	// issued so far for the calendar, as Google does now and then (410).
	// Needed by "SyncTokenExpired".
	ExpireSyncTokens func(t *testing.T, calendarID string)

	// Skip names the contract tests this backend cannot pass, each with
	// the reason (the gap is documented at the port's method too).
	Skip map[string]string
}

// run runs one contract subtest on a fresh backend, unless it is skipped.
func run(t *testing.T, name string, known []string, newBackend func(*testing.T) Backend, test func(*testing.T, Backend)) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		for skip := range b.Skip {
			if !slices.Contains(known, skip) {
				t.Fatalf("Backend.Skip names %q, which is no contract test (known: %v)", skip, known)
			}
		}
		if why, ok := b.Skip[name]; ok {
			t.Skip(why)
		}
		test(t, b)
	})
}

// need fails the test when the hook it needs is unset: the backend must
// set it or name the test in Skip with the reason.
func need(t *testing.T, set bool, hook string) {
	t.Helper()
	if !set {
		t.Fatalf("Backend.%s is unset: set it, or name %q in Backend.Skip with the reason", hook, t.Name()[strings.LastIndex(t.Name(), "/")+1:])
	}
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

// Clock is a settable clock for stores that take one.
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
