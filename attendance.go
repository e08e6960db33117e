package moffman

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// MaxWindowDays bounds the date window of the "who's in" views: each day
// is a row to build, and a person's reservations are looked up in every
// office, so an unbounded window would be an unbounded amount of work.
const MaxWindowDays = 366

// MaxVisits bounds the reservations those views (attendance, the feed,
// the page) hold in memory at once; a window that holds more is refused.
const MaxVisits = 20_000

// Visit is a reservation as "who's in" shows it: a person expected in an
// office for [Start, End). Manual events not yet processed count as
// pending: they are waiting for approval.
type Visit struct {
	Reservation
	Name   string // the person's name as shown
	Status State  // StateApproved, StatePending or StateWaitlisted
}

// Attendee is one person in an office on one day.
type Attendee struct {
	Name   string
	Email  string // "" when unknown (events written by the Python service)
	Status State  // StateApproved, StatePending or StateWaitlisted
}

// AttendanceDay is who is in on one day, sorted by name.
type AttendanceDay struct {
	Date              string // YYYY-MM-DD
	People            []Attendee
	Approved, Pending int
	Waitlisted        int // waiting for a desk; counted in neither of the others
}

// Attendance is who is in an office on each day of [From, To).
type Attendance struct {
	OfficeID string
	From, To string
	Days     []AttendanceDay
}

// viewWindow is the rule of the "who's in" views' windows.
var viewWindow = WindowRule{MaxDays: MaxWindowDays}

// Visits returns the reservations of an office overlapping [from, to),
// cancelled ones left out: at most MaxVisits, else Invalid.
func (s *Reservations) Visits(ctx context.Context, officeID, from, to string) ([]Visit, error) {
	if _, _, err := ParseWindow(from, to, viewWindow); err != nil {
		return nil, err
	}
	out := []Visit{}
	q := PageQuery{From: from, To: to, Limit: MaxPageLimit}
	for {
		page, err := s.ListPage(ctx, officeID, q)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Reservations {
			if r.State != StateCancelled {
				out = append(out, s.visit(r))
			}
		}
		if limit := cmp.Or(s.visitLimit, MaxVisits); len(out) > limit {
			return nil, Errorf(Invalid, "the window from %s to %s holds more than %d reservations; ask for a shorter one", from, to, limit)
		}
		if q.PageToken = page.NextPageToken; q.PageToken == "" {
			return out, nil
		}
	}
}

// visit names the person and folds the states into approved and pending.
// A manual event's summary is whatever its creator typed, so a known
// manual user is shown by the name the directory has for them, while the
// event waits for approval or for a desk.
func (s *Reservations) visit(r Reservation) Visit {
	v := Visit{Reservation: r, Name: strings.TrimSpace(r.UserName), Status: StatePending}
	if r.State == StateApproved || r.State == StateWaitlisted {
		v.Status = r.State
	}
	if (r.State == StateManual || r.State == StateWaitlisted) && r.UserEmail != "" {
		if p, ok := s.Directory.ManualUser(r.UserEmail); ok && p.UserName() != "" {
			v.Name = p.UserName()
		}
	}
	if v.Name == "" {
		v.Name = cmp.Or(r.UserEmail, "(no name)")
	}
	return v
}

// Attendance returns who is in an office on each day of [from, to), days
// with nobody included. A person with several reservations on one day is
// listed once, approved if any of them is.
func (s *Reservations) Attendance(ctx context.Context, officeID, from, to string) (Attendance, error) {
	first, last, err := ParseWindow(from, to, viewWindow)
	if err != nil {
		return Attendance{}, err
	}
	visits, err := s.Visits(ctx, officeID, from, to)
	if err != nil {
		return Attendance{}, err
	}
	n := daysBetween(first, last)
	byDay := make([]map[string]Attendee, n)
	for _, v := range visits {
		start, err1 := time.Parse(DateLayout, v.Start)
		end, err2 := time.Parse(DateLayout, v.End)
		if err1 != nil || err2 != nil {
			continue // not an all-day event; the calendar holds only those
		}
		key := strings.ToLower(v.UserEmail)
		if key == "" {
			key = "name:" + v.Name
		}
		for d := later(start, first); d.Before(end) && d.Before(last); d = d.AddDate(0, 0, 1) {
			i := daysBetween(first, d)
			if byDay[i] == nil {
				byDay[i] = make(map[string]Attendee)
			}
			if prev, ok := byDay[i][key]; ok && rank(prev.Status) > rank(v.Status) {
				continue
			}
			byDay[i][key] = Attendee{Name: v.Name, Email: v.UserEmail, Status: v.Status}
		}
	}
	out := Attendance{OfficeID: officeID, From: from, To: to, Days: make([]AttendanceDay, n)}
	for i := range n {
		day := AttendanceDay{Date: first.AddDate(0, 0, i).Format(DateLayout), People: []Attendee{}}
		for _, a := range byDay[i] {
			day.People = append(day.People, a)
			switch a.Status {
			case StateApproved:
				day.Approved++
			case StateWaitlisted:
				day.Waitlisted++
			default:
				day.Pending++
			}
		}
		slices.SortFunc(day.People, func(a, b Attendee) int {
			return cmp.Or(
				cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)),
				cmp.Compare(a.Name, b.Name),
				cmp.Compare(a.Email, b.Email),
			)
		})
		out.Days[i] = day
	}
	return out, nil
}

// daysBetween counts whole days from a to b, both midnight UTC. It counts
// in seconds, not time.Duration, which overflows past 292 years.
func daysBetween(a, b time.Time) int { return int((b.Unix() - a.Unix()) / (24 * 60 * 60)) }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
