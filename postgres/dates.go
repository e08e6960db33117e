package postgres

import (
	"time"

	"github.com/moffman/moffman/internal/eventstore"
)

// dateBounds is eventstore.DateBounds with PostgreSQL's -infinity and
// infinity for the open sides, as the date type compares them.
func dateBounds(tmin, tmax time.Time) (lo, hi string) {
	lo, hi = eventstore.DateBounds(tmin, tmax)
	return pgDate(lo), pgDate(hi)
}

func pgDate(d string) string {
	switch d {
	case eventstore.Below:
		return "-infinity"
	case eventstore.Above:
		return "infinity"
	}
	return d
}
