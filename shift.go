package moffman

import "time"

// Shift moves a time by calendar units, like Arrow's shift (and dateutil's
// relativedelta) that the Python configuration used: years and months
// first, clamping the day to the month's length (31 Jan + 1 month = 28 Feb),
// then weeks, days and the clock units.
type Shift struct {
	Years, Months, Weeks, Days, Hours, Minutes, Seconds int
}

// Apply returns t shifted.
func (s Shift) Apply(t time.Time) time.Time {
	if s.Years != 0 || s.Months != 0 {
		y, m, d := t.Date()
		months := int(m) - 1 + s.Months + 12*(y+s.Years) // years AD only
		y, m = months/12, time.Month(months%12+1)
		if last := daysIn(y, m); d > last {
			d = last
		}
		hh, mm, ss := t.Clock()
		t = time.Date(y, m, d, hh, mm, ss, t.Nanosecond(), t.Location())
	}
	t = t.AddDate(0, 0, 7*s.Weeks+s.Days)
	return t.Add(time.Duration(s.Hours)*time.Hour + time.Duration(s.Minutes)*time.Minute + time.Duration(s.Seconds)*time.Second)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
