package moffman

import (
	"context"
	"time"
)

// Calendar is a set of calendars holding attendance events: Google
// Calendar, a CalDAV server, or the embedded store (SQLite or PostgreSQL).
// All behave like Google Calendar v3; the error contract below is what the services
// rely on, and internal/calendartest states it as tests that every backend
// runs. Every method may also fail with Unavailable (the backend is down
// or rate limited, retries are exhausted), Forbidden (the account lacks the
// permission, e.g. Google: the calendar is shared read-only, so writes are
// refused) or Upstream (it refused the call).
type Calendar interface {
	// Insert adds ev with its own ID (or one from NewEventID when empty)
	// and returns the stored event. Conflict when the id is already used
	// in that calendar, by a cancelled event too. NotFound when the
	// calendar is unknown or not shared with the account (Google only: the
	// embedded store creates calendars as they are used). Invalid for an
	// id ValidEventID refuses, dates that are not YYYY-MM-DD with end after
	// start, or a colour other than "1" to "11". On Google the creator is
	// the account that writes; the embedded stores honour CreatorEmail (it
	// stands in for a person's own event there), and so does CalDAV, as
	// ORGANIZER, since CalDAV servers record no author.
	Insert(ctx context.Context, calendarID string, ev Event) (Event, error)

	// Get returns one event, cancelled ones included. NotFound when it
	// never existed (CalDAV: also when another client removed the
	// resource, which sync reported as a cancellation).
	Get(ctx context.Context, calendarID, eventID string) (Event, error)

	// Patch changes the fields set in p, merges p.Private key by key and
	// returns the stored event. Every write, an empty patch too, gives the
	// event a new ETag and Updated. NotFound when the event never existed.
	Patch(ctx context.Context, calendarID, eventID string, p EventPatch) (Event, error)

	// Delete cancels the event. Cancelling a cancelled event is no error.
	// NotFound when it never existed.
	Delete(ctx context.Context, calendarID, eventID string) error

	// List returns one page of events.
	//
	// Without q.SyncToken: the events overlapping [TimeMin, TimeMax)
	// (end > TimeMin and start < TimeMax; zero times: unbounded), cancelled
	// ones only with ShowDeleted, ordered by start date then id.
	//
	// With q.SyncToken: what changed since that token, cancelled events
	// included. Gone when the token is no longer valid: garbage, another
	// calendar's, or expired (Google expires tokens now and then; the
	// embedded store's never expire, so it skips the contract's
	// SyncTokenExpired). Every write shows up in the next incremental
	// listing, writes made while the pages were fetched included.
	//
	// NextSyncToken is set on the last page only. Invalid for a sync token
	// combined with a time window, TimeMin after TimeMax, or a page token
	// the backend did not issue.
	List(ctx context.Context, calendarID string, q ListQuery) (EventPage, error)

	// Subscribe makes the calendar usable by the account (Google:
	// calendarList.insert). NotFound when it does not exist or is not
	// shared with the account. Subscribing twice is no error.
	Subscribe(ctx context.Context, calendarID string) error
}

// ListQuery selects events for Calendar.List.
type ListQuery struct {
	TimeMin, TimeMax time.Time
	ShowDeleted      bool
	SyncToken        string
	PageToken        string
	MaxResults       int // 0: the backend's default
}

// EventPage is one page of a listing.
type EventPage struct {
	Events        []Event
	NextPageToken string
	NextSyncToken string
}

// ListAll follows every page of a listing and returns all events and the
// final sync token.
func ListAll(ctx context.Context, cal Calendar, calendarID string, q ListQuery) ([]Event, string, error) {
	var all []Event
	for {
		page, err := cal.List(ctx, calendarID, q)
		if err != nil {
			return nil, "", err
		}
		all = append(all, page.Events...)
		if page.NextPageToken == "" {
			return all, page.NextSyncToken, nil
		}
		q.PageToken = page.NextPageToken
	}
}

// DirectorySource loads the dynamic office and manual-user lists (the
// spreadsheet). Unavailable or Upstream when it cannot be read; the caller
// then keeps the last good lists.
type DirectorySource interface {
	Load(ctx context.Context) (DirectoryLists, error)
}

// FormIssuer has an approval form filled and e-mailed for a manual event
// (Byroapi). An error means the form was not delivered and the request may
// be repeated, unless it wraps ErrOutcomeUnknown: then the request may have
// been delivered, and the sync repeats it only sparingly (jobs.go).
type FormIssuer interface {
	IssueForm(ctx context.Context, person Person, ev Event) error
}

