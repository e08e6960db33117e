package eventstore

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/moffman/moffman"
)

// Tokens are opaque to callers: base64 so that they survive URLs, and they
// carry the calendar so that one cannot be used for another.
var tokenEncoding = base64.RawURLEncoding

// Encode returns a token of fields bound to calendarID: the fields
// (escaped, so that they may hold any text) and the calendar, joined by
// "|".
func Encode(calendarID string, fields ...string) string {
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(url.QueryEscape(f))
		b.WriteByte('|')
	}
	b.WriteString(calendarID)
	return tokenEncoding.EncodeToString([]byte(b.String()))
}

// Decode returns the fields of a token Encode made for calendarID; false
// for any other token.
func Decode(tok, calendarID string) ([]string, bool) {
	b, err := tokenEncoding.DecodeString(tok)
	if err != nil {
		return nil, false
	}
	rest, ok := strings.CutSuffix(string(b), "|"+calendarID)
	if !ok {
		return nil, false
	}
	fields := strings.Split(rest, "|")
	for i, f := range fields {
		if fields[i], err = url.QueryUnescape(f); err != nil {
			return nil, false
		}
	}
	return fields, true
}

// Cursor is where a listing of a store with a change sequence continues:
// after (Start, ID) in a window, after Seq in a change listing. Snapshot
// is the change sequence at the first page of a window listing, which
// becomes its sync token.
type Cursor struct {
	Changes   bool
	Snapshot  int64
	Seq       int64
	Start, ID string
}

// Token returns the page token of c for calendarID.
func (c Cursor) Token(calendarID string) string {
	if c.Changes {
		return Encode(calendarID, "c", strconv.FormatInt(c.Seq, 10))
	}
	return Encode(calendarID, "w", strconv.FormatInt(c.Snapshot, 10), c.Start, c.ID)
}

// ParseCursor reads a page token Token made for calendarID.
func ParseCursor(tok, calendarID string) (Cursor, bool) {
	f, ok := Decode(tok, calendarID)
	switch {
	case !ok:
		return Cursor{}, false
	case f[0] == "c" && len(f) == 2:
		seq, err := strconv.ParseInt(f[1], 10, 64)
		return Cursor{Changes: true, Seq: seq}, err == nil
	case f[0] == "w" && len(f) == 4:
		snap, err := strconv.ParseInt(f[1], 10, 64)
		if _, derr := time.Parse(moffman.DateLayout, f[2]); derr != nil {
			return Cursor{}, false
		}
		return Cursor{Snapshot: snap, Start: f[2], ID: f[3]}, err == nil
	}
	return Cursor{}, false
}

// SyncToken returns the sync token for the changes after seq.
func SyncToken(calendarID string, seq int64) string {
	return Encode(calendarID, "s1", strconv.FormatInt(seq, 10))
}

// ParseSyncToken returns the change sequence of a token SyncToken made for
// calendarID.
func ParseSyncToken(tok, calendarID string) (int64, bool) {
	f, ok := Decode(tok, calendarID)
	if !ok || len(f) != 2 || f[0] != "s1" {
		return 0, false
	}
	seq, err := strconv.ParseInt(f[1], 10, 64)
	return seq, err == nil && seq >= 0
}

// ETag is a quoted opaque string, as Google's; made of the change
// sequence, every write makes a new one.
func ETag(seq int64) string { return `"` + strconv.FormatInt(seq, 10) + `"` }

// Pager cuts a page out of the rows of a listing read in order after cur,
// limit+1 of them asked for so that the last tells whether a page follows.
type Pager struct {
	calendarID string
	cur        Cursor
	limit      int
	page       moffman.EventPage
	lastSeq    int64
}

// NewPager starts a page of at most limit events after cur.
func NewPager(calendarID string, cur Cursor, limit int) *Pager {
	return &Pager{calendarID: calendarID, cur: cur, limit: limit}
}

// Full reports whether the page holds limit events. Called when another
// row is there, it sets the next page token: stop reading then.
func (p *Pager) Full() bool {
	if len(p.page.Events) < p.limit {
		return false
	}
	last := p.page.Events[p.limit-1]
	next := Cursor{Changes: p.cur.Changes, Snapshot: p.cur.Snapshot, Seq: p.lastSeq, Start: last.Start, ID: last.ID}
	p.page.NextPageToken = next.Token(p.calendarID)
	return true
}

// Add puts the event of the next row, with its change sequence, on the
// page.
func (p *Pager) Add(ev moffman.Event, seq int64) {
	p.lastSeq = seq
	p.page.Events = append(p.page.Events, ev)
}

// Page returns the page. The last page of a listing carries the sync
// token: for changes top, the calendar's change sequence read with the
// rows; for a window the snapshot of its first page.
func (p *Pager) Page(top int64) moffman.EventPage {
	if p.page.NextPageToken == "" {
		seq := p.cur.Snapshot
		if p.cur.Changes {
			seq = top
		}
		p.page.NextSyncToken = SyncToken(p.calendarID, seq)
	}
	return p.page
}
