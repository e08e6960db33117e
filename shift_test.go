package moffman

import (
	"testing"
	"time"
)

func TestShiftApply(t *testing.T) {
	day := func(s string) time.Time {
		d, err := time.Parse(DateLayout, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	cases := []struct {
		from  string
		shift Shift
		want  string
	}{
		{"2022-07-05", Shift{Days: -1}, "2022-07-04"},
		{"2022-07-05", Shift{Weeks: -1}, "2022-06-28"},
		{"2022-07-05", Shift{Weeks: 2}, "2022-07-19"},
		{"2022-01-31", Shift{Months: 1}, "2022-02-28"},
		{"2024-01-31", Shift{Months: 1}, "2024-02-29"},
		{"2022-03-31", Shift{Months: -1}, "2022-02-28"},
		{"2022-01-15", Shift{Months: -1}, "2021-12-15"},
		{"2022-01-15", Shift{Months: -13}, "2020-12-15"},
		{"2022-01-15", Shift{Months: -12}, "2021-01-15"},
		{"2024-02-29", Shift{Years: 1}, "2025-02-28"},
		{"2022-12-31", Shift{Months: 1, Days: 1}, "2023-02-01"},
	}
	for _, c := range cases {
		got := c.shift.Apply(day(c.from)).Format(DateLayout)
		if got != c.want {
			t.Errorf("%+v.Apply(%s) = %s, want %s", c.shift, c.from, got, c.want)
		}
	}
}
