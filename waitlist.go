package moffman

import (
	"cmp"
	"context"
	"sync"
	"time"
)

// The waitlist of manual events. In an office with a capacity or
// closures, a detected manual event gets its form only when every one of
// its days (from today on) has a desk for it: under the office's capacity
// lock the desk is marked as taken on the event (PropDesk), then the form
// goes out and the event is approved as usual. Without room the event is
// waitlisted (PropProcessed "waitlisted", the waitlisted colour) and its
// job parks at StepWaitlisted. The job is attempted again when room may
// have appeared (RoomFreed: a cancellation, a reload; every sync run for
// limited offices) and at the latest every Interval; waitlisted events
// take free desks oldest first, by the event's creation time, and each
// then runs the usual form step once.

// defaultWaitlistColor is Google's "graphite", calendar.colors.waitlisted's default.
const defaultWaitlistColor = "8"

// inManualFlow reports whether an event is a manual event moffman has not
// approved yet: not processed at all, or waitlisted.
func inManualFlow(ev Event) bool {
	return ev.IsManual() || ev.Private[PropProcessed] == ProcessedWaitlisted
}

// today is 00:00 UTC of the sync's current day.
func (m *ManualSync) today() time.Time { return m.now().UTC().Truncate(24 * time.Hour) }

// recheckEvery is how long a waitlisted job waits when nobody says room
// may have appeared.
func (m *ManualSync) recheckEvery() time.Duration {
	if m.Interval > 0 {
		return m.Interval
	}
	return 2 * time.Hour
}

// limitedOffice returns the job's office when its desks are counted.
func (m *ManualSync) limitedOffice(job Job) (Office, bool) {
	if m.Reservations == nil {
		return Office{}, false
	}
	o, ok := m.Directory.Office(job.OfficeID)
	if !ok || o.CalendarID != job.CalendarID || !m.Directory.Limited(o) {
		return Office{}, false
	}
	return o, true
}

// takeDesk gives a detected event its desk before its form goes out, or
// waitlists it. It returns "" when the form may go out: the office is not
// limited, the event holds a desk already, or it has just been given one.
func (m *ManualSync) takeDesk(ctx context.Context, a *attempt) (outcome, error) {
	office, ok := m.limitedOffice(a.job)
	if !ok || a.ev.Private[PropDesk] == DeskHeld {
		return "", nil
	}
	room, err := m.giveDesk(ctx, office, a)
	if err != nil || room {
		return "", err
	}
	if a.ev.State() == StateWaitlisted {
		return waitlisted, nil
	}
	color := cmp.Or(m.Colors.Waitlisted, defaultWaitlistColor)
	ev, err := m.Calendar.Patch(ctx, a.job.CalendarID, a.job.EventID, EventPatch{
		ColorID: &color,
		Private: map[string]string{PropProcessed: ProcessedWaitlisted, PropUserEmail: a.ev.CreatorEmail},
	})
	if err != nil {
		return "", unreachable(err)
	}
	a.ev = ev
	a.log.InfoContext(ctx, "no desk for the manual event; waitlisted, no form sent", "user", ev.CreatorEmail, "start", ev.Start, "end", ev.End)
	return waitlisted, nil
}

// recheckDesk is the step of a waitlisted job: it gives the event its desk
// when there is room now.
func (m *ManualSync) recheckDesk(ctx context.Context, a *attempt) (outcome, error) {
	ev := a.ev
	switch {
	case ev.Status == StatusCancelled:
		a.log.InfoContext(ctx, "waitlisted manual event was cancelled; no form sent")
		return eventCancelled, nil
	case !inManualFlow(ev):
		return alreadyApproved, nil
	case ev.Private[PropDesk] == DeskHeld:
		return deskGiven, nil
	}
	if _, ok := m.Directory.ManualUser(ev.CreatorEmail); !ok {
		a.log.WarnContext(ctx, "creator of a waitlisted event is no longer a manual user; event left alone", "creator", ev.CreatorEmail)
		a.job.EventUpdated = time.Time{}
		return creatorNotManual, nil
	}
	if ev.End <= m.today().Format(DateLayout) {
		a.note = "the event's days passed while it was waitlisted"
		a.log.InfoContext(ctx, "waitlisted manual event's days have passed; it stays waitlisted", "start", ev.Start, "end", ev.End)
		return daysPassed, nil
	}
	office, ok := m.limitedOffice(a.job)
	if !ok {
		// No longer limited (capacity and closures removed): room for all.
		return m.holdDesk(ctx, a)
	}
	room, err := m.giveDesk(ctx, office, a)
	switch {
	case err != nil:
		return "", err
	case room:
		a.log.InfoContext(ctx, "waitlisted manual event has its desk now; its form goes out", "start", ev.Start, "end", ev.End)
		return deskGiven, nil
	}
	return stillWaitlisted, nil
}

// giveDesk marks the event's desk as taken when every one of its days from
// today on has room for it, waitlisted events created before it going
// first, all under the office's capacity lock.
func (m *ManualSync) giveDesk(ctx context.Context, office Office, a *attempt) (bool, error) {
	unlock, err := m.Reservations.lockOffice(ctx, office.Name)
	if err != nil {
		return false, err
	}
	defer unlock()
	full, err := m.Reservations.fullDays(ctx, office, a.ev, m.today(), true)
	if err != nil || len(full) > 0 {
		return false, err
	}
	_, err = m.holdDesk(ctx, a)
	return err == nil, err
}

