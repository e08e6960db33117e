package moffman

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// ReservationRequest is a reservation as the office-automation workflow
// sends it. Strings are kept exactly as sent: the event id is derived from
// them.
type ReservationRequest struct {
	OfficeID  string
	UserName  string
	UserEmail string
	Approved  bool
	Start     string // YYYY-MM-DD
	End       string // YYYY-MM-DD, exclusive
	RequestDT string // opaque; only the id uses it
}

// Reservation is an attendance event as the API shows it.
type Reservation struct {
	ID        string
	OfficeID  string
	Summary   string
	Start     string
	End       string
	State     State
	UserName  string
	UserEmail string
	RequestDT string
	Created   time.Time
	Updated   time.Time
}

// Limits on request fields.
const (
	MaxNameLength  = 200
	MaxEmailLength = 254
)

// Colors are the Google calendar colour ids of the REST states and of
// waitlisted manual events.
type Colors struct {
	Unapproved string
	Approved   string
	Waitlisted string // manual events waiting for a desk; "": "8"
}

// Reservations registers, approves, lists and cancels attendance through a
// Calendar. It is safe for concurrent use.
type Reservations struct {
	Calendar  Calendar
	Directory *Directory
	Colors    Colors
	// MaxDays bounds the length of one reservation; 0 means no limit.
	MaxDays int
	// Account is the e-mail the calendars must be shared with, named in
	// the errors of an office whose calendar is not accessible.
	Account string
	Health  *Health // nil: store failures are not reported for readiness
	Logger  *slog.Logger
	// Notifier records reservation.* notifications; nil: none (notify.go).
	Notifier Notifier
	// Lock serialises approvals per office against its capacity
	// (capacity.go); nil: a LocalCapacityLock, right for one process.
	Lock CapacityLock
	// RoomFreed is told the office after a cancellation, which may give a
	// waitlisted event its desk; nil: nobody is told.
	RoomFreed func(officeID string)

	lockInit sync.Once

	visitLimit int // 0: MaxVisits; tests set less (export_test.go)
}

// Validate checks a request's fields; the error names the first bad field.
func (r ReservationRequest) Validate(maxDays int) error {
	name := strings.TrimSpace(r.UserName)
	switch {
	case name == "":
		return Errorf(Invalid, "user.name is required")
	case utf8.RuneCountInString(r.UserName) > MaxNameLength:
		return Errorf(Invalid, "user.name is longer than %d characters", MaxNameLength)
	case strings.ContainsAny(r.UserName, "\r\n\t\x00"):
		return Errorf(Invalid, "user.name must be one line of text")
	}
	if r.UserEmail != "" {
		if err := CheckEmail("user.email", r.UserEmail); err != nil {
			return err
		}
	}
	if r.OfficeID == "" {
		return Errorf(Invalid, "office_id is required")
	}
	start, err := ParseDate("start", r.Start)
	if err != nil {
		return err
	}
	end, err := ParseDate("end", r.End)
	if err != nil {
		return err
	}
	if !end.After(start) {
		return Errorf(Invalid, "end (%s) must be after start (%s): end is exclusive, so a one-day visit on %s ends %s",
			r.End, r.Start, r.Start, start.AddDate(0, 0, 1).Format(DateLayout))
	}
	if days := daysBetween(start, end); maxDays > 0 && days > maxDays {
		return Errorf(Invalid, "the reservation spans %d days; at most %d are allowed (calendar.max_reservation_days)", days, maxDays)
	}
	if utf8.RuneCountInString(r.RequestDT) > MaxNameLength {
		return Errorf(Invalid, "request_dt is longer than %d characters", MaxNameLength)
	}
	return nil
}

// office resolves an office id.
func (s *Reservations) office(officeID string) (Office, error) {
	if utf8.RuneCountInString(officeID) > MaxNameLength || !utf8.ValidString(officeID) ||
		strings.IndexFunc(officeID, unicode.IsControl) >= 0 {
		return Office{}, Errorf(Invalid, "office_id must be at most %d printable characters", MaxNameLength)
	}
	o, ok := s.Directory.Office(officeID)
	if !ok {
		return Office{}, Errorf(NotFound, "unknown office %q; GET /api/v1/offices lists the known ones", officeID)
	}
	if err := s.Directory.CalendarError(o.CalendarID); err != nil {
		return Office{}, s.inaccessible(o, err)
	}
	return o, nil
}

