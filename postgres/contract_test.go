package postgres

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/calendartest"
)

const testAccount = "moffman@embedded.test"

func TestCalendarContract(t *testing.T) {
	calendartest.TestCalendar(t, func(t *testing.T) calendartest.Backend {
		s := openTest(t, WithAccount(testAccount))
		var n atomic.Int64
		return calendartest.Backend{
			Calendar: s,
			// Like the embedded SQLite store, calendars exist once used.
			NewCalendar: func(*testing.T) string { return fmt.Sprintf("cal%d@embedded", n.Add(1)) },
			AddManual: func(t *testing.T, cal, creator string, ev moffman.Event) string {
				ev.CreatorEmail = creator
				return mustInsert(t, s, cal, ev).ID
			},
			Account: testAccount,
			Skip: map[string]string{
				"SyncTokenExpired": "the embedded store's sync tokens never expire; another calendar's token is Gone (SyncTokenGone)",
			},
		}
	})
}

func TestStateStoreContract(t *testing.T) {
	calendartest.TestStateStore(t, func(t *testing.T) moffman.StateStore { return openTest(t) })
}
