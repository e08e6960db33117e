package google

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/moffman/moffman"
)

// Calendar is moffman.Calendar over Google Calendar v3. It is safe for
// concurrent use.
type Calendar struct {
	svc     *calendar.Service
	account string // the service account's e-mail
	tokens  *tokens
	call    caller
}

var _ moffman.Calendar = (*Calendar)(nil)

// NewCalendar builds the Calendar client once; no request is sent until the
// first call (which fetches the access token).
func NewCalendar(ctx context.Context, o Options) (*Calendar, error) {
	account, err := serviceAccount(o.KeyJSON)
	if err != nil {
		return nil, err
	}
	hc, tk, err := newHTTPClient(o, account, calendarScope)
	if err != nil {
		return nil, err
	}
	svc, err := calendar.NewService(ctx, option.WithHTTPClient(hc),
		option.WithEndpoint(endpoint(o.CalendarEndpoint, DefaultCalendarEndpoint)))
	if err != nil {
		return nil, moffman.WrapError(moffman.Internal, err, "cannot build the Google Calendar client")
	}
	return &Calendar{svc: svc, account: account, tokens: tk, call: newCaller("calendar", "Google Calendar", o)}, nil
}

// Account is the service account's e-mail: calendars must be shared with it.
func (c *Calendar) Account() string { return c.account }

// Insert adds ev. An empty ID is replaced by a random one here rather than
// by Google, so that a retried insert cannot create a second event.
//
// A retry after an attempt whose answer was lost (timeout, 5xx) may meet
// 409 because that attempt was stored after all. Insert then reads the
// event with that id and returns it when it is the one it wrote (same
// summary, dates, colour and private properties, not cancelled); anything
// else stays a Conflict.
func (c *Calendar) Insert(ctx context.Context, calendarID string, ev moffman.Event) (moffman.Event, error) {
	if ev.ID == "" {
		ev.ID = moffman.NewEventID()
	}
	body := insertBody(ev)
	what := fmt.Sprintf("event %q in calendar %q", ev.ID, calendarID)
	var got *calendar.Event
	retried := false
	err := c.call.do(ctx, "events.insert", what, func(ctx context.Context, attempt int) (err error) {
		retried = attempt > 1
		got, err = c.svc.Events.Insert(calendarID, body).Context(ctx).Do()
		return err
	})
	if err != nil && retried && apiStatus(err) == http.StatusConflict {
		if stored, gerr := c.Get(ctx, calendarID, ev.ID); gerr == nil && written(stored, ev) {
			return stored, nil
		}
	}
	if err != nil {
		return moffman.Event{}, c.fail(err, "events.insert", calendarID, ev.ID)
	}
	return fromGoogle(got), nil
}

// Get returns one event, cancelled ones included.
func (c *Calendar) Get(ctx context.Context, calendarID, eventID string) (moffman.Event, error) {
	var got *calendar.Event
	err := c.call.do(ctx, "events.get", fmt.Sprintf("event %q in calendar %q", eventID, calendarID),
		func(ctx context.Context, _ int) (err error) {
			got, err = c.svc.Events.Get(calendarID, eventID).Context(ctx).Do()
			return err
		})
	if err != nil {
		return moffman.Event{}, c.fail(err, "events.get", calendarID, eventID)
	}
	return fromGoogle(got), nil
}

// Patch sends only the fields set in p; Google merges them into the event.
// Patching is idempotent, so retries are safe.
func (c *Calendar) Patch(ctx context.Context, calendarID, eventID string, p moffman.EventPatch) (moffman.Event, error) {
	if err := moffman.ValidatePatch(p); err != nil {
		return moffman.Event{}, err // what Google would refuse, or could not tell (a key both set and removed)
	}
	body := patchBody(p)
	var got *calendar.Event
	err := c.call.do(ctx, "events.patch", fmt.Sprintf("event %q in calendar %q", eventID, calendarID),
		func(ctx context.Context, _ int) (err error) {
			got, err = c.svc.Events.Patch(calendarID, eventID, body).Context(ctx).Do()
			return err
		})
	if err != nil {
		return moffman.Event{}, c.fail(err, "events.patch", calendarID, eventID)
	}
	return fromGoogle(got), nil
}

// Delete cancels the event. Google answers 410 for an event cancelled
// before (also when an earlier attempt of this call got through), which is
// success here.
func (c *Calendar) Delete(ctx context.Context, calendarID, eventID string) error {
	err := c.call.do(ctx, "events.delete", fmt.Sprintf("event %q in calendar %q", eventID, calendarID),
		func(ctx context.Context, _ int) error {
			return c.svc.Events.Delete(calendarID, eventID).Context(ctx).Do()
		})
	if err == nil || apiStatus(err) == http.StatusGone {
		return nil
	}
	return c.fail(err, "events.delete", calendarID, eventID)
}

