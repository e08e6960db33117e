package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/moffman/moffman"
)

// Page sizes of events.list.
const (
	defaultPageSize = 250
	maxPageSize     = 2500
)

// Insert stores ev as a new confirmed event. Like Google it refuses an id
// used before in the calendar, by a cancelled event too (Conflict). The
// creator is ev.CreatorEmail, else the account.
func (s *Store) Insert(ctx context.Context, calendarID string, ev moffman.Event) (moffman.Event, error) {
	if ev.ID == "" {
		ev.ID = moffman.NewEventID()
	} else if !moffman.ValidEventID(ev.ID) {
		return moffman.Event{}, moffman.Errorf(moffman.Invalid,
			"event id %q is invalid: use 5 to 1024 characters of lowercase a-v and 0-9", ev.ID)
	}
	if err := validateEvent(ev.Start, ev.End, ev.ColorID); err != nil {
		return moffman.Event{}, err
	}
	if ev.CreatorEmail == "" {
		ev.CreatorEmail = s.account
	}
	priv, err := marshalPrivate(ev.Private)
	if err != nil {
		return moffman.Event{}, err
	}
	now := s.now()
	var seq int64
	err = s.write(ctx, "insert event", func(ctx context.Context, tx *sql.Tx) error {
		// The insert reads nothing beforehand: a duplicate id is reported
		// by the primary key.
		err := tx.StmtContext(ctx, s.insertEvent).QueryRowContext(ctx, calendarID, ev.ID, ev.Summary,
			ev.Start, ev.End, ev.ColorID, priv, ev.CreatorEmail, now.UnixMilli()).Scan(&seq)
		if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return moffman.Errorf(moffman.Conflict, "event id %q is already used in calendar %q", ev.ID, calendarID)
		}
		return err
	})
	if err != nil {
		return moffman.Event{}, err
	}
	ev.Private = clonePrivate(ev.Private)
	ev.Status = moffman.StatusConfirmed
	ev.Created, ev.Updated = now, now
	ev.ETag = etag(seq)
	return ev, nil
}

// Get returns an event, cancelled or not.
func (s *Store) Get(ctx context.Context, calendarID, eventID string) (moffman.Event, error) {
	ev, _, err := scanEvent(s.getEvent.QueryRowContext(ctx, calendarID, eventID))
	if errors.Is(err, sql.ErrNoRows) {
		return moffman.Event{}, notFound(calendarID, eventID)
	}
	return ev, s.fail(ctx, err, "get event")
}

// Patch replaces the fields set in p and merges p.Private key by key, in
// one statement.
func (s *Store) Patch(ctx context.Context, calendarID, eventID string, p moffman.EventPatch) (moffman.Event, error) {
	if p.Start != nil {
		if _, err := moffman.ParseDate("start", *p.Start); err != nil {
			return moffman.Event{}, err
		}
	}
	if p.End != nil {
		if _, err := moffman.ParseDate("end", *p.End); err != nil {
			return moffman.Event{}, err
		}
	}
	if p.ColorID != nil {
		if err := validateColor(*p.ColorID); err != nil {
			return moffman.Event{}, err
		}
	}
	var priv *string
	if p.Private != nil {
		b, err := marshalPrivate(p.Private)
		if err != nil {
			return moffman.Event{}, err
		}
		priv = &b
	}
	now := s.now().UnixMilli()
	var ev moffman.Event
	err := s.write(ctx, "patch event", func(ctx context.Context, tx *sql.Tx) error {
		var err error
		ev, _, err = scanEvent(tx.StmtContext(ctx, s.patchEvent).QueryRowContext(ctx, calendarID, eventID,
			p.Summary, p.Start, p.End, p.ColorID, priv, now))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return notFound(calendarID, eventID)
		case sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_CHECK:
			return moffman.Errorf(moffman.Invalid, "event %q: end must be after start (end is exclusive)", eventID)
		}
		return err
	})
	if err != nil {
		return moffman.Event{}, err
	}
	return ev, nil
}

// Delete cancels the event; the row stays, so its id stays used and sync
// listings report the cancellation.
func (s *Store) Delete(ctx context.Context, calendarID, eventID string) error {
	now := s.now().UnixMilli()
	return s.write(ctx, "delete event", func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, s.cancelEvent).ExecContext(ctx, calendarID, eventID, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			err := tx.StmtContext(ctx, s.eventExists).QueryRowContext(ctx, calendarID, eventID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return notFound(calendarID, eventID)
			}
			return err
		}
		return nil
	})
}

