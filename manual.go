package moffman

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// ManualSync finds events that manual users put into office calendars,
// has their approval forms issued and approves them.
//
// Every detected event becomes a durable Job, stored together with the
// calendar's next sync token, so nothing is skipped and nothing is detected
// twice. A job moves detected → form delivered → done (jobFlow in jobs.go
// is the whole flow); each step is retried with backoff until it succeeds. The one window in which a form can be
// sent twice is between Byroapi accepting it and moffman recording that
// (one local write right after the answer), or when Byroapi's answer is
// lost on the network: Byroapi has no idempotency key.
type ManualSync struct {
	Calendar  Calendar
	Store     StateStore
	Directory *Directory
	Forms     FormIssuer // nil: approve without a form
	Colors    Colors
	// CheckMin and CheckMax bound the full-sync window, relative to today
	// 00:00 UTC.
	CheckMin, CheckMax Shift
	// Interval between sync runs; JobPoll between looks for due retries.
	Interval, JobPoll time.Duration
	// Concurrency bounds the offices synced and the jobs processed at once.
	Concurrency int
	// StepTimeout bounds one step of a job (0: 5 minutes); keep it above
	// the form service's timeout (forms.timeout).
	StepTimeout time.Duration
	Health      *Health // nil: readiness is not reported
	Now         func() time.Time
	Logger      *slog.Logger
	// Holder names this process in job claims among replicas sharing the
	// store; "": a random name chosen once.
	Holder string
	// Notifier records manual.approved, form.stuck and sync.failing; nil: none (notify.go).
	Notifier Notifier
	// Reservations counts desks and holds the capacity lock for offices
	// with a capacity or closures (waitlist.go); nil: no office is limited.
	Reservations *Reservations

	runMu  sync.Mutex // runs never overlap
	mu     sync.Mutex
	status map[string]*OfficeSyncStatus // by office name
	noForm sync.Once
	anon   sync.Once // names the holder when Holder is ""

	users   manualUsers // guarded by runMu
	started bool        // the first run is done; guarded by runMu
	wait    waitlist    // offices whose waitlists to check again
}

// OfficeSyncStatus is what the last sync of one office did.
type OfficeSyncStatus struct {
	Office         string
	CalendarID     string
	LastRun        time.Time
	LastDuration   time.Duration
	LastError      string    // "" when the last run succeeded
	FailedRuns     int       // failed runs in a row; 0 after a success
	FailingSince   time.Time // the first failed run of the streak; zero after a success
	FullSync       bool      // the last run listed the window, not changes
	EventsSeen     int       // in the last run
	ManualDetected int       // in the last run
	EventsApproved int       // since start
	FormsDelivered int       // since start
	Jobs           JobStats
}

const (
	defaultConcurrency = 8
	maxBackoff         = 5 * time.Minute
	jobBatch           = 256
	defaultStepTimeout = 5 * time.Minute
	keepFinishedJobs   = 30 * 24 * time.Hour
)

// Run syncs at once and then every Interval, and retries due jobs every
// JobPoll, until ctx is done.
func (m *ManualSync) Run(ctx context.Context) error {
	interval, poll := m.Interval, m.JobPoll
	if interval <= 0 {
		interval = 2 * time.Hour
	}
	if poll <= 0 {
		poll = 5 * time.Second
	}
	m.RunOnce(ctx)
	syncTick := time.NewTicker(interval)
	defer syncTick.Stop()
	jobTick := time.NewTicker(poll)
	defer jobTick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-syncTick.C:
			m.RunOnce(ctx)
		case <-jobTick.C:
			if _, err := m.ProcessDueJobs(ctx); err != nil && ctx.Err() == nil {
				m.logger().ErrorContext(ctx, "processing manual-event jobs failed", "error", err)
			}
		case <-m.wait.ch():
			if err := m.RecheckWaitlists(ctx); err != nil && ctx.Err() == nil {
				m.logger().ErrorContext(ctx, "checking waitlists failed", "error", err)
			}
		}
	}
}

