package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/googlefake"
)

// The soak's office with a capacity. Beside the load, two things happen
// there, with the load's faults, the SIGKILL and Byroapi's outage:
//
//   - races: in rounds spread over the run, more people than there are
//     desks register for one day and approve at once; the winners get 200,
//     the others 409 naming the day. One winner then cancels and the refused
//     approve once more: exactly one of them gets the freed desk.
//   - a waitlist: on days filled by REST approvals at the start, manual
//     events arrive and are waitlisted without a form; cancellations during
//     the run (before and after the SIGKILL) free desks, which the oldest
//     waitlisted events take, each with one form. One event per day is
//     left without a desk and must never get a form.
//
// The ledger (CapacityLedger) reads the calendar at the end.

const (
	capDesks      = 3 // the office's capacity
	racePeople    = 8 // people racing for one day's desks
	waitDays      = 2 // days with a waitlist
	waitPerDay    = 4 // manual events waitlisted on each of them
	waitCancelled = 3 // REST reservations cancelled on each of them, one at a time
)

// capOffice is the soak's office with a capacity.
func capOffice() office {
	n := capDesks
	return office{Name: "capacity", ID: "capacity@group.calendar.google.com", Capacity: &n}
}

// capUsers are the manual users of the waitlist, apart from the soak's
// other manual users so that their forms tell which event they are for.
func capUsers() []manualUser {
	out := make([]manualUser, waitDays*waitPerDay)
	for i := range out {
		out[i] = manualUser{ID: fmt.Sprintf("capmanual%02d@bench.example", i), FirstName: "Waiting",
			LastName: fmt.Sprintf("User%02d", i), EmployeeNumber: fmt.Sprint(20000 + i)}
	}
	return out
}

// approvalRecord is the final answer to one approval of a race.
type approvalRecord struct {
	ID       string // the event id
	Status   int    // 200 or 409; anything else: no final answer in time
	FullDays []moffman.FullDay
}

// raceRound is one day's race.
type raceRound struct {
	Day       string
	People    int
	First     []approvalRecord // everybody at once
	Cancelled string           // a winner's event, cancelled after the race
	Again     []approvalRecord // the refused, at once, after the cancellation
}

// waitDay is one day of the waitlist.
type waitDay struct {
	Day       string
	Filled    int            // REST approvals that took the desks at the start
	Cancelled int            // of them, cancelled during the run
	Manual    []manualRecord // in the order added (their creation order)
}

// capRun is the capacity part of one soak. Only its goroutine writes it
// until the soak reads it at the end (waitlistedNow is safe at any time).
type capRun struct {
	office office
	users  []manualUser
	fake   *googlefake.Server
	client *http.Client
	base   string
	n      int // reservations made, for unique request_dt

	mu     sync.Mutex
	rounds []raceRound
	days   []waitDay
	atKill int // manual events waitlisted when moffman was killed
	errs   []string
}

// capMoments are the fractions of the load's duration at which the
// waitlist's cancellations may happen; the SIGKILL lands between the first
// and the second.
var capCancelAt = [waitCancelled]int{20, 50, 70}

// run plays the races and the waitlist until both are done.
func (c *capRun) run(ctx context.Context, start time.Time, dur time.Duration) {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var wg sync.WaitGroup
	wg.Go(func() { c.races(ctx, start, dur, today) })
	wg.Go(func() { c.waitlist(ctx, start, dur, today) })
	wg.Wait()
}

