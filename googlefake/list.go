package googlefake

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// syncPoint is what a sync token stands for: every change in the calendar
// after sequence number seq.
type syncPoint struct {
	calendarID string
	seq        int64
}

// snapshot is the whole result of one events.list query. Pages are served
// from it, so paging is stable while the calendar changes underneath.
type snapshot struct {
	calendarID string
	items      []Event
	syncSeq    int64  // the calendar's sequence when the query ran
	syncToken  string // handed out on the last page; minted lazily
}

// pagePos is what a page token stands for.
type pagePos struct {
	snap   *snapshot
	offset int
}

// eventsPage is Google's Events resource.
type eventsPage struct {
	Kind             string  `json:"kind"`
	Etag             string  `json:"etag"`
	Summary          string  `json:"summary"`
	Updated          string  `json:"updated"`
	TimeZone         string  `json:"timeZone"`
	AccessRole       string  `json:"accessRole"`
	DefaultReminders []any   `json:"defaultReminders"`
	NextPageToken    string  `json:"nextPageToken,omitempty"`
	NextSyncToken    string  `json:"nextSyncToken,omitempty"`
	Items            []Event `json:"items"`
}

// ExpireSyncTokens invalidates every sync token issued so far: the next
// incremental list answers 410 fullSyncRequired.
func (s *Server) ExpireSyncTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.syncTokens)
}

// eventsList answers a full or incremental (syncToken) query, one page at a
// time. nextPageToken is on every page but the last, nextSyncToken only on
// the last.
func (s *Server) eventsList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, e := maxResults(q.Get("maxResults"), 250, 2500)
	if e != nil {
		writeError(w, *e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.requestCalendar(w, r)
	if !ok {
		return
	}
	var pos pagePos
	if pt := q.Get("pageToken"); pt != "" {
		pos, ok = s.pages[pt]
		if !ok || pos.snap.calendarID != c.id {
			writeError(w, apiError{Code: http.StatusBadRequest, Reason: "invalid", Message: "Invalid page token value.",
				Location: "pageToken", LocationType: "parameter"})
			return
		}
	} else {
		snap, e := s.query(c, q)
		if e != nil {
			writeError(w, *e)
			return
		}
		pos = pagePos{snap: snap}
	}

	items := pos.snap.items
	end := min(pos.offset+limit, len(items))
	page := make([]Event, 0, end-pos.offset)
	for _, ev := range items[pos.offset:end] {
		page = append(page, ev.clone())
	}
	updated := c.updated
	if updated.IsZero() {
		updated = s.now().UTC()
	}
	resp := eventsPage{
		Kind:             "calendar#events",
		Etag:             strconv.Quote(strconv.FormatInt(updated.UnixMicro(), 10)),
		Summary:          c.summary,
		Updated:          updated.Format(rfc3339Millis),
		TimeZone:         "UTC",
		AccessRole:       "writer",
		DefaultReminders: []any{},
		Items:            page,
	}
	if end < len(items) {
		tok := "fake-page-" + randomHex(16)
		s.pages[tok] = pagePos{snap: pos.snap, offset: end}
		resp.NextPageToken = tok
	} else {
		if pos.snap.syncToken == "" {
			pos.snap.syncToken = "fake-sync-" + randomHex(16)
			s.syncTokens[pos.snap.syncToken] = syncPoint{calendarID: c.id, seq: pos.snap.syncSeq}
		}
		resp.NextSyncToken = pos.snap.syncToken
	}
	writeJSON(w, http.StatusOK, resp)
}

// syncRestricted are the parameters Google refuses next to a sync token.
var syncRestricted = []string{"timeMin", "timeMax", "q", "orderBy", "updatedMin",
	"privateExtendedProperty", "sharedExtendedProperty", "iCalUID"}

// listFilter is what a full events.list query selects.
type listFilter struct {
	tmin, tmax, updatedMin time.Time
	showDeleted            bool
	private, shared        map[string]string
	text, iCalUID          string
}

// query runs an events.list query against c (under s.mu).
func (s *Server) query(c *calendarData, q url.Values) (*snapshot, *apiError) {
	if tok := q.Get("syncToken"); tok != "" {
		return s.incremental(c, q, tok)
	}
	f, aerr := parseListFilter(q)
	if aerr != nil {
		return nil, aerr
	}
	var items []Event
	var seqs = map[string]int64{}
	for _, st := range c.events {
		if f.selects(st.ev) {
			items = append(items, st.ev.clone())
			seqs[st.ev.ID] = st.seq
		}
	}
	if q.Get("orderBy") == "updated" {
		slices.SortFunc(items, func(a, b Event) int { return cmp.Compare(seqs[a.ID], seqs[b.ID]) })
	} else {
		sortByStart(items)
	}
	return &snapshot{calendarID: c.id, items: items, syncSeq: c.seq}, nil
}

// parseListFilter reads a full query's parameters, refusing them as
// Google does.
func parseListFilter(q url.Values) (listFilter, *apiError) {
	bad := func(param string) *apiError {
		return &apiError{Code: http.StatusBadRequest, Reason: "badRequest", Message: "Bad Request",
			Location: param, LocationType: "parameter"}
	}
	var f listFilter
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"timeMin", &f.tmin}, {"timeMax", &f.tmax}, {"updatedMin", &f.updatedMin}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, bad(p.name)
			}
			*p.dst = t
		}
	}
	if !f.tmin.IsZero() && !f.tmax.IsZero() && !f.tmax.After(f.tmin) {
		return f, &apiError{Code: http.StatusBadRequest, Reason: "timeRangeEmpty",
			Message: "The specified time range is empty.", Location: "timeMax", LocationType: "parameter"}
	}
	f.showDeleted = q.Get("showDeleted") == "true"
	switch q.Get("orderBy") {
	case "", "updated":
	case "startTime":
		if q.Get("singleEvents") != "true" {
			return f, &apiError{Code: http.StatusBadRequest, Reason: "badRequest",
				Message:  "The requested ordering is not available for the particular query.",
				Location: "orderBy", LocationType: "parameter"}
		}
	default:
		return f, &apiError{Code: http.StatusBadRequest, Reason: "invalid", Message: "Invalid value for: orderBy",
			Location: "orderBy", LocationType: "parameter"}
	}
	var ok bool
	if f.private, ok = propertyFilter(q["privateExtendedProperty"]); !ok {
		return f, bad("privateExtendedProperty")
	}
	if f.shared, ok = propertyFilter(q["sharedExtendedProperty"]); !ok {
		return f, bad("sharedExtendedProperty")
	}
	f.text = strings.ToLower(q.Get("q"))
	f.iCalUID = q.Get("iCalUID")
	return f, nil
}

