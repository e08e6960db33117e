package caldav

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav/caldav"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/eventstore"
)

// List returns one page of events.
//
// With a sync token it asks for the changes since (RFC 6578
// sync-collection): changed resources and removed ones, the latter as
// cancelled events. A token the server refuses is Gone, so the caller
// lists the window again: Radicale and Nextcloud answer 403 or 409 with
// DAV:valid-sync-token, Xandikos 500 (a server that is really failing then
// fails the full listing too). Without one it lists the window by a
// calendar-query with a time range, taking the sync token first from the
// collection's DAV:sync-token, so that a write made meanwhile shows up in
// the next incremental listing.
//
// CalDAV answers whole; List pages the answer itself. Each page asks
// again and continues after the last (start, id) in a window or the last
// id among changes, so a write between pages neither shifts nor hides
// anything, and hands out on the last page the sync token of the first.
func (c *Calendar) List(ctx context.Context, calendarID string, q moffman.ListQuery) (moffman.EventPage, error) {
	limit, err := eventstore.CheckQuery(q)
	if err != nil {
		return moffman.EventPage{}, err
	}
	coll, err := c.collection(calendarID)
	if err != nil {
		return moffman.EventPage{}, err
	}
	cur := cursor{Calendar: calendarID, Changes: q.SyncToken != ""}
	switch {
	case q.PageToken != "":
		var ok bool
		if cur, ok = parseCursor(q.PageToken, calendarID); !ok || cur.Changes != (q.SyncToken != "") {
			return moffman.EventPage{}, eventstore.InvalidPageToken(calendarID)
		}
	case q.SyncToken != "":
		var ok bool
		if cur.Since, ok = parseSyncToken(q.SyncToken, calendarID); !ok {
			return moffman.EventPage{}, eventstore.Gone(calendarID, nil)
		}
	}
	var events []moffman.Event
	if cur.Changes {
		events, err = c.changes(ctx, coll, calendarID, &cur)
	} else {
		events, err = c.window(ctx, coll, calendarID, q, &cur)
	}
	if err != nil {
		return moffman.EventPage{}, err
	}
	return cur.page(events, limit), nil
}

// changes lists what changed since cur.Since; on the first page it keeps
// the server's new token in cur.Next.
func (c *Calendar) changes(ctx context.Context, coll, calendarID string, cur *cursor) ([]moffman.Event, error) {
	resp, err := c.dav.SyncCollection(ctx, coll, &caldav.SyncQuery{SyncToken: cur.Since})
	if err != nil {
		if refused(err) {
			return nil, eventstore.Gone(calendarID, err)
		}
		return nil, fail(err, fmt.Sprintf("changes of calendar %q", calendarID))
	}
	if cur.ID == "" {
		cur.Next = resp.SyncToken
	}
	objs := resp.Updated
	var missing []string // objects whose data the server did not send along
	for _, o := range objs {
		if o.Data == nil {
			missing = append(missing, o.Path)
		}
	}
	if len(missing) > 0 {
		got, err := c.dav.MultiGetCalendar(ctx, coll, &caldav.CalendarMultiGet{Paths: missing})
		if err != nil {
			return nil, fail(err, fmt.Sprintf("changed events of calendar %q", calendarID))
		}
		objs = append(slices.DeleteFunc(objs, func(o caldav.CalendarObject) bool { return o.Data == nil }), got...)
	}
	events := c.events(ctx, calendarID, objs)
	for _, p := range resp.Deleted {
		if id, ok := eventIDOf(p, ""); ok {
			events = append(events, moffman.Event{ID: id, Status: moffman.StatusCancelled})
		}
	}
	return events, nil
}

// refused reports whether the server refused the sync token of a
// sync-collection request.
func refused(err error) bool {
	var se *statusError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case http.StatusForbidden, http.StatusConflict, http.StatusBadRequest:
		return strings.Contains(se.Body, "valid-sync-token")
	case http.StatusInternalServerError:
		return true // Xandikos fails on a token it does not know
	}
	return false
}

