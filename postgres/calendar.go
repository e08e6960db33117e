package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/eventstore"
)

// eventCols are the columns scanEvent reads, in its order.
const eventCols = `id, seq, summary, start_date, end_date, color_id, private, creator_email, status, created, updated`

// Every write to an event first takes the calendar's next change number
// (the CTE "c"), which locks the calendar's row until the statement's
// transaction commits; see the calendars table in migrate.go.
const (
	insertEvent = `WITH c AS (
			INSERT INTO calendars AS c (id, seq) VALUES ($1, 1)
			ON CONFLICT (id) DO UPDATE SET seq = c.seq + 1
			RETURNING seq)
		INSERT INTO events (calendar_id, id, seq, summary, start_date, end_date,
			color_id, private, creator_email, status, created, updated)
		SELECT $1, $2, c.seq, $3, $4::date, $5::date, $6, $7::jsonb, $8, 'confirmed', $9, $9 FROM c
		RETURNING seq`
	patchEvent = `WITH c AS (UPDATE calendars SET seq = seq + 1 WHERE id = $1 RETURNING seq AS next)
		UPDATE events e SET summary = COALESCE($3, summary),
			start_date = COALESCE($4::date, start_date), end_date = COALESCE($5::date, end_date),
			color_id = COALESCE($6, color_id), private = jsonb_strip_nulls(private || COALESCE($7::jsonb, '{}')),
			updated = $8, seq = c.next
		FROM c WHERE e.calendar_id = $1 AND e.id = $2
		RETURNING ` + eventCols
	cancelEvent = `WITH c AS (UPDATE calendars SET seq = seq + 1 WHERE id = $1 RETURNING seq AS next)
		UPDATE events e SET status = 'cancelled', updated = $3, seq = c.next
		FROM c WHERE e.calendar_id = $1 AND e.id = $2 AND e.status <> 'cancelled'`
	listWindow = `SELECT ` + eventCols + ` FROM events
		WHERE calendar_id = $1 AND start_date < $2::date AND end_date > $3::date
		AND ($4 OR status = 'confirmed')
		AND start_date >= $3::date - COALESCE((SELECT max_days FROM calendars WHERE id = $1), 0)
		AND (start_date, id) > ($5::date, $6)
		ORDER BY start_date, id LIMIT $7`
	listChanges = `SELECT ` + eventCols + ` FROM events
		WHERE calendar_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`
)

// Insert stores ev as a new confirmed event. Like Google it refuses an id
// used before in the calendar, by a cancelled event too (Conflict). The
// creator is ev.CreatorEmail, else the account.
func (s *Store) Insert(ctx context.Context, calendarID string, ev moffman.Event) (moffman.Event, error) {
	if err := moffman.ValidateNewEvent(ev); err != nil { // year 0 too, which PostgreSQL's date lacks
		return moffman.Event{}, err
	}
	ev, priv, err := eventstore.ToInsert(ev, s.account)
	if err != nil {
		return moffman.Event{}, err
	}
	now := s.now()
	var seq int64
	err = s.pool.QueryRow(ctx, insertEvent, calendarID, ev.ID, ev.Summary, ev.Start, ev.End,
		ev.ColorID, priv, ev.CreatorEmail, now).Scan(&seq)
	if pgCode(err) == "23505" { // unique_violation: the primary key
		return moffman.Event{}, eventstore.IDUsed(calendarID, ev.ID)
	}
	if err != nil {
		return moffman.Event{}, s.fail(ctx, err, "insert event")
	}
	return eventstore.Inserted(ev, now, seq), nil
}

// Get returns an event, cancelled or not.
func (s *Store) Get(ctx context.Context, calendarID, eventID string) (moffman.Event, error) {
	ev, _, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventCols+` FROM events
		WHERE calendar_id = $1 AND id = $2`, calendarID, eventID))
	if errors.Is(err, pgx.ErrNoRows) {
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
	ev, _, err := scanEvent(s.pool.QueryRow(ctx, patchEvent, calendarID, eventID,
		p.Summary, p.Start, p.End, p.ColorID, priv, s.now()))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return moffman.Event{}, moffman.EventNotFound(calendarID, eventID)
	case pgCode(err) == "23514": // check_violation: end after start
		return moffman.Event{}, moffman.Errorf(moffman.Invalid, "event %q: end must be after start (end is exclusive)", eventID)
	case err != nil:
		return moffman.Event{}, s.fail(ctx, err, "patch event")
	}
	return ev, nil
}

// Delete cancels the event; the row stays, so its id stays used and sync
// listings report the cancellation.
func (s *Store) Delete(ctx context.Context, calendarID, eventID string) error {
	tag, err := s.pool.Exec(ctx, cancelEvent, calendarID, eventID, s.now())
	if err != nil {
		return s.fail(ctx, err, "delete event")
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	// Cancelled already (no error), or never there.
	var exists bool
	err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE calendar_id = $1 AND id = $2)`,
		calendarID, eventID).Scan(&exists)
	if err != nil {
		return s.fail(ctx, err, "delete event")
	}
	if !exists {
		return moffman.EventNotFound(calendarID, eventID)
	}
	return nil
}

// Subscribe records the calendar. Local calendars exist as soon as they are
// named, so it never refuses one.
func (s *Store) Subscribe(ctx context.Context, calendarID string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO calendars (id) VALUES ($1) ON CONFLICT DO NOTHING`, calendarID)
	return s.fail(ctx, err, "subscribe")
}

