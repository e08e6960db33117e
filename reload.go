package moffman

import (
	"context"
	"log/slog"
	"sync"
)

// Reloader keeps the directory's dynamic lists fresh and every office
// calendar subscribed. With no Source it only subscribes.
type Reloader struct {
	Source    DirectorySource // nil: no spreadsheet configured
	Directory *Directory
	Store     StateStore
	Calendar  Calendar
	Logger    *slog.Logger
	// RoomFreed is told each office whose capacity a reload changed, which
	// may give waitlisted events their desks; nil: nobody is told.
	RoomFreed func(officeID string)

	mu         sync.Mutex      // one reload at a time
	subscribed map[string]bool // calendars subscribed since start, by id
}

// Restore loads the last good spreadsheet lists from the store, so a start
// while the spreadsheet is unreachable still knows every office and user.
func (r *Reloader) Restore(ctx context.Context) error {
	if r.Source == nil {
		return nil
	}
	lists, ok, err := r.Store.LoadDirectory(ctx)
	if err != nil || !ok {
		return err
	}
	r.Directory.SetDynamic(lists)
	r.logger().InfoContext(ctx, "restored last good spreadsheet lists", "offices", len(lists.Offices), "manual_users", len(lists.ManualUsers))
	return nil
}

// Reload reads the spreadsheet (when configured), replaces the dynamic
// lists and makes sure every office calendar is subscribed, as at start and
// on /api/v1/config_update. A failed read keeps the last good lists and is
// returned; subscription failures are logged per office and remembered by
// the directory, so only that office's requests fail.
func (r *Reloader) Reload(ctx context.Context) error { return r.reload(ctx, true) }

// Refresh is the periodic reload: like Reload, but it subscribes only the
// calendars not subscribed yet (new offices, and those that failed), so
// that a short update_interval costs one spreadsheet read, not a call per
// office.
func (r *Reloader) Refresh(ctx context.Context) error { return r.reload(ctx, false) }

func (r *Reloader) reload(ctx context.Context, all bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Source != nil {
		lists, err := r.Source.Load(ctx)
		if err != nil {
			r.logger().ErrorContext(ctx, "configuration reload failed; keeping the last good lists", "error", err)
			return WrapError(ErrorCode(err), err, "reloading offices and manual users from the spreadsheet failed; the last good lists stay in use")
		}
		before := r.Directory.Offices()
		r.Directory.SetDynamic(lists)
		r.capacityChanged(before)
		if err := r.Store.SaveDirectory(ctx, lists); err != nil {
			r.logger().ErrorContext(ctx, "saving the spreadsheet lists failed", "error", err)
		}
		r.logger().InfoContext(ctx, "configuration reloaded", "offices", len(r.Directory.Offices()), "manual_users", r.Directory.ManualUserCount())
	}
	r.subscribe(ctx, all)
	return nil
}

func (r *Reloader) subscribe(ctx context.Context, all bool) {
	if r.subscribed == nil {
		r.subscribed = make(map[string]bool)
	}
	for _, o := range r.Directory.Offices() {
		if !all && r.subscribed[o.CalendarID] {
			continue
		}
		err := r.Calendar.Subscribe(ctx, o.CalendarID)
		r.subscribed[o.CalendarID] = err == nil
		// Only a refusal marks the office unusable; a passing outage does not.
		if err == nil || IsCode(err, NotFound) || IsCode(err, Forbidden) || IsCode(err, Upstream) {
			r.Directory.SetCalendarError(o.CalendarID, err)
		}
		if err != nil {
			r.logger().ErrorContext(ctx, "office calendar is not accessible; share it with the service account",
				"office", o.Name, "calendar_id", o.CalendarID, "error", err)
		}
	}
}

// capacityChanged tells RoomFreed the offices whose capacity differs from
// before.
func (r *Reloader) capacityChanged(before []Office) {
	if r.RoomFreed == nil {
		return
	}
	old := make(map[string]*int, len(before))
	for _, o := range before {
		old[o.Name] = o.Capacity
	}
	for _, o := range r.Directory.Offices() {
		was := old[o.Name] // a new office was unlimited before
		if (was == nil) == (o.Capacity == nil) && (was == nil || *was == *o.Capacity) {
			continue
		}
		r.RoomFreed(o.Name)
	}
}

func (r *Reloader) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}