// window lists the events overlapping [q.TimeMin, q.TimeMax); on the first
// page it first reads the collection's sync token into cur.Next.
func (c *Calendar) window(ctx context.Context, coll, calendarID string, q moffman.ListQuery, cur *cursor) ([]moffman.Event, error) {
	what := fmt.Sprintf("calendar %q", calendarID)
	if cur.ID == "" {
		_, token, err := c.properties(ctx, coll)
		if err != nil {
			return nil, fail(err, what)
		}
		cur.Next = token
	}
	filter := caldav.CompFilter{Name: "VCALENDAR", Comps: []caldav.CompFilter{{Name: "VEVENT"}}}
	if !q.TimeMin.IsZero() || !q.TimeMax.IsZero() {
		// A day more on each side: servers differ in how they place
		// floating all-day dates; the exact bounds are applied below.
		start, end := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		if !q.TimeMin.IsZero() && q.TimeMin.After(start) {
			start = q.TimeMin.UTC().AddDate(0, 0, -1)
		}
		if !q.TimeMax.IsZero() && q.TimeMax.Before(end) {
			end = q.TimeMax.UTC().AddDate(0, 0, 1)
		}
		filter.Comps[0].Start, filter.Comps[0].End = start, end
	}
	objs, err := c.dav.QueryCalendar(ctx, coll, &caldav.CalendarQuery{CompFilter: filter})
	if err != nil {
		return nil, fail(err, what)
	}
	lo, hi := eventstore.DateBounds(q.TimeMin, q.TimeMax)
	return slices.DeleteFunc(c.events(ctx, calendarID, objs), func(ev moffman.Event) bool {
		return ev.End <= lo || ev.Start >= hi || (ev.Status == moffman.StatusCancelled && !q.ShowDeleted)
	}), nil
}

// events reads the events of calendar objects, skipping those that are
// no event or are not named <id>.ics.
func (c *Calendar) events(ctx context.Context, calendarID string, objs []caldav.CalendarObject) []moffman.Event {
	events := make([]moffman.Event, 0, len(objs))
	for _, o := range objs {
		var uid string
		if ve := mainEvent(o.Data); ve != nil {
			uid, _ = ve.Props.Text(ical.PropUID)
		}
		id, ok := eventIDOf(o.Path, uid)
		if !ok {
			c.log.WarnContext(ctx, "skipping a CalDAV resource not named *.ics", "calendar_id", calendarID, "path", o.Path)
			continue
		}
		if ev, ok := toEvent(id, o.Data, o.ETag); ok {
			events = append(events, ev)
		}
	}
	return events
}

// cursor is where a listing continues, and the page token's content.
type cursor struct {
	Calendar string
	Changes  bool
	Since    string // the server's token the changes are asked since
	Next     string // the server's token for the last page
	Start    string // the last event returned (window: start and id)
	ID       string
}

// page sorts the events, keeps those after the cursor and cuts a page.
func (cur cursor) page(events []moffman.Event, limit int) moffman.EventPage {
	key := func(ev moffman.Event) string { return ev.Start }
	if cur.Changes {
		key = func(moffman.Event) string { return "" } // by id only: a removed event has no dates
	}
	slices.SortFunc(events, func(a, b moffman.Event) int {
		return cmp.Or(strings.Compare(key(a), key(b)), strings.Compare(a.ID, b.ID))
	})
	if cur.ID != "" {
		events = slices.DeleteFunc(events, func(ev moffman.Event) bool {
			return cmp.Or(strings.Compare(key(ev), cur.Start), strings.Compare(ev.ID, cur.ID)) <= 0
		})
	}
	var p moffman.EventPage
	if len(events) > limit {
		events = events[:limit]
		last := events[limit-1]
		next := cur
		next.Start, next.ID = key(last), last.ID
		p.NextPageToken = next.token()
	} else if cur.Next != "" {
		p.NextSyncToken = syncToken(cur.Calendar, cur.Next)
	}
	p.Events = events
	return p
}

// The kinds of token, the first field of each.
const (
	windowKind  = "w"
	changesKind = "c"
	syncKind    = "t1" // a server's sync token inside
)

func (cur cursor) token() string {
	kind := windowKind
	if cur.Changes {
		kind = changesKind
	}
	return eventstore.Encode(cur.Calendar, kind, cur.Since, cur.Next, cur.Start, cur.ID)
}

func parseCursor(tok, calendarID string) (cursor, bool) {
	f, ok := eventstore.Decode(tok, calendarID)
	if !ok || len(f) != 5 || (f[0] != windowKind && f[0] != changesKind) {
		return cursor{}, false
	}
	cur := cursor{Calendar: calendarID, Changes: f[0] == changesKind, Since: f[1], Next: f[2], Start: f[3], ID: f[4]}
	return cur, cur.ID != ""
}

func syncToken(calendarID, server string) string {
	return eventstore.Encode(calendarID, syncKind, server)
}

// parseSyncToken returns the server's token inside one issued for
// calendarID.
func parseSyncToken(tok, calendarID string) (string, bool) {
	f, ok := eventstore.Decode(tok, calendarID)
	if !ok || len(f) != 2 || f[0] != syncKind {
		return "", false
	}
	return f[1], f[1] != ""
}
