package postgres

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/moffman/moffman"
)

// The rules below are Google Calendar's, as the sqlite store applies them.

// cursor is where a listing continues: after (start, id) in a window, after
// seq in a change listing. snapshot is the change sequence at the first
// page of a window listing, which becomes its sync token.
type cursor struct {
	changes   bool
	snapshot  int64
	seq       int64
	start, id string
}

// Page and sync tokens are opaque to callers; base64 so that they survive
// URLs, and they carry the calendar so that one cannot be used for another.
var tokenEncoding = base64.RawURLEncoding

func (c cursor) token(calendarID string) string {
	var s string
	if c.changes {
		s = "c|" + strconv.FormatInt(c.seq, 10) + "|" + calendarID
	} else {
		s = "w|" + strconv.FormatInt(c.snapshot, 10) + "|" + c.start + "|" + c.id + "|" + calendarID
	}
	return tokenEncoding.EncodeToString([]byte(s))
}

func parsePageToken(tok, calendarID string) (cursor, bool) {
	b, err := tokenEncoding.DecodeString(tok)
	if err != nil {
		return cursor{}, false
	}
	kind, rest, _ := strings.Cut(string(b), "|")
	switch kind {
	case "c":
		n, cal, _ := strings.Cut(rest, "|")
		seq, err := strconv.ParseInt(n, 10, 64)
		return cursor{changes: true, seq: seq}, err == nil && cal == calendarID
	case "w":
		p := strings.SplitN(rest, "|", 4)
		if len(p) != 4 || p[3] != calendarID {
			return cursor{}, false
		}
		snap, err := strconv.ParseInt(p[0], 10, 64)
		if _, derr := time.Parse(moffman.DateLayout, p[1]); derr != nil {
			return cursor{}, false
		}
		return cursor{snapshot: snap, start: p[1], id: p[2]}, err == nil
	}
	return cursor{}, false
}

func syncToken(calendarID string, seq int64) string {
	return tokenEncoding.EncodeToString([]byte("s1|" + strconv.FormatInt(seq, 10) + "|" + calendarID))
}

// parseSyncToken returns the change sequence of a token issued for
// calendarID.
func parseSyncToken(tok, calendarID string) (int64, bool) {
	b, err := tokenEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	p := strings.SplitN(string(b), "|", 3)
	if len(p) != 3 || p[0] != "s1" || p[2] != calendarID {
		return 0, false
	}
	seq, err := strconv.ParseInt(p[1], 10, 64)
	return seq, err == nil && seq >= 0
}

// etag is a quoted opaque string, as Google's; it is the change sequence,
// so every write makes a new one.
func etag(seq int64) string { return `"` + strconv.FormatInt(seq, 10) + `"` }

// dateBounds turns [min, max) into bounds on the dates: an all-day event
// (dates as midnight UTC) overlaps when end_date > lo and start_date < hi.
// Zero times are unbounded, as PostgreSQL's -infinity and infinity.
func dateBounds(tmin, tmax time.Time) (lo, hi string) {
	lo, hi = "-infinity", "infinity"
	if !tmin.IsZero() {
		t := tmin.UTC()
		switch {
		case t.Year() > 9999:
			lo = "infinity"
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
			hi = "-infinity"
		case day.Year() <= 9999:
			hi = day.Format(moffman.DateLayout)
		}
	}
	return lo, hi
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

// validateEvent checks what Google checks on every write.
func validateEvent(start, end, colorID string) error {
	s, err := parseDate("start", start)
	if err != nil {
		return err
	}
	e, err := parseDate("end", end)
	if err != nil {
		return err
	}
	if !e.After(s) {
		return moffman.Errorf(moffman.Invalid, "end %s must be after start %s (end is exclusive)", end, start)
	}
	return validateColor(colorID)
}

// validateColor accepts Google's event colours "1" to "11" or none.
func validateColor(id string) error {
	if id == "" {
		return nil
	}
	if n, err := strconv.Atoi(id); err != nil || n < 1 || n > 11 || strconv.Itoa(n) != id {
		return moffman.Errorf(moffman.Invalid, "colorId %q is invalid: use an event colour from 1 to 11", id)
	}
	return nil
}
