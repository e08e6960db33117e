package sqlite

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/calendartest"
)

const testAccount = "moffman@embedded.test"

// backend is the embedded store as a contract backend. Its calendars exist
// as soon as they are named; a person's event is an insert naming its
// creator, which the embedded store honours.
func backend(s *Store) calendartest.Backend {
	var n atomic.Int64
	return calendartest.Backend{
		Calendar:    s,
		NewCalendar: func(*testing.T) string { return fmt.Sprintf("cal%d@embedded", n.Add(1)) },
		AddManual: func(t *testing.T, cal, creator string, ev moffman.Event) string {
			ev.CreatorEmail = creator
			return mustInsert(t, s, cal, ev).ID
		},
		Account: testAccount,
		Skip: map[string]string{
			"SyncTokenExpired": "the embedded store's sync tokens never expire; a token from another " +
				"calendar or from a replaced store is Gone (SyncTokenGone, TestSyncTokenBinding)",
		},
	}
}

func TestCalendarContract(t *testing.T) {
	calendartest.TestCalendar(t, func(t *testing.T) calendartest.Backend {
		return backend(openTest(t, WithAccount(testAccount)))
	})
}

func TestStateStoreContract(t *testing.T) {
	calendartest.TestStateStore(t, func(t *testing.T) moffman.StateStore { return openTest(t) })
}

// The in-memory store (general.storage_path null) keeps the same contracts.
func TestMemoryContract(t *testing.T) {
	open := func(t *testing.T) *Store {
		s, err := Open(context.Background(), "", WithAccount(testAccount))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("Calendar", func(t *testing.T) {
		calendartest.TestCalendar(t, func(t *testing.T) calendartest.Backend { return backend(open(t)) })
	})
	t.Run("StateStore", func(t *testing.T) {
		calendartest.TestStateStore(t, func(t *testing.T) moffman.StateStore { return open(t) })
	})
}
