package httpapi

import "net/http"

// attendanceJSON is who is in an office, day by day.
type attendanceJSON struct {
	OfficeID string    `json:"office_id"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Days     []dayJSON `json:"days"`
}

type dayJSON struct {
	Date     string       `json:"date"`
	People   []personJSON `json:"people"`
	Approved int          `json:"approved"`
	Pending  int          `json:"pending"`
	// Waitlisted is left out when 0, so offices without a capacity answer
	// as before.
	Waitlisted int `json:"waitlisted,omitempty"`
	Total      int `json:"total"`
}

type personJSON struct {
	Name   string `json:"name"`
	Email  string `json:"email,omitempty"`
	Status string `json:"status"`
}

func (s *Server) getAttendance(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	a, err := s.Reservations.Attendance(r.Context(), r.PathValue("office_id"), q.Get("from"), q.Get("to"))
	if err != nil {
		return err
	}
	out := attendanceJSON{OfficeID: a.OfficeID, From: a.From, To: a.To, Days: make([]dayJSON, 0, len(a.Days))}
	for _, d := range a.Days {
		day := dayJSON{Date: d.Date, People: make([]personJSON, 0, len(d.People)), Approved: d.Approved, Pending: d.Pending, Waitlisted: d.Waitlisted, Total: len(d.People)}
		for _, p := range d.People {
			day.People = append(day.People, personJSON{Name: p.Name, Email: p.Email, Status: string(p.Status)})
		}
		out.Days = append(out.Days, day)
	}
	return writeJSON(w, http.StatusOK, out)
}

// availabilityJSON is an office's capacity and load, day by day.
type availabilityJSON struct {
	OfficeID string                `json:"office_id"`
	From     string                `json:"from"`
	To       string                `json:"to"`
	Days     []dayAvailabilityJSON `json:"days"`
}

type dayAvailabilityJSON struct {
	Date       string `json:"date"`
	Capacity   *int   `json:"capacity"` // null: unlimited
	Closed     bool   `json:"closed"`
	Reason     string `json:"reason,omitempty"`
	Approved   int    `json:"approved"`
	Pending    int    `json:"pending"`
	Waitlisted int    `json:"waitlisted"`
	Free       *int   `json:"free"` // null: unlimited
}

func (s *Server) getAvailability(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	office := r.PathValue("office_id")
	days, err := s.Reservations.Availability(r.Context(), office, q.Get("from"), q.Get("to"))
	if err != nil {
		return err
	}
	out := availabilityJSON{OfficeID: office, From: q.Get("from"), To: q.Get("to"), Days: make([]dayAvailabilityJSON, 0, len(days))}
	for _, d := range days {
		out.Days = append(out.Days, dayAvailabilityJSON{Date: d.Date, Capacity: d.Capacity, Closed: d.Closed, Reason: d.Reason,
			Approved: d.Approved, Pending: d.Pending, Waitlisted: d.Waitlisted, Free: d.Free})
	}
	return writeJSON(w, http.StatusOK, out)
}
