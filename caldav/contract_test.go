package caldav

import (
	"testing"

	"github.com/moffman/moffman/internal/calendartest"
)

func TestCalendarContract(t *testing.T) {
	for _, name := range serverNames {
		t.Run(name, func(t *testing.T) {
			calendartest.TestCalendar(t, func(t *testing.T) calendartest.Backend {
				s := server(t, name)
				return calendartest.Backend{Calendar: s.calendar(t), NewCalendar: s.newCalendar, AddManual: s.addManual}
			})
		})
	}
}