// Subscribe records the calendar. Local calendars exist as soon as they are
// named, so it never refuses one.
func (s *Store) Subscribe(ctx context.Context, calendarID string) error {
	return s.write(ctx, "subscribe", func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO calendars (id) VALUES (?) ON CONFLICT DO NOTHING`, calendarID)
		return err
	})
}

// List returns one page of events, as Google's events.list does.
//
// Without a sync token it lists the window ordered by (start, id); the page
// token holds the last (start, id) returned, so concurrent writes do not
// shift pages, and the calendar's change sequence as of the first page,
// which becomes the final sync token: a write made while the pages are
// fetched is after it and shows up in the next incremental listing.
//
// With a sync token it lists the events changed since, cancelled ones
// included, ordered by change sequence; the final sync token is read in the
// same read transaction as the rows, so no concurrent write is missed.
func (s *Store) List(ctx context.Context, calendarID string, q moffman.ListQuery) (moffman.EventPage, error) {
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

	var since int64 = -1
	if q.SyncToken != "" {
		var ok bool
		if since, ok = parseSyncToken(q.SyncToken, calendarID); !ok {
			return moffman.EventPage{}, moffman.Errorf(moffman.Gone,
				"sync token is not valid for calendar %q: a full sync is required", calendarID)
		}
	}
	var cur cursor
	if q.PageToken != "" {
		var ok bool
		if cur, ok = parsePageToken(q.PageToken, calendarID); !ok || (q.SyncToken != "" && !cur.changes) {
			return moffman.EventPage{}, moffman.Errorf(moffman.Invalid, "invalid page token for calendar %q", calendarID)
		}
	} else if q.SyncToken != "" {
		cur = cursor{changes: true, seq: since}
	}

	// A read transaction: the sequence and the rows come from one snapshot.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return moffman.EventPage{}, s.fail(ctx, err, "list events")
	}
	defer tx.Rollback()
	var top int64
	if q.PageToken == "" || cur.changes {
		if err := tx.StmtContext(ctx, s.maxSeq).QueryRowContext(ctx, calendarID).Scan(&top); err != nil {
			return moffman.EventPage{}, s.fail(ctx, err, "list events")
		}
		if since > top {
			// A token from the future: the store was replaced or reset.
			return moffman.EventPage{}, moffman.Errorf(moffman.Gone,
				"sync token is not valid for calendar %q: a full sync is required", calendarID)
		}
	}
	var rows *sql.Rows
	if cur.changes {
		rows, err = tx.StmtContext(ctx, s.listChanges).QueryContext(ctx, calendarID, cur.seq, limit+1)
	} else {
		if q.PageToken == "" {
			cur.snapshot = top
		}
		lo, hi := dateBounds(q.TimeMin, q.TimeMax)
		rows, err = tx.StmtContext(ctx, s.listWindow).QueryContext(ctx, calendarID, hi, lo, q.ShowDeleted,
			cur.start, cur.id, limit+1)
	}
	if err != nil {
		return moffman.EventPage{}, s.fail(ctx, err, "list events")
	}
	defer rows.Close()
	var page moffman.EventPage
	var lastSeq int64
	for rows.Next() {
		if len(page.Events) == limit {
			last := page.Events[limit-1]
			next := cursor{changes: cur.changes, snapshot: cur.snapshot, seq: lastSeq, start: last.Start, id: last.ID}
			page.NextPageToken = next.token(calendarID)
			break
		}
		ev, seq, err := scanEvent(rows)
		if err != nil {
			return moffman.EventPage{}, s.fail(ctx, err, "list events")
		}
		lastSeq = seq
		page.Events = append(page.Events, ev)
	}
	if err := rows.Err(); err != nil {
		return moffman.EventPage{}, s.fail(ctx, err, "list events")
	}
	if page.NextPageToken == "" {
		if cur.changes {
			page.NextSyncToken = syncToken(calendarID, top)
		} else {
			page.NextSyncToken = syncToken(calendarID, cur.snapshot)
		}
	}
	return page, nil
}

// dateBounds turns [min, max) into bounds on the date strings: an all-day
// event (dates as midnight UTC) overlaps when end_date > lo and
// start_date < hi. Zero times are unbounded.
func dateBounds(tmin, tmax time.Time) (lo, hi string) {
	lo, hi = "", "~" // below and above every date
	if !tmin.IsZero() {
		t := tmin.UTC()
		switch {
		case t.Year() > 9999:
			lo = hi
		case t.Year() >= 1:
			lo = t.Format(moffman.DateLayout) // end at midnight of that day is not after tmin
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

// cursor is where a listing continues: after (start, id) in a window, after
// seq in a change listing. snapshot is the change sequence at the first
// page of a window listing.
type cursor struct {
	changes   bool
	snapshot  int64
	seq       int64
	start, id string
}

// Page and sync tokens are opaque to callers; they are base64 so that they
// survive URLs, and carry the calendar so that one cannot be used for
// another.
var tokenEncoding = base64.RawURLEncoding

func (c cursor) token(calendarID string) string {
	var s string
	if c.changes {
		s = "c|" + strconv.FormatInt(c.seq, 10) + "|" + calendarID
	} else {
		s = "w|" + strconv.FormatInt(c.snapshot, 10) + "|" + c.start + "|" + c.id + "|" + calendarID
	}
	return tokenEncoding.EncodeToString([]byte(s))
}

func parsePageToken(tok, calendarID string) (cursor, bool) {
	b, err := tokenEncoding.DecodeString(tok)
	if err != nil {
		return cursor{}, false
	}
	kind, rest, _ := strings.Cut(string(b), "|")
	switch kind {
	case "c":
		n, cal, _ := strings.Cut(rest, "|")
		seq, err := strconv.ParseInt(n, 10, 64)
		return cursor{changes: true, seq: seq}, err == nil && cal == calendarID
	case "w":
		p := strings.SplitN(rest, "|", 4)
		if len(p) != 4 || p[3] != calendarID {
			return cursor{}, false
		}
		snap, err := strconv.ParseInt(p[0], 10, 64)
		return cursor{snapshot: snap, start: p[1], id: p[2]}, err == nil
	}
	return cursor{}, false
}

func syncToken(calendarID string, seq int64) string {
	return tokenEncoding.EncodeToString([]byte("s1|" + strconv.FormatInt(seq, 10) + "|" + calendarID))
}

// parseSyncToken returns the change sequence of a token issued for
// calendarID.
func parseSyncToken(tok, calendarID string) (int64, bool) {
	b, err := tokenEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	p := strings.SplitN(string(b), "|", 3)
	if len(p) != 3 || p[0] != "s1" || p[2] != calendarID {
		return 0, false
	}
	seq, err := strconv.ParseInt(p[1], 10, 64)
	return seq, err == nil && seq >= 0
}

// etag is a quoted opaque string, as Google's; it is the change sequence,
// so every write makes a new one.
func etag(seq int64) string { return `"` + strconv.FormatInt(seq, 10) + `"` }

// scanEvent reads the columns of eventCols and returns the event and its
// change sequence.
func scanEvent(row interface{ Scan(...any) error }) (moffman.Event, int64, error) {
	var ev moffman.Event
	var seq, created, updated int64
	var priv string
	err := row.Scan(&ev.ID, &seq, &ev.Summary, &ev.Start, &ev.End, &ev.ColorID, &priv,
		&ev.CreatorEmail, &ev.Status, &created, &updated)
	if err != nil {
		return moffman.Event{}, 0, err
	}
	if priv != "{}" {
		if err := json.Unmarshal([]byte(priv), &ev.Private); err != nil {
			return moffman.Event{}, 0, err
		}
	}
	ev.ETag = etag(seq)
	ev.Created = time.UnixMilli(created).UTC()
	ev.Updated = time.UnixMilli(updated).UTC()
	return ev, seq, nil
}

// now is the clock in UTC at millisecond precision, as Google's times.
func (s *Store) now() time.Time { return s.clock().UTC().Truncate(time.Millisecond) }

func notFound(calendarID, eventID string) error {
	return moffman.Errorf(moffman.NotFound, "event %q not found in calendar %q", eventID, calendarID)
}

// validateEvent checks what Google checks on every write.
func validateEvent(start, end, colorID string) error {
	s, err := moffman.ParseDate("start", start)
	if err != nil {
		return err
	}
	e, err := moffman.ParseDate("end", end)
	if err != nil {
		return err
	}
	if !e.After(s) {
		return moffman.Errorf(moffman.Invalid, "end %s must be after start %s (end is exclusive)", end, start)
	}
	return validateColor(colorID)
}

// validateColor accepts Google's event colours "1" to "11" or none.
func validateColor(id string) error {
	if id == "" {
		return nil
	}
	if n, err := strconv.Atoi(id); err != nil || n < 1 || n > 11 || strconv.Itoa(n) != id {
		return moffman.Errorf(moffman.Invalid, "colorId %q is invalid: use an event colour from 1 to 11", id)
	}
	return nil
}

func marshalPrivate(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", moffman.WrapError(moffman.Internal, err, "store: private properties")
	}
	return string(b), nil
}

func clonePrivate(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
