package google

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/googlefake"
	"github.com/moffman/moffman/internal/calendartest"
)

// The Google adapter keeps the Calendar contract against googlefake, which
// behaves like Google Calendar v3 at the HTTP level.
func TestCalendarContract(t *testing.T) {
	calendartest.TestCalendar(t, func(t *testing.T) calendartest.Backend {
		e := newEnv(t)
		var n atomic.Int64
		return calendartest.Backend{
			Calendar: e.cal,
			NewCalendar: func(t *testing.T) string {
				id := fmt.Sprintf("office%d@group.calendar.google.com", n.Add(1))
				e.fake.AddCalendar(id, true)
				if err := e.cal.Subscribe(t.Context(), id); err != nil {
					t.Fatal(err)
				}
				return id
			},
			AddManual: func(t *testing.T, cal, creator string, ev moffman.Event) string {
				id, err := e.fake.AddManualEvent(cal, creator, googlefake.ManualEvent{
					ID: ev.ID, Summary: ev.Summary, ColorID: ev.ColorID, Start: ev.Start, End: ev.End})
				if err != nil {
					t.Fatal(err)
				}
				return id
			},
			Account: e.fake.ServiceAccountEmail(),
			// The fake expires every calendar's tokens at once, as Google
			// may; the contract asks for one calendar's at least.
			ExpireSyncTokens: func(*testing.T, string) { e.fake.ExpireSyncTokens() },
		}
	})
}
