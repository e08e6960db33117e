// Package occupancy writes an office's availability, day by day, as CSV:
// the REST API serves it to programs and the occupancy page to people
// signed in, the same bytes.
package occupancy

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/moffman/moffman"
)

// Header is the CSV's first row. An unlimited office has empty capacity
// and free cells.
var Header = []string{"date", "capacity", "closed", "approved", "pending", "waitlisted", "free"}

// ContentType is the CSV's media type (RFC 4180; the first row is the header).
const ContentType = "text/csv; charset=utf-8"

// WriteCSV writes the header and a row per day.
func WriteCSV(w io.Writer, days []moffman.DayAvailability) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180
	if err := cw.Write(Header); err != nil {
		return err
	}
	for _, d := range days {
		if err := cw.Write([]string{
			d.Date, optional(d.Capacity), strconv.FormatBool(d.Closed),
			strconv.Itoa(d.Approved), strconv.Itoa(d.Pending), strconv.Itoa(d.Waitlisted), optional(d.Free),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func optional(n *int) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(*n)
}

// Filename names a download: occupancy-OFFICE-FROM-TO.csv, with to
// exclusive as everywhere.
func Filename(office, from, to string) string {
	return "occupancy-" + office + "-" + from + "-" + to + ".csv"
}