// StateStore keeps moffman's own durable state: sync tokens, manual-event
// jobs and the last good directory lists. Methods fail only when the store
// itself does (Internal).
type StateStore interface {
	// SyncToken returns the stored sync token of a calendar, "" if none.
	SyncToken(ctx context.Context, calendarID string) (string, error)

	// CommitSync atomically adds the jobs whose keys are new and stores
	// the calendar's next sync token ("" clears it). Existing jobs,
	// finished ones included, are left as they are, with one exception: a
	// dropped job whose EventUpdated is before the new job's is replaced
	// by the new job, so an event restored after its cancellation (it
	// comes back with a newer updated time) is processed again.
	CommitSync(ctx context.Context, calendarID string, jobs []Job, nextToken string) error

	// DueJobs returns up to limit (<= 0: all) unfinished jobs whose
	// NextAttempt is not after now, oldest first, claimed or not. Jobs
	// waiting for an operator (StepNeedsOperator) are never due.
	DueJobs(ctx context.Context, now time.Time, limit int) ([]Job, error)

	// ClaimJobs claims for holder, each for claimFor, up to limit (<= 0:
	// all) unfinished jobs whose NextAttempt is not after now and that
	// nobody holds (never claimed, released, or the claim lapsed), oldest
	// first, and returns them with their Claim. Concurrent claimers, in
	// this process or in other replicas on the same store, get disjoint
	// jobs. Invalid without a holder or with claimFor <= 0.
	//
	// Claims are how several replicas that all believe they lead (a
	// paused leader waking up) never run one job twice at once: a result
	// is recorded only under a claim that still holds. What a claim cannot
	// take back is a form sent before it lapsed whose answer was not
	// recorded in time (a process paused past Claim.Until with the request
	// on the wire, or the answer lost): the job is retried and a second
	// form goes out. ManualSync keeps that window to the step under way by
	// ending every step by Claim.Until.
	ClaimJobs(ctx context.Context, now time.Time, limit int, holder string, claimFor time.Duration) ([]Job, error)

	// Job returns the job of an event, finished or not. NotFound when
	// there is none.
	Job(ctx context.Context, calendarID, eventID string) (Job, error)

	// SaveJob stores the job's new step, attempts, error, next attempt,
	// unknown outcomes and event time. NotFound when no job has its key.
	// A job with a Claim is saved only while that claim holds: no other
	// claim has replaced it (same holder and token) and it was not
	// released; a lapsed claim nobody took over still holds. Else
	// Conflict, and the stored job is left untouched. The claim is kept and extended by Claim.For (from the
	// call) while the job goes on at once (unfinished and no LastError);
	// a finished or failed job is released, so any replica can claim its
	// retry; so is a job saved with Claim.For 0 (its holder stops). A job
	// without a Claim is saved whoever holds it.
	SaveJob(ctx context.Context, job Job) error

	// PruneJobs deletes finished jobs last written before the time, and
	// returns how many. Keep them longer than an event could be listed
	// again unchanged, or it would be detected anew.
	PruneJobs(ctx context.Context, finishedBefore time.Time) (int, error)

	// JobStats summarises the unfinished jobs per office, those waiting
	// for an operator included (counted in Pending and listed). Waitlisted
	// jobs are counted apart (Waitlisted), neither in Pending nor in
	// Oldest: a long waitlist is no stuck work.
	JobStats(ctx context.Context) (map[string]JobStats, error)

	// ManualUsers returns the e-mails last stored by SaveManualUsers: the
	// manual users whose events every office was searched for. ok is
	// false when none were stored. The sync compares them with the
	// directory to search the calendars again for users added late.
	ManualUsers(ctx context.Context) (emails []string, ok bool, err error)
	SaveManualUsers(ctx context.Context, emails []string) error

	// SaveDirectory and LoadDirectory keep the last good spreadsheet lists,
	// so a restart while the spreadsheet is unreachable still knows them.
	// LoadDirectory reports false when none were saved.
	SaveDirectory(ctx context.Context, lists DirectoryLists) error
	LoadDirectory(ctx context.Context) (DirectoryLists, bool, error)
}

// JobStep is how far a manual-event job has come.
type JobStep string

// A job moves detected → form delivered → done; detected → waitlisted →
// detected when its office had no desk for it at first; dropped when its
// event was cancelled (or a waitlisted event's days passed); needs_operator when its form request's outcome stayed unknown
// too often (only an operator's retry moves it on). jobFlow (jobs.go) has
// every transition.
const (
	StepDetected      JobStep = "detected"
	StepFormDelivered JobStep = "form_delivered"
	StepNeedsOperator JobStep = "needs_operator"
	StepWaitlisted    JobStep = "waitlisted" // no desk yet; no form sent (waitlist.go)
	StepDone          JobStep = "done"
	StepDropped       JobStep = "dropped"
)

// Job is the durable record of one manual event on its way to approval,
// keyed by CalendarID and EventID.
type Job struct {
	CalendarID  string
	EventID     string
	OfficeID    string
	Step        JobStep
	Attempts    int
	LastError   string
	NextAttempt time.Time
	Created     time.Time
	// UnknownOutcomes counts the form requests of this job whose answer
	// never came (ErrOutcomeUnknown).
	UnknownOutcomes int
	// EventUpdated is the event's updated time as the job last saw it
	// (zero: any newer listing may re-open a dropped job); CommitSync
	// compares it to re-open a job dropped for a cancelled event.
	EventUpdated time.Time

	// Claim is set on jobs from ClaimJobs; zero otherwise.
	Claim JobClaim
}

// JobClaim is one holder's claim on a job (StateStore.ClaimJobs).
type JobClaim struct {
	Holder string
	// Token is the fencing value: every claim of a job gets a new one, so
	// a save under an older claim is refused.
	Token int64
	// For is how long the claim lasts after ClaimJobs and after each save
	// that keeps it.
	For time.Duration
	// Until is when the claim lapses, by this process's wall clock,
	// measured from before the call that took or extended it, so it is
	// never later than the store's own expiry.
	Until time.Time
}

// Finished reports whether nothing is left to do for the job.
func (j Job) Finished() bool { return j.Step == StepDone || j.Step == StepDropped }

// JobStats summarises unfinished jobs.
type JobStats struct {
	Pending       int       // unfinished, waitlisted ones left out
	Oldest        time.Time // of the Pending ones; zero when Pending is 0
	Waitlisted    int       // at StepWaitlisted: waiting for a desk
	LastError     string    // the error stored last on any unfinished job
	NeedsOperator []Job     // waiting for an operator's retry, oldest first
}
