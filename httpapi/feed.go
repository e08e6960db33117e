package httpapi

import (
	"bytes"
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
// the plans ahead, short enough for clients that poll it often. A missing
// from or to is filled in to a window of the same length.
const (
	feedWeeksBack  = 8
	feedWeeksAhead = 26
)

// getFeed serves an office's attendance as an iCalendar feed, for calendar
// clients to subscribe to. Clients poll it, so it has an ETag of its bytes
// and http.ServeContent answers If-None-Match with 304 when nothing changed.
func (s *Server) getFeed(w http.ResponseWriter, r *http.Request) error {
	officeID := r.PathValue("office_id")
	q := r.URL.Query()
	from, to, err := moffman.ParseWindow(q.Get("from"), q.Get("to"), s.feedWindow())
	if err != nil {
		return err
	}
	visits, err := s.Reservations.Visits(r.Context(), officeID, from.Format(moffman.DateLayout), to.Format(moffman.DateLayout))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := writeFeed(&buf, officeID, visits); err != nil {
		return err
	}
	body := buf.Bytes()
	sum := sha256.Sum256(body)
	h := w.Header()
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": officeID + ".ics"}))
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	return nil
}

// feedWindow is the rule of the feed's window: around today, or of the
// default length from the end given.
func (s *Server) feedWindow() moffman.WindowRule {
	return moffman.WindowRule{Fill: 7 * (feedWeeksBack + feedWeeksAhead), Back: 7 * feedWeeksBack, Today: s.now()}
}

// writeFeed renders visits as an iCalendar (RFC 5545) object: all-day
// events whose UIDs and stamps depend on the events only, so an unchanged
// office gives the same bytes and the same ETag. Each event is built and
// serialized on its own, so that memory holds the visits and the bytes,
// not a parsed calendar of every event besides (moffman.MaxVisits bounds
// the visits).
func writeFeed(w *bytes.Buffer, officeID string, visits []moffman.Visit) error {
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
	// The calendar without events is its properties and the end line:
	// the events go in between.
	const end = "END:VCALENDAR\r\n"
	head := cal.Serialize(ics.WithNewLineWindows)
	w.WriteString(strings.TrimSuffix(head, end))
	format := &ics.SerializationConfiguration{MaxLength: 75, PropertyMaxLength: 75, NewLine: "\r\n"}
	for _, v := range visits {
		start, err1 := time.Parse(moffman.DateLayout, v.Start)
		end, err2 := time.Parse(moffman.DateLayout, v.End)
		if err1 != nil || err2 != nil {
			continue
		}
		ev := ics.NewEvent(v.ID + "@moffman")
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
		if err := ev.SerializeTo(w, format); err != nil {
			return moffman.WrapError(moffman.Internal, err, "feed: event %s", v.ID)
		}
	}
	w.WriteString(end)
	return nil
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
