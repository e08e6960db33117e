package moffman

import (
	"net/mail"
	"time"
)

// The checks of values that come from outside, kept here once so that the
// API, the configuration and the core accept and refuse the same things.

// IsEmail reports whether s is a bare e-mail address like name@example.com,
// without a display name or angle brackets.
func IsEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// CheckEmail checks an e-mail address of at most MaxEmailLength bytes; the
// error names the field.
func CheckEmail(field, email string) error {
	if len(email) > MaxEmailLength {
		return Errorf(Invalid, "%s is longer than %d characters", field, MaxEmailLength)
	}
	if !IsEmail(email) {
		return Errorf(Invalid, "%s %q is not an e-mail address like name@example.com", field, email)
	}
	return nil
}

// WindowRule is what ParseWindow accepts besides two real dates, from
// before to. The zero value needs both ends and allows any length.
type WindowRule struct {
	MaxDays int // > 0: refuse a longer window

	// Fill > 0 fills in a missing end: a missing from lies Fill days
	// before to, a missing to Fill days after from, and without both the
	// window starts Back days before Today.
	Fill, Back int
	Today      time.Time
}

// ParseWindow parses a window of whole days [from, to), given as
// YYYY-MM-DD with to exclusive. It is the one window parser: lists, the
// "who's in" views and the feed take their windows through it.
func ParseWindow(from, to string, rule WindowRule) (first, end time.Time, err error) {
	if rule.Fill > 0 {
		if from, to, err = rule.fill(from, to); err != nil {
			return time.Time{}, time.Time{}, err
		}
	}
	if from == "" || to == "" {
		return time.Time{}, time.Time{}, Errorf(Invalid, "from and to are required, as YYYY-MM-DD (to is exclusive)")
	}
	if first, err = ParseDate("from", from); err != nil {
		return time.Time{}, time.Time{}, err
	}
	if end, err = ParseDate("to", to); err != nil {
		return time.Time{}, time.Time{}, err
	}
	if !end.After(first) {
		return time.Time{}, time.Time{}, Errorf(Invalid, "to (%s) must be after from (%s)", to, from)
	}
	if days := daysBetween(first, end); rule.MaxDays > 0 && days > rule.MaxDays {
		return time.Time{}, time.Time{}, Errorf(Invalid, "the window from %s to %s spans %d days; at most %d are allowed", from, to, days, rule.MaxDays)
	}
	return first, end, nil
}

// fill fills in a missing end of a window (see WindowRule.Fill). A filled
// end stops at FirstDate or LastDate, and an error names the end the
// caller sent, not the one filled in.
func (rule WindowRule) fill(from, to string) (string, string, error) {
	first, _ := time.Parse(DateLayout, FirstDate)
	last, _ := time.Parse(DateLayout, LastDate)
	switch {
	case from == "" && to == "":
		today := time.Date(rule.Today.Year(), rule.Today.Month(), rule.Today.Day(), 0, 0, 0, 0, time.UTC)
		start := later(today.AddDate(0, 0, -rule.Back), first)
		end := earlier(today.AddDate(0, 0, rule.Fill-rule.Back), last)
		return start.Format(DateLayout), end.Format(DateLayout), nil
	case from == "":
		end, err := ParseDate("to", to)
		if err != nil {
			return "", "", err
		}
		if !end.After(first) {
			return "", "", Errorf(Invalid, "to must be after %s (to is exclusive), got %q", FirstDate, to)
		}
		return later(end.AddDate(0, 0, -rule.Fill), first).Format(DateLayout), to, nil
	case to == "":
		start, err := ParseDate("from", from)
		if err != nil {
			return "", "", err
		}
		if !start.Before(last) {
			return "", "", Errorf(Invalid, "from must be before %s (the last day that can be listed is the day before), got %q", LastDate, from)
		}
		return from, earlier(start.AddDate(0, 0, rule.Fill), last).Format(DateLayout), nil
	}
	return from, to, nil
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
