package moffman

import (
	"crypto/rand"
	"encoding/base32"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// DateLayout is the layout of all-day dates ("YYYY-MM-DD"), as Google's
// start.date/end.date and the REST API use them.
const DateLayout = "2006-01-02"

// The range of dates accepted everywhere a date is taken. An end date is
// exclusive, so the last day an event or a window can hold is the day
// before LastDate.
const (
	FirstDate = "0001-01-01"
	LastDate  = "9999-12-31"
)

// Event statuses, as in Google Calendar.
const (
	StatusConfirmed = "confirmed"
	StatusCancelled = "cancelled"
)

// Private extended properties moffman writes on its events. PropProcessed is
// the Python service's marker and must keep its name and values; the others
// are additions that older events lack.
const (
	PropProcessed = "event_processed" // "false" pending, "true" approved, "waitlisted", absent manual
	PropUserEmail = "moffman_user_email"
	PropRequestDT = "moffman_request_dt"
)

// Event is an all-day attendance event, modelled on a Google Calendar event.
type Event struct {
	ID           string
	Summary      string
	Start        string // YYYY-MM-DD
	End          string // YYYY-MM-DD, exclusive
	ColorID      string
	Private      map[string]string
	CreatorEmail string
	Status       string // StatusConfirmed or StatusCancelled
	Created      time.Time
	Updated      time.Time
	ETag         string
}

// EventPatch changes some fields of an event; nil fields stay as they are and
// Private merges key by key, as Google's events.patch does. DropPrivate
// names private properties to remove (Google: a null value); removing one
// the event lacks is harmless.
type EventPatch struct {
	Summary     *string
	Start       *string
	End         *string
	ColorID     *string
	Private     map[string]string
	DropPrivate []string
}

// State is what an event means to moffman.
type State string

// Event states. Cancelled is derived from Status and wins over the others.
const (
	StatePending  State = "pending"
	StateApproved State = "approved"
	StateManual   State = "manual"
	// StateWaitlisted is a manual event waiting for a desk (capacity.go).
	StateWaitlisted State = "waitlisted"
	StateCancelled  State = "cancelled"
)

// State tells the event's state. An event carrying the processed property,
// whatever its value, is moffman's own and never manual.
func (e Event) State() State {
	if e.Status == StatusCancelled {
		return StateCancelled
	}
	v, ok := e.Private[PropProcessed]
	switch {
	case !ok:
		return StateManual
	case v == "true":
		return StateApproved
	case v == ProcessedWaitlisted && e.Private[PropDesk] == DeskHeld:
		return StateManual // given a desk: on its way to approval again
	case v == ProcessedWaitlisted:
		return StateWaitlisted
	default:
		return StatePending
	}
}

// IsManual reports whether the event was put into the calendar by a person
// and not yet processed by moffman.
func (e Event) IsManual() bool {
	_, ok := e.Private[PropProcessed]
	return !ok
}

// EventID returns the deterministic id of a REST reservation: the hex form of
// uuid5(NAMESPACE_DNS, name.requestDT.start.end) without dashes. It must
// match the Python service byte for byte, or its pending events could not be
// approved.
func EventID(name, requestDT, start, end string) string {
	u := uuid.NewSHA1(uuid.NameSpaceDNS, []byte(name+"."+requestDT+"."+start+"."+end))
	return strings.ReplaceAll(u.String(), "-", "")
}

// PendingSummary is the summary of a reservation waiting for approval.
func PendingSummary(name string) string { return "(" + name + ")" }

// UserName is the name shown for a person: first and last name.
func UserName(first, last string) string { return strings.TrimSpace(first + " " + last) }

// ParseDate parses an all-day date from FirstDate to LastDate; the error
// names the field. Go would parse year 0, which no store can list, and
// DateLayout's four-digit year already refuses 10000.
func ParseDate(field, s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil || t.Year() < 1 {
		return time.Time{}, Errorf(Invalid, "%s must be a real date from %s to %s as YYYY-MM-DD, got %q", field, FirstDate, LastDate, s)
	}
	return t, nil
}

// ValidateEventDates applies Google's rule for the dates of an all-day
// event, which every backend keeps: real dates, the end (exclusive) after
// the start.
func ValidateEventDates(start, end string) error {
	s, err := ParseDate("start", start)
	if err != nil {
		return err
	}
	e, err := ParseDate("end", end)
	if err != nil {
		return err
	}
	if !e.After(s) {
		return Errorf(Invalid, "end %s must be after start %s (end is exclusive)", end, start)
	}
	return nil
}

// ValidColorID applies Google's rule for event colours, which every
// backend keeps: "1" to "11", or "" for none.
func ValidColorID(id string) bool {
	if id == "" {
		return true
	}
	n, err := strconv.Atoi(id)
	return err == nil && n >= 1 && n <= 11 && strconv.Itoa(n) == id
}

// ValidateColorID is ValidColorID as an Invalid error.
func ValidateColorID(id string) error {
	if !ValidColorID(id) {
		return Errorf(Invalid, "colorId %q is invalid: use an event colour from 1 to 11", id)
	}
	return nil
}

// ValidateNewEvent checks an event to insert as every backend does: its
// id, when it has one, by ValidEventID, its dates and its colour.
func ValidateNewEvent(ev Event) error {
	if ev.ID != "" && !ValidEventID(ev.ID) {
		return Errorf(Invalid, "event id %q is invalid: use 5 to 1024 characters of lowercase a-v and 0-9", ev.ID)
	}
	if err := ValidateEventDates(ev.Start, ev.End); err != nil {
		return err
	}
	return ValidateColorID(ev.ColorID)
}

// ValidatePatch checks the fields a patch sets as every backend does: real
// dates and a colour. Whether the end stays after the start is for the
// backend to check against the stored event.
func ValidatePatch(p EventPatch) error {
	if p.Start != nil {
		if _, err := ParseDate("start", *p.Start); err != nil {
			return err
		}
	}
	if p.End != nil {
		if _, err := ParseDate("end", *p.End); err != nil {
			return err
		}
	}
	for _, k := range p.DropPrivate {
		if _, ok := p.Private[k]; ok {
			return Errorf(Invalid, "private property %q is both set and removed by one patch", k)
		}
	}
	if p.ColorID != nil {
		return ValidateColorID(*p.ColorID)
	}
	return nil
}

// EventNotFound is the error for an event id a calendar does not hold.
func EventNotFound(calendarID, eventID string) error {
	return Errorf(NotFound, "event %q not found in calendar %q", eventID, calendarID)
}

// ValidEventID applies Google's rule for event ids, which every backend
// keeps: 5 to 1024 characters of base32hex (lowercase a-v and 0-9).
func ValidEventID(id string) bool {
	if len(id) < 5 || len(id) > 1024 {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'v') {
			return false
		}
	}
	return true
}

// ValidateEventID is ValidEventID as an Invalid error for API callers.
func ValidateEventID(id string) error {
	if !ValidEventID(id) {
		return Errorf(Invalid, "reservation id %q must be 5 to 1024 characters of a-v and 0-9", id)
	}
	return nil
}

var eventIDEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// NewEventID returns a random event id: 128 bits in base32hex, 26
// characters. Backends give it to events inserted without an id, so that
// a retried insert cannot make a second event.
func NewEventID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails
	return eventIDEncoding.EncodeToString(b[:])
}