// selects reports whether the query lists ev.
func (f listFilter) selects(ev Event) bool {
	if ev.Status == "cancelled" && !f.showDeleted && f.updatedMin.IsZero() {
		return false
	}
	if !f.updatedMin.IsZero() {
		if u, _ := time.Parse(time.RFC3339, ev.Updated); u.Before(f.updatedMin) {
			return false
		}
	}
	start, _ := instant(ev.Start)
	end, _ := instant(ev.End)
	if !f.tmin.IsZero() && !end.After(f.tmin) || !f.tmax.IsZero() && !start.Before(f.tmax) {
		return false
	}
	if !hasProperties(ev, f.private, f.shared) || f.iCalUID != "" && ev.ICalUID != f.iCalUID {
		return false
	}
	return f.text == "" || strings.Contains(strings.ToLower(ev.Summary+"\n"+ev.Description+"\n"+ev.Location), f.text)
}

// incremental answers a sync-token query: every event changed since the
// token, cancelled ones included, in the order of change.
func (s *Server) incremental(c *calendarData, q url.Values, tok string) (*snapshot, *apiError) {
	restricted := q.Get("showDeleted") == "false"
	for _, p := range syncRestricted {
		restricted = restricted || q.Has(p)
	}
	if restricted {
		return nil, &apiError{Code: http.StatusBadRequest, Reason: "syncTokenWithRequestRestrictions",
			Message: "Sync token cannot be used with other request restrictions."}
	}
	pt, ok := s.syncTokens[tok]
	if !ok || pt.calendarID != c.id {
		return nil, &apiError{Code: http.StatusGone, Reason: "fullSyncRequired",
			Location: "syncToken", LocationType: "parameter"}
	}
	var changed []*stored
	for _, st := range c.events {
		if st.seq > pt.seq {
			changed = append(changed, st)
		}
	}
	slices.SortFunc(changed, func(a, b *stored) int { return cmp.Compare(a.seq, b.seq) })
	snap := &snapshot{calendarID: c.id, syncSeq: c.seq}
	for _, st := range changed {
		snap.items = append(snap.items, st.ev.clone())
	}
	if len(changed) == 0 {
		snap.syncToken = tok // nothing changed: Google hands the same token back
	}
	return snap, nil
}

// propertyFilter parses repeated "key=value" constraints.
func propertyFilter(vals []string) (map[string]string, bool) {
	m := map[string]string{}
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, false
		}
		m[k] = val
	}
	return m, true
}

// hasProperties reports whether ev carries every constraint.
func hasProperties(ev Event, private, shared map[string]string) bool {
	var p ExtendedProperties
	if ev.ExtendedProperties != nil {
		p = *ev.ExtendedProperties
	}
	for k, v := range private {
		if got, ok := p.Private[k]; !ok || got != v {
			return false
		}
	}
	for k, v := range shared {
		if got, ok := p.Shared[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// sortByStart orders events by start, then id: stable for paging.
func sortByStart(evs []Event) {
	slices.SortFunc(evs, func(a, b Event) int {
		sa, _ := instant(a.Start)
		sb, _ := instant(b.Start)
		return cmp.Or(sa.Compare(sb), cmp.Compare(a.ID, b.ID))
	})
}