// RunOnce syncs every office, then processes the jobs that are due. Errors
// are logged and kept in the status; the next run tries again. An office
// whose calendar could not be subscribed is subscribed again first, so it
// heals without a reload.
func (m *ManualSync) RunOnce(ctx context.Context) {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	m.noteManualUsers(ctx)
	// No errgroup.WithContext: one office failing must not stop the others.
	var g errgroup.Group
	g.SetLimit(m.concurrency())
	for _, o := range m.Directory.Offices() {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := m.resubscribe(ctx, o); err != nil {
				return nil
			}
			if err := m.SyncOffice(ctx, o); err != nil && ctx.Err() == nil {
				m.logger().ErrorContext(ctx, "manual-event sync failed", "office", o.Name, "calendar_id", o.CalendarID, "error", err)
			}
			return nil
		})
	}
	_ = g.Wait() // every office logs its own error
	m.saveManualUsers(ctx)
	// A desk freed in the calendar itself (an event deleted by hand) is
	// seen here: limited offices check their waitlists on every run. The
	// first run also checks every office with waitlisted jobs: one that
	// is no longer limited (its last closure lifted in the configuration,
	// then a restart) would otherwise wait for each job's own re-check.
	waiting := m.waitingAtStart(ctx)
	for _, o := range m.Directory.Offices() {
		if (waiting[o.Name] || m.Reservations != nil && m.Directory.Limited(o)) && ctx.Err() == nil {
			if err := m.wakeWaitlist(ctx, o); err != nil && ctx.Err() == nil {
				m.logger().WarnContext(ctx, "checking the waitlist failed", "office", o.Name, "error", err)
			}
		}
	}
	if _, err := m.ProcessDueJobs(ctx); err != nil && ctx.Err() == nil {
		m.logger().ErrorContext(ctx, "processing manual-event jobs failed", "error", err)
	}
	// Finished jobs only guard against detecting an event twice; an
	// approved or cancelled event is not detected again, so a month is ample.
	if _, err := m.Store.PruneJobs(ctx, m.now().Add(-keepFinishedJobs)); err != nil && ctx.Err() == nil {
		m.logger().WarnContext(ctx, "pruning finished jobs failed", "error", err)
	}
}

// waitingAtStart returns, on the first run only, the offices with
// waitlisted jobs. Called with runMu held.
func (m *ManualSync) waitingAtStart(ctx context.Context) map[string]bool {
	if m.started {
		return nil
	}
	stats, err := m.Store.JobStats(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.logger().WarnContext(ctx, "reading the waitlisted jobs at start failed; they wait for their own re-check", "error", err)
		}
		return nil
	}
	m.started = true
	waiting := make(map[string]bool)
	for office, st := range stats {
		if st.Waitlisted > 0 {
			waiting[office] = true
		}
	}
	return waiting
}

// resubscribe subscribes an office calendar again when the last attempt
// failed (Directory.CalendarError), and clears the error when it works. A
// calendar still not accessible fails the office's run.
func (m *ManualSync) resubscribe(ctx context.Context, o Office) error {
	if m.Directory.CalendarError(o.CalendarID) == nil {
		return nil
	}
	err := m.Calendar.Subscribe(ctx, o.CalendarID)
	if err == nil {
		m.Directory.SetCalendarError(o.CalendarID, nil)
		m.logger().InfoContext(ctx, "office calendar is accessible again", "office", o.Name, "calendar_id", o.CalendarID)
		return nil
	}
	if IsCode(err, NotFound) || IsCode(err, Forbidden) || IsCode(err, Upstream) {
		m.Directory.SetCalendarError(o.CalendarID, err)
	}
	start := m.now()
	m.record(ctx, o, start, detection{}, WrapError(ErrorCode(err), err, "the calendar %s is not accessible to the service account", o.CalendarID))
	return err
}

// RetryJob sends a job that waits for an operator once more: it becomes
// due at once and the next poll repeats its form request. NotFound for an
// unknown job, Conflict for a job that is not waiting for an operator.
func (m *ManualSync) RetryJob(ctx context.Context, calendarID, eventID string) (Job, error) {
	job, err := m.Store.Job(ctx, calendarID, eventID)
	if IsCode(err, NotFound) {
		return Job{}, WrapError(NotFound, err, "no manual-event job for event %q of calendar %q", eventID, calendarID)
	}
	if err != nil {
		return Job{}, err
	}
	if job.Step != StepNeedsOperator {
		return job, Errorf(Conflict, "the job of event %q is at step %s, not waiting for an operator", eventID, job.Step)
	}
	// UnknownOutcomes stays: one more request without an answer waits for
	// an operator again, so this sends the form once more, not three times.
	job.Step, job.Attempts, job.LastError, job.NextAttempt = StepDetected, 0, "", m.now()
	if err := m.storeJob(ctx, job); err != nil {
		return Job{}, err
	}
	m.logger().InfoContext(ctx, "an operator retried a manual-event job", "office", job.OfficeID, "event_id", eventID)
	return job, nil
}

// SyncOffice lists what changed in one office calendar since the stored
// sync token (the window on the first run, when the token expired, or once
// after manual users were added) and records a job for every new manual
// event, atomically with the next token.
func (m *ManualSync) SyncOffice(ctx context.Context, office Office) error {
	start := m.now()
	d, err := m.detect(ctx, office, start)
	m.record(ctx, office, start, d, err)
	if err == nil && d.detected > 0 {
		m.logger().InfoContext(ctx, "manual events detected", "office", office.Name, "count", d.detected)
	}
	return err
}

