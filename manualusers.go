package moffman

import (
	"context"
	"slices"
	"sync"
)

// manualUsers remembers which manual users every office calendar was
// searched for. Incremental listings only show what changed, so the events
// of a person added to the manual users after putting them in would never
// be seen; when users are added, every office is listed in full once.
type manualUsers struct {
	mu       sync.Mutex
	searched []string        // sorted e-mails; nil until loaded from the store
	pending  []string        // the users being searched for; nil when none are
	unlisted map[string]bool // calendars still to be listed in full for pending
}

// noteManualUsers compares the directory's manual users with those the
// offices were last searched for. Added users make every office due for
// one full listing; removed ones are only recorded.
func (m *ManualSync) noteManualUsers(ctx context.Context) {
	u := &m.users
	if u.searched == nil {
		saved, _, err := m.Store.ManualUsers(ctx)
		if err != nil {
			m.logger().WarnContext(ctx, "reading the manual users searched for failed; trying again next run", "error", err)
			return
		}
		slices.Sort(saved)
		u.searched = append([]string{}, saved...)
	}
	now := m.Directory.ManualUserEmails()
	u.mu.Lock()
	defer u.mu.Unlock()
	if slices.Equal(now, u.searched) || slices.Equal(now, u.pending) {
		return
	}
	u.pending = now
	if !containsAll(u.searched, now) {
		u.unlisted = make(map[string]bool)
		for _, o := range m.Directory.Offices() {
			u.unlisted[o.CalendarID] = true
		}
		m.logger().InfoContext(ctx, "manual users were added; every office calendar is listed in full once")
	}
}

// saveManualUsers stores the pending users once every office still in the
// directory has been listed for them.
func (m *ManualSync) saveManualUsers(ctx context.Context) {
	u := &m.users
	u.mu.Lock()
	offices := map[string]bool{}
	for _, o := range m.Directory.Offices() {
		offices[o.CalendarID] = true
	}
	for cal := range u.unlisted {
		if !offices[cal] {
			delete(u.unlisted, cal) // the office is gone
		}
	}
	pending := u.pending
	done := pending != nil && len(u.unlisted) == 0
	u.mu.Unlock()
	if !done {
		return
	}
	if err := m.Health.storeWrite(m.Store.SaveManualUsers(ctx, pending)); err != nil {
		m.logger().WarnContext(ctx, "saving the manual users searched for failed", "error", err)
		return
	}
	u.mu.Lock()
	u.searched, u.pending = pending, nil
	u.mu.Unlock()
}

// needsFullListing reports whether the calendar is still to be listed in
// full for added manual users.
func (u *manualUsers) needsFullListing(calendarID string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.unlisted[calendarID]
}

// listed records a full listing of the calendar.
func (u *manualUsers) listed(calendarID string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.unlisted, calendarID)
}

// containsAll reports whether the sorted list have holds every element of want.
func containsAll(have, want []string) bool {
	for _, w := range want {
		if _, ok := slices.BinarySearch(have, w); !ok {
			return false
		}
	}
	return true
}
