package moffman

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// The manual flow as a job machine. Detection (manual.go) stores a Job at
// StepDetected. An attempt at a job reads its event once, then runs the
// job's steps one after another until the job is finished or a step fails.
// Each step reports an outcome; jobFlow below says where every outcome
// leads. A step that fails leaves the job where it is, to be attempted
// again after a backoff.

// outcome is what a step found or did.
type outcome string

const (
	eventCancelled   outcome = "event cancelled"    // the calendar returns it with status cancelled
	alreadyApproved  outcome = "already approved"   // by an earlier attempt or by a person
	creatorNotManual outcome = "creator not manual" // removed from the manual users since detection
	formDelivered    outcome = "form delivered"     // or no form is configured
	formUnknown      outcome = "form outcome unknown too often"
	eventApproved    outcome = "event approved"
	waitlisted       outcome = "waitlisted"       // no desk on a day of the event (waitlist.go)
	stillWaitlisted  outcome = "still waitlisted" // re-checked: still no desk
	deskGiven        outcome = "desk given"       // a waitlisted event has its desk now
	daysPassed       outcome = "days passed"      // a waitlisted event's days are over
)

// jobFlow is the whole manual flow: for each step, the function that
// performs it and the step each of its outcomes leads to. An event the
// calendar cannot show now (NotFound, Forbidden: unshared, say) is a
// failed step, retried with backoff: only a cancelled event drops a job.
var jobFlow = map[JobStep]struct {
	run  func(m *ManualSync, ctx context.Context, a *attempt) (outcome, error)
	next map[outcome]JobStep
}{
	StepDetected: {(*ManualSync).deliverForm, map[outcome]JobStep{
		eventCancelled:   StepDropped,
		alreadyApproved:  StepDone,
		creatorNotManual: StepDropped,
		formDelivered:    StepFormDelivered,
		formUnknown:      StepNeedsOperator,
		waitlisted:       StepWaitlisted,
	}},
	StepFormDelivered: {(*ManualSync).approve, map[outcome]JobStep{
		eventCancelled:  StepDropped,
		alreadyApproved: StepDone,
		eventApproved:   StepDone,
	}},
	// A waitlisted job is attempted when room may have appeared
	// (waitlist.go) and otherwise every Interval; no form is sent before
	// it gets its desk.
	StepWaitlisted: {(*ManualSync).recheckDesk, map[outcome]JobStep{
		eventCancelled:   StepDropped,
		alreadyApproved:  StepDone,
		creatorNotManual: StepDropped,
		stillWaitlisted:  StepWaitlisted,
		deskGiven:        StepDetected,
		daysPassed:       StepDropped,
	}},
	// StepNeedsOperator runs nothing: RetryJob moves it back to
	// StepDetected. StepDone and StepDropped are final: Job.Finished.
}

// Unknown form outcomes: a form request whose answer never came may have
// been delivered, so it is repeated only after unknownOutcomeWait, and
// after maxUnknownOutcomes such requests the job waits for an operator.
const (
	unknownOutcomeWait = 10 * time.Minute
	maxUnknownOutcomes = 3
)

// attempt is one go at a job. The event is read once at its start, so all
// steps of the attempt act on the same event, and a job resumed after a
// failure or a restart acts on the event as it is now (moved, cancelled or
// approved meanwhile).
type attempt struct {
	job  Job
	ev   Event
	gone bool   // the event could not be read: NotFound
	lost bool   // the job's claim no longer holds: another replica has it
	note string // kept as the job's LastError when the step succeeds
	log  *slog.Logger
}

