package moffman

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Notifications tell people and other systems what happened: a request
// waits for approval, a day was approved, a form is stuck. The core
// records them through a Notifier right after the change that causes them;
// the notify package delivers them from an Outbox in the background, so a
// destination that is down never slows the API or the sync.
//
// Recording is at least once: a notification's id is derived from what it
// reports (type, calendar, event, and for form.stuck and sync.failing the
// episode), so the retry of a change records the same id again and the
// Outbox keeps it once. A change that succeeds while the recording fails
// returns the error (the API answers 503, the job step is retried), and
// the retry records it.

// NotificationType names what happened. The names are a contract
// (configuration keys and payloads use them).
type NotificationType string

// The notification types.
const (
	NotifyReservationPending   NotificationType = "reservation.pending"
	NotifyReservationApproved  NotificationType = "reservation.approved"
	NotifyReservationCancelled NotificationType = "reservation.cancelled"
	NotifyManualApproved       NotificationType = "manual.approved"
	NotifyManualWaitlisted     NotificationType = "manual.waitlisted" // once offices have a capacity
	NotifyFormStuck            NotificationType = "form.stuck"        // a job failing for more than StuckAttempts attempts, or waiting for an operator
	NotifySyncFailing          NotificationType = "sync.failing"      // an office's sync failing for more than FailingSyncs runs
)

// NotificationTypes lists every type, for configuration checks.
var NotificationTypes = []NotificationType{
	NotifyReservationPending, NotifyReservationApproved, NotifyReservationCancelled,
	NotifyManualApproved, NotifyManualWaitlisted, NotifyFormStuck, NotifySyncFailing,
}

// Thresholds of the alerting notifications.
const (
	StuckAttempts = 5 // form.stuck once a job step failed more often
	// FailingSyncs is how often in a row an office's sync may fail before
	// it is failing: then sync.failing is sent and /readyz is 503.
	FailingSyncs = 3
)

// Notification is one thing that happened, as it is delivered.
type Notification struct {
	ID          string // stable: the same for every recording of the same happening
	Type        NotificationType
	Office      string // office name (office_id in the API)
	CalendarID  string
	EventID     string // the reservation or event id; "" for sync.failing
	PersonName  string
	PersonEmail string
	Start, End  string // YYYY-MM-DD, End exclusive; "" for sync.failing
	Status      string // the event's State, or the job's step for form.stuck, "failing" for sync.failing
	Detail      string // the last error for form.stuck and sync.failing
	At          time.Time
}

// NotificationID derives a notification's id from the type and the parts
// that identify the happening: 32 hex digits of a SHA-256.
func NotificationID(t NotificationType, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(t))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Notifier records a notification for delivery. Nil fields of this type
// in Reservations and ManualSync mean no notifications.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// DeliveryState is how far one notification's delivery to one destination
// has come.
type DeliveryState string

// A delivery is pending until it is delivered or, after retrying for a
// day, failed; both are final.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed"
)

// Delivery is one notification on its way to one destination, keyed by
// the notification's ID and the destination's name.
type Delivery struct {
	Notification Notification
	Destination  string
	State        DeliveryState
	Attempts     int
	LastError    string
	NextAttempt  time.Time
	Created      time.Time // when recorded: the day of retries counts from it
}

// OutboxStats summarises one destination's deliveries in the store.
type OutboxStats struct {
	Pending, Delivered, Failed int
	LastError                  string // of the most recently failed attempt
}

// Outbox is the durable queue of notification deliveries (the embedded
// store, PostgreSQL). Methods fail only when the store does (Internal,
// Unavailable). The contract: internal/calendartest.TestOutbox.
type Outbox interface {
	// Enqueue records n with a pending delivery to each destination,
	// atomically, due at once. A notification whose ID is recorded already
	// keeps its stored fields; only destinations it lacked are added.
	Enqueue(ctx context.Context, n Notification, destinations []string) error

	// DueDeliveries returns up to limit (<= 0: all) pending deliveries to
	// the destination whose NextAttempt is not after now, oldest first.
	DueDeliveries(ctx context.Context, destination string, now time.Time, limit int) ([]Delivery, error)

	// SaveDelivery stores a delivery's state, attempts, last error and
	// next attempt. NotFound when no delivery has its key.
	SaveDelivery(ctx context.Context, d Delivery) error

	// OutboxStats counts the deliveries of each destination by state.
	OutboxStats(ctx context.Context) (map[string]OutboxStats, error)

	// PruneOutbox deletes delivered and failed deliveries last written
	// before the time (and notifications left without deliveries), and
	// returns how many deliveries. A pruned notification recorded again
	// would be delivered again: keep them longer than requests are retried.
	PruneOutbox(ctx context.Context, finishedBefore time.Time) (int, error)
}

// DeliveryCount is what a destination's deliveries came to since start,
// for metrics.
type DeliveryCount struct {
	Destination       string
	Delivered, Failed int64
}

