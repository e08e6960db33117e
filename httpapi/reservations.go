package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/moffman/moffman"
)

// reservationPayload is the Python service's request body. Pointers tell a
// missing field from an empty one; unknown fields are ignored.
type reservationPayload struct {
	User *struct {
		Name  *string `json:"name"`
		Email *string `json:"email"`
	} `json:"user"`
	Approved  *bool   `json:"approved"`
	Start     *string `json:"start"`
	End       *string `json:"end"`
	RequestDT *string `json:"request_dt"`
	OfficeID  *string `json:"office_id"`
}

// decodeReservation reads and checks the shape of a reservation request;
// the values are checked by the core.
func decodeReservation(body io.Reader) (moffman.ReservationRequest, error) {
	var p reservationPayload
	dec := json.NewDecoder(body)
	if err := dec.Decode(&p); err != nil {
		return moffman.ReservationRequest{}, jsonError(err)
	}
	if dec.More() {
		return moffman.ReservationRequest{}, moffman.Errorf(moffman.Invalid, "the body must hold one JSON object, but more follows it")
	}
	var missing []string
	str := func(name string, v *string) string {
		if v == nil {
			missing = append(missing, name)
			return ""
		}
		return *v
	}
	req := moffman.ReservationRequest{
		Start:     str("start", p.Start),
		End:       str("end", p.End),
		RequestDT: str("request_dt", p.RequestDT),
		OfficeID:  str("office_id", p.OfficeID),
	}
	if p.User == nil {
		missing = append(missing, "user")
	} else {
		req.UserName = str("user.name", p.User.Name)
		if p.User.Email != nil {
			req.UserEmail = *p.User.Email
		}
	}
	if p.Approved == nil {
		missing = append(missing, "approved")
	} else {
		req.Approved = *p.Approved
	}
	if len(missing) > 0 {
		return req, moffman.Errorf(moffman.Invalid, "missing field(s): %s", strings.Join(missing, ", "))
	}
	return req, nil
}

// jsonError turns a decoding error into a message that says what to fix.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return err
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return moffman.Errorf(moffman.Invalid, "the body must be a JSON object, not a JSON %s", typeErr.Value)
		}
		return moffman.Errorf(moffman.Invalid, "%s must be %s, not a JSON %s", field, describeType(typeErr.Type.String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return moffman.Errorf(moffman.Invalid, "the body is not valid JSON (at byte %d): %v", syntaxErr.Offset, syntaxErr)
	case errors.Is(err, io.EOF):
		return moffman.Errorf(moffman.Invalid, "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return moffman.Errorf(moffman.Invalid, "the body is not valid JSON: it ends too early")
	}
	return moffman.Errorf(moffman.Invalid, "the body is not valid JSON: %v", err)
}

func describeType(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "bool":
		return "a boolean (true or false)"
	case "string":
		return "a string"
	}
	return "an object"
}

// reservationJSON is a reservation as the API shows it.
type reservationJSON struct {
	ID        string    `json:"id"`
	OfficeID  string    `json:"office_id"`
	Summary   string    `json:"summary"`
	Start     string    `json:"start"`
	End       string    `json:"end"`
	Status    string    `json:"status"`
	User      userJSON  `json:"user"`
	RequestDT string    `json:"request_dt,omitempty"`
	Created   time.Time `json:"created,omitzero"`
	Updated   time.Time `json:"updated,omitzero"`
}

type userJSON struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

func toJSON(r moffman.Reservation) reservationJSON {
	return reservationJSON{
		ID: r.ID, OfficeID: r.OfficeID, Summary: r.Summary, Start: r.Start, End: r.End,
		Status: string(r.State), User: userJSON{Name: r.UserName, Email: r.UserEmail},
		RequestDT: r.RequestDT, Created: r.Created, Updated: r.Updated,
	}
}

func (s *Server) postReservation(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	req, err := decodeReservation(r.Body)
	if err != nil {
		return err
	}
	res, err := s.Reservations.Reserve(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toJSON(res))
}

func (s *Server) getOffices(w http.ResponseWriter, r *http.Request) error {
	type officeJSON struct {
		OfficeID   string `json:"office_id"`
		CalendarID string `json:"calendar_id"`
		Capacity   *int   `json:"capacity,omitempty"` // left out: unlimited
	}
	q := r.URL.Query()
	limit, err := moffman.ParseLimit(q.Get("limit"))
	if err != nil {
		return err
	}
	offices, next, err := moffman.PageOffices(s.Directory.Offices(), limit, q.Get("page_token"))
	if err != nil {
		return err
	}
	out := make([]officeJSON, 0, len(offices))
	for _, o := range offices {
		out = append(out, officeJSON{OfficeID: o.Name, CalendarID: o.CalendarID, Capacity: o.Capacity})
	}
	body := map[string]any{"offices": out}
	if next != "" {
		body["next_page_token"] = next
	}
	return writeJSON(w, http.StatusOK, body)
}

// listing is a core call that pages through reservations found by a path
// value (an office, a person): Reservations.ListPage or PersonPage.
type listing func(res *moffman.Reservations, ctx context.Context, key string, q moffman.PageQuery) (moffman.ReservationPage, error)

// listReservations answers one page of what list finds for the path value
// named key, with the window, include_cancelled, limit and page_token of
// the query. The answer is {"reservations": [...]}, as before paging,
// with "next_page_token" added when more follows.
func (s *Server) listReservations(key string, list listing) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		includeCancelled, err := boolParam(q.Get("include_cancelled"), "include_cancelled")
		if err != nil {
			return err
		}
		limit, err := moffman.ParseLimit(q.Get("limit"))
		if err != nil {
			return err
		}
		page, err := list(s.Reservations, r.Context(), r.PathValue(key), moffman.PageQuery{
			From: q.Get("from"), To: q.Get("to"), IncludeCancelled: includeCancelled,
			Limit: limit, PageToken: q.Get("page_token"),
		})
		if err != nil {
			return err
		}
		out := make([]reservationJSON, 0, len(page.Reservations))
		for _, res := range page.Reservations {
			out = append(out, toJSON(res))
		}
		body := map[string]any{"reservations": out}
		if page.NextPageToken != "" {
			body["next_page_token"] = page.NextPageToken
		}
		return writeJSON(w, http.StatusOK, body)
	}
}

func boolParam(v, name string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false", "0", "no":
		return false, nil
	case "true", "1", "yes":
		return true, nil
	}
	return false, moffman.Errorf(moffman.Invalid, "%s must be true or false, got %q", name, v)
}

func (s *Server) getReservation(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Reservations.Get(r.Context(), r.PathValue("office_id"), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toJSON(res))
}

func (s *Server) deleteReservation(w http.ResponseWriter, r *http.Request) error {
	office, id := r.PathValue("office_id"), r.PathValue("id")
	if err := s.Reservations.Cancel(r.Context(), office, id); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"id": id, "office_id": office, "status": string(moffman.StateCancelled)})
}

func (s *Server) configUpdate(w http.ResponseWriter, r *http.Request) error {
	if s.Reloader != nil {
		if err := s.Reloader.Reload(r.Context()); err != nil {
			return err
		}
	}
	offices := s.Directory.Offices()
	return writeJSON(w, http.StatusOK, map[string]any{
		"status":       "ok",
		"offices":      len(offices),
		"manual_users": s.Directory.ManualUserCount(),
		"reloaded_at":  s.now().UTC().Format(time.RFC3339),
		"message":      fmt.Sprintf("configuration reloaded: %d offices, %d manual users", len(offices), s.Directory.ManualUserCount()),
	})
}