// List returns one page of events, as Google's events.list does.
//
// Without a sync token it lists the window ordered by (start, id); the page
// token holds the last (start, id) returned, so concurrent writes do not
// shift pages, and the calendar's change sequence as of the first page,
// which becomes the final sync token: a write committed while the pages are
// fetched has a higher number and shows up in the next incremental listing.
//
// With a sync token it lists the events changed since, cancelled ones
// included, ordered by change sequence; the final sync token is read in the
// same snapshot as the rows, so no concurrent write is missed.
func (s *Store) List(ctx context.Context, calendarID string, q moffman.ListQuery) (moffman.EventPage, error) {
	limit, err := eventstore.CheckQuery(q)
	if err != nil {
		return moffman.EventPage{}, err
	}
	cur, err := listStart(calendarID, q)
	if err != nil {
		return moffman.EventPage{}, err
	}
	var page moffman.EventPage
	// One snapshot: the change sequence and the rows agree.
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			var err error
			page, err = listPage(ctx, tx, calendarID, q, cur, limit)
			return err
		})
	if err != nil {
		return moffman.EventPage{}, s.fail(ctx, err, "list events")
	}
	return page, nil
}

// listStart returns where a listing starts.
func listStart(calendarID string, q moffman.ListQuery) (eventstore.Cursor, error) {
	cur := eventstore.Cursor{Snapshot: -1, Seq: -1}
	if q.SyncToken != "" {
		since, ok := eventstore.ParseSyncToken(q.SyncToken, calendarID)
		if !ok {
			return eventstore.Cursor{}, eventstore.Gone(calendarID, nil)
		}
		cur = eventstore.Cursor{Changes: true, Snapshot: since, Seq: since}
	}
	if q.PageToken != "" {
		next, ok := eventstore.ParseCursor(q.PageToken, calendarID)
		if !ok || next.Changes != (q.SyncToken != "") {
			return eventstore.Cursor{}, eventstore.InvalidPageToken(calendarID)
		}
		cur = next
	}
	return cur, nil
}

// listPage reads one page within tx. On a first page (or any page of a
// change listing) it reads the calendar's change sequence; a snapshot of -1
// in cur marks the first page of a window listing.
func listPage(ctx context.Context, tx pgx.Tx, calendarID string, q moffman.ListQuery, cur eventstore.Cursor, limit int) (moffman.EventPage, error) {
	var top int64
	if cur.Changes || q.PageToken == "" {
		err := tx.QueryRow(ctx, `SELECT COALESCE((SELECT seq FROM calendars WHERE id = $1), 0)`, calendarID).Scan(&top)
		if err != nil {
			return moffman.EventPage{}, err
		}
		if cur.Changes && q.PageToken == "" && cur.Seq > top {
			// A token from the future: the store was replaced or reset.
			return moffman.EventPage{}, eventstore.Gone(calendarID, nil)
		}
	}
	var rows pgx.Rows
	var err error
	if cur.Changes {
		rows, err = tx.Query(ctx, listChanges, calendarID, cur.Seq, limit+1)
	} else {
		if q.PageToken == "" {
			cur.Snapshot = top
		}
		lo, hi := dateBounds(q.TimeMin, q.TimeMax)
		start := cur.Start
		if start == "" {
			start = "-infinity"
		}
		rows, err = tx.Query(ctx, listWindow, calendarID, hi, lo, q.ShowDeleted, start, cur.ID, limit+1)
	}
	if err != nil {
		return moffman.EventPage{}, err
	}
	defer rows.Close()
	pager := eventstore.NewPager(calendarID, cur, limit)
	for rows.Next() && !pager.Full() {
		ev, seq, err := scanEvent(rows)
		if err != nil {
			return moffman.EventPage{}, err
		}
		pager.Add(ev, seq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return moffman.EventPage{}, err
	}
	return pager.Page(top), nil
}

// scanEvent reads the columns of eventCols and returns the event and its
// change sequence.
func scanEvent(row pgx.Row) (moffman.Event, int64, error) {
	var ev moffman.Event
	var seq int64
	var start, end time.Time
	var priv []byte
	err := row.Scan(&ev.ID, &seq, &ev.Summary, &start, &end, &ev.ColorID, &priv,
		&ev.CreatorEmail, &ev.Status, &ev.Created, &ev.Updated)
	if err != nil {
		return moffman.Event{}, 0, err
	}
	if ev.Private, err = eventstore.UnmarshalPrivate(priv); err != nil {
		return moffman.Event{}, 0, err
	}
	ev.Start, ev.End = start.Format(moffman.DateLayout), end.Format(moffman.DateLayout)
	ev.ETag = eventstore.ETag(seq)
	ev.Created, ev.Updated = ev.Created.UTC(), ev.Updated.UTC()
	return ev, seq, nil
}
