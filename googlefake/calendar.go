package googlefake

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Event is a stored Calendar event, with the JSON fields Google returns.
type Event struct {
	Kind               string              `json:"kind"`
	Etag               string              `json:"etag"`
	ID                 string              `json:"id"`
	Status             string              `json:"status"`
	HTMLLink           string              `json:"htmlLink"`
	Created            string              `json:"created"`
	Updated            string              `json:"updated"`
	Summary            string              `json:"summary,omitempty"`
	Description        string              `json:"description,omitempty"`
	Location           string              `json:"location,omitempty"`
	ColorID            string              `json:"colorId,omitempty"`
	Creator            *Person             `json:"creator,omitempty"`
	Organizer          *Person             `json:"organizer,omitempty"`
	Start              *EventTime          `json:"start,omitempty"`
	End                *EventTime          `json:"end,omitempty"`
	Transparency       string              `json:"transparency,omitempty"`
	Visibility         string              `json:"visibility,omitempty"`
	ICalUID            string              `json:"iCalUID"`
	Sequence           int64               `json:"sequence"`
	ExtendedProperties *ExtendedProperties `json:"extendedProperties,omitempty"`
	EventType          string              `json:"eventType"`
}

// Person is an event's creator or organizer.
type Person struct {
	Email       string `json:"email,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Self        bool   `json:"self,omitempty"`
}

// EventTime is an event's start or end: Date for all-day events
// ("2006-01-02"), DateTime (RFC 3339) otherwise.
type EventTime struct {
	Date     string `json:"date,omitempty"`
	DateTime string `json:"dateTime,omitempty"`
	TimeZone string `json:"timeZone,omitempty"`
}

// ExtendedProperties are string maps private to this calendar's copy of the
// event, or shared with attendees.
type ExtendedProperties struct {
	Private map[string]string `json:"private,omitempty"`
	Shared  map[string]string `json:"shared,omitempty"`
}

// ManualEvent is an event a person puts into a calendar by hand.
type ManualEvent struct {
	ID      string // empty: generated
	Summary string
	Start   string // all-day start date, "2006-01-02"
	End     string // exclusive end date
	ColorID string // optional, "1".."11"
}

// calendarData is one calendar and its events.
type calendarData struct {
	id      string
	summary string
	shared  bool // shared with the service account: usable through the API
	// readOnly: shared for reading only, event writes answer 403
	readOnly bool
	seq      int64
	updated  time.Time
	events   map[string]*stored
}

// stored is an event plus the calendar change sequence of its last write,
// which incremental sync compares against.
type stored struct {
	ev  Event
	seq int64
}

// AddCalendar makes a calendar exist. Only calendars shared with the service
// account can be subscribed to (calendarList.insert) or used; events calls
// on others answer 404, as Google does. Adding it again only changes
// whether it is shared.
func (s *Server) AddCalendar(id string, sharedWithAccount bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.calendars[id]; ok {
		c.shared = sharedWithAccount
		return
	}
	s.calendars[id] = &calendarData{id: id, summary: id, shared: sharedWithAccount, events: map[string]*stored{}}
}

// CalendarList returns the ids in the service account's calendar list, in
// the order they were inserted.
func (s *Server) CalendarList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calendarList...)
}

// AddManualEvent stores an all-day event as if creatorEmail had put it into
// the calendar by hand, and returns its id. The calendar must exist.
func (s *Server) AddManualEvent(calendarID, creatorEmail string, m ManualEvent) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calendars[calendarID]
	if !ok {
		return "", fmt.Errorf("googlefake: no calendar %q", calendarID)
	}
	ev := Event{
		ID:      m.ID,
		Summary: m.Summary,
		ColorID: m.ColorID,
		Start:   &EventTime{Date: m.Start},
		End:     &EventTime{Date: m.End},
	}
	if ev.ID == "" {
		ev.ID = newEventID()
	}
	if e := validateNew(c, &ev); e != nil {
		return "", fmt.Errorf("googlefake: %d %s: %s", e.Code, e.Reason, e.Message)
	}
	s.insertLocked(c, ev, creatorEmail)
	return ev.ID, nil
}

// Event returns a copy of a stored event, cancelled ones included.
func (s *Server) Event(calendarID, eventID string) (Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calendars[calendarID]
	if !ok {
		return Event{}, false
	}
	st, ok := c.events[eventID]
	if !ok {
		return Event{}, false
	}
	return st.ev.clone(), true
}

// Events returns copies of every stored event of a calendar, cancelled ones
// included, ordered by start then id.
func (s *Server) Events(calendarID string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calendars[calendarID]
	if !ok {
		return nil
	}
	var out []Event
	for _, st := range c.events {
		out = append(out, st.ev.clone())
	}
	sortByStart(out)
	return out
}

// clonePtr copies what p points to, so that a returned event shares nothing
// with the stored one.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func (e Event) clone() Event {
	c := e
	c.Creator, c.Organizer = clonePtr(e.Creator), clonePtr(e.Organizer)
	c.Start, c.End = clonePtr(e.Start), clonePtr(e.End)
	if e.ExtendedProperties != nil {
		c.ExtendedProperties = &ExtendedProperties{
			Private: maps.Clone(e.ExtendedProperties.Private),
			Shared:  maps.Clone(e.ExtendedProperties.Shared),
		}
	}
	return c
}

// base32hex without padding, lower case: exactly the alphabet Google allows
// in event ids (a-v, 0-9).
var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

func newEventID() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails
	return idEncoding.EncodeToString(b)
}

// validID applies Google's rule for client-chosen ids.
func validID(id string) bool {
	if len(id) < 5 || len(id) > 1024 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'v' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// stamp returns the time of a write: never equal to an earlier one, so that
// every write changes updated and etag.
func (s *Server) stamp() time.Time {
	t := s.now().UTC().Truncate(time.Millisecond)
	if !t.After(s.lastWrite) {
		t = s.lastWrite.Add(time.Millisecond)
	}
	s.lastWrite = t
	return t
}

const rfc3339Millis = "2006-01-02T15:04:05.000Z07:00"

// touch records a write of st in c: new updated, etag and change sequence.
func (s *Server) touch(c *calendarData, st *stored) {
	t := s.stamp()
	c.seq++
	c.updated = t
	st.seq = c.seq
	st.ev.Updated = t.Format(rfc3339Millis)
	st.ev.Etag = strconv.Quote(strconv.FormatInt(t.UnixMicro(), 10))
}

// insertLocked stores a validated new event written by creator.
func (s *Server) insertLocked(c *calendarData, ev Event, creator string) Event {
	ev.Kind = "calendar#event"
	if ev.Status == "" {
		ev.Status = "confirmed"
	}
	ev.Creator = &Person{Email: creator, Self: creator == serviceAccountEmail}
	// Events in a secondary calendar are organised by the calendar itself.
	ev.Organizer = &Person{Email: c.id, DisplayName: c.summary, Self: true}
	ev.HTMLLink = "https://www.google.com/calendar/event?eid=" +
		base64.RawURLEncoding.EncodeToString([]byte(ev.ID+" "+c.id))
	ev.ICalUID = ev.ID + "@google.com"
	ev.Sequence = 0
	ev.EventType = "default"
	st := &stored{ev: ev}
	s.touch(c, st)
	st.ev.Created = st.ev.Updated
	c.events[ev.ID] = st
	return st.ev.clone()
}

// validateNew checks an event about to be inserted into c.
func validateNew(c *calendarData, ev *Event) *apiError {
	if !validID(ev.ID) {
		return &apiError{Code: http.StatusBadRequest, Reason: "invalid", Message: "Invalid resource id value."}
	}
	if _, dup := c.events[ev.ID]; dup {
		return &apiError{Code: http.StatusConflict, Reason: "duplicate"}
	}
	return validate(ev)
}

// validate checks the fields every write must satisfy.
func validate(ev *Event) *apiError {
	start, err := instant(ev.Start)
	if err != nil {
		return timeError("start", err)
	}
	end, err := instant(ev.End)
	if err != nil {
		return timeError("end", err)
	}
	if !end.After(start) {
		return &apiError{Code: http.StatusBadRequest, Reason: "timeRangeEmpty",
			Message: "The specified time range is empty."}
	}
	if ev.ColorID != "" {
		if n, err := strconv.Atoi(ev.ColorID); err != nil || n < 1 || n > len(eventColors) {
			return &apiError{Code: http.StatusBadRequest, Reason: "invalid", Message: "Invalid color id."}
		}
	}
	switch ev.Status {
	case "", "confirmed", "tentative", "cancelled":
	default:
		return &apiError{Code: http.StatusBadRequest, Reason: "invalid", Message: "Invalid value for: status"}
	}
	return nil
}

var errMissingTime = errors.New("missing")

func timeError(field string, err error) *apiError {
	if errors.Is(err, errMissingTime) {
		return &apiError{Code: http.StatusBadRequest, Reason: "required", Message: "Missing " + field + " time."}
	}
	return &apiError{Code: http.StatusBadRequest, Reason: "invalid", Message: "Invalid " + field + " time."}
}

// instant is the moment an event time stands for; all-day dates count as
// midnight UTC (the fake's calendars are in UTC).
func instant(t *EventTime) (time.Time, error) {
	switch {
	case t == nil || t.Date == "" && t.DateTime == "":
		return time.Time{}, errMissingTime
	case t.Date != "" && t.DateTime != "":
		return time.Time{}, errors.New("both date and dateTime")
	case t.Date != "":
		return time.Parse(time.DateOnly, t.Date)
	default:
		return time.Parse(time.RFC3339, t.DateTime)
	}
}

// usable returns the calendar when it exists and is shared with the account.
func (s *Server) usable(id string) (*calendarData, bool) {
	c, ok := s.calendars[id]
	if !ok || !c.shared {
		return nil, false
	}
	return c, true
}

var errNotFound = apiError{Code: http.StatusNotFound, Reason: "notFound"}

// decodeBody reads a JSON request body into v, answering 400 on failure.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeError(w, apiError{Code: http.StatusBadRequest, Reason: "parseError", Message: "Parse Error"})
		return false
	}
	return true
}

func (s *Server) eventsInsert(w http.ResponseWriter, r *http.Request) {
	var in Event
	if !decodeBody(w, r, &in) {
		return
	}
	ev := writable(in)
	if ev.ID == "" {
		ev.ID = newEventID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.usable(r.PathValue("calendarId"))
	if !ok {
		writeError(w, errNotFound)
		return
	}
	if c.readOnly {
		writeError(w, errReadOnly)
		return
	}
	if e := validateNew(c, &ev); e != nil {
		writeError(w, *e)
		return
	}
	writeJSON(w, http.StatusOK, s.insertLocked(c, ev, serviceAccountEmail))
}

// writable keeps the fields a client may set; the rest is the server's.
func writable(in Event) Event {
	return Event{
		ID:                 in.ID,
		Status:             in.Status,
		Summary:            in.Summary,
		Description:        in.Description,
		Location:           in.Location,
		ColorID:            in.ColorID,
		Start:              in.Start,
		End:                in.End,
		Transparency:       in.Transparency,
		Visibility:         in.Visibility,
		ExtendedProperties: in.ExtendedProperties,
	}
}

// lookupForWrite is lookup plus the If-Match precondition Google honours on
// writes (optimistic concurrency with the event's etag).
func (s *Server) lookupForWrite(w http.ResponseWriter, r *http.Request) (*calendarData, *stored, bool) {
	c, st, ok := s.lookup(w, r)
	if !ok {
		return nil, nil, false
	}
	if c.readOnly {
		writeError(w, errReadOnly)
		return nil, nil, false
	}
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != st.ev.Etag {
		writeError(w, apiError{Code: http.StatusPreconditionFailed, Reason: "conditionNotMet", Message: "Precondition Failed",
			Location: "If-Match", LocationType: "header"})
		return nil, nil, false
	}
	return c, st, true
}

// lookup finds the event of the request under s.mu, answering 404 itself.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*calendarData, *stored, bool) {
	c, ok := s.usable(r.PathValue("calendarId"))
	if !ok {
		writeError(w, errNotFound)
		return nil, nil, false
	}
	st, ok := c.events[r.PathValue("eventId")]
	if !ok {
		writeError(w, errNotFound)
		return nil, nil, false
	}
	return c, st, true
}

// eventsGet returns cancelled events too, with status "cancelled", as Google does.
func (s *Server) eventsGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, st, ok := s.lookup(w, r); ok {
		writeJSON(w, http.StatusOK, st.ev)
	}
}

// eventsPatch merges the body into the event: fields sent replace, fields
// left out stay, extendedProperties maps merge key by key (null deletes).
func (s *Server) eventsPatch(w http.ResponseWriter, r *http.Request) {
	var body map[string]json.RawMessage
	if !decodeBody(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st, ok := s.lookupForWrite(w, r)
	if !ok {
		return
	}
	ev := st.ev.clone()
	if err := applyPatch(&ev, body); err != nil {
		writeError(w, apiError{Code: http.StatusBadRequest, Reason: "invalid", Message: err.Error()})
		return
	}
	s.commit(w, c, st, ev)
}

// eventsUpdate replaces every writable field with the body's.
func (s *Server) eventsUpdate(w http.ResponseWriter, r *http.Request) {
	var in Event
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st, ok := s.lookupForWrite(w, r)
	if !ok {
		return
	}
	if in.ID != "" && in.ID != st.ev.ID {
		writeError(w, apiError{Code: http.StatusBadRequest, Reason: "invalid", Message: "Invalid resource id value."})
		return
	}
	next := writable(in)
	if next.Status == "" {
		next.Status = "confirmed"
	}
	ev := st.ev.clone()
	ev.Status, ev.Summary, ev.Description, ev.Location = next.Status, next.Summary, next.Description, next.Location
	ev.ColorID, ev.Start, ev.End = next.ColorID, next.Start, next.End
	ev.Transparency, ev.Visibility, ev.ExtendedProperties = next.Transparency, next.Visibility, next.ExtendedProperties
	s.commit(w, c, st, ev)
}

// commit validates and stores a modified event, then answers with it.
func (s *Server) commit(w http.ResponseWriter, c *calendarData, st *stored, ev Event) {
	if e := validate(&ev); e != nil {
		writeError(w, *e)
		return
	}
	if ev.ExtendedProperties != nil && len(ev.ExtendedProperties.Private) == 0 && len(ev.ExtendedProperties.Shared) == 0 {
		ev.ExtendedProperties = nil
	}
	if !sameTime(ev.Start, st.ev.Start) || !sameTime(ev.End, st.ev.End) {
		ev.Sequence++
	}
	st.ev = ev
	s.touch(c, st)
	writeJSON(w, http.StatusOK, st.ev)
}

func sameTime(a, b *EventTime) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// eventsDelete cancels the event but keeps it, so that sync can report it
// and its id stays taken.
func (s *Server) eventsDelete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, st, ok := s.lookupForWrite(w, r)
	if !ok {
		return
	}
	if st.ev.Status == "cancelled" {
		writeError(w, apiError{Code: http.StatusGone, Reason: "deleted"})
		return
	}
	st.ev.Status = "cancelled"
	s.touch(c, st)
	w.WriteHeader(http.StatusNoContent)
}

// applyPatch merges a patch body into ev. JSON null clears a field.
func applyPatch(ev *Event, body map[string]json.RawMessage) error {
	for key, raw := range body {
		null := string(raw) == "null"
		var err error
		switch key {
		case "summary":
			err = patchString(&ev.Summary, raw, null)
		case "description":
			err = patchString(&ev.Description, raw, null)
		case "location":
			err = patchString(&ev.Location, raw, null)
		case "colorId":
			err = patchString(&ev.ColorID, raw, null)
		case "status":
			err = patchString(&ev.Status, raw, null)
		case "transparency":
			err = patchString(&ev.Transparency, raw, null)
		case "visibility":
			err = patchString(&ev.Visibility, raw, null)
		case "start":
			ev.Start = nil
			if !null {
				err = json.Unmarshal(raw, &ev.Start)
			}
		case "end":
			ev.End = nil
			if !null {
				err = json.Unmarshal(raw, &ev.End)
			}
		case "extendedProperties":
			err = patchProperties(ev, raw, null)
		case "id":
			var id string
			if err = json.Unmarshal(raw, &id); err == nil && id != ev.ID {
				err = errors.New("id mismatch")
			}
		}
		if err != nil {
			return fmt.Errorf("Invalid value for: %s", key)
		}
	}
	return nil
}

func patchString(dst *string, raw json.RawMessage, null bool) error {
	if null {
		*dst = ""
		return nil
	}
	return json.Unmarshal(raw, dst)
}

// patchProperties merges private and shared key by key; a null map clears
// it, a null value deletes its key.
func patchProperties(ev *Event, raw json.RawMessage, null bool) error {
	if null {
		ev.ExtendedProperties = nil
		return nil
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		return err
	}
	if ev.ExtendedProperties == nil {
		ev.ExtendedProperties = &ExtendedProperties{}
	}
	for name, dst := range map[string]*map[string]string{
		"private": &ev.ExtendedProperties.Private,
		"shared":  &ev.ExtendedProperties.Shared,
	} {
		m, ok := in[name]
		if !ok {
			continue
		}
		if string(m) == "null" {
			*dst = nil
			continue
		}
		var kv map[string]*string
		if err := json.Unmarshal(m, &kv); err != nil {
			return err
		}
		if *dst == nil {
			*dst = map[string]string{}
		}
		for k, v := range kv {
			if v == nil {
				delete(*dst, k)
			} else {
				(*dst)[k] = *v
			}
		}
	}
	return nil
}

// calendarListEntry is the part of Google's CalendarListEntry moffman reads.
type calendarListEntry struct {
	Kind             string `json:"kind"`
	Etag             string `json:"etag"`
	ID               string `json:"id"`
	Summary          string `json:"summary"`
	TimeZone         string `json:"timeZone"`
	ColorID          string `json:"colorId"`
	BackgroundColor  string `json:"backgroundColor"`
	ForegroundColor  string `json:"foregroundColor"`
	Selected         bool   `json:"selected"`
	AccessRole       string `json:"accessRole"`
	DefaultReminders []any  `json:"defaultReminders"`
}

func entry(c *calendarData) calendarListEntry {
	return calendarListEntry{
		Kind:             "calendar#calendarListEntry",
		Etag:             strconv.Quote(strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(c.id))), 10)),
		ID:               c.id,
		Summary:          c.summary,
		TimeZone:         "UTC",
		ColorID:          "14",
		BackgroundColor:  calendarColors[13][0],
		ForegroundColor:  calendarColors[13][1],
		Selected:         true,
		AccessRole:       "writer",
		DefaultReminders: []any{},
	}
}

// calendarListInsert subscribes the account to a calendar shared with it.
// Inserting one already in the list answers it again.
func (s *Server) calendarListInsert(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID string `json:"id"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if in.ID == "" {
		writeError(w, apiError{Code: http.StatusBadRequest, Reason: "required", Message: "Missing id."})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.usable(in.ID)
	if !ok {
		writeError(w, errNotFound)
		return
	}
	if !slices.Contains(s.calendarList, in.ID) {
		s.calendarList = append(s.calendarList, in.ID)
	}
	writeJSON(w, http.StatusOK, entry(c))
}

// calendarListList pages through the account's calendar list; page tokens
// are plain offsets, as the list only grows.
func (s *Server) calendarListList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, e := maxResults(q.Get("maxResults"), 100, 250)
	if e != nil {
		writeError(w, *e)
		return
	}
	offset := 0
	if pt := q.Get("pageToken"); pt != "" {
		b, err := base64.RawURLEncoding.DecodeString(pt)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "cl:"))
		if err != nil || err2 != nil || n < 0 {
			writeError(w, apiError{Code: http.StatusBadRequest, Reason: "invalid", Message: "Invalid page token value."})
			return
		}
		offset = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []calendarListEntry{}
	end := min(offset+limit, len(s.calendarList))
	for _, id := range s.calendarList[min(offset, end):end] {
		items = append(items, entry(s.calendars[id]))
	}
	resp := map[string]any{
		"kind":  "calendar#calendarList",
		"etag":  strconv.Quote(strconv.Itoa(len(s.calendarList))),
		"items": items,
	}
	if end < len(s.calendarList) {
		resp["nextPageToken"] = base64.RawURLEncoding.EncodeToString([]byte("cl:" + strconv.Itoa(end)))
	}
	writeJSON(w, http.StatusOK, resp)
}