// ProcessDueJobs works through every job that is due, a few at a time, and
// returns how many it finished. Each worker claims one job at a time
// (StateStore.ClaimJobs), so replicas that both believe they lead never
// work on one job at once, and a claim is not left waiting behind others.
func (m *ManualSync) ProcessDueJobs(ctx context.Context) (int, error) {
	var finished atomic.Int64
	// No errgroup.WithContext: one job's store failure must not cut short
	// the other workers' jobs.
	var g errgroup.Group
	for range m.concurrency() {
		g.Go(func() error {
			for ctx.Err() == nil {
				jobs, err := m.Store.ClaimJobs(ctx, m.now(), 1, m.holder(), m.claimFor())
				if err != nil || len(jobs) == 0 {
					return err
				}
				done, err := m.processJob(ctx, jobs[0])
				if done {
					finished.Add(1)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	err := g.Wait()
	return int(finished.Load()), err
}

// processJob makes one attempt at a job: it advances the job as far as it
// goes. A step that fails is recorded with the next attempt time; only a
// store failure is returned.
func (m *ManualSync) processJob(ctx context.Context, job Job) (bool, error) {
	if ctx.Err() != nil {
		return false, nil
	}
	a := &attempt{job: job, log: m.logger().With("office", job.OfficeID, "event_id", job.EventID)}
	// The read belongs to the attempt's first step: it runs under the
	// same context and its failure is that step's failure.
	first := true
	// A waitlisted job is looked at once per attempt: staying waitlisted
	// ends the attempt until the next re-check.
	for !a.job.Finished() && a.job.Step != StepNeedsOperator && (first || a.job.Step != StepWaitlisted) && !a.lost && ctx.Err() == nil {
		// A step under way runs to its end even when shutdown begins, so a
		// form Byroapi accepted is recorded rather than sent again later;
		// but never past the claim, after which another replica may take
		// the job.
		stepCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), m.stepDeadline(a.job))
		var err error
		if first {
			err = m.readEvent(stepCtx, a)
			first = false
		}
		var next JobStep
		if err == nil {
			next, err = m.runStep(stepCtx, a)
		}
		if err == nil {
			err = m.notifyStep(stepCtx, a, next)
		}
		cancel()
		if err != nil {
			return false, m.retryLater(ctx, a, err)
		}
		a.job.Step = next
		if next == StepWaitlisted {
			a.job.NextAttempt = m.now().Add(m.recheckEvery())
		}
		// Attempts and errors describe failures of the step the job is at.
		a.job.Attempts, a.job.LastError = 0, a.note
		if next != StepNeedsOperator {
			a.job.UnknownOutcomes = 0
		}
		if err := m.saveJob(ctx, a); err != nil {
			return false, err
		}
	}
	if !a.job.Finished() && !a.lost {
		// Stopped between steps: let another replica go on at once.
		a.job.Claim.For = 0
		return false, m.saveJob(ctx, a)
	}
	return a.job.Finished(), nil
}

// stepDeadline is when a step of the job must end: after stepTimeout, or
// when its claim lapses if that is sooner.
func (m *ManualSync) stepDeadline(job Job) time.Time {
	deadline := time.Now().Add(m.stepTimeout())
	if job.Claim.Holder != "" && job.Claim.Until.Before(deadline) {
		return job.Claim.Until
	}
	return deadline
}

// saveJob records the attempt's job under its claim. A claim that no
// longer holds (Conflict) means another replica has the job now: the
// attempt stops there (a.lost), which is no store failure.
func (m *ManualSync) saveJob(ctx context.Context, a *attempt) error {
	sent := time.Now()
	err := m.storeJob(ctx, a.job)
	if IsCode(err, Conflict) {
		a.log.WarnContext(ctx, "manual-event job is held by another replica now; its result is not recorded here",
			"step", a.job.Step, "error", err)
		a.lost = true
		return nil
	}
	a.job.Claim.Until = sent.Add(a.job.Claim.For)
	return err
}

// readEvent reads the job's event for the attempt. NotFound or Forbidden
// fail the step like any other error: the calendar may be unshared for a
// while, and the event is still there when access returns.
func (m *ManualSync) readEvent(ctx context.Context, a *attempt) error {
	ev, err := m.Calendar.Get(ctx, a.job.CalendarID, a.job.EventID)
	if err != nil {
		return unreachable(err)
	}
	a.ev = ev
	a.job.EventUpdated = ev.Updated
	return nil
}

// unreachable words a NotFound or Forbidden from the calendar as what it
// means to the job: not reachable now.
func unreachable(err error) error {
	if IsCode(err, NotFound) || IsCode(err, Forbidden) {
		return WrapError(Unavailable, err, "the event or its calendar is not reachable now; retrying")
	}
	return err
}

// runStep performs the job's current step and returns the step it leads to.
func (m *ManualSync) runStep(ctx context.Context, a *attempt) (JobStep, error) {
	step, ok := jobFlow[a.job.Step]
	if !ok {
		return a.job.Step, fmt.Errorf("unknown job step %q", a.job.Step)
	}
	out, err := step.run(m, ctx, a)
	if err != nil {
		return a.job.Step, err
	}
	next, ok := step.next[out]
	if !ok {
		return a.job.Step, fmt.Errorf("job step %q has no transition for %q", a.job.Step, out)
	}
	return next, nil
}

// retryLater records a failed step and when to attempt it again: after the
// backoff, and no sooner than unknownOutcomeWait after a form request
// whose outcome is unknown.
func (m *ManualSync) retryLater(ctx context.Context, a *attempt, err error) error {
	job := a.job
	job.Attempts++
	job.LastError = err.Error()
	wait := backoff(job.Attempts)
	if errors.Is(err, ErrOutcomeUnknown) {
		wait = max(wait, unknownOutcomeWait)
	}
	job.NextAttempt = m.now().Add(wait)
	a.log.WarnContext(ctx, "manual-event step failed; will retry", "step", job.Step, "attempt", job.Attempts, "retry_at", job.NextAttempt, "error", err)
	m.notifyStuck(ctx, job, a.ev)
	a.job = job
	return m.saveJob(ctx, a)
}

// storeJob stores a job, even when shutdown has begun, and reports to the
// health record whether the store could write.
func (m *ManualSync) storeJob(ctx context.Context, job Job) error {
	return m.Health.storeWrite(m.Store.SaveJob(context.WithoutCancel(ctx), job))
}

// deliverForm has the approval form issued for a detected event, unless
// the event no longer needs one.
func (m *ManualSync) deliverForm(ctx context.Context, a *attempt) (outcome, error) {
	ev := a.ev
	switch {
	case ev.Status == StatusCancelled:
		a.log.InfoContext(ctx, "manual event was cancelled before its form was sent; no form sent")
		return eventCancelled, nil
	case !inManualFlow(ev):
		return alreadyApproved, nil
	}
	person, ok := m.Directory.ManualUser(ev.CreatorEmail)
	if !ok {
		a.log.WarnContext(ctx, "creator is no longer a manual user; event left alone", "creator", ev.CreatorEmail)
		a.job.EventUpdated = time.Time{} // detected again, once the creator is a manual user again
		return creatorNotManual, m.releaseDesk(ctx, a)
	}
	if out, err := m.takeDesk(ctx, a); out != "" || err != nil {
		return out, err
	}
	if m.Forms == nil {
		m.noForm.Do(func() {
			a.log.InfoContext(ctx, "forms.template or forms.url is not set: manual events are approved without a form")
		})
		return formDelivered, nil
	}
	if err := m.Forms.IssueForm(ctx, person, ev); err != nil {
		if !errors.Is(err, ErrOutcomeUnknown) {
			return "", err
		}
		a.job.UnknownOutcomes++
		if a.job.UnknownOutcomes < maxUnknownOutcomes {
			return "", err
		}
		a.note = fmt.Sprintf("no answer to %d form requests; waiting for an operator (POST /api/v1/sync/jobs/{calendar_id}/{event_id}/retry): %v", a.job.UnknownOutcomes, err)
		a.log.ErrorContext(ctx, "form requests had no answer; the job waits for an operator", "unknown_outcomes", a.job.UnknownOutcomes, "error", err)
		return formUnknown, nil
	}
	a.log.InfoContext(ctx, "approval form delivered", "user", person.Email, "start", ev.Start, "end", ev.End)
	m.update(m.officeOf(a.job), func(s *OfficeSyncStatus) { s.FormsDelivered++ })
	return formDelivered, nil
}

// approve marks the event as moffman's, named after its creator and in the
// approved colour.
func (m *ManualSync) approve(ctx context.Context, a *attempt) (outcome, error) {
	ev := a.ev
	switch {
	case ev.Status == StatusCancelled:
		a.log.InfoContext(ctx, "manual event was cancelled after its form was sent; not approved")
		return eventCancelled, nil
	case !inManualFlow(ev):
		return alreadyApproved, nil
	}
	name := ev.Summary
	if person, ok := m.Directory.ManualUser(ev.CreatorEmail); ok {
		name = person.UserName()
	}
	_, err := m.Calendar.Patch(ctx, a.job.CalendarID, a.job.EventID, EventPatch{
		Summary: &name,
		ColorID: &m.Colors.Approved,
		Private: map[string]string{PropProcessed: "true", PropUserEmail: ev.CreatorEmail},
	})
	if err != nil {
		return "", unreachable(err)
	}
	a.log.InfoContext(ctx, "manual event approved", "user", ev.CreatorEmail, "start", ev.Start, "end", ev.End)
	m.update(m.officeOf(a.job), func(s *OfficeSyncStatus) { s.EventsApproved++ })
	return eventApproved, nil
}

func (m *ManualSync) officeOf(job Job) Office {
	return Office{Name: job.OfficeID, CalendarID: job.CalendarID}
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
