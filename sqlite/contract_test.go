package sqlite

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/calendartest"
)

func TestCalendarContract(t *testing.T) {
	calendartest.TestCalendar(t, func(t *testing.T) calendartest.Backend {
		s := openTest(t)
		var n atomic.Int64
		return calendartest.Backend{
			Calendar: s,
			// The embedded store creates calendars as they are used.
			NewCalendar: func(*testing.T) string { return fmt.Sprintf("cal%d@embedded", n.Add(1)) },
			AddManual: func(t *testing.T, cal, creator string, ev moffman.Event) string {
				ev.CreatorEmail = creator
				return mustInsert(t, s, cal, ev).ID
			},
		}
	})
}

func TestStateStoreContract(t *testing.T) {
	calendartest.TestStateStore(t, func(t *testing.T, now func() time.Time) moffman.StateStore {
		return openTest(t, WithClock(now))
	})
}

// The in-memory store (general.storage_path null) keeps the same contract.
func TestMemoryContract(t *testing.T) {
	calendartest.TestCalendar(t, func(t *testing.T) calendartest.Backend {
		s, err := Open(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		var n atomic.Int64
		return calendartest.Backend{Calendar: s, NewCalendar: func(*testing.T) string { return fmt.Sprintf("mem%d", n.Add(1)) }}
	})
	calendartest.TestStateStore(t, func(t *testing.T, now func() time.Time) moffman.StateStore {
		s, err := Open(context.Background(), "", WithClock(now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
