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

// fill fills in a missing end of a window (see WindowRule.Fill).
func (rule WindowRule) fill(from, to string) (string, string, error) {
	shift := func(field, v string, days int) (string, error) {
		t, err := ParseDate(field, v)
		return t.AddDate(0, 0, days).Format(DateLayout), err
	}
	var err error
	switch {
	case from == "" && to == "":
		today := time.Date(rule.Today.Year(), rule.Today.Month(), rule.Today.Day(), 0, 0, 0, 0, time.UTC)
		from = today.AddDate(0, 0, -rule.Back).Format(DateLayout)
		to = today.AddDate(0, 0, rule.Fill-rule.Back).Format(DateLayout)
	case from == "":
		from, err = shift("to", to, -rule.Fill)
	case to == "":
		to, err = shift("from", from, rule.Fill)
	}
	return from, to, err
}
