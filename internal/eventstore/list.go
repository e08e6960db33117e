package eventstore

import (
	"time"

	"github.com/moffman/moffman"
)

// Page sizes of events.list.
const (
	DefaultPageSize = 250
	MaxPageSize     = 2500
)

// CheckQuery refuses what events.list refuses in a query and returns the
// page size.
func CheckQuery(q moffman.ListQuery) (limit int, err error) {
	if q.SyncToken != "" && (!q.TimeMin.IsZero() || !q.TimeMax.IsZero()) {
		return 0, moffman.Errorf(moffman.Invalid, "a sync token cannot be combined with timeMin or timeMax")
	}
	if !q.TimeMin.IsZero() && !q.TimeMax.IsZero() && !q.TimeMax.After(q.TimeMin) {
		return 0, moffman.Errorf(moffman.Invalid, "timeMax (%s) must be after timeMin (%s)",
			q.TimeMax.Format(time.RFC3339), q.TimeMin.Format(time.RFC3339))
	}
	if q.MaxResults <= 0 {
		return DefaultPageSize, nil
	}
	return min(q.MaxResults, MaxPageSize), nil
}

// InvalidPageToken is the error for a page token that is not the
// calendar's or does not fit the query.
func InvalidPageToken(calendarID string) error {
	return moffman.Errorf(moffman.Invalid, "invalid page token for calendar %q", calendarID)
}

// Gone is the error for a sync token that cannot be used: the caller lists
// the window again. err is the cause, if any.
func Gone(calendarID string, err error) error {
	return moffman.WrapError(moffman.Gone, err, "sync token is not valid for calendar %q: a full sync is required", calendarID)
}

// Below and Above sort before and after every date "YYYY-MM-DD": the
// bounds of DateBounds when a side is open.
const (
	Below = ""
	Above = "~"
)

// DateBounds turns [tmin, tmax) into bounds on the date strings: an
// all-day event (dates as midnight UTC) overlaps when end > lo and
// start < hi. Zero times are unbounded.
func DateBounds(tmin, tmax time.Time) (lo, hi string) {
	lo, hi = Below, Above
	if !tmin.IsZero() {
		t := tmin.UTC()
		switch {
		case t.Year() > 9999:
			lo = Above
		case t.Year() >= 1:
			lo = t.Format(moffman.DateLayout) // an end at midnight of that day is not after tmin
		}
	}
	if !tmax.IsZero() {
		t := tmax.UTC()
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		if !t.Equal(day) {
			day = day.AddDate(0, 0, 1) // an event starting that day starts before tmax
		}
		switch {
		case day.Year() < 1:
			hi = Below
		case day.Year() <= 9999:
			hi = day.Format(moffman.DateLayout)
		}
	}
	return lo, hi
}
