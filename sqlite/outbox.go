package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/moffman/moffman"
)

// The notification outbox (moffman.Outbox): each notification once, and
// one delivery row per destination that the notify worker moves from
// pending to delivered or failed. Written through the committer like
// everything else, so a recorded notification survives kill -9.

// outboxSchema is the migration that adds the outbox tables.
const outboxSchema = `
	CREATE TABLE notifications (
		id           TEXT PRIMARY KEY,
		type         TEXT NOT NULL,
		office       TEXT NOT NULL,
		calendar_id  TEXT NOT NULL,
		event_id     TEXT NOT NULL,
		person_name  TEXT NOT NULL,
		person_email TEXT NOT NULL,
		start_date   TEXT NOT NULL,
		end_date     TEXT NOT NULL,
		status       TEXT NOT NULL,
		detail       TEXT NOT NULL,
		at           INTEGER NOT NULL -- Unix milliseconds
	) WITHOUT ROWID;

	CREATE TABLE deliveries (
		notification_id TEXT NOT NULL REFERENCES notifications (id),
		destination     TEXT NOT NULL,
		state           TEXT NOT NULL, -- pending, delivered, failed
		attempts        INTEGER NOT NULL,
		last_error      TEXT NOT NULL,
		next_attempt    INTEGER NOT NULL, -- Unix milliseconds
		created         INTEGER NOT NULL,
		updated         INTEGER NOT NULL, -- last write; finished deliveries are pruned by it
		PRIMARY KEY (notification_id, destination)
	) WITHOUT ROWID;
	CREATE INDEX deliveries_due ON deliveries (destination, next_attempt, created) WHERE state = 'pending';`

var _ moffman.Outbox = (*Store)(nil)

// Enqueue records n and a pending delivery to each destination in one
// transaction. A known id keeps its fields; new destinations are added.
func (s *Store) Enqueue(ctx context.Context, n moffman.Notification, destinations []string) error {
	now := s.now().UnixMilli()
	return s.write(ctx, "enqueue notification", func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notifications (id, type, office, calendar_id, event_id,
			person_name, person_email, start_date, end_date, status, detail, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			n.ID, string(n.Type), n.Office, n.CalendarID, n.EventID, n.PersonName, n.PersonEmail,
			n.Start, n.End, n.Status, n.Detail, n.At.UnixMilli())
		if err != nil {
			return err
		}
		for _, d := range destinations {
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (notification_id, destination, state,
				attempts, last_error, next_attempt, created, updated) VALUES (?, ?, 'pending', 0, '', ?, ?, ?)
				ON CONFLICT (notification_id, destination) DO NOTHING`, n.ID, d, now, now, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// DueDeliveries returns up to limit pending deliveries to destination due
// by now, oldest first.
func (s *Store) DueDeliveries(ctx context.Context, destination string, now time.Time, limit int) ([]moffman.Delivery, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT n.id, n.type, n.office, n.calendar_id, n.event_id,
		n.person_name, n.person_email, n.start_date, n.end_date, n.status, n.detail, n.at,
		d.state, d.attempts, d.last_error, d.next_attempt, d.created
		FROM deliveries d JOIN notifications n ON n.id = d.notification_id
		WHERE d.destination = ? AND d.state = 'pending' AND d.next_attempt <= ?
		ORDER BY d.created, n.at, n.id LIMIT ?`, destination, now.UnixMilli(), limit)
	if err != nil {
		return nil, s.fail(ctx, err, "due deliveries")
	}
	defer rows.Close()
	var out []moffman.Delivery
	for rows.Next() {
		d := moffman.Delivery{Destination: destination}
		n := &d.Notification
		var at, next, created int64
		if err := rows.Scan(&n.ID, &n.Type, &n.Office, &n.CalendarID, &n.EventID, &n.PersonName,
			&n.PersonEmail, &n.Start, &n.End, &n.Status, &n.Detail, &at,
			&d.State, &d.Attempts, &d.LastError, &next, &created); err != nil {
			return nil, s.fail(ctx, err, "due deliveries")
		}
		n.At = time.UnixMilli(at).UTC()
		d.NextAttempt = time.UnixMilli(next).UTC()
		d.Created = time.UnixMilli(created).UTC()
		out = append(out, d)
	}
	return out, s.fail(ctx, rows.Err(), "due deliveries")
}

// SaveDelivery stores a delivery's state, attempts, error and next attempt.
func (s *Store) SaveDelivery(ctx context.Context, d moffman.Delivery) error {
	now := s.now().UnixMilli()
	return s.write(ctx, "save delivery", func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = ?, attempts = ?, last_error = ?,
			next_attempt = ?, updated = ? WHERE notification_id = ? AND destination = ?`,
			string(d.State), d.Attempts, d.LastError, d.NextAttempt.UnixMilli(), now, d.Notification.ID, d.Destination)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return moffman.Errorf(moffman.NotFound, "no delivery of notification %q to %q", d.Notification.ID, d.Destination)
		}
		return nil
	})
}

// OutboxStats counts each destination's deliveries by state, with the
// error of the most recently written delivery that has one.
func (s *Store) OutboxStats(ctx context.Context) (map[string]moffman.OutboxStats, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT destination,
		sum(state = 'pending'), sum(state = 'delivered'), sum(state = 'failed'),
		IFNULL((SELECT last_error FROM deliveries e WHERE e.destination = d.destination AND e.last_error <> ''
			ORDER BY e.updated DESC LIMIT 1), '')
		FROM deliveries d GROUP BY destination`)
	if err != nil {
		return nil, s.fail(ctx, err, "outbox stats")
	}
	defer rows.Close()
	stats := map[string]moffman.OutboxStats{}
	for rows.Next() {
		var dest string
		var st moffman.OutboxStats
		if err := rows.Scan(&dest, &st.Pending, &st.Delivered, &st.Failed, &st.LastError); err != nil {
			return nil, s.fail(ctx, err, "outbox stats")
		}
		stats[dest] = st
	}
	return stats, s.fail(ctx, rows.Err(), "outbox stats")
}

// PruneOutbox deletes finished deliveries written before the time and the
// notifications left without any.
func (s *Store) PruneOutbox(ctx context.Context, finishedBefore time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "prune outbox", func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE state <> 'pending' AND updated < ?`,
			finishedBefore.UnixMilli())
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM notifications WHERE NOT EXISTS
			(SELECT 1 FROM deliveries WHERE notification_id = notifications.id)`)
		return err
	})
	return int(n), err
}
