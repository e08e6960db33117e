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

// validateEvent checks what every backend checks on an insert, and that
// PostgreSQL can keep the dates.
func validateEvent(ev moffman.Event) error {
	if err := moffman.ValidateNewEvent(ev); err != nil {
		return err
	}
	return keepableDates(&ev.Start, &ev.End)
}

// validatePatch checks what every backend checks on a patch, and that
// PostgreSQL can keep the dates.
func validatePatch(p moffman.EventPatch) error {
	if err := moffman.ValidatePatch(p); err != nil {
		return err
	}
	return keepableDates(p.Start, p.End)
}

// keepableDates refuses the year 0, which Go parses and PostgreSQL's date
// type does not have; nil dates are not set.
func keepableDates(start, end *string) error {
	for _, d := range []struct {
		field string
		s     *string
	}{{"start", start}, {"end", end}} {
		if d.s == nil {
			continue
		}
		if t, err := moffman.ParseDate(d.field, *d.s); err == nil && t.Year() < 1 {
			return moffman.Errorf(moffman.Invalid, "%s must be a date from 0001-01-01 on, got %q", d.field, *d.s)
		}
	}
	return nil
}
