package caldav

import (
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/moffman/moffman"
)

// The mapping of an event to iCalendar (RFC 5545):
//
//	ID            the resource name <id>.ics, and UID:<id> on events moffman inserts
//	Start, End    DTSTART;VALUE=DATE / DTEND;VALUE=DATE (end exclusive)
//	Summary       SUMMARY
//	ColorID       COLOR (RFC 7986), the CSS colour name nearest to Google's colour
//	Private[k]    X-MOFFMAN-K with k upper-cased and "_" as "-", e.g.
//	              event_processed is X-MOFFMAN-EVENT-PROCESSED:true|false
//	CreatorEmail  ORGANIZER:mailto:<e-mail>
//	Status        STATUS:CANCELLED when cancelled
//	Created       CREATED; Updated: LAST-MODIFIED (else DTSTAMP)
//	ETag          the resource's ETag
//
// Events written by other clients may be timed (DTSTART with a time) or
// recurring: a timed event gets the dates it touches, the end made
// exclusive; a recurring one is read as its first occurrence only.

const (
	prodID        = "-//moffman//moffman CalDAV adapter//EN"
	privatePrefix = "X-MOFFMAN-"
	propColor     = "COLOR"
)

// palette holds, for each Google event colour id 1 to 11, the CSS3 colour
// name nearest to it in Google's palette (#a4bdfc lavender, #7ae7bf sage, …).
var palette = [...]string{
	1:  "lightsteelblue",
	2:  "aquamarine",
	3:  "plum",
	4:  "salmon",
	5:  "khaki",
	6:  "sandybrown",
	7:  "mediumturquoise",
	8:  "gainsboro",
	9:  "cornflowerblue",
	10: "limegreen",
	11: "firebrick",
}

// colorName returns the COLOR of a Google colour id ("" for none).
func colorName(id string) string {
	n, err := strconv.Atoi(id)
	if err != nil || n < 1 || n >= len(palette) || strconv.Itoa(n) != id {
		return ""
	}
	return palette[n]
}

// colorID returns the Google colour id of a COLOR, "" when it is none of
// the palette's (a colour a person picked in another client).
func colorID(name string) string {
	for i, c := range palette {
		if i > 0 && strings.EqualFold(c, name) {
			return strconv.Itoa(i)
		}
	}
	return ""
}

// privateName returns the property name of a private key; false when the
// key cannot be written as one (only a-z, 0-9 and "_" map back unchanged).
func privateName(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	for _, c := range []byte(key) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return "", false
		}
	}
	return privatePrefix + strings.ToUpper(strings.ReplaceAll(key, "_", "-")), true
}

// privateKey is the inverse of privateName.
func privateKey(name string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.ToUpper(name), privatePrefix)
	if !ok || rest == "" {
		return "", false
	}
	return strings.ToLower(strings.ReplaceAll(rest, "-", "_")), true
}

// newObject returns the calendar object of a new event.
func newObject(ev moffman.Event, now time.Time) *ical.Calendar {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, prodID)
	ve := ical.NewComponent(ical.CompEvent)
	ve.Props.SetText(ical.PropUID, ev.ID)
	ve.Props.SetDateTime(ical.PropCreated, now)
	ve.Props.SetDateTime(ical.PropDateTimeStamp, now)
	ve.Props.SetDateTime(ical.PropLastModified, now)
	ve.Props.Set(&ical.Prop{Name: ical.PropSequence, Params: ical.Params{}, Value: "0"})
	ve.Props.SetText(ical.PropStatus, string(ical.EventConfirmed))
	if ev.CreatorEmail != "" {
		ve.Props.Set(&ical.Prop{Name: ical.PropOrganizer, Params: ical.Params{}, Value: "mailto:" + ev.CreatorEmail})
	}
	cal.Children = append(cal.Children, ve)
	start, end, color := ev.Start, ev.End, ev.ColorID
	summary := ev.Summary
	apply(ve, moffman.EventPatch{Summary: &summary, Start: &start, End: &end, ColorID: &color, Private: ev.Private})
	return cal
}

// apply writes the fields set in p into the event component, leaving the
// other properties (alarms, attendees, … of other clients) as they are.
func apply(ve *ical.Component, p moffman.EventPatch) {
	if p.Summary != nil {
		setText(ve, ical.PropSummary, *p.Summary)
	}
	if p.Start != nil {
		setDate(ve, ical.PropDateTimeStart, *p.Start)
	}
	if p.End != nil {
		ve.Props.Del(ical.PropDuration)
		setDate(ve, ical.PropDateTimeEnd, *p.End)
	}
	if p.ColorID != nil {
		setText(ve, propColor, colorName(*p.ColorID))
	}
	for k, v := range p.Private {
		name, _ := privateName(k) // checked by validate
		prop := ical.NewProp(name)
		prop.SetText(v)
		prop.Params.Del(ical.ParamValue) // TEXT is the default of X- properties
		ve.Props.Set(prop)
	}
	for _, k := range p.DropPrivate {
		if name, ok := privateName(k); ok { // a name CalDAV cannot keep was never stored
			ve.Props.Del(name)
		}
	}
}