// record keeps what a run of an office did in its status, and when the
// office has failed more than FailingSyncs runs in a row tells the health
// record and notifies sync.failing.
func (m *ManualSync) record(ctx context.Context, office Office, start time.Time, d detection, err error) {
	var failed int
	var since time.Time
	m.update(office, func(s *OfficeSyncStatus) {
		before, beforeSince := s.FailedRuns, s.FailingSince
		s.LastRun, s.LastDuration, s.FullSync = start, m.now().Sub(start), d.full
		s.EventsSeen, s.ManualDetected, s.LastError = d.seen, d.detected, ""
		s.FailedRuns, s.FailingSince = 0, time.Time{}
		if err != nil {
			s.LastError = ErrorMessage(err)
			if s.LastError == "internal error" {
				s.LastError = err.Error()
			}
			s.FailedRuns, s.FailingSince = before+1, beforeSince
			if before == 0 {
				s.FailingSince = start
			}
		}
		failed, since = s.FailedRuns, s.FailingSince
	})
	m.notifySync(ctx, office, failed, since, err)
	reason := "sync of office " + office.Name
	if failed > FailingSyncs {
		m.Health.Set(reason, fmt.Sprintf("failed %d times in a row: %v", failed, err))
	} else {
		m.Health.Clear(reason)
	}
}

// detection is what one sync of an office found.
type detection struct {
	seen     int    // events listed
	detected int    // new jobs stored; 0 unless stored with the token
	full     bool   // listed the checking range, not the changes since a token
	next     string // the calendar's next sync token
}

// detect lists the office calendar and stores a job per new manual event
// together with the next token.
func (m *ManualSync) detect(ctx context.Context, office Office, start time.Time) (detection, error) {
	events, d, err := m.listChanges(ctx, office, start)
	if err != nil {
		return d, err
	}
	d.seen = len(events)
	var jobs []Job
	for _, ev := range events {
		if ev.Status == StatusCancelled || !ev.IsManual() {
			continue
		}
		if _, ok := m.Directory.ManualUser(ev.CreatorEmail); ok {
			jobs = append(jobs, Job{CalendarID: office.CalendarID, EventID: ev.ID, OfficeID: office.Name,
				Step: StepDetected, NextAttempt: start, Created: start, EventUpdated: ev.Updated})
		}
	}
	if err := m.Health.storeWrite(m.Store.CommitSync(ctx, office.CalendarID, jobs, d.next)); err != nil {
		return d, err
	}
	d.detected = len(jobs)
	if d.full {
		m.users.listed(office.CalendarID)
	}
	return d, nil
}

// listChanges lists the changes since the stored token, or the checking
// range when there is none or the calendar no longer accepts it (Gone).
func (m *ManualSync) listChanges(ctx context.Context, office Office, start time.Time) ([]Event, detection, error) {
	cal := office.CalendarID
	var d detection
	token, err := m.Store.SyncToken(ctx, cal)
	if err != nil {
		return nil, d, err
	}
	if token != "" && !m.users.needsFullListing(cal) {
		events, next, err := ListAll(ctx, m.Calendar, cal, ListQuery{SyncToken: token})
		if !IsCode(err, Gone) {
			d.next = next
			return events, d, err
		}
		m.logger().InfoContext(ctx, "sync token expired; listing the checking range", "office", office.Name)
	}
	d.full = true
	today := start.UTC().Truncate(24 * time.Hour)
	events, next, err := ListAll(ctx, m.Calendar, cal, ListQuery{
		TimeMin: m.CheckMin.Apply(today), TimeMax: m.CheckMax.Apply(today), MaxResults: 2500,
	})
	d.next = next
	return events, d, err
}

// Status returns the sync status of every office with its job queue.
func (m *ManualSync) Status(ctx context.Context) ([]OfficeSyncStatus, error) {
	stats, err := m.Store.JobStats(ctx)
	if err != nil {
		return nil, err
	}
	var out []OfficeSyncStatus
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.Directory.Offices() {
		s := OfficeSyncStatus{Office: o.Name, CalendarID: o.CalendarID}
		if st, ok := m.status[o.Name]; ok {
			s = *st
		}
		s.Jobs = stats[o.Name]
		out = append(out, s)
	}
	return out, nil
}

func (m *ManualSync) update(o Office, f func(*OfficeSyncStatus)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.status == nil {
		m.status = make(map[string]*OfficeSyncStatus)
	}
	s, ok := m.status[o.Name]
	if !ok {
		s = &OfficeSyncStatus{Office: o.Name, CalendarID: o.CalendarID}
		m.status[o.Name] = s
	}
	f(s)
}

// claimFor is how long a job's claim lasts from each save: twice a step,
// so a step is cut short by its claim only after a stall.
func (m *ManualSync) claimFor() time.Duration { return 2 * m.stepTimeout() }

func (m *ManualSync) stepTimeout() time.Duration {
	if m.StepTimeout > 0 {
		return m.StepTimeout
	}
	return defaultStepTimeout
}

func (m *ManualSync) concurrency() int {
	if m.Concurrency > 0 {
		return m.Concurrency
	}
	return defaultConcurrency
}

func (m *ManualSync) now() time.Time {
	if m.Now == nil {
		return time.Now()
	}
	return m.Now()
}

func (m *ManualSync) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.Default()
	}
	return m.Logger
}

// holder is the name of this process in job claims.
func (m *ManualSync) holder() string {
	m.anon.Do(func() {
		if m.Holder == "" {
			m.Holder = "moffman-" + rand.Text()
		}
	})
	return m.Holder
}
