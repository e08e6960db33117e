package moffman

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
)

// Page sizes of the reservation and office lists: a page costs what it
// holds, so a list answers in pages whatever the window holds.
const (
	DefaultPageLimit = 500
	MaxPageLimit     = 2500 // Google's largest events.list page
)

// personPageCalls bounds the calendar pages one page of a person's
// reservations reads: they are found by filtering every office's events,
// so without a bound a person with few reservations would cost a whole
// walk in one request. A page may then hold fewer than its limit, or
// none, and still say that more follows.
const personPageCalls = 10

// PageQuery is a window of a reservation list and the page of it wanted.
type PageQuery struct {
	From, To         string // YYYY-MM-DD, To exclusive
	IncludeCancelled bool
	Limit            int    // 0: DefaultPageLimit
	PageToken        string // "": the first page
}

// ReservationPage is one page of a reservation list.
type ReservationPage struct {
	Reservations  []Reservation
	NextPageToken string // "" on the last page
}

// ParseLimit reads a page size as sent ("" is the default); the error
// names the parameter limit.
func ParseLimit(s string) (int, error) {
	if s == "" {
		return DefaultPageLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, Errorf(Invalid, "limit must be a whole number from 1 to %d, got %q", MaxPageLimit, s)
	}
	if n == 0 {
		return 0, Errorf(Invalid, "limit must be from 1 to %d, got 0", MaxPageLimit)
	}
	return checkLimit(n)
}

func checkLimit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultPageLimit, nil
	case n < 1 || n > MaxPageLimit:
		return 0, Errorf(Invalid, "limit must be from 1 to %d, got %d", MaxPageLimit, n)
	}
	return n, nil
}

// ListPage returns one page of the reservations of an office overlapping
// [q.From, q.To), ordered by start date then id. The page token wraps the
// calendar's own, so a page is one calendar call of at most q.Limit events.
func (s *Reservations) ListPage(ctx context.Context, officeID string, q PageQuery) (ReservationPage, error) {
	office, err := s.office(officeID)
	if err != nil {
		return ReservationPage{}, err
	}
	min, max, err := ParseWindow(q.From, q.To, WindowRule{})
	if err != nil {
		return ReservationPage{}, err
	}
	limit, err := checkLimit(q.Limit)
	if err != nil {
		return ReservationPage{}, err
	}
	binding := bindingOf("office", office.Name, office.CalendarID, min.Format(DateLayout), max.Format(DateLayout), strconv.FormatBool(q.IncludeCancelled))
	var inner string
	if q.PageToken != "" {
		f, ok := decodePageToken(q.PageToken, binding, 1)
		if !ok {
			return ReservationPage{}, badPageToken("office, from, to, include_cancelled")
		}
		inner = f[0]
	}
	page, err := s.Calendar.List(ctx, office.CalendarID, ListQuery{
		TimeMin: min, TimeMax: max, ShowDeleted: q.IncludeCancelled, PageToken: inner, MaxResults: limit,
	})
	if err != nil {
		return ReservationPage{}, s.pageFailure(office, inner, err, "office, from, to, include_cancelled")
	}
	out := ReservationPage{Reservations: make([]Reservation, 0, len(page.Events))}
	for _, ev := range page.Events {
		out.Reservations = append(out.Reservations, toReservation(office.Name, ev))
	}
	if page.NextPageToken != "" {
		out.NextPageToken = encodePageToken(binding, page.NextPageToken)
	}
	return out, nil
}

