package postgres

import (
	"time"

	"github.com/moffman/moffman"
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

// parseDate is moffman.ParseDate, refusing the year 0 that Go accepts and
// PostgreSQL's date type does not have.
func parseDate(field, s string) (time.Time, error) {
	t, err := moffman.ParseDate(field, s)
	if err == nil && t.Year() < 1 {
		return time.Time{}, moffman.Errorf(moffman.Invalid, "%s must be a date from 0001-01-01 on, got %q", field, s)
	}
	return t, err
}

// validateEvent checks what Google checks on every write, and that
// PostgreSQL can keep the dates.
func validateEvent(start, end, colorID string) error {
	if _, err := parseDate("start", start); err != nil {
		return err
	}
	if _, err := parseDate("end", end); err != nil {
		return err
	}
	if err := moffman.ValidateEventDates(start, end); err != nil {
		return err
	}
	return moffman.ValidateColorID(colorID)
}