// maxResults parses a page size: def when absent, capped at most.
func maxResults(v string, def, most int) (int, *apiError) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, &apiError{Code: http.StatusBadRequest, Reason: "invalid",
			Message:  "Invalid value '" + v + "'. Values must be within the range: [1, " + strconv.Itoa(most) + "]",
			Location: "maxResults", LocationType: "parameter"}
	}
	return min(n, most), nil
}

// Google's standard palettes: [background, foreground].
var (
	eventColors = [][2]string{
		{"#a4bdfc", "#1d1d1d"}, {"#7ae7bf", "#1d1d1d"}, {"#dbadff", "#1d1d1d"}, {"#ff887c", "#1d1d1d"},
		{"#fbd75b", "#1d1d1d"}, {"#ffb878", "#1d1d1d"}, {"#46d6db", "#1d1d1d"}, {"#e1e1e1", "#1d1d1d"},
		{"#5484ed", "#1d1d1d"}, {"#51b749", "#1d1d1d"}, {"#dc2127", "#1d1d1d"},
	}
	calendarColors = [][2]string{
		{"#ac725e", "#1d1d1d"}, {"#d06b64", "#1d1d1d"}, {"#f83a22", "#1d1d1d"}, {"#fa573c", "#1d1d1d"},
		{"#ff7537", "#1d1d1d"}, {"#ffad46", "#1d1d1d"}, {"#42d692", "#1d1d1d"}, {"#16a765", "#1d1d1d"},
		{"#7bd148", "#1d1d1d"}, {"#b3dc6c", "#1d1d1d"}, {"#fbe983", "#1d1d1d"}, {"#fad165", "#1d1d1d"},
		{"#92e1c0", "#1d1d1d"}, {"#9fe1e7", "#1d1d1d"}, {"#9fc6e7", "#1d1d1d"}, {"#4986e7", "#1d1d1d"},
		{"#9a9cff", "#1d1d1d"}, {"#b99aff", "#1d1d1d"}, {"#c2c2c2", "#1d1d1d"}, {"#cabdbf", "#1d1d1d"},
		{"#cca6ac", "#1d1d1d"}, {"#f691b2", "#1d1d1d"}, {"#cd74e6", "#1d1d1d"}, {"#a47ae2", "#1d1d1d"},
	}
)

func (s *Server) colorsGet(w http.ResponseWriter, r *http.Request) {
	palette := func(cs [][2]string) map[string]map[string]string {
		m := map[string]map[string]string{}
		for i, c := range cs {
			m[strconv.Itoa(i+1)] = map[string]string{"background": c[0], "foreground": c[1]}
		}
		return m
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"kind":     "calendar#colors",
		"updated":  "2012-02-14T00:00:00.000Z",
		"calendar": palette(calendarColors),
		"event":    palette(eventColors),
	})
}