// List returns one page. With a sync token it sends none of the parameters
// Google refuses next to one (timeMin, timeMax); singleEvents is never set,
// as the Python service did not.
func (c *Calendar) List(ctx context.Context, calendarID string, q moffman.ListQuery) (moffman.EventPage, error) {
	if q.SyncToken != "" && (!q.TimeMin.IsZero() || !q.TimeMax.IsZero()) {
		// Google answers 400 to this; refusing it here saves the call.
		return moffman.EventPage{}, moffman.Errorf(moffman.Invalid, "a sync token cannot be combined with timeMin or timeMax")
	}
	var got *calendar.Events
	err := c.call.do(ctx, "events.list", fmt.Sprintf("calendar %q", calendarID),
		func(ctx context.Context, _ int) (err error) {
			call := c.svc.Events.List(calendarID).Context(ctx)
			if q.SyncToken != "" {
				call.SyncToken(q.SyncToken)
			}
			if !q.TimeMin.IsZero() {
				call.TimeMin(q.TimeMin.UTC().Format(time.RFC3339))
			}
			if !q.TimeMax.IsZero() {
				call.TimeMax(q.TimeMax.UTC().Format(time.RFC3339))
			}
			if q.ShowDeleted {
				call.ShowDeleted(true)
			}
			if q.PageToken != "" {
				call.PageToken(q.PageToken)
			}
			if q.MaxResults > 0 {
				call.MaxResults(int64(q.MaxResults))
			}
			got, err = call.Do()
			return err
		})
	if err != nil {
		return moffman.EventPage{}, c.fail(err, "events.list", calendarID, "")
	}
	page := moffman.EventPage{NextPageToken: got.NextPageToken, NextSyncToken: got.NextSyncToken}
	for _, it := range got.Items {
		page.Events = append(page.Events, fromGoogle(it))
	}
	return page, nil
}

// Subscribe adds the calendar to the service account's calendar list, which
// Google requires before a calendar shared with the account shows up there.
// An entry already in the list is no error.
func (c *Calendar) Subscribe(ctx context.Context, calendarID string) error {
	err := c.call.do(ctx, "calendarList.insert", fmt.Sprintf("calendar %q", calendarID),
		func(ctx context.Context, _ int) error {
			_, err := c.svc.CalendarList.Insert(&calendar.CalendarListEntry{Id: calendarID}).Context(ctx).Do()
			return err
		})
	switch apiStatus(err) {
	case 0:
		if err == nil {
			return nil
		}
	case http.StatusConflict:
		return nil
	case http.StatusNotFound:
		return moffman.WrapError(moffman.NotFound, err,
			"calendar %q does not exist or is not shared with the service account; share it with %s (permission \"Make changes to events\") and call /api/v1/config_update",
			calendarID, c.account)
	case http.StatusForbidden:
		if !usageLimit(err) {
			return moffman.WrapError(moffman.Forbidden, err,
				"the service account %s may not subscribe to calendar %q; share the calendar with it (permission \"Make changes to events\") and call /api/v1/config_update",
				c.account, calendarID)
		}
	}
	return c.fail(err, "calendarList.insert", calendarID, "")
}

// fail translates a final error into moffman's vocabulary; Unavailable
// errors from the retry loop pass through.
func (c *Calendar) fail(err error, method, calendarID, eventID string) error {
	var me *moffman.Error
	if errors.As(err, &me) {
		return err
	}
	what := fmt.Sprintf("calendar %q", calendarID)
	if eventID != "" {
		what = fmt.Sprintf("event %q in calendar %q", eventID, calendarID)
	}
	if cerr := credentialsRefused(err, c.account, "Google Calendar", method, what); cerr != nil {
		return cerr
	}
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return moffman.WrapError(moffman.Upstream, err, "Google Calendar %s for %s failed", method, what)
	}
	gm := googleMessage(ge)
	switch ge.Code {
	case http.StatusBadRequest:
		return moffman.WrapError(moffman.Invalid, err, "Google Calendar refused %s for %s: %s", method, what, gm)
	case http.StatusForbidden:
		if usageLimit(err) {
			return moffman.WrapError(moffman.Unavailable, err, "Google Calendar usage limits reached (%s for %s: %s); try again later", method, what, gm)
		}
		// A permission 403 (requiredAccessLevel: shared read-only, forbidden):
		// Forbidden, which the core answers like an unshared calendar, as it
		// heals when the calendar is shared for writing.
		return moffman.WrapError(moffman.Forbidden, err,
			"the service account %s lacks access to calendar %q (%s: %s); share the calendar with it with permission \"Make changes to events\"",
			c.account, calendarID, method, gm)
	case http.StatusNotFound:
		if eventID != "" && method != "events.insert" {
			return moffman.WrapError(moffman.NotFound, err,
				"no event %q in calendar %q (or the calendar is not shared with the service account %s)", eventID, calendarID, c.account)
		}
		return moffman.WrapError(moffman.NotFound, err,
			"calendar %q does not exist or is not shared with the service account %s", calendarID, c.account)
	case http.StatusConflict:
		return moffman.WrapError(moffman.Conflict, err, "event id %q is already used in calendar %q", eventID, calendarID)
	case http.StatusGone:
		return moffman.WrapError(moffman.Gone, err, "the sync token of calendar %q is no longer valid; a full sync is needed", calendarID)
	}
	return moffman.WrapError(moffman.Upstream, err, "Google Calendar %s for %s failed: %s", method, what, gm)
}

