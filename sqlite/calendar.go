package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/eventstore"
)

// Insert stores ev as a new confirmed event. Like Google it refuses an id
// used before in the calendar, by a cancelled event too (Conflict). The
// creator is ev.CreatorEmail, else the account.
func (s *Store) Insert(ctx context.Context, calendarID string, ev moffman.Event) (moffman.Event, error) {
	if err := moffman.ValidateNewEvent(ev); err != nil {
		return moffman.Event{}, err
	}
	ev, priv, err := eventstore.ToInsert(ev, s.account)
	if err != nil {
		return moffman.Event{}, err
	}
	now := s.now()
	var seq int64
	err = s.writeOne(ctx, "insert event", func(ctx context.Context, tx *sql.Tx) error {
		// The insert reads nothing beforehand: a duplicate id is reported
		// by the primary key.
		err := tx.StmtContext(ctx, s.insertEvent).QueryRowContext(ctx, calendarID, ev.ID, ev.Summary,
			ev.Start, ev.End, ev.ColorID, priv, ev.CreatorEmail, now.UnixMilli()).Scan(&seq)
		if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return eventstore.IDUsed(calendarID, ev.ID)
		}
		return err
	})
	if err != nil {
		return moffman.Event{}, err
	}
	return eventstore.Inserted(ev, now, seq), nil
}

// Get returns an event, cancelled or not.
func (s *Store) Get(ctx context.Context, calendarID, eventID string) (moffman.Event, error) {
	ev, _, err := scanEvent(s.getEvent.QueryRowContext(ctx, calendarID, eventID))
	if errors.Is(err, sql.ErrNoRows) {
		return moffman.Event{}, moffman.EventNotFound(calendarID, eventID)
	}
	return ev, s.fail(ctx, err, "get event")
}

// Patch replaces the fields set in p and merges p.Private key by key, in
// one statement.
func (s *Store) Patch(ctx context.Context, calendarID, eventID string, p moffman.EventPatch) (moffman.Event, error) {
	if err := moffman.ValidatePatch(p); err != nil {
		return moffman.Event{}, err
	}
	priv, err := eventstore.PatchPrivate(p.Private, p.DropPrivate)
	if err != nil {
		return moffman.Event{}, err
	}
	now := s.now().UnixMilli()
	var ev moffman.Event
	err = s.writeOne(ctx, "patch event", func(ctx context.Context, tx *sql.Tx) error {
		var err error
		ev, _, err = scanEvent(tx.StmtContext(ctx, s.patchEvent).QueryRowContext(ctx, calendarID, eventID,
			p.Summary, p.Start, p.End, p.ColorID, priv, now))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return moffman.EventNotFound(calendarID, eventID)
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
				return moffman.EventNotFound(calendarID, eventID)
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
	limit, err := eventstore.CheckQuery(q)
	if err != nil {
		return moffman.EventPage{}, err
	}
	cur, since, err := listStart(calendarID, q)
	if err != nil {
		return moffman.EventPage{}, err
	}
	// A read transaction: the sequence and the rows come from one snapshot.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return moffman.EventPage{}, s.fail(ctx, err, "list events")
	}
	defer tx.Rollback()
	var top int64
	if q.PageToken == "" || cur.Changes {
		if err := tx.StmtContext(ctx, s.maxSeq).QueryRowContext(ctx, calendarID).Scan(&top); err != nil {
			return moffman.EventPage{}, s.fail(ctx, err, "list events")
		}
		if since > top {
			// A token from the future: the store was replaced or reset.
			return moffman.EventPage{}, eventstore.Gone(calendarID, nil)
		}
	}
	if !cur.Changes && q.PageToken == "" {
		cur.Snapshot = top
	}
	pager, err := s.listPage(ctx, tx, calendarID, q, cur, limit)
	if err != nil {
		return moffman.EventPage{}, s.fail(ctx, err, "list events")
	}
	return pager.Page(top), nil
}

// listStart returns where a listing starts and, with a sync token, the
// change sequence it was issued at (else -1).
func listStart(calendarID string, q moffman.ListQuery) (eventstore.Cursor, int64, error) {
	var since int64 = -1
	if q.SyncToken != "" {
		var ok bool
		if since, ok = eventstore.ParseSyncToken(q.SyncToken, calendarID); !ok {
			return eventstore.Cursor{}, 0, eventstore.Gone(calendarID, nil)
		}
	}
	if q.PageToken != "" {
		cur, ok := eventstore.ParseCursor(q.PageToken, calendarID)
		if !ok || (q.SyncToken != "" && !cur.Changes) {
			return eventstore.Cursor{}, 0, eventstore.InvalidPageToken(calendarID)
		}
		return cur, since, nil
	}
	if q.SyncToken != "" {
		return eventstore.Cursor{Changes: true, Seq: since}, since, nil
	}
	return eventstore.Cursor{}, since, nil
}

// listPage reads the page after cur within tx.
func (s *Store) listPage(ctx context.Context, tx *sql.Tx, calendarID string, q moffman.ListQuery, cur eventstore.Cursor, limit int) (*eventstore.Pager, error) {
	var rows *sql.Rows
	var err error
	if cur.Changes {
		rows, err = tx.StmtContext(ctx, s.listChanges).QueryContext(ctx, calendarID, cur.Seq, limit+1)
	} else {
		lo, hi := eventstore.DateBounds(q.TimeMin, q.TimeMax)
		rows, err = tx.StmtContext(ctx, s.listWindow).QueryContext(ctx, calendarID, hi, lo, q.ShowDeleted,
			cur.Start, cur.ID, limit+1)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	pager := eventstore.NewPager(calendarID, cur, limit)
	for rows.Next() && !pager.Full() {
		ev, seq, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		pager.Add(ev, seq)
	}
	return pager, rows.Err()
}

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
	if ev.Private, err = eventstore.UnmarshalPrivate([]byte(priv)); err != nil {
		return moffman.Event{}, 0, err
	}
	ev.ETag = eventstore.ETag(seq)
	ev.Created = time.UnixMilli(created).UTC()
	ev.Updated = time.UnixMilli(updated).UTC()
	return ev, seq, nil
}

// now is the clock in UTC at millisecond precision, as Google's times.
func (s *Store) now() time.Time { return s.clock().UTC().Truncate(time.Millisecond) }