func (c *capRun) fail(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

// races runs one round at every tenth of the run (a round starts when the
// one before has ended), on days apart from the waitlist's.
func (c *capRun) races(ctx context.Context, start time.Time, dur time.Duration, today time.Time) {
	for i := range 9 {
		if !sleepUntil(ctx, start.Add(dur*time.Duration(10+10*i)/100)) {
			return
		}
		day := today.AddDate(0, 0, 20+i).Format(moffman.DateLayout)
		round := c.race(ctx, day)
		c.mu.Lock()
		c.rounds = append(c.rounds, round)
		c.mu.Unlock()
	}
}

// race registers racePeople reservations for day, approves them all at
// once, cancels one winner and approves the refused again at once.
func (c *capRun) race(ctx context.Context, day string) raceRound {
	round := raceRound{Day: day, People: racePeople}
	res := make([]reservation, racePeople)
	for i := range res {
		res[i] = c.reservation(fmt.Sprintf("Racer %s %d", day, i), day)
		if st, _ := c.post(ctx, res[i], false); st != http.StatusOK {
			c.fail("registering %s on %s: no 200", res[i].Name, day)
		}
	}
	round.First = c.approveAll(ctx, res)
	var refused []reservation
	for i, a := range round.First {
		switch {
		case a.Status == http.StatusOK && round.Cancelled == "":
			if c.cancel(ctx, res[i].ID) {
				round.Cancelled = res[i].ID
			}
		case a.Status == http.StatusConflict:
			refused = append(refused, res[i])
		}
	}
	if round.Cancelled != "" {
		round.Again = c.approveAll(ctx, refused)
	}
	return round
}

// approveAll sends the approvals of res at once, each repeated until it is
// answered 200 or 409.
func (c *capRun) approveAll(ctx context.Context, res []reservation) []approvalRecord {
	out := make([]approvalRecord, len(res))
	var wg sync.WaitGroup
	for i, r := range res {
		wg.Go(func() {
			st, body := c.post(ctx, r, true)
			out[i] = approvalRecord{ID: r.ID, Status: st}
			if st == http.StatusConflict {
				var p struct {
					FullDays []moffman.FullDay `json:"full_days"`
				}
				_ = json.Unmarshal(body, &p)
				out[i].FullDays = p.FullDays
			}
		})
	}
	wg.Wait()
	return out
}

// waitlist fills its days, adds the manual events, waits until they are
// all waitlisted and cancels one filled desk per day at each moment of
// capCancelAt.
func (c *capRun) waitlist(ctx context.Context, start time.Time, dur time.Duration, today time.Time) {
	days := make([]waitDay, waitDays)
	fills := make([][]reservation, waitDays)
	for d := range days {
		days[d].Day = today.AddDate(0, 0, 1+d).Format(moffman.DateLayout)
		for i := range capDesks {
			r := c.reservation(fmt.Sprintf("Desk %s %d", days[d].Day, i), days[d].Day)
			c.post(ctx, r, false)
			if st, _ := c.post(ctx, r, true); st != http.StatusOK {
				c.fail("filling %s: approval answered %d", days[d].Day, st)
				continue
			}
			fills[d] = append(fills[d], r)
			days[d].Filled++
		}
	}
	c.setDays(days)
	// The manual events, in turn over the days, spread over 5–15 % of the
	// run: all of them find their day full.
	for k := range waitDays * waitPerDay {
		if !sleepUntil(ctx, start.Add(dur*5/100+time.Duration(k)*dur/10/(waitDays*waitPerDay))) {
			return
		}
		d := k % waitDays
		day, _ := time.Parse(moffman.DateLayout, days[d].Day)
		m, err := addManual(c.fake, c.office.ID, c.users[k:k+1], 0, day)
		if err != nil {
			c.fail("adding a manual event: %v", err)
			return
		}
		days[d].Manual = append(days[d].Manual, m)
		c.setDays(days)
	}
	// The first desk is freed only once every event waits: the waitlist
	// is ordered among waitlisted events, so only then is the oldest-first
	// order the one the ledger checks.
	for deadline := time.Now().Add(30 * time.Second); c.waitlistedNow() < waitDays*waitPerDay; {
		if ctx.Err() != nil || time.Now().After(deadline) {
			c.fail("only %d of %d manual events were waitlisted after 30 s", c.waitlistedNow(), waitDays*waitPerDay)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	for j, at := range capCancelAt {
		if !sleepUntil(ctx, start.Add(dur*time.Duration(at)/100)) {
			return
		}
		for d := range days {
			if j < len(fills[d]) && c.cancel(ctx, fills[d][j].ID) {
				days[d].Cancelled++
			}
		}
		c.setDays(days)
	}
}

func (c *capRun) setDays(days []waitDay) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.days = make([]waitDay, len(days))
	for i, d := range days {
		d.Manual = append([]manualRecord(nil), d.Manual...)
		c.days[i] = d
	}
}

// waitlistedNow counts the office's events waiting for a desk now.
func (c *capRun) waitlistedNow() int {
	n := 0
	for _, ev := range c.fake.Events(c.office.ID) {
		if ev.Status != moffman.StatusCancelled && ev.ExtendedProperties != nil &&
			ev.ExtendedProperties.Private[moffman.PropProcessed] == moffman.ProcessedWaitlisted {
			n++
		}
	}
	return n
}

// reservation is a new one-day reservation in the office.
func (c *capRun) reservation(name, day string) reservation {
	c.mu.Lock()
	n := c.n
	c.n++
	c.mu.Unlock()
	d, _ := time.Parse(moffman.DateLayout, day)
	r := reservation{Office: c.office, Name: name, Start: day, End: d.AddDate(0, 0, 1).Format(moffman.DateLayout),
		RequestDT: requestEpoch.AddDate(-1, 0, 0).Add(time.Duration(n) * time.Second).Format("15:04:05 2006/01/02")}
	r.ID = moffman.EventID(r.Name, r.RequestDT, r.Start, r.End)
	return r
}

// post sends a registration or an approval until it is answered 200 or
// 409 (a fault, the SIGKILL: the request is repeated, which is harmless),
// or for at most 30 s.
func (c *capRun) post(ctx context.Context, r reservation, approve bool) (int, []byte) {
	return c.until(ctx, func() (int, []byte, error) {
		return do(ctx, c.client, http.MethodPost, c.base+"/api/v1/reservations", r.body(approve))
	}, http.StatusOK, http.StatusConflict)
}

// cancel cancels a reservation, repeated until it is answered 200.
func (c *capRun) cancel(ctx context.Context, id string) bool {
	st, _ := c.until(ctx, func() (int, []byte, error) {
		return do(ctx, c.client, http.MethodDelete, c.base+"/api/v1/offices/"+c.office.Name+"/reservations/"+id, nil)
	}, http.StatusOK)
	if st != http.StatusOK {
		c.fail("cancelling %s: answered %d", id, st)
	}
	return st == http.StatusOK
}

func (c *capRun) until(ctx context.Context, send func() (int, []byte, error), final ...int) (int, []byte) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, body, err := send()
		for _, f := range final {
			if err == nil && st == f {
				return st, body
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return st, body
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// capEvent is one event of the capacity office at the end.
type capEvent struct {
	ID, Start, End string
	Desk           bool // approved, or a manual event holding a desk
	Approved       bool
	Cancelled      bool
}

func capEvents(fake *googlefake.Server, calendarID string) []capEvent {
	var out []capEvent
	for _, ev := range fake.Events(calendarID) {
		ce := capEvent{ID: ev.ID, Cancelled: ev.Status == moffman.StatusCancelled}
		if ev.Start != nil && ev.End != nil {
			ce.Start, ce.End = ev.Start.Date, ev.End.Date
		}
		if p := ev.ExtendedProperties; p != nil {
			ce.Approved = p.Private[moffman.PropProcessed] == "true"
			ce.Desk = ce.Approved || p.Private[moffman.PropDesk] == moffman.DeskHeld
		}
		out = append(out, ce)
	}
	return out
}

// capInput is what the capacity ledger is computed from.
type capInput struct {
	Capacity    int
	Events      []capEvent
	Rounds      []raceRound
	Days        []waitDay
	Forms       map[formKey][]time.Time
	Kills       []time.Time
	CrashWindow time.Duration
	AtKill      int
}

// CapacityLedger is the soak's account of the office with a capacity.
type CapacityLedger struct {
	Capacity   int `json:"capacity"`
	DaysHeld   int `json:"days_with_desks_taken"`
	MostTaken  int `json:"most_desks_taken_on_a_day"`
	DaysOver   int `json:"days_over_capacity"`
	RaceRounds int `json:"race_rounds"`
	Approvals  int `json:"race_approvals"` // approvals sent in the races, the second ones included
	Accepted   int `json:"race_accepted"`  // answered 200
	Refused    int `json:"race_refused"`   // answered 409
	Unanswered int `json:"race_unanswered"`
	// RefusedWrongly are 409s whose full_days did not name the day as
	// having every desk taken.
	RefusedWrongly int `json:"race_refused_wrongly"`
	// RaceDaysWrong are race days whose desks taken at the end are not
	// min(capacity, people not cancelled).
	RaceDaysWrong int `json:"race_days_wrong"`
	AcceptedLost  int `json:"race_accepted_not_approved"` // 200, not cancelled, no desk at the end
	RefusedHeld   int `json:"race_refused_with_desk"`     // last answer 409, a desk at the end
	// FreedWrong are rounds in which the refused, approving again after
	// one cancellation, did not get exactly one desk.
	FreedWrong int `json:"race_freed_desk_wrong"`

	ManualAdded      int `json:"waitlist_manual_added"`
	WaitlistedAtKill int `json:"waitlisted_at_sigkill"`
	Promoted         int `json:"waitlist_promoted"` // approved after waiting
	PromotedExpected int `json:"waitlist_promoted_expected"`
	StillWaitlisted  int `json:"waitlist_still_waiting"`
	OutOfOrder       int `json:"waitlist_promoted_out_of_order"` // promoted while an older one of its day waits
	FormsMissing     int `json:"waitlist_forms_missing"`         // promoted without a form
	FormsDuplicated  int `json:"waitlist_forms_duplicated"`
	FormsCrashWindow int `json:"waitlist_forms_repeated_in_crash_window"`
	FormsWaitlisted  int `json:"waitlist_forms_while_waiting"` // a form for an event still waiting
}

// OK reports whether no day went over capacity, every answer of the races
// matches the calendar, and the waitlist gave each freed desk to the oldest
// event with one form.
func (l CapacityLedger) OK() bool {
	return l.DaysOver == 0 && l.Unanswered == 0 && l.RefusedWrongly == 0 && l.RaceDaysWrong == 0 &&
		l.AcceptedLost == 0 && l.RefusedHeld == 0 && l.FreedWrong == 0 &&
		l.Promoted == l.PromotedExpected && l.OutOfOrder == 0 && l.FormsMissing == 0 &&
		l.FormsDuplicated == 0 && l.FormsWaitlisted == 0
}

func computeCapLedger(in capInput) CapacityLedger {
	l := CapacityLedger{Capacity: in.Capacity, WaitlistedAtKill: in.AtKill}
	taken := map[string]int{}
	byID := map[string]capEvent{}
	for _, ev := range in.Events {
		byID[ev.ID] = ev
		if ev.Cancelled || !ev.Desk {
			continue
		}
		s, err1 := time.Parse(moffman.DateLayout, ev.Start)
		e, err2 := time.Parse(moffman.DateLayout, ev.End)
		if err1 != nil || err2 != nil {
			continue
		}
		for d := s; d.Before(e); d = d.AddDate(0, 0, 1) {
			taken[d.Format(moffman.DateLayout)]++
		}
	}
	for _, n := range taken {
		l.DaysHeld++
		l.MostTaken = max(l.MostTaken, n)
		if n > in.Capacity {
			l.DaysOver++
		}
	}
	held := func(id string) bool {
		ev, ok := byID[id]
		return ok && ev.Desk && !ev.Cancelled
	}
	approved := func(id string) bool {
		ev, ok := byID[id]
		return ok && ev.Approved && !ev.Cancelled
	}
	for _, r := range in.Rounds {
		l.countRound(in.Capacity, r, taken[r.Day], held)
	}
	for _, d := range in.Days {
		l.countWaitDay(in, d, approved)
	}
	return l
}

func (l *CapacityLedger) countRound(capacity int, r raceRound, taken int, held func(string) bool) {
	l.RaceRounds++
	last := map[string]int{} // event id → its last answer
	for _, a := range append(append([]approvalRecord(nil), r.First...), r.Again...) {
		l.Approvals++
		last[a.ID] = a.Status
		switch a.Status {
		case http.StatusOK:
			l.Accepted++
		case http.StatusConflict:
			l.Refused++
			if !namesFull(a.FullDays, r.Day, capacity) {
				l.RefusedWrongly++
			}
		default:
			l.Unanswered++
		}
	}
	people := r.People
	if r.Cancelled != "" {
		people--
		again := 0
		for _, a := range r.Again {
			if a.Status == http.StatusOK {
				again++
			}
		}
		if again != min(1, len(r.Again)) {
			l.FreedWrong++
		}
	}
	if taken != min(capacity, people) {
		l.RaceDaysWrong++
	}
	for id, st := range last {
		switch {
		case id == r.Cancelled:
		case st == http.StatusOK && !held(id):
			l.AcceptedLost++
		case st == http.StatusConflict && held(id):
			l.RefusedHeld++
		}
	}
}

// namesFull reports whether a 409's full_days names day as having every
// desk taken.
func namesFull(days []moffman.FullDay, day string, capacity int) bool {
	for _, d := range days {
		if d.Date == day && !d.Closed && d.Capacity != nil && *d.Capacity == capacity && d.Approved >= capacity {
			return true
		}
	}
	return false
}

// countWaitDay counts one day of the waitlist: its approved manual events
// must be the oldest, as many as desks were freed, each with one form.
func (l *CapacityLedger) countWaitDay(in capInput, d waitDay, approved func(string) bool) {
	l.ManualAdded += len(d.Manual)
	l.PromotedExpected += min(len(d.Manual), d.Cancelled, in.Capacity)
	waiting := false // an older event of the day still waits
	for _, m := range d.Manual {
		forms := in.Forms[m.Form]
		if !approved(m.ID) {
			l.StillWaitlisted++
			waiting = true
			l.FormsWaitlisted += len(forms)
			continue
		}
		l.Promoted++
		if waiting {
			l.OutOfOrder++
		}
		if len(forms) == 0 {
			l.FormsMissing++
		}
		for i := 1; i < len(forms); i++ {
			if inCrashWindow(forms[i-1], forms[i], in.Kills, in.CrashWindow) {
				l.FormsCrashWindow++
			} else {
				l.FormsDuplicated++
			}
		}
	}
}
