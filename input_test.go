package moffman_test

import (
	"strings"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

func TestIsEmail(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"jan.novak@acme.com":     true,
		"Jan@Acme.com":           true,
		"jan":                    false,
		"":                       false,
		"Jan <jan@acme.com>":     false, // a display name is not an address
		"<jan@acme.com>":         false,
		"jan@acme.com (Jan)":     false,
		" jan@acme.com":          false,
		"jan@acme.com, eva@a.cz": false,
	} {
		if got := moffman.IsEmail(s); got != want {
			t.Errorf("IsEmail(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCheckEmailNamesTheField(t *testing.T) {
	t.Parallel()
	if err := moffman.CheckEmail("user.email", "jan@acme.com"); err != nil {
		t.Errorf("valid address: %v", err)
	}
	err := moffman.CheckEmail("user.email", "jan")
	if !moffman.IsCode(err, moffman.Invalid) || !strings.HasPrefix(moffman.ErrorMessage(err), `user.email "jan" is not an e-mail address`) {
		t.Errorf("not an address: %v", err)
	}
	long := strings.Repeat("a", moffman.MaxEmailLength) + "@acme.com"
	if err := moffman.CheckEmail("email", long); !moffman.IsCode(err, moffman.Invalid) || !strings.Contains(err.Error(), "email is longer than 254") {
		t.Errorf("too long: %v", err)
	}
}

func TestParseWindowFillsMissingEnds(t *testing.T) {
	t.Parallel()
	rule := moffman.WindowRule{Fill: 10, Back: 3, Today: time.Date(2026, 12, 2, 23, 30, 0, 0, time.UTC)}
	for _, c := range []struct{ from, to, wantFrom, wantTo string }{
		{"", "", "2026-11-29", "2026-12-09"},
		{"2027-01-04", "", "2027-01-04", "2027-01-14"},
		{"", "2027-01-14", "2027-01-04", "2027-01-14"},
		{"2027-01-04", "2027-01-05", "2027-01-04", "2027-01-05"},
	} {
		first, end, err := moffman.ParseWindow(c.from, c.to, rule)
		if err != nil || first.Format(moffman.DateLayout) != c.wantFrom || end.Format(moffman.DateLayout) != c.wantTo {
			t.Errorf("ParseWindow(%q, %q) = %v, %v, %v; want %s, %s", c.from, c.to, first, end, err, c.wantFrom, c.wantTo)
		}
	}
	// Without Fill both ends are required.
	if _, _, err := moffman.ParseWindow("2027-01-04", "", moffman.WindowRule{}); !moffman.IsCode(err, moffman.Invalid) {
		t.Errorf("missing to without Fill: %v, want invalid", err)
	}
	// A filled end still names the bad field.
	if _, _, err := moffman.ParseWindow("", "someday", rule); err == nil || !strings.Contains(err.Error(), "to must be a real date") {
		t.Errorf("bad to: %v", err)
	}
}

func TestParseWindowAcceptsTheWholeDateRange(t *testing.T) {
	t.Parallel()
	first, end, err := moffman.ParseWindow(moffman.FirstDate, moffman.LastDate, moffman.WindowRule{MaxDays: 3652059})
	if err != nil {
		t.Fatalf("open window: %v", err)
	}
	// 0001-01-01 to 9999-12-31 is 3,652,058 days; time.Duration holds only 292 years.
	if _, _, err := moffman.ParseWindow(moffman.FirstDate, moffman.LastDate, moffman.WindowRule{MaxDays: 3652057}); err == nil ||
		!strings.Contains(err.Error(), "spans 3652058 days") {
		t.Errorf("span of the open window: %v, want 3652058 days counted", err)
	}
	if first.Year() != 1 || end.Year() != 9999 {
		t.Errorf("open window = %v, %v", first, end)
	}
	for _, c := range []struct{ from, to, field string }{
		{"0000-12-31", "0001-01-02", "from"},
		{"0001-01-01", "10000-01-01", "to"},
		{"9999-12-30", "10000-01-01", "to"},
	} {
		_, _, err := moffman.ParseWindow(c.from, c.to, moffman.WindowRule{})
		if !moffman.IsCode(err, moffman.Invalid) || !strings.HasPrefix(moffman.ErrorMessage(err), c.field+" must be a real date from 0001-01-01 to 9999-12-31") {
			t.Errorf("ParseWindow(%q, %q) = %v, want an error naming %s", c.from, c.to, err, c.field)
		}
	}
}

func TestParseWindowFillStopsAtTheEndsOfTheRange(t *testing.T) {
	t.Parallel()
	rule := moffman.WindowRule{Fill: 238, Back: 56, Today: time.Date(9999, 12, 20, 0, 0, 0, 0, time.UTC)}
	for _, c := range []struct{ from, to, wantFrom, wantTo string }{
		{"9999-12-01", "", "9999-12-01", "9999-12-31"},
		{"", "0001-02-01", "0001-01-01", "0001-02-01"},
		{"", "", "9999-10-25", "9999-12-31"},
	} {
		first, end, err := moffman.ParseWindow(c.from, c.to, rule)
		if err != nil || first.Format(moffman.DateLayout) != c.wantFrom || end.Format(moffman.DateLayout) != c.wantTo {
			t.Errorf("ParseWindow(%q, %q) = %v, %v, %v; want %s, %s", c.from, c.to, first, end, err, c.wantFrom, c.wantTo)
		}
	}
	// An error names the end the caller sent, never the one filled in.
	for _, c := range []struct{ from, to, prefix string }{
		{"9999-12-31", "", "from must be before 9999-12-31"},
		{"", "0001-01-01", "to must be after 0001-01-01"},
		{"0000-06-01", "", "from must be a real date"},
	} {
		_, _, err := moffman.ParseWindow(c.from, c.to, rule)
		if !moffman.IsCode(err, moffman.Invalid) || !strings.HasPrefix(moffman.ErrorMessage(err), c.prefix) {
			t.Errorf("ParseWindow(%q, %q) = %v, want %q", c.from, c.to, err, c.prefix)
		}
	}
}
