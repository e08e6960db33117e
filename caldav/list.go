package caldav

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav/caldav"

	"github.com/moffman/moffman"
)

// Page sizes of List, as Google's events.list.
const (
	defaultPageSize = 250
	maxPageSize     = 2500
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
	if q.SyncToken != "" && (!q.TimeMin.IsZero() || !q.TimeMax.IsZero()) {
		return moffman.EventPage{}, moffman.Errorf(moffman.Invalid, "a sync token cannot be combined with timeMin or timeMax")
	}
	if !q.TimeMin.IsZero() && !q.TimeMax.IsZero() && !q.TimeMax.After(q.TimeMin) {
		return moffman.EventPage{}, moffman.Errorf(moffman.Invalid, "timeMax (%s) must be after timeMin (%s)",
			q.TimeMax.Format(time.RFC3339), q.TimeMin.Format(time.RFC3339))
	}
	limit := q.MaxResults
	if limit <= 0 {
		limit = defaultPageSize
	}
	limit = min(limit, maxPageSize)
	coll, err := c.collection(calendarID)
	if err != nil {
		return moffman.EventPage{}, err
	}
	cur := cursor{Calendar: calendarID, Changes: q.SyncToken != ""}
	switch {
	case q.PageToken != "":
		var ok bool
		if cur, ok = parseCursor(q.PageToken, calendarID); !ok || cur.Changes != (q.SyncToken != "") {
			return moffman.EventPage{}, moffman.Errorf(moffman.Invalid, "invalid page token for calendar %q", calendarID)
		}
	case q.SyncToken != "":
		var ok bool
		if cur.Since, ok = parseSyncToken(q.SyncToken, calendarID); !ok {
			return moffman.EventPage{}, gone(calendarID, nil)
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
			return nil, gone(calendarID, err)
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

func gone(calendarID string, err error) error {
	return moffman.WrapError(moffman.Gone, err, "sync token is not valid for calendar %q: a full sync is required", calendarID)
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
	lo, hi := dateBounds(q.TimeMin, q.TimeMax)
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

// dateBounds turns [min, max) into bounds on the date strings: an all-day
// event (dates as midnight UTC) overlaps when end > lo and start < hi.
// Zero times are unbounded. (The same rule as the embedded store.)
func dateBounds(tmin, tmax time.Time) (lo, hi string) {
	lo, hi = "", "~" // below and above every date
	if !tmin.IsZero() {
		t := tmin.UTC()
		switch {
		case t.Year() > 9999:
			lo = hi
		case t.Year() >= 1:
			lo = t.Format(moffman.DateLayout)
		}
	}
	if !tmax.IsZero() {
		t := tmax.UTC()
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		if !t.Equal(day) {
			day = day.AddDate(0, 0, 1) // an event starting that day starts before tmax
		}
		switch {
		case day.Year() < 1:
			hi = ""
		case day.Year() <= 9999:
			hi = day.Format(moffman.DateLayout)
		}
	}
	return lo, hi
}

// cursor is where a listing continues, and the page token's content.
type cursor struct {
	Calendar string `json:"k"`
	Changes  bool   `json:"c,omitempty"`
	Since    string `json:"s,omitempty"` // the server's token the changes are asked since
	Next     string `json:"n,omitempty"` // the server's token for the last page
	Start    string `json:"d,omitempty"` // the last event returned (window: start and id)
	ID       string `json:"i,omitempty"`
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

// Tokens are opaque to callers: base64 of JSON, carrying the calendar so
// that one cannot be used for another.
var tokenEncoding = base64.RawURLEncoding

func (cur cursor) token() string {
	b, _ := json.Marshal(cur)
	return tokenEncoding.EncodeToString(b)
}

func parseCursor(tok, calendarID string) (cursor, bool) {
	var cur cursor
	b, err := tokenEncoding.DecodeString(tok)
	if err != nil || json.Unmarshal(b, &cur) != nil {
		return cursor{}, false
	}
	return cur, cur.Calendar == calendarID && cur.ID != ""
}

type syncTokenJSON struct {
	Version  int    `json:"v"`
	Calendar string `json:"k"`
	Server   string `json:"t"`
}

func syncToken(calendarID, server string) string {
	b, _ := json.Marshal(syncTokenJSON{Version: 1, Calendar: calendarID, Server: server})
	return tokenEncoding.EncodeToString(b)
}

// parseSyncToken returns the server's token inside one issued for
// calendarID.
func parseSyncToken(tok, calendarID string) (string, bool) {
	var t syncTokenJSON
	b, err := tokenEncoding.DecodeString(tok)
	if err != nil || json.Unmarshal(b, &t) != nil {
		return "", false
	}
	return t.Server, t.Version == 1 && t.Calendar == calendarID && t.Server != ""
}