func (m *ManualSync) holdDesk(ctx context.Context, a *attempt) (outcome, error) {
	ev, err := m.Calendar.Patch(ctx, a.job.CalendarID, a.job.EventID, EventPatch{Private: map[string]string{PropDesk: DeskHeld}})
	if err != nil {
		return "", unreachable(err)
	}
	a.ev = ev
	return deskGiven, nil
}

// releaseDesk gives back the desk of an event that will not be approved
// (its creator is no longer a manual user): the marker goes, so the desk
// is not counted any more, and the office's waitlist may take it.
func (m *ManualSync) releaseDesk(ctx context.Context, a *attempt) error {
	if a.ev.Private[PropDesk] != DeskHeld {
		return nil
	}
	ev, err := m.Calendar.Patch(ctx, a.job.CalendarID, a.job.EventID, EventPatch{DropPrivate: []string{PropDesk}})
	if err != nil {
		return unreachable(err)
	}
	a.ev = ev
	a.log.InfoContext(ctx, "desk of the manual event given back", "start", ev.Start, "end", ev.End)
	m.RoomFreed(a.job.OfficeID)
	return nil
}

// waitlist is the offices whose waitlists are to be checked again soon.
type waitlist struct {
	mu      sync.Mutex
	offices map[string]bool
	signal  chan struct{}
}

func (w *waitlist) ch() chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.signal == nil {
		w.signal = make(chan struct{}, 1)
	}
	return w.signal
}

// RoomFreed tells the sync that an office may have room now (a
// cancellation, a raised capacity, a removed closure); Run checks its
// waitlist soon after. "" means every office. It never blocks.
func (m *ManualSync) RoomFreed(officeID string) {
	ch := m.wait.ch()
	m.wait.mu.Lock()
	if m.wait.offices == nil {
		m.wait.offices = make(map[string]bool)
	}
	m.wait.offices[officeID] = true
	m.wait.mu.Unlock()
	select {
	case ch <- struct{}{}:
	default:
	}
}

// RecheckWaitlists makes the waitlisted jobs of the offices named by
// RoomFreed due and processes every due job. Run calls it on each signal.
func (m *ManualSync) RecheckWaitlists(ctx context.Context) error {
	m.wait.mu.Lock()
	names := m.wait.offices
	m.wait.offices = nil
	m.wait.mu.Unlock()
	if len(names) == 0 {
		return nil
	}
	for _, o := range m.Directory.Offices() {
		if names[o.Name] || names[""] {
			if err := m.wakeWaitlist(ctx, o); err != nil && ctx.Err() == nil {
				m.logger().WarnContext(ctx, "checking the waitlist failed", "office", o.Name, "error", err)
			}
		}
	}
	_, err := m.ProcessDueJobs(ctx)
	return err
}

// wakeWaitlist makes the job of every waitlisted event of the office
// (from today to the end of the checking range) due now. Which of them get
// a desk is for their steps to tell, oldest first.
func (m *ManualSync) wakeWaitlist(ctx context.Context, office Office) error {
	today := m.today()
	events, _, err := ListAll(ctx, m.Calendar, office.CalendarID, ListQuery{
		TimeMin: today, TimeMax: later(m.CheckMax.Apply(today), today.AddDate(0, 0, 1)), MaxResults: 2500,
	})
	if err != nil {
		return err
	}
	for _, ev := range events {
		if ev.State() != StateWaitlisted {
			continue
		}
		job, err := m.Store.Job(ctx, office.CalendarID, ev.ID)
		if IsCode(err, NotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if job.Step != StepWaitlisted || !job.NextAttempt.After(m.now()) {
			continue
		}
		job.NextAttempt, job.Claim = m.now(), JobClaim{}
		if err := m.storeJob(ctx, job); err != nil {
			return err
		}
	}
	return nil
}

// OfficeCapacity is today's load of a limited office, for the metrics.
type OfficeCapacity struct {
	Office     string
	Capacity   *int // nil: unlimited (closures only)
	Closed     bool
	Approved   int // desks taken today
	Waitlisted int // waitlisted events from today to the end of the checking range
}

// Capacity reports today's load and the waitlist of every office with a
// capacity or closures, one calendar listing each; offices without are
// left out.
func (m *ManualSync) Capacity(ctx context.Context) ([]OfficeCapacity, error) {
	if m.Reservations == nil {
		return nil, nil
	}
	var out []OfficeCapacity
	today := m.today()
	for _, o := range m.Directory.Offices() {
		if !m.Directory.Limited(o) {
			continue
		}
		events, _, err := ListAll(ctx, m.Calendar, o.CalendarID, ListQuery{
			TimeMin: today, TimeMax: later(m.CheckMax.Apply(today), today.AddDate(0, 0, 1)), MaxResults: 2500,
		})
		if err != nil {
			return nil, err
		}
		c := OfficeCapacity{Office: o.Name, Capacity: o.Capacity}
		c.Approved = m.Reservations.loads(o, events, today, today.AddDate(0, 0, 1), "")[0].count(StateApproved)
		_, c.Closed = m.Directory.closure(o.Name, today.Format(DateLayout))
		for _, ev := range events {
			if ev.State() == StateWaitlisted {
				c.Waitlisted++
			}
		}
		out = append(out, c)
	}
	return out, nil
}