// notifyReservation records what a reservation's event became.
func (s *Reservations) notifyReservation(ctx context.Context, office Office, ev Event) error {
	if s.Notifier == nil {
		return nil
	}
	r := toReservation(office.Name, ev)
	t := NotifyReservationPending
	switch r.State {
	case StateApproved:
		t = NotifyReservationApproved
	case StateCancelled:
		t = NotifyReservationCancelled
	case StateManual:
		return nil
	}
	err := s.Notifier.Notify(ctx, Notification{
		ID: NotificationID(t, office.CalendarID, ev.ID), Type: t, Office: office.Name, CalendarID: office.CalendarID,
		EventID: ev.ID, PersonName: r.UserName, PersonEmail: r.UserEmail, Start: ev.Start, End: ev.End,
		Status: string(r.State), At: time.Now().UTC(),
	})
	if err != nil {
		return WrapError(Unavailable, err, "the change was made but its notification could not be recorded; repeat the request")
	}
	return nil
}

// notifyStep records what a job step that succeeded led to: a manual
// event approved (by this attempt, or by an earlier one that stopped before
// recording it).
func (m *ManualSync) notifyStep(ctx context.Context, a *attempt, next JobStep) error {
	if m.Notifier != nil && next == StepNeedsOperator {
		// The job stops retrying by itself: someone has to look at it.
		n := m.jobNotification(NotifyFormStuck, a.job, a.ev, string(StepNeedsOperator), a.note)
		n.ID = NotificationID(NotifyFormStuck, a.job.CalendarID, a.job.EventID, string(StepNeedsOperator), strconv.Itoa(a.job.UnknownOutcomes))
		// Only logged when it fails: failing the step would send the form again.
		if err := m.Notifier.Notify(ctx, n); err != nil {
			a.log.WarnContext(ctx, "recording a form.stuck notification failed", "error", err)
		}
		return nil
	}
	if m.Notifier == nil || a.gone || a.job.Step != StepFormDelivered || next != StepDone {
		return nil
	}
	return m.Notifier.Notify(ctx, m.jobNotification(NotifyManualApproved, a.job, a.ev, string(StateApproved), ""))
}

// notifyStuck records that a job's step keeps failing, once per job and
// step, when it has failed more than StuckAttempts times. A recording
// failure is only logged: the job is retried anyway.
func (m *ManualSync) notifyStuck(ctx context.Context, job Job, ev Event) {
	if m.Notifier == nil || job.Attempts != StuckAttempts+1 {
		return
	}
	n := m.jobNotification(NotifyFormStuck, job, ev, string(job.Step), job.LastError)
	if err := m.Notifier.Notify(ctx, n); err != nil {
		m.logger().WarnContext(ctx, "recording a form.stuck notification failed", "event_id", job.EventID, "error", err)
	}
}

func (m *ManualSync) jobNotification(t NotificationType, job Job, ev Event, status, detail string) Notification {
	n := Notification{
		ID: NotificationID(t, job.CalendarID, job.EventID, string(job.Step)), Type: t,
		Office: job.OfficeID, CalendarID: job.CalendarID, EventID: job.EventID,
		PersonEmail: ev.CreatorEmail, PersonName: ev.Summary, Start: ev.Start, End: ev.End,
		Status: status, Detail: detail, At: m.now().UTC(),
	}
	if t == NotifyManualApproved {
		n.ID = NotificationID(t, job.CalendarID, job.EventID)
	}
	if p, ok := m.Directory.ManualUser(ev.CreatorEmail); ok {
		n.PersonName = p.UserName()
	}
	return n
}

// notifySync records sync.failing once per streak: when the office's
// sync has just failed the (FailingSyncs+1)th time in a row. since, the
// streak's first failure, keeps the id the same for the whole streak.
func (m *ManualSync) notifySync(ctx context.Context, office Office, failed int, since time.Time, syncErr error) {
	if m.Notifier == nil || failed != FailingSyncs+1 {
		return
	}
	err := m.Notifier.Notify(ctx, Notification{
		ID:   NotificationID(NotifySyncFailing, office.CalendarID, strconv.FormatInt(since.UnixMilli(), 10)),
		Type: NotifySyncFailing, Office: office.Name, CalendarID: office.CalendarID,
		Status: "failing", Detail: syncErr.Error(), At: m.now().UTC(),
	})
	if err != nil {
		m.logger().WarnContext(ctx, "recording a sync.failing notification failed", "office", office.Name, "error", err)
	}
}

// notifyCancelled records the cancellation of a reservation, read back for
// its person and dates.
func (s *Reservations) notifyCancelled(ctx context.Context, office Office, id string) error {
	if s.Notifier == nil {
		return nil
	}
	ev, err := s.Calendar.Get(ctx, office.CalendarID, id)
	if err != nil {
		return WrapError(Unavailable, err, "the reservation was cancelled but its notification could not be recorded; repeat the request")
	}
	return s.notifyReservation(ctx, office, ev)
}
