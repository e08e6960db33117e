package caldav

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/eventstore"
)

// maxRaces bounds how often a Patch or Delete starts again from a fresh
// read after another client wrote the event in between.
const maxRaces = 5

// Insert writes ev as a new resource, only if none has its name
// (If-None-Match: *): an existing one, cancelled or not, is Conflict.
// CreatorEmail becomes the ORGANIZER.
func (c *Calendar) Insert(ctx context.Context, calendarID string, ev moffman.Event) (moffman.Event, error) {
	if err := moffman.ValidateNewEvent(ev); err != nil {
		return moffman.Event{}, err
	}
	if ev.ID == "" {
		ev.ID = moffman.NewEventID()
	}
	p := moffman.EventPatch{Start: &ev.Start, End: &ev.End, ColorID: &ev.ColorID, Private: ev.Private}
	if err := validate(p, ev.Start, ev.End); err != nil {
		return moffman.Event{}, err
	}
	coll, err := c.collection(calendarID)
	if err != nil {
		return moffman.Event{}, err
	}
	what := fmt.Sprintf("event %q in calendar %q", ev.ID, calendarID)
	obj := newObject(ev, c.clock())
	etag, err := c.put(ctx, resource(coll, ev.ID), obj, "")
	switch {
	case err == nil:
	case statusOf(err) == http.StatusPreconditionFailed:
		return moffman.Event{}, eventstore.IDUsed(calendarID, ev.ID)
	case statusOf(err) == http.StatusNotFound || statusOf(err) == http.StatusConflict || statusOf(err) == http.StatusForbidden:
		// A missing collection (Radicale answers 409, others 404), or the
		// UID is held by another resource (RFC 4791 no-uid-conflict).
		if ok, _, perr := c.properties(ctx, coll); perr == nil && ok {
			return moffman.Event{}, moffman.WrapError(moffman.Conflict, err, "event id %q is already used in calendar %q", ev.ID, calendarID)
		}
		return moffman.Event{}, moffman.WrapError(moffman.NotFound, err,
			"calendar %q not found on the CalDAV server or not writable by caldav.username", calendarID)
	default:
		return moffman.Event{}, fail(err, what)
	}
	stored, _ := toEvent(ev.ID, obj, etag)
	return stored, nil
}

// Get reads the event's resource.
func (c *Calendar) Get(ctx context.Context, calendarID, eventID string) (moffman.Event, error) {
	coll, err := c.collection(calendarID)
	if err != nil {
		return moffman.Event{}, err
	}
	what := fmt.Sprintf("event %q in calendar %q", eventID, calendarID)
	obj, etag, err := c.read(ctx, resource(coll, eventID), what)
	if err != nil {
		return moffman.Event{}, err
	}
	ev, ok := toEvent(eventID, obj, etag)
	if !ok {
		return moffman.Event{}, moffman.Errorf(moffman.NotFound, "%s not found: the resource holds no VEVENT", what)
	}
	return ev, nil
}

// Patch writes the fields set in p into the stored event, keeping the
// properties other clients set.
func (c *Calendar) Patch(ctx context.Context, calendarID, eventID string, p moffman.EventPatch) (moffman.Event, error) {
	return c.update(ctx, calendarID, eventID, func(ve *ical.Component, cur moffman.Event) (bool, error) {
		start, end := cur.Start, cur.End
		if p.Start != nil {
			start = *p.Start
		}
		if p.End != nil {
			end = *p.End
		}
		if err := validate(p, start, end); err != nil {
			return false, err
		}
		apply(ve, p)
		touch(ve, c.clock())
		return true, nil
	})
}

// Delete rewrites the event with STATUS:CANCELLED (see the package
// comment); an event cancelled already is left as it is.
func (c *Calendar) Delete(ctx context.Context, calendarID, eventID string) error {
	_, err := c.update(ctx, calendarID, eventID, func(ve *ical.Component, cur moffman.Event) (bool, error) {
		if cur.Status == moffman.StatusCancelled {
			return false, nil
		}
		ve.Props.SetText(ical.PropStatus, string(ical.EventCancelled))
		touch(ve, c.clock())
		return true, nil
	})
	return err
}

// update reads an event, lets change modify its VEVENT (false: nothing to
// write) and writes it back If-Match its ETag, starting again from a fresh
// read when another client wrote in between.
func (c *Calendar) update(ctx context.Context, calendarID, eventID string,
	change func(ve *ical.Component, cur moffman.Event) (bool, error)) (moffman.Event, error) {
	coll, err := c.collection(calendarID)
	if err != nil {
		return moffman.Event{}, err
	}
	href := resource(coll, eventID)
	what := fmt.Sprintf("event %q in calendar %q", eventID, calendarID)
	for race := 1; ; race++ {
		obj, etag, err := c.read(ctx, href, what)
		if err != nil {
			return moffman.Event{}, err
		}
		cur, ok := toEvent(eventID, obj, etag)
		if !ok {
			return moffman.Event{}, moffman.Errorf(moffman.NotFound, "%s not found: the resource holds no VEVENT", what)
		}
		write, err := change(mainEvent(obj), cur)
		if err != nil || !write {
			return cur, err
		}
		etag, err = c.put(ctx, href, obj, cur.ETag)
		switch {
		case err == nil:
			ev, _ := toEvent(eventID, obj, etag)
			return ev, nil
		case statusOf(err) == http.StatusNotFound:
			return moffman.Event{}, moffman.WrapError(moffman.NotFound, err, "%s not found: it was removed meanwhile", what)
		case statusOf(err) != http.StatusPreconditionFailed:
			return moffman.Event{}, fail(err, what)
		case race == maxRaces:
			return moffman.Event{}, moffman.WrapError(moffman.Unavailable, err,
				"%s kept changing while moffman wrote it (%d attempts); try again", what, race)
		}
		c.log.DebugContext(ctx, "CalDAV event changed meanwhile; reading it again", "calendar_id", calendarID, "event_id", eventID)
	}
}

