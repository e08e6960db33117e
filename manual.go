package moffman

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// ManualSync finds events that manual users put into office calendars,
// has their approval forms issued and approves them.
//
// Every detected event becomes a durable Job, stored together with the
// calendar's next sync token, so nothing is skipped and nothing is detected
// twice. A job moves detected → form delivered → done; each step is retried
// with backoff until it succeeds. The one window in which a form can be
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
	Now         func() time.Time
	Logger      *slog.Logger

	runMu  sync.Mutex // runs never overlap
	mu     sync.Mutex
	status map[string]*OfficeSyncStatus // by office name
	noForm sync.Once
}

// OfficeSyncStatus is what the last sync of one office did.
type OfficeSyncStatus struct {
	Office         string
	CalendarID     string
	LastRun        time.Time
	LastDuration   time.Duration
	LastError      string // "" when the last run succeeded
	FullSync       bool   // the last run listed the window, not changes
	EventsSeen     int    // in the last run
	ManualDetected int    // in the last run
	EventsApproved int    // since start
	FormsDelivered int    // since start
	Jobs           JobStats
}

const (
	defaultConcurrency = 8
	maxBackoff         = 5 * time.Minute
	jobBatch           = 256
	stepTimeout        = time.Minute
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
		}
	}
}

// RunOnce syncs every office, then processes the jobs that are due. Errors
// are logged and kept in the status; the next run tries again.
func (m *ManualSync) RunOnce(ctx context.Context) {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	offices := m.Directory.Offices()
	sem := make(chan struct{}, m.concurrency())
	var wg sync.WaitGroup
	for _, o := range offices {
		if ctx.Err() != nil {
			break
		}
		if err := m.Directory.CalendarError(o.CalendarID); err != nil {
			continue // not shared with the account: reported by the reload, retried after the next one
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := m.SyncOffice(ctx, o); err != nil && ctx.Err() == nil {
				m.logger().ErrorContext(ctx, "manual-event sync failed", "office", o.Name, "calendar_id", o.CalendarID, "error", err)
			}
		})
	}
	wg.Wait()
	if _, err := m.ProcessDueJobs(ctx); err != nil && ctx.Err() == nil {
		m.logger().ErrorContext(ctx, "processing manual-event jobs failed", "error", err)
	}
	// Finished jobs only guard against detecting an event twice; an
	// approved or cancelled event is not detected again, so a month is ample.
	if _, err := m.Store.PruneJobs(ctx, m.now().Add(-keepFinishedJobs)); err != nil && ctx.Err() == nil {
		m.logger().WarnContext(ctx, "pruning finished jobs failed", "error", err)
	}
}

// SyncOffice lists what changed in one office calendar since the stored
// sync token (the window on the first run, or when the token expired) and
// records a job for every new manual event, atomically with the next token.
func (m *ManualSync) SyncOffice(ctx context.Context, office Office) error {
	start := m.now()
	events, jobs, full, err := m.detect(ctx, office, start)
	m.update(office, func(s *OfficeSyncStatus) {
		s.LastRun, s.LastDuration, s.FullSync = start, m.now().Sub(start), full
		s.EventsSeen, s.ManualDetected, s.LastError = events, jobs, ""
		if err != nil {
			s.LastError = ErrorMessage(err)
			if s.LastError == "internal error" {
				s.LastError = err.Error()
			}
		}
	})
	if err == nil && jobs > 0 {
		m.logger().InfoContext(ctx, "manual events detected", "office", office.Name, "count", jobs)
	}
	return err
}

// detect lists the office calendar (changes since the stored token, or the
// window when there is none or it expired) and stores a job per new manual
// event together with the next token. It returns how many events it saw
// and how many jobs it stored, and whether it listed the window.
func (m *ManualSync) detect(ctx context.Context, office Office, start time.Time) (seen, detected int, full bool, err error) {
	cal := office.CalendarID
	token, err := m.Store.SyncToken(ctx, cal)
	if err != nil {
		return 0, 0, false, err
	}
	var events []Event
	var next string
	if token != "" {
		events, next, err = ListAll(ctx, m.Calendar, cal, ListQuery{SyncToken: token})
		if IsCode(err, Gone) {
			m.logger().InfoContext(ctx, "sync token expired; listing the checking range", "office", office.Name)
			token = ""
		} else if err != nil {
			return 0, 0, false, err
		}
	}
	if full = token == ""; full {
		today := start.UTC().Truncate(24 * time.Hour)
		events, next, err = ListAll(ctx, m.Calendar, cal, ListQuery{
			TimeMin: m.CheckMin.Apply(today), TimeMax: m.CheckMax.Apply(today), MaxResults: 2500,
		})
		if err != nil {
			return 0, 0, full, err
		}
	}
	var jobs []Job
	for _, ev := range events {
		if ev.Status == StatusCancelled || !ev.IsManual() {
			continue
		}
		if _, ok := m.Directory.ManualUser(ev.CreatorEmail); ok {
			jobs = append(jobs, Job{CalendarID: cal, EventID: ev.ID, OfficeID: office.Name,
				Step: StepDetected, NextAttempt: start, Created: start})
		}
	}
	if err := m.Store.CommitSync(ctx, cal, jobs, next); err != nil {
		return len(events), 0, full, err
	}
	return len(events), len(jobs), full, nil
}