// inaccessible is the error of an office whose calendar the account cannot
// use: Unavailable, as it heals when the calendar is shared again.
func (s *Reservations) inaccessible(o Office, err error) error {
	account := s.Account
	if account == "" {
		account = "the service account"
	}
	return WrapError(Unavailable, err, "the calendar %s of office %q is not accessible to %s; share it with that account (make changes to events), then try again", o.CalendarID, o.Name, account)
}

// calendarFailure tells a missing event from a calendar the account cannot
// reach, which the backends both answer with NotFound (Forbidden when the
// account may read but not write). It returns nil when err is about the
// event itself, the error to answer otherwise.
func (s *Reservations) calendarFailure(ctx context.Context, o Office, err error) error {
	if IsCode(err, Forbidden) {
		return s.inaccessible(o, err)
	}
	if !IsCode(err, NotFound) {
		return err
	}
	day := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	_, probe := s.Calendar.List(ctx, o.CalendarID, ListQuery{TimeMin: day, TimeMax: day.Add(time.Hour), MaxResults: 1})
	if IsCode(probe, NotFound) || IsCode(probe, Forbidden) {
		return s.inaccessible(o, err)
	}
	return nil
}

// Reserve registers a pending reservation or approves one, as the Python
// service did: pending inserts the event under its deterministic id;
// approval patches that event, or inserts it approved when it is missing.
// Repeating a request is harmless, and a repeated pending request never
// turns an approved event back into a pending one.
func (s *Reservations) Reserve(ctx context.Context, req ReservationRequest) (Reservation, error) {
	if err := req.Validate(s.MaxDays); err != nil {
		return Reservation{}, err
	}
	office, err := s.office(req.OfficeID)
	if err != nil {
		return Reservation{}, err
	}
	id := EventID(req.UserName, req.RequestDT, req.Start, req.End)
	var ev Event
	if req.Approved {
		ev, err = s.approveWithin(ctx, office, id, req)
	} else {
		ev, err = s.insertPending(ctx, office.CalendarID, id, req)
	}
	var full *CapacityError
	if errors.As(err, &full) {
		return Reservation{}, err
	}
	s.Health.storeWrite(err)
	if err == nil {
		err = s.notifyReservation(ctx, office, ev)
	}
	if err != nil {
		if failure := s.calendarFailure(ctx, office, err); failure != nil {
			return Reservation{}, failure
		}
		return Reservation{}, err
	}
	return toReservation(office.Name, ev), nil
}

func (s *Reservations) insertPending(ctx context.Context, calendarID, id string, req ReservationRequest) (Event, error) {
	ev, err := s.Calendar.Insert(ctx, calendarID, Event{
		ID:      id,
		Summary: PendingSummary(req.UserName),
		Start:   req.Start,
		End:     req.End,
		ColorID: s.Colors.Unapproved,
		Private: requestProps(req, "false"),
	})
	if IsCode(err, Conflict) {
		// A repeat: whatever state the event reached stays.
		return s.Calendar.Get(ctx, calendarID, id)
	}
	return ev, err
}

// approveWithin approves a reservation if every one of its days has room
// (capacity.go), under the office's capacity lock so that two approvals
// never take one last desk. Offices without a capacity or closures are
// not checked.
func (s *Reservations) approveWithin(ctx context.Context, office Office, id string, req ReservationRequest) (Event, error) {
	if !s.Directory.Limited(office) {
		return s.approve(ctx, office.CalendarID, id, req)
	}
	unlock, err := s.lockOffice(ctx, office.Name)
	if err != nil {
		return Event{}, err
	}
	defer unlock()
	ev := Event{ID: id, Summary: req.UserName, Start: req.Start, End: req.End, Private: requestProps(req, "true")}
	full, err := s.fullDays(ctx, office, ev, time.Time{}, false)
	if err != nil {
		return Event{}, err
	}
	if len(full) > 0 {
		// A repeat of an approval made before the capacity was lowered
		// takes no new desk: it stays approved.
		prev, err := s.Calendar.Get(ctx, office.CalendarID, id)
		if err != nil || prev.State() != StateApproved || prev.Start != req.Start || prev.End != req.End {
			return Event{}, &CapacityError{Office: office.Name, Days: full}
		}
	}
	return s.approve(ctx, office.CalendarID, id, req)
}

