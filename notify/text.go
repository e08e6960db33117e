package notify

import (
	"fmt"
	"time"

	"github.com/moffman/moffman"
)

// Text is a notification as one short sentence: who, which office, which
// days, what happened.
func Text(n moffman.Notification) string {
	who, days := n.PersonName, Days(n.Start, n.End)
	if who == "" {
		who = n.PersonEmail
	}
	switch n.Type {
	case moffman.NotifyReservationPending:
		return fmt.Sprintf("%s asks to be in %s on %s; waiting for approval.", who, n.Office, days)
	case moffman.NotifyReservationApproved:
		return fmt.Sprintf("%s will be in %s on %s: approved.", who, n.Office, days)
	case moffman.NotifyReservationCancelled:
		return fmt.Sprintf("%s cancelled %s in %s.", who, days, n.Office)
	case moffman.NotifyManualApproved:
		return fmt.Sprintf("%s will be in %s on %s: added to the calendar and approved.", who, n.Office, days)
	case moffman.NotifyManualWaitlisted:
		return fmt.Sprintf("%s is on the waiting list for %s on %s.", who, n.Office, days)
	case moffman.NotifyFormStuck:
		return fmt.Sprintf("The approval of %s in %s on %s is stuck (step %s): %s", who, n.Office, days, n.Status, n.Detail)
	case moffman.NotifySyncFailing:
		return fmt.Sprintf("The calendar sync of %s keeps failing: %s", n.Office, n.Detail)
	}
	return fmt.Sprintf("%s: %s in %s on %s.", n.Type, who, n.Office, days)
}

// Days shows an all-day range [start, end) readably: "Mon 6 May 2024" or
// "Mon 6 May – Tue 7 May 2024".
func Days(start, end string) string {
	s, err1 := time.Parse(moffman.DateLayout, start)
	e, err2 := time.Parse(moffman.DateLayout, end)
	if err1 != nil || err2 != nil || !e.After(s) {
		return start + " – " + end
	}
	last := e.AddDate(0, 0, -1)
	if last.Equal(s) {
		return s.Format("Mon 2 Jan 2006")
	}
	first := "Mon 2 Jan"
	if s.Year() != last.Year() {
		first = "Mon 2 Jan 2006"
	}
	return s.Format(first) + " – " + last.Format("Mon 2 Jan 2006")
}