// usageLimit tells a quota 403 (quotaExceeded, dailyLimitExceeded, …) from
// a permission 403 by its reason (the client does not keep the domain).
func usageLimit(err error) bool {
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return false
	}
	for _, it := range ge.Errors {
		if strings.HasSuffix(it.Reason, "LimitExceeded") || it.Reason == "quotaExceeded" {
			return true
		}
	}
	return false
}

// insertBody is what the Python service sent: id, summary, start.date,
// end.date, colorId and the private properties, nothing else.
func insertBody(ev moffman.Event) *calendar.Event {
	e := &calendar.Event{
		Id:      ev.ID,
		Summary: ev.Summary,
		Start:   &calendar.EventDateTime{Date: ev.Start},
		End:     &calendar.EventDateTime{Date: ev.End},
		ColorId: ev.ColorID,
	}
	if len(ev.Private) > 0 {
		e.ExtendedProperties = &calendar.EventExtendedProperties{Private: maps.Clone(ev.Private)}
	}
	return e
}

// patchBody sends exactly the fields set: ForceSendFields makes an empty
// summary or date go out (the client drops empty strings otherwise), and an
// empty colour is sent as null, which resets it to the calendar's colour.
func patchBody(p moffman.EventPatch) *calendar.Event {
	e := &calendar.Event{}
	if p.Summary != nil {
		e.Summary = *p.Summary
		e.ForceSendFields = append(e.ForceSendFields, "Summary")
	}
	if p.Start != nil {
		e.Start = &calendar.EventDateTime{Date: *p.Start, ForceSendFields: []string{"Date"}}
	}
	if p.End != nil {
		e.End = &calendar.EventDateTime{Date: *p.End, ForceSendFields: []string{"Date"}}
	}
	if p.ColorID != nil {
		if *p.ColorID == "" {
			e.NullFields = append(e.NullFields, "ColorId")
		} else {
			e.ColorId = *p.ColorID
		}
	}
	if len(p.Private) > 0 || len(p.DropPrivate) > 0 {
		e.ExtendedProperties = &calendar.EventExtendedProperties{Private: maps.Clone(p.Private)}
		for _, k := range p.DropPrivate {
			// A null value removes the property; the map is sent even
			// when it holds nothing else.
			e.ExtendedProperties.NullFields = append(e.ExtendedProperties.NullFields, "Private."+k)
			e.ExtendedProperties.ForceSendFields = []string{"Private"}
		}
	}
	return e
}

// fromGoogle maps Google's event. Timed events (entered by hand) get the
// dates of their start and end, the end made exclusive like an all-day
// event's unless it falls on midnight.
func fromGoogle(g *calendar.Event) moffman.Event {
	ev := moffman.Event{
		ID:      g.Id,
		Summary: g.Summary,
		ColorID: g.ColorId,
		Status:  g.Status,
		ETag:    g.Etag,
		Created: parseTime(g.Created),
		Updated: parseTime(g.Updated),
	}
	if ev.Status == "" {
		ev.Status = moffman.StatusConfirmed
	}
	if g.Start != nil {
		ev.Start = dateOf(g.Start, false)
	}
	if g.End != nil {
		ev.End = dateOf(g.End, true)
	}
	if g.Creator != nil {
		ev.CreatorEmail = g.Creator.Email
	}
	if g.ExtendedProperties != nil && len(g.ExtendedProperties.Private) > 0 {
		ev.Private = maps.Clone(g.ExtendedProperties.Private)
	}
	return ev
}

func dateOf(t *calendar.EventDateTime, end bool) string {
	if t.Date != "" || t.DateTime == "" {
		return t.Date
	}
	dt, err := time.Parse(time.RFC3339, t.DateTime)
	if err != nil {
		return ""
	}
	d := time.Date(dt.Year(), dt.Month(), dt.Day(), 0, 0, 0, 0, time.UTC)
	if end && !dt.Equal(time.Date(dt.Year(), dt.Month(), dt.Day(), 0, 0, 0, 0, dt.Location())) {
		d = d.AddDate(0, 0, 1)
	}
	return d.Format(moffman.DateLayout)
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// written reports whether stored is the event ev an earlier insert attempt
// wrote.
func written(stored, ev moffman.Event) bool {
	if stored.Status == moffman.StatusCancelled || stored.Summary != ev.Summary ||
		stored.Start != ev.Start || stored.End != ev.End || stored.ColorID != ev.ColorID {
		return false
	}
	for k, v := range ev.Private {
		if got, ok := stored.Private[k]; !ok || got != v {
			return false
		}
	}
	return true
}