func (s *Reservations) approve(ctx context.Context, calendarID, id string, req ReservationRequest) (Event, error) {
	patch := EventPatch{
		Summary: &req.UserName,
		ColorID: &s.Colors.Approved,
		Private: requestProps(req, "true"),
	}
	ev, err := s.Calendar.Patch(ctx, calendarID, id, patch)
	if !IsCode(err, NotFound) {
		return ev, err
	}
	ev, err = s.Calendar.Insert(ctx, calendarID, Event{
		ID:      id,
		Summary: req.UserName,
		Start:   req.Start,
		End:     req.End,
		ColorID: s.Colors.Approved,
		Private: requestProps(req, "true"),
	})
	if IsCode(err, Conflict) {
		// A pending insert raced in between: approve it.
		return s.Calendar.Patch(ctx, calendarID, id, patch)
	}
	return ev, err
}

// requestProps are the private properties of an event written for req.
func requestProps(req ReservationRequest, processed string) map[string]string {
	p := map[string]string{PropProcessed: processed, PropRequestDT: req.RequestDT}
	if req.UserEmail != "" {
		p[PropUserEmail] = req.UserEmail
	}
	return p
}

// Get returns one reservation, cancelled ones included.
func (s *Reservations) Get(ctx context.Context, officeID, id string) (Reservation, error) {
	office, err := s.office(officeID)
	if err != nil {
		return Reservation{}, err
	}
	if err := ValidateEventID(id); err != nil {
		return Reservation{}, err
	}
	ev, err := s.Calendar.Get(ctx, office.CalendarID, id)
	if err != nil {
		if failure := s.calendarFailure(ctx, office, err); failure != nil {
			return Reservation{}, failure
		}
		return Reservation{}, Errorf(NotFound, "no reservation %q in office %q", id, officeID)
	}
	return toReservation(office.Name, ev), nil
}

// List returns the reservations of an office overlapping [from, to).
func (s *Reservations) List(ctx context.Context, officeID, from, to string, includeCancelled bool) ([]Reservation, error) {
	office, err := s.office(officeID)
	if err != nil {
		return nil, err
	}
	min, max, err := ParseWindow(from, to, WindowRule{})
	if err != nil {
		return nil, err
	}
	events, _, err := ListAll(ctx, s.Calendar, office.CalendarID, ListQuery{
		TimeMin: min, TimeMax: max, ShowDeleted: includeCancelled, MaxResults: 2500,
	})
	if IsCode(err, NotFound) || IsCode(err, Forbidden) {
		return nil, s.inaccessible(office, err)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Reservation, 0, len(events))
	for _, ev := range events {
		out = append(out, toReservation(office.Name, ev))
	}
	return out, nil
}

// Cancel cancels a reservation. Cancelling twice is harmless.
func (s *Reservations) Cancel(ctx context.Context, officeID, id string) error {
	office, err := s.office(officeID)
	if err != nil {
		return err
	}
	if err := ValidateEventID(id); err != nil {
		return err
	}
	err = s.Calendar.Delete(ctx, office.CalendarID, id)
	s.Health.storeWrite(err)
	if err != nil {
		if failure := s.calendarFailure(ctx, office, err); failure != nil {
			return failure
		}
		return Errorf(NotFound, "no reservation %q in office %q", id, officeID)
	}
	if err == nil {
		s.logger().InfoContext(ctx, "reservation cancelled", "office", officeID, "id", id)
		if s.RoomFreed != nil && s.Directory.Limited(office) {
			s.RoomFreed(office.Name)
		}
		err = s.notifyCancelled(ctx, office, id)
	}
	return err
}

func (s *Reservations) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// toReservation turns an event into the API's view of it. Events written
// by the Python service lack the requester properties; manual events name
// their creator.
func toReservation(officeID string, ev Event) Reservation {
	r := Reservation{
		ID: ev.ID, OfficeID: officeID, Summary: ev.Summary, Start: ev.Start, End: ev.End,
		State: ev.State(), Created: ev.Created, Updated: ev.Updated,
		UserEmail: ev.Private[PropUserEmail], RequestDT: ev.Private[PropRequestDT],
	}
	r.UserName = ev.Summary
	if r.State == StatePending || (r.State == StateCancelled && ev.Private[PropProcessed] == "false") {
		r.UserName = strings.TrimSuffix(strings.TrimPrefix(ev.Summary, "("), ")")
	}
	if r.UserEmail == "" && (ev.IsManual() || r.State == StateWaitlisted) {
		r.UserEmail = ev.CreatorEmail
	}
	return r
}