// touch records a write: DTSTAMP, LAST-MODIFIED and SEQUENCE one up, so
// that every write gives a new ETag even within the second iCalendar
// times resolve (SEQUENCE may rise more often than RFC 5545 requires; with
// no attendees nobody is notified of it).
func touch(ve *ical.Component, now time.Time) {
	ve.Props.SetDateTime(ical.PropDateTimeStamp, now)
	ve.Props.SetDateTime(ical.PropLastModified, now)
	seq := 0
	if p := ve.Props.Get(ical.PropSequence); p != nil {
		seq, _ = p.Int()
	}
	ve.Props.Set(&ical.Prop{Name: ical.PropSequence, Params: ical.Params{}, Value: strconv.Itoa(seq + 1)})
}

func setText(ve *ical.Component, name, v string) {
	if v == "" {
		ve.Props.Del(name)
		return
	}
	ve.Props.SetText(name, v)
}

func setDate(ve *ical.Component, name, date string) {
	t, _ := time.Parse(moffman.DateLayout, date) // checked before
	ve.Props.Del(name)
	ve.Props.SetDate(name, t)
}

// mainEvent returns the VEVENT of a calendar object: the one without
// RECURRENCE-ID (overrides of single occurrences are not read); nil when
// there is none (a task, a journal entry).
func mainEvent(cal *ical.Calendar) *ical.Component {
	if cal == nil {
		return nil
	}
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent && c.Props.Get(ical.PropRecurrenceID) == nil {
			return c
		}
	}
	return nil
}

// toEvent reads an event; false when the object holds no VEVENT.
func toEvent(id string, cal *ical.Calendar, etag string) (moffman.Event, bool) {
	ve := mainEvent(cal)
	if ve == nil {
		return moffman.Event{}, false
	}
	ev := moffman.Event{ID: id, Status: moffman.StatusConfirmed, ETag: quote(etag)}
	ev.Summary, _ = ve.Props.Text(ical.PropSummary)
	if s := ve.Props.Get(ical.PropStatus); s != nil && strings.EqualFold(s.Value, string(ical.EventCancelled)) {
		ev.Status = moffman.StatusCancelled
	}
	if c := ve.Props.Get(propColor); c != nil {
		ev.ColorID = colorID(c.Value)
	}
	if o := ve.Props.Get(ical.PropOrganizer); o != nil {
		v := o.Value
		if len(v) >= 7 && strings.EqualFold(v[:7], "mailto:") {
			v = v[7:]
		}
		ev.CreatorEmail = v
	}
	for name, props := range ve.Props {
		if k, ok := privateKey(name); ok && len(props) > 0 {
			if ev.Private == nil {
				ev.Private = map[string]string{}
			}
			ev.Private[k], _ = props[0].Text()
		}
	}
	ev.Start, ev.End = dates(ve)
	ev.Created = timeOf(ve, ical.PropCreated)
	if ev.Updated = timeOf(ve, ical.PropLastModified); ev.Updated.IsZero() {
		ev.Updated = timeOf(ve, ical.PropDateTimeStamp)
	}
	return ev, true
}

// dates returns the all-day dates of an event: its start day and the day
// after its last, like an all-day event's exclusive end. A missing end is
// one day (RFC 5545 for a date start) unless DURATION says otherwise.
func dates(ve *ical.Component) (start, end string) {
	st, err := ve.Props.DateTime(ical.PropDateTimeStart, time.UTC)
	if err != nil {
		return "", ""
	}
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	first := day(st)
	var et time.Time
	if ve.Props.Get(ical.PropDateTimeEnd) != nil {
		et, err = ve.Props.DateTime(ical.PropDateTimeEnd, time.UTC)
	} else if d := ve.Props.Get(ical.PropDuration); d != nil {
		var dur time.Duration
		dur, err = d.Duration()
		et = st.Add(dur)
	}
	after := first.AddDate(0, 0, 1)
	if err == nil && !et.IsZero() {
		after = day(et)
		if !et.Equal(time.Date(et.Year(), et.Month(), et.Day(), 0, 0, 0, 0, et.Location())) {
			after = after.AddDate(0, 0, 1) // a timed end on a day includes that day
		}
		if !after.After(first) {
			after = first.AddDate(0, 0, 1)
		}
	}
	return first.Format(moffman.DateLayout), after.Format(moffman.DateLayout)
}

func timeOf(ve *ical.Component, name string) time.Time {
	t, err := ve.Props.DateTime(name, time.UTC)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// quote returns an ETag in its quoted HTTP form; go-webdav hands them out
// unquoted.
func quote(etag string) string {
	if etag == "" || strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, `W/`) {
		return etag
	}
	return strconv.Quote(etag)
}

// validate checks the fields p sets, as Google checks them; start and end
// are the dates after the patch.
func validate(p moffman.EventPatch, start, end string) error {
	if err := moffman.ValidatePatch(p); err != nil {
		return err
	}
	if err := moffman.ValidateEventDates(start, end); err != nil {
		return err
	}
	if p.ColorID != nil {
		if err := moffman.ValidateColorID(*p.ColorID); err != nil {
			return err
		}
	}
	for k, v := range p.Private {
		if _, ok := privateName(k); !ok {
			return moffman.Errorf(moffman.Invalid,
				"private property %q cannot be kept in CalDAV: use lowercase letters, digits and _", k)
		}
		if strings.ContainsAny(v, "\x00") {
			return moffman.Errorf(moffman.Invalid, "private property %q holds a NUL character", k)
		}
	}
	return nil
}
