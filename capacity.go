package moffman

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Office capacity: an office with a capacity takes at most that many
// people on a day, and nobody on a day of one of its closures. A day's load
// is the approved attendance, plus the manual events holding a desk while
// their form is on its way (PropDesk). Offices without a capacity and
// without closures are never checked: moffman then behaves as before.

// ProcessedWaitlisted is the PropProcessed value of a manual event waiting
// for a desk: it has no form yet and is approved when room appears.
const ProcessedWaitlisted = "waitlisted"

// PropDesk marks a manual event that was given a desk (DeskHeld) before its
// form is sent: the desk counts as taken from then on, so the form is only
// sent for a desk the event will get.
const (
	PropDesk = "moffman_desk"
	DeskHeld = "held"
)

// Closure is a span of days an office takes nobody, such as a public
// holiday: [From, To), To exclusive.
type Closure struct {
	Office string `json:"office"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// covers reports whether the closure holds the day (YYYY-MM-DD).
func (c Closure) covers(day string) bool { return c.From <= day && day < c.To }

// DayAvailability is one day of an office's capacity and load.
type DayAvailability struct {
	Date       string // YYYY-MM-DD
	Capacity   *int   // nil: unlimited
	Closed     bool
	Reason     string // the closure's reason, when Closed
	Approved   int
	Pending    int
	Waitlisted int
	Free       *int // nil: unlimited; never negative; 0 when closed
}

// FullDay is a day a reservation cannot have: the office is closed, or
// every desk is taken.
type FullDay struct {
	Date     string `json:"date"`
	Closed   bool   `json:"closed"`
	Reason   string `json:"reason,omitempty"`
	Capacity *int   `json:"capacity"`
	Approved int    `json:"approved"`
}

// CapacityError is the Conflict of an approval that does not fit: it names
// every full day.
type CapacityError struct {
	Office string
	Days   []FullDay
}

func (e *CapacityError) Error() string { return e.err().Error() }

// Unwrap gives the core error, so the error's code is Conflict.
func (e *CapacityError) Unwrap() error { return e.err() }

func (e *CapacityError) err() *Error {
	parts := make([]string, len(e.Days))
	for i, d := range e.Days {
		switch {
		case d.Closed && d.Reason != "":
			parts[i] = fmt.Sprintf("%s (closed: %s)", d.Date, d.Reason)
		case d.Closed:
			parts[i] = d.Date + " (closed)"
		default:
			parts[i] = fmt.Sprintf("%s (%d of %d desks taken)", d.Date, d.Approved, *d.Capacity)
		}
	}
	return Errorf(Conflict, "office %q has no room on %s; nothing was changed", e.Office, strings.Join(parts, ", "))
}

// CapacityLock serialises the count-then-approve of one office, so two
// approvals racing for the last desk never both succeed. Lock returns the
// function that releases the lock.
type CapacityLock interface {
	Lock(ctx context.Context, officeID string) (unlock func(), err error)
}

// LocalCapacityLock is a CapacityLock for one process: a mutex per office.
// Several replicas need a lock they share (postgres.CapacityLock).
type LocalCapacityLock struct {
	mu    sync.Mutex
	locks map[string]chan struct{}
}

// Lock waits for the office's lock, or for ctx.
func (l *LocalCapacityLock) Lock(ctx context.Context, officeID string) (func(), error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = make(map[string]chan struct{})
	}
	ch, ok := l.locks[officeID]
	if !ok {
		ch = make(chan struct{}, 1)
		l.locks[officeID] = ch
	}
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, WrapError(Unavailable, ctx.Err(), "waiting for the capacity of office %q timed out", officeID)
	}
}

// Limited reports whether an office has a capacity or a closure: only then
// are its approvals checked.
func (d *Directory) Limited(o Office) bool {
	return o.Capacity != nil || len(d.Closures(o.Name)) > 0
}

// Closures returns the closures of an office.
func (d *Directory) Closures(office string) []Closure {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.closures[office]
}

// closure returns the closure of the office holding the day, if any.
func (d *Directory) closure(office, day string) (Closure, bool) {
	for _, c := range d.Closures(office) {
		if c.covers(day) {
			return c, true
		}
	}
	return Closure{}, false
}

// dayCounts is the load of one day: each person once, by their best state.
type dayCounts map[string]State // by attendeeKey

func (c dayCounts) count(st State) int {
	n := 0
	for _, s := range c {
		if s == st {
			n++
		}
	}
	return n
}

// rank orders the states a person can have on a day: a desk beats a
// pending request, which beats a waitlisted one.
func rank(st State) int {
	switch st {
	case StateApproved:
		return 3
	case StateWaitlisted:
		return 1
	default:
		return 2
	}
}

// holdsDesk reports whether an event takes a desk: approved, or a manual
// event given a desk for its form.
func holdsDesk(ev Event) bool {
	if ev.Status == StatusCancelled {
		return false
	}
	return ev.State() == StateApproved || ev.Private[PropDesk] == DeskHeld
}

// loadState is an event's state as the load counts it.
func loadState(ev Event) State {
	if holdsDesk(ev) {
		return StateApproved
	}
	if ev.State() == StateWaitlisted {
		return StateWaitlisted
	}
	return StatePending
}

// officeEvents lists the live events of an office overlapping [first, end).
func (s *Reservations) officeEvents(ctx context.Context, office Office, first, end time.Time) ([]Event, error) {
	events, _, err := ListAll(ctx, s.Calendar, office.CalendarID, ListQuery{TimeMin: first, TimeMax: end, MaxResults: 2500})
	if IsCode(err, NotFound) || IsCode(err, Forbidden) {
		return nil, s.inaccessible(office, err)
	}
	return events, err
}

// attendeeKey identifies a person across their events: the e-mail, or
// the name when there is none.
func attendeeKey(v Visit) string {
	if v.UserEmail != "" {
		return strings.ToLower(v.UserEmail)
	}
	return "name:" + v.Name
}

// loads counts each day of [first, end) from the events, leaving out the
// event skip.
func (s *Reservations) loads(office Office, events []Event, first, end time.Time, skip string) []dayCounts {
	n := daysBetween(first, end)
	out := make([]dayCounts, n)
	for i := range out {
		out[i] = dayCounts{}
	}
	for _, ev := range events {
		if ev.ID == skip || ev.Status == StatusCancelled {
			continue
		}
		key := attendeeKey(s.visit(toReservation(office.Name, ev)))
		st := loadState(ev)
		eachDay(ev.Start, ev.End, first, end, func(i int) {
			if prev, ok := out[i][key]; !ok || rank(st) > rank(prev) {
				out[i][key] = st
			}
		})
	}
	return out
}

// eachDay calls f with the index (from first) of every day of [start, end)
// inside [first, last).
func eachDay(start, end string, first, last time.Time, f func(i int)) {
	s, err1 := time.Parse(DateLayout, start)
	e, err2 := time.Parse(DateLayout, end)
	if err1 != nil || err2 != nil {
		return // not an all-day event; the calendar holds only those
	}
	for d := later(s, first); d.Before(e) && d.Before(last); d = d.AddDate(0, 0, 1) {
		f(daysBetween(first, d))
	}
}

// Availability returns each day of [from, to) for an office (window rules
// like Attendance).
func (s *Reservations) Availability(ctx context.Context, officeID, from, to string) ([]DayAvailability, error) {
	first, end, err := ParseWindow(from, to, viewWindow)
	if err != nil {
		return nil, err
	}
	office, err := s.office(officeID)
	if err != nil {
		return nil, err
	}
	events, err := s.officeEvents(ctx, office, first, end)
	if err != nil {
		return nil, err
	}
	loads := s.loads(office, events, first, end, "")
	out := make([]DayAvailability, len(loads))
	for i, l := range loads {
		day := DayAvailability{
			Date:     first.AddDate(0, 0, i).Format(DateLayout),
			Capacity: office.Capacity,
			Approved: l.count(StateApproved), Pending: l.count(StatePending), Waitlisted: l.count(StateWaitlisted),
		}
		if c, ok := s.Directory.closure(office.Name, day.Date); ok {
			day.Closed, day.Reason = true, c.Reason
			day.Free = new(int)
		} else if office.Capacity != nil {
			free := max(*office.Capacity-day.Approved, 0)
			day.Free = &free
		}
		out[i] = day
	}
	return out, nil
}

// fullDays returns the days of ev from the day from on that have no desk
// for it. Its own person's desk on a day counts as room; with ahead set, a
// waitlisted event created before ev takes its place first.
func (s *Reservations) fullDays(ctx context.Context, office Office, ev Event, from time.Time, ahead bool) ([]FullDay, error) {
	first, err1 := time.Parse(DateLayout, ev.Start)
	end, err2 := time.Parse(DateLayout, ev.End)
	if err1 != nil || err2 != nil {
		return nil, Errorf(Invalid, "event %q has no all-day dates", ev.ID)
	}
	first = later(first, from)
	if !end.After(first) {
		return nil, nil
	}
	events, err := s.officeEvents(ctx, office, first, end)
	if err != nil {
		return nil, err
	}
	loads := s.loads(office, events, first, end, ev.ID)
	var queued []map[string]bool // per day: people waitlisted before ev
	if ahead {
		queued = make([]map[string]bool, len(loads))
		for _, o := range events {
			if o.ID == ev.ID || loadState(o) != StateWaitlisted || !createdBefore(o, ev) {
				continue
			}
			if _, ok := s.Directory.ManualUser(o.CreatorEmail); !ok {
				continue // its job was dropped: it waits for nothing and holds no place
			}
			key := attendeeKey(s.visit(toReservation(office.Name, o)))
			eachDay(o.Start, o.End, first, end, func(i int) {
				if loads[i][key] == StateWaitlisted {
					if queued[i] == nil {
						queued[i] = map[string]bool{}
					}
					queued[i][key] = true
				}
			})
		}
	}
	me := attendeeKey(s.visit(toReservation(office.Name, ev)))
	var full []FullDay
	for i, l := range loads {
		day := first.AddDate(0, 0, i).Format(DateLayout)
		if c, ok := s.Directory.closure(office.Name, day); ok {
			full = append(full, FullDay{Date: day, Closed: true, Reason: c.Reason, Capacity: office.Capacity, Approved: l.count(StateApproved)})
			continue
		}
		if office.Capacity == nil || l[me] == StateApproved {
			continue
		}
		taken := l.count(StateApproved)
		if queued != nil {
			taken += len(queued[i])
		}
		if taken+1 > *office.Capacity {
			full = append(full, FullDay{Date: day, Capacity: office.Capacity, Approved: l.count(StateApproved)})
		}
	}
	return full, nil
}

// lockOffice takes the office's capacity lock.
func (s *Reservations) lockOffice(ctx context.Context, officeID string) (func(), error) {
	s.lockInit.Do(func() {
		if s.Lock == nil {
			s.Lock = &LocalCapacityLock{}
		}
	})
	return s.Lock.Lock(ctx, officeID)
}

// createdBefore orders the waitlist: by creation time, then id, so that
// two events created in the same millisecond still queue one way only.
func createdBefore(a, b Event) bool {
	return a.Created.Before(b.Created) || a.Created.Equal(b.Created) && a.ID < b.ID
}
