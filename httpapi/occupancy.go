package httpapi

import (
	"bytes"
	"mime"
	"net/http"

	"github.com/moffman/moffman/internal/occupancy"
)

// getOccupancyCSV serves an office's capacity and load for each day of
// [from, to) as CSV, for spreadsheets and reports.
func (s *Server) getOccupancyCSV(w http.ResponseWriter, r *http.Request) error {
	officeID := r.PathValue("office_id")
	q := r.URL.Query()
	days, err := s.Reservations.Availability(r.Context(), officeID, q.Get("from"), q.Get("to"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := occupancy.WriteCSV(&buf, days); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", occupancy.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": occupancy.Filename(officeID, q.Get("from"), q.Get("to"))}))
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(buf.Bytes()) // the answer has begun: a failure here cannot be told
	return nil
}
