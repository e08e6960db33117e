package httpapi

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/moffman/moffman"
)

// The feed's default window: the recent past that people look back on and
// the plans ahead, short enough for clients that poll it often.
const (
	feedWeeksBack  = 8
	feedWeeksAhead = 26
)

// getFeed serves an office's attendance as an iCalendar feed, for calendar
// clients to subscribe to. Clients poll it, so it answers If-None-Match
// with 304 when nothing changed.
func (s *Server) getFeed(w http.ResponseWriter, r *http.Request) {
	officeID := r.PathValue("office_id")
	from, to, err := s.feedWindow(r.URL.Query().Get("from"), r.URL.Query().Get("to"))
	var visits []moffman.Visit
	if err == nil {
		visits, err = s.Reservations.Visits(r.Context(), officeID, from, to)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body := []byte(feedICS(officeID, visits))
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, no-cache")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": officeID + ".ics"}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(body)
}

// feedWindow fills in a missing end of the window: a missing from is that
// long before to, a missing to that long after from, and without both the
// window is around today.
func (s *Server) feedWindow(from, to string) (string, string, error) {
	const length = 7 * (feedWeeksBack + feedWeeksAhead)
	shift := func(field, v string, days int) (string, error) {
		t, err := moffman.ParseDate(field, v)
		return t.AddDate(0, 0, days).Format(moffman.DateLayout), err
	}
	var err error
	switch {
	case from == "" && to == "":
		today := s.now().Format(moffman.DateLayout)
		from, _ = shift("today", today, -7*feedWeeksBack)
		to, _ = shift("today", today, 7*feedWeeksAhead)
	case from == "":
		from, err = shift("to", to, -length)
	case to == "":
		to, err = shift("from", from, length)
	}
	return from, to, err
}

// feedICS renders visits as an iCalendar (RFC 5545) object: all-day events
// whose UIDs and stamps depend on the events only, so an unchanged office
// gives the same bytes and the same ETag.
func feedICS(officeID string, visits []moffman.Visit) string {
	visits = slices.Clone(visits)
	slices.SortFunc(visits, func(a, b moffman.Visit) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.ID, b.ID))
	})
	cal := ics.NewCalendarFor("moffman")
	cal.SetProductId("-//moffman//Who's in//EN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName("Who's in: " + officeID)
	cal.SetRefreshInterval("PT1H")
	cal.SetXPublishedTTL("PT1H")
	for _, v := range visits {
		start, err1 := time.Parse(moffman.DateLayout, v.Start)
		end, err2 := time.Parse(moffman.DateLayout, v.End)
		if err1 != nil || err2 != nil {
			continue
		}
		ev := cal.AddEvent(v.ID + "@moffman")
		ev.SetDtStampTime(cmp.Or(v.Updated, v.Created, start))
		ev.SetAllDayStartAt(start)
		ev.SetAllDayEndAt(end)
		summary, status := v.Name, ics.ObjectStatusConfirmed
		if v.Status != moffman.StateApproved {
			summary, status = v.Name+" (pending)", ics.ObjectStatusTentative
		}
		ev.SetSummary(oneLine(summary))
		ev.SetStatus(status)
		// Someone else's office day must not make the subscriber busy.
		ev.SetTimeTransparency(ics.TransparencyTransparent)
	}
	return cal.Serialize(ics.WithNewLineWindows)
}

// oneLine replaces control characters, which iCalendar TEXT cannot hold
// raw; a manual event's summary is whatever its creator typed.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// etagMatches reports whether an If-None-Match header names etag, using the
// weak comparison that RFC 9110 prescribes for it.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