// PersonPage returns one page of the reservations of one person in every
// office overlapping [q.From, q.To) (at most MaxWindowDays), found by
// e-mail (case-insensitive). The walk goes office by office, in the order
// Directory.Offices gives (by name), and by start date then id within an
// office; its page token holds the office the walk is in and the
// calendar's page token there. A page may hold fewer than q.Limit
// reservations, none even, and still carry a NextPageToken (see
// personPageCalls). It fails when an office cannot be read: a list
// silently missing an office would look complete.
func (s *Reservations) PersonPage(ctx context.Context, email string, q PageQuery) (ReservationPage, error) {
	if err := CheckEmail("email", email); err != nil {
		return ReservationPage{}, err
	}
	min, max, err := ParseWindow(q.From, q.To, viewWindow)
	if err != nil {
		return ReservationPage{}, err
	}
	limit, err := checkLimit(q.Limit)
	if err != nil {
		return ReservationPage{}, err
	}
	const query = "email, from, to, include_cancelled"
	binding := bindingOf("person", strings.ToLower(email), min.Format(DateLayout), max.Format(DateLayout), strconv.FormatBool(q.IncludeCancelled))
	offices := s.Directory.Offices()
	i, inner := 0, ""
	if q.PageToken != "" {
		f, ok := decodePageToken(q.PageToken, binding, 3)
		if !ok {
			return ReservationPage{}, badPageToken(query)
		}
		// Offices may have been reloaded since: the walk goes on at the
		// office it was in or, if that is gone, at the next one by name;
		// an office that moved to another calendar is listed from its start.
		for i < len(offices) && offices[i].Name < f[0] {
			i++
		}
		if i < len(offices) && offices[i].Name == f[0] && offices[i].CalendarID == f[1] {
			inner = f[2]
		}
	}
	out := ReservationPage{Reservations: []Reservation{}}
	for calls := 0; i < len(offices); calls++ {
		if calls == personPageCalls || len(out.Reservations) == limit {
			out.NextPageToken = encodePageToken(binding, offices[i].Name, offices[i].CalendarID, inner)
			break
		}
		office, err := s.office(offices[i].Name)
		if err != nil {
			return ReservationPage{}, err
		}
		// Pages of limit events: each has at most limit matches, so the
		// first one read always fits, and a walk always moves on.
		page, err := s.Calendar.List(ctx, office.CalendarID, ListQuery{
			TimeMin: min, TimeMax: max, ShowDeleted: q.IncludeCancelled, PageToken: inner, MaxResults: limit,
		})
		if err != nil {
			return ReservationPage{}, s.pageFailure(office, inner, err, query)
		}
		var found []Reservation
		for _, ev := range page.Events {
			if r := toReservation(office.Name, ev); strings.EqualFold(r.UserEmail, email) {
				found = append(found, r)
			}
		}
		if len(out.Reservations)+len(found) > limit {
			// This calendar page does not fit: the next page reads it again.
			out.NextPageToken = encodePageToken(binding, office.Name, office.CalendarID, inner)
			break
		}
		out.Reservations = append(out.Reservations, found...)
		if inner = page.NextPageToken; inner == "" {
			i++
		}
	}
	return out, nil
}

// pageFailure is the error of a calendar listing: a calendar that refuses
// the page token it issued means the token was tampered with.
func (s *Reservations) pageFailure(office Office, inner string, err error, query string) error {
	switch {
	case inner != "" && IsCode(err, Invalid):
		return badPageToken(query)
	case IsCode(err, NotFound) || IsCode(err, Forbidden):
		return s.inaccessible(office, err)
	}
	return err
}

// PageOffices returns one page of offices (as Directory.Offices gives
// them, by name); the page token holds the last name returned.
func PageOffices(offices []Office, limit int, pageToken string) ([]Office, string, error) {
	limit, err := checkLimit(limit)
	if err != nil {
		return nil, "", err
	}
	const binding = "offices"
	if pageToken != "" {
		f, ok := decodePageToken(pageToken, binding, 1)
		if !ok {
			return nil, "", badPageToken("the office list")
		}
		for len(offices) > 0 && offices[0].Name <= f[0] {
			offices = offices[1:]
		}
	}
	if len(offices) <= limit {
		return offices, "", nil
	}
	return offices[:limit], encodePageToken(binding, offices[limit-1].Name), nil
}

// Page tokens are opaque to callers: base64 of their fields and a check
// over the fields and the query they belong to, so that garbage, a
// token cut short and a token of another listing (another office,
// window or person) are refused instead of listing something else. The
// check is no secret: a caller who forges one lists only what the same
// query would show.
var pageTokenEncoding = base64.RawURLEncoding

// bindingOf is the query a page token belongs to.
func bindingOf(parts ...string) string { return strings.Join(parts, "\x00") }

func pageCheck(binding, payload string) string {
	sum := sha256.Sum256([]byte(binding + "\x00" + payload))
	return hex.EncodeToString(sum[:8])
}

func encodePageToken(binding string, fields ...string) string {
	var b strings.Builder
	b.WriteString("p1")
	for _, f := range fields {
		b.WriteByte('|')
		b.WriteString(url.QueryEscape(f))
	}
	payload := b.String()
	return pageTokenEncoding.EncodeToString([]byte(payload + "|" + pageCheck(binding, payload)))
}

// decodePageToken returns the n fields of a token encodePageToken made for
// binding; false for any other.
func decodePageToken(tok, binding string, n int) ([]string, bool) {
	raw, err := pageTokenEncoding.DecodeString(tok)
	if err != nil {
		return nil, false
	}
	payload, check, ok := cutLast(string(raw), "|")
	if !ok || check != pageCheck(binding, payload) {
		return nil, false
	}
	parts := strings.Split(payload, "|")
	if parts[0] != "p1" || len(parts) != n+1 {
		return nil, false
	}
	fields := parts[1:]
	for i, f := range fields {
		if fields[i], err = url.QueryUnescape(f); err != nil {
			return nil, false
		}
	}
	return fields, true
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func badPageToken(query string) error {
	return Errorf(Invalid, "page_token is not a next_page_token of this listing; send the one the previous page of the same query (%s) returned, or leave page_token out to start from the first page", query)
}