// Subscribe checks that the calendar collection exists and the account
// can read it; CalDAV has no subscription of its own.
func (c *Calendar) Subscribe(ctx context.Context, calendarID string) error {
	coll, err := c.collection(calendarID)
	if err != nil {
		return err
	}
	isCalendar, _, err := c.properties(ctx, coll)
	switch code := statusOf(err); {
	case code == http.StatusNotFound || code == http.StatusForbidden:
		return moffman.WrapError(moffman.NotFound, err,
			"calendar %q not found on the CalDAV server or not shared with caldav.username", calendarID)
	case err != nil:
		return fail(err, fmt.Sprintf("calendar %q", calendarID))
	case !isCalendar:
		return moffman.Errorf(moffman.NotFound, "%q on the CalDAV server is not a calendar collection", calendarID)
	}
	return nil
}

// clock is now in UTC to the second, the precision of iCalendar times.
func (c *Calendar) clock() time.Time { return c.now().UTC().Truncate(time.Second) }

// read fetches a resource and its ETag (unquoted).
func (c *Calendar) read(ctx context.Context, href, what string) (*ical.Calendar, string, error) {
	co, err := c.dav.GetCalendarObject(ctx, href)
	if err != nil {
		return nil, "", fail(err, what)
	}
	return co.Data, co.ETag, nil
}

// put writes a resource: If-Match ifMatch (quoted), or If-None-Match: *
// when ifMatch is "". It returns the new ETag. go-webdav's
// PutCalendarObject sends no conditions (a TODO there), hence this.
func (c *Calendar) put(ctx context.Context, href string, obj *ical.Calendar, ifMatch string) (string, error) {
	var body bytes.Buffer
	if err := ical.NewEncoder(&body).Encode(obj); err != nil {
		return "", moffman.WrapError(moffman.Internal, err, "caldav: encoding %s", href)
	}
	u := c.base.ResolveReference(&url.URL{Path: href})
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), &body)
	if err != nil {
		return "", moffman.WrapError(moffman.Internal, err, "caldav: request for %s", href)
	}
	req.Header.Set("Content-Type", "text/calendar; charset=utf-8")
	if ifMatch == "" {
		req.Header.Set("If-None-Match", "*")
	} else {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if etag := resp.Header.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
		return strings.Trim(etag, `"`), nil
	}
	// The server changed what it stored (RFC 4791 5.3.4) or sends no ETag.
	co, err := c.dav.GetCalendarObject(ctx, href)
	if err != nil {
		return "", err
	}
	return co.ETag, nil
}

// propfind asks for the two collection properties moffman needs.
const propfind = `<?xml version="1.0" encoding="utf-8"?>
<propfind xmlns="DAV:"><prop><resourcetype/><sync-token/></prop></propfind>`

type multistatus struct {
	Responses []struct {
		Propstats []struct {
			Status string `xml:"DAV: status"`
			Prop   struct {
				ResourceType struct {
					Calendar *struct{} `xml:"urn:ietf:params:xml:ns:caldav calendar"`
				} `xml:"DAV: resourcetype"`
				SyncToken string `xml:"DAV: sync-token"`
			} `xml:"DAV: prop"`
		} `xml:"DAV: propstat"`
	} `xml:"DAV: response"`
}

// properties reads whether a collection is a calendar and its current
// RFC 6578 sync token ("" when the server has none). go-webdav's
// FindCalendar reads neither.
func (c *Calendar) properties(ctx context.Context, coll string) (isCalendar bool, syncToken string, err error) {
	u := c.base.ResolveReference(&url.URL{Path: coll})
	req, err := http.NewRequestWithContext(ctx, "PROPFIND", u.String(), strings.NewReader(propfind))
	if err != nil {
		return false, "", err
	}
	req.Header.Set("Content-Type", `application/xml; charset="utf-8"`)
	req.Header.Set("Depth", "0")
	resp, err := c.http.Do(req)
	if err != nil {
		return false, "", err
	}
	defer resp.Body.Close()
	var ms multistatus
	if err := xml.NewDecoder(resp.Body).Decode(&ms); err != nil {
		return false, "", fmt.Errorf("PROPFIND %s: %w", coll, err)
	}
	for _, r := range ms.Responses {
		for _, ps := range r.Propstats {
			if strings.Contains(ps.Status, " 200") {
				isCalendar = isCalendar || ps.Prop.ResourceType.Calendar != nil
				if t := strings.TrimSpace(ps.Prop.SyncToken); t != "" {
					syncToken = t
				}
			}
		}
		break // Depth 0: the collection itself
	}
	return isCalendar, syncToken, nil
}