// ProcessDueJobs works through every job that is due, a few at a time, and
// returns how many it finished.
func (m *ManualSync) ProcessDueJobs(ctx context.Context) (int, error) {
	finished := 0
	for ctx.Err() == nil {
		jobs, err := m.Store.DueJobs(ctx, m.now(), jobBatch)
		if err != nil || len(jobs) == 0 {
			return finished, err
		}
		var mu sync.Mutex
		var firstErr error
		sem := make(chan struct{}, m.concurrency())
		var wg sync.WaitGroup
		for _, job := range jobs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				done, err := m.processJob(ctx, job)
				mu.Lock()
				defer mu.Unlock()
				if done {
					finished++
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
			})
		}
		wg.Wait()
		if firstErr != nil {
			return finished, firstErr
		}
	}
	return finished, nil
}

// processJob advances one job as far as it goes. A step that fails is
// recorded with the next attempt time; only a store failure is returned.
func (m *ManualSync) processJob(ctx context.Context, job Job) (bool, error) {
	log := m.logger().With("office", job.OfficeID, "event_id", job.EventID)
	var ev *Event // read by the first step, reused by the next
	for !job.Finished() && ctx.Err() == nil {
		// A step under way runs to its end even when shutdown begins, so a
		// form Byroapi accepted is recorded rather than sent again later.
		stepCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stepTimeout)
		next, err := m.step(stepCtx, job, &ev, log)
		cancel()
		if err != nil {
			job.Attempts++
			job.LastError = err.Error()
			job.NextAttempt = m.now().Add(backoff(job.Attempts))
			log.WarnContext(ctx, "manual-event step failed; will retry", "step", job.Step, "attempt", job.Attempts, "retry_at", job.NextAttempt, "error", err)
			return false, m.Store.SaveJob(context.WithoutCancel(ctx), job)
		}
		job = next
		job.Attempts, job.LastError = 0, ""
		if err := m.Store.SaveJob(context.WithoutCancel(ctx), job); err != nil {
			return false, err
		}
	}
	return job.Finished(), nil
}

// step performs the job's current step and returns the job at its next one.
// *cached is the event as the previous step read it, nil after a restart.
func (m *ManualSync) step(ctx context.Context, job Job, cached **Event, log *slog.Logger) (Job, error) {
	if *cached == nil || job.Step == StepDetected {
		// Read the event again: it may have been cancelled, moved or
		// approved since it was detected.
		ev, err := m.Calendar.Get(ctx, job.CalendarID, job.EventID)
		if IsCode(err, NotFound) {
			log.InfoContext(ctx, "manual event is gone; no form sent")
			job.Step = StepDropped
			return job, nil
		}
		if err != nil {
			return job, err
		}
		*cached = &ev
	}
	ev := **cached
	switch job.Step {
	case StepDetected:
		switch {
		case ev.Status == StatusCancelled:
			log.InfoContext(ctx, "manual event was cancelled before its form was sent; no form sent")
			job.Step = StepDropped
			return job, nil
		case !ev.IsManual():
			job.Step = StepDone // approved already, by an earlier attempt or a person
			return job, nil
		}
		person, ok := m.Directory.ManualUser(ev.CreatorEmail)
		if !ok {
			log.WarnContext(ctx, "creator is no longer a manual user; event left alone", "creator", ev.CreatorEmail)
			job.Step = StepDropped
			return job, nil
		}
		if m.Forms == nil {
			m.noForm.Do(func() {
				log.InfoContext(ctx, "forms.template or forms.url is not set: manual events are approved without a form")
			})
		} else {
			if err := m.Forms.IssueForm(ctx, person, ev); err != nil {
				return job, err
			}
			log.InfoContext(ctx, "approval form delivered", "user", person.Email, "start", ev.Start, "end", ev.End)
			m.update(Office{Name: job.OfficeID, CalendarID: job.CalendarID}, func(s *OfficeSyncStatus) { s.FormsDelivered++ })
		}
		job.Step = StepFormDelivered
		return job, nil
	case StepFormDelivered:
		if !ev.IsManual() {
			job.Step = StepDone
			return job, nil
		}
		name := ev.Summary
		if person, ok := m.Directory.ManualUser(ev.CreatorEmail); ok {
			name = person.UserName()
		}
		_, err := m.Calendar.Patch(ctx, job.CalendarID, job.EventID, EventPatch{
			Summary: &name,
			ColorID: &m.Colors.Approved,
			Private: map[string]string{PropProcessed: "true", PropUserEmail: ev.CreatorEmail},
		})
		if IsCode(err, NotFound) {
			job.Step = StepDropped
			return job, nil
		}
		if err != nil {
			return job, err
		}
		log.InfoContext(ctx, "manual event approved", "user", ev.CreatorEmail, "start", ev.Start, "end", ev.End)
		m.update(Office{Name: job.OfficeID, CalendarID: job.CalendarID}, func(s *OfficeSyncStatus) { s.EventsApproved++ })
		job.Step = StepDone
		return job, nil
	}
	return job, errors.New("unknown job step " + string(job.Step))
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

// backoff is exponential from one second up to maxBackoff, with jitter so
// that many failed jobs do not retry in lock step.
func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 16)
	if d > maxBackoff {
		d = maxBackoff
	}
	return d/2 + rand.N(d/2+1)
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
