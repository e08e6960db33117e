package eventstore

import (
	"time"

	"github.com/moffman/moffman"
)

// ToInsert fills in what an insert leaves to the store, as Google does: a
// new id when ev has none, the account as creator when it names none. It
// returns the event and its private properties as JSON.
func ToInsert(ev moffman.Event, account string) (moffman.Event, string, error) {
	if ev.ID == "" {
		ev.ID = moffman.NewEventID()
	}
	if ev.CreatorEmail == "" {
		ev.CreatorEmail = account
	}
	priv, err := MarshalPrivate(ev.Private)
	return ev, priv, err
}

// Inserted is the event an insert at now returns, seq its change
// sequence: confirmed, with its own copy of the private properties.
func Inserted(ev moffman.Event, now time.Time, seq int64) moffman.Event {
	ev.Private = ClonePrivate(ev.Private)
	ev.Status = moffman.StatusConfirmed
	ev.Created, ev.Updated = now, now
	ev.ETag = ETag(seq)
	return ev
}

// IDUsed is the error for an insert with an id the calendar has held,
// cancelled events included.
func IDUsed(calendarID, eventID string) error {
	return moffman.Errorf(moffman.Conflict, "event id %q is already used in calendar %q", eventID, calendarID)
}
