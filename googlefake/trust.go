package googlefake

import (
	"fmt"
	"net/http"
	"slices"
)

// Controls for what a service running for months meets: a key revoked at
// the token endpoint, a calendar unshared and shared again, an event
// restored from the trash. ([Server.RevokeTokens] refuses issued access
// tokens; a [Fault] with a Delay answers slowly.)

// SetKeyRevoked makes the token endpoint refuse (revoked true) or accept
// the key from [Server.KeyJSON] again. While refused it answers 400
// invalid_grant "Invalid JWT Signature.", which is what Google's OAuth
// endpoint says for a deleted or disabled key. Access tokens issued before
// stay valid, as at Google; revoke them with [Server.RevokeTokens].
func (s *Server) SetKeyRevoked(revoked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keyRevoked = revoked
}

// Unshare takes the calendar away from the service account, as when its
// owner removes the account from the sharing settings: until [Server.Share],
// events.* and calendarList.insert for it answer 404 notFound "Not Found",
// and it leaves the account's calendar list (Google drops an entry the
// account lost access to; sharing again does not bring it back, a
// calendarList.insert does). It panics on an unknown calendar.
func (s *Server) Unshare(calendarID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCalendar(calendarID)
	c.shared, c.readOnly = false, false
	s.calendarList = slices.DeleteFunc(s.calendarList, func(id string) bool { return id == calendarID })
}

// Share gives the service account "Make changes to events" on the calendar
// again (after [Server.Unshare] or [Server.ShareReadOnly]). It panics on an
// unknown calendar.
func (s *Server) Share(calendarID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCalendar(calendarID)
	c.shared, c.readOnly = true, false
}

// ShareReadOnly leaves the account "See all event details" only: reads and
// calendarList.insert work, event writes answer 403 requiredAccessLevel
// "You need to have writer access to this calendar.", as Google does. It
// panics on an unknown calendar.
func (s *Server) ShareReadOnly(calendarID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.mustCalendar(calendarID)
	c.shared, c.readOnly = true, true
}

// Restore brings a deleted (cancelled) event back from the trash, as the
// Calendar UI does: it is "confirmed" again with a new updated and etag,
// and incremental listings report it as a change.
func (s *Server) Restore(calendarID, eventID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calendars[calendarID]
	if !ok {
		return fmt.Errorf("googlefake: no calendar %q", calendarID)
	}
	st, ok := c.events[eventID]
	if !ok {
		return fmt.Errorf("googlefake: no event %q in calendar %q", eventID, calendarID)
	}
	if st.ev.Status != "cancelled" {
		return fmt.Errorf("googlefake: event %q in calendar %q is %s, not deleted", eventID, calendarID, st.ev.Status)
	}
	st.ev.Status = "confirmed"
	s.touch(c, st)
	return nil
}

func (s *Server) mustCalendar(id string) *calendarData {
	c, ok := s.calendars[id]
	if !ok {
		panic(fmt.Sprintf("googlefake: no calendar %q (AddCalendar first)", id))
	}
	return c
}

// errReadOnly is Google's answer to a write by a reader of the calendar.
var errReadOnly = apiError{Code: http.StatusForbidden, Reason: "requiredAccessLevel",
	Message: "You need to have writer access to this calendar."}
