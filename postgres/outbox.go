package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/moffman/moffman"
)

// The notification outbox (moffman.Outbox), as the sqlite store keeps it:
// each notification once, and one delivery row per destination that the
// notify worker moves from pending to delivered or failed. Replicas
// recording the same notification at once are kept apart by the primary
// keys: the later insert waits for the earlier to commit, then does nothing.

var _ moffman.Outbox = (*Store)(nil)

// Enqueue records n and a pending delivery to each destination in one
// transaction. A known id keeps its fields; new destinations are added.
func (s *Store) Enqueue(ctx context.Context, n moffman.Notification, destinations []string) error {
	now := s.now()
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO notifications (id, type, office, calendar_id, event_id,
		person_name, person_email, start_date, end_date, status, detail, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING`,
		n.ID, string(n.Type), n.Office, n.CalendarID, n.EventID, n.PersonName, n.PersonEmail,
		n.Start, n.End, n.Status, n.Detail, dbTime(n.At))
	// In one order, so replicas enqueueing together wait for each other
	// rather than deadlock.
	for _, d := range slices.Sorted(slices.Values(destinations)) {
		b.Queue(`INSERT INTO deliveries (notification_id, destination, state, attempts, last_error,
			next_attempt, created, updated) VALUES ($1, $2, 'pending', 0, '', $3, $3, $3)
			ON CONFLICT (notification_id, destination) DO NOTHING`, n.ID, d, now)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, b).Close()
	})
	return s.fail(ctx, err, "enqueue notification")
}

// DueDeliveries returns up to limit pending deliveries to destination due
// by now, oldest first; limit <= 0 means no limit.
func (s *Store) DueDeliveries(ctx context.Context, destination string, now time.Time, limit int) ([]moffman.Delivery, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, `SELECT n.id, n.type, n.office, n.calendar_id, n.event_id,
		n.person_name, n.person_email, n.start_date, n.end_date, n.status, n.detail, n.at,
		d.destination, d.state, d.attempts, d.last_error, d.next_attempt, d.created
		FROM deliveries d JOIN notifications n ON n.id = d.notification_id
		WHERE d.destination = $1 AND d.state = 'pending' AND d.next_attempt <= $2
		ORDER BY d.created, n.at, n.id LIMIT $3`, destination, dbTime(now), lim)
	if err != nil {
		return nil, s.fail(ctx, err, "due deliveries")
	}
	ds, err := pgx.CollectRows(rows, scanDelivery)
	return ds, s.fail(ctx, err, "due deliveries")
}

// scanDelivery reads a row of DueDeliveries.
func scanDelivery(row pgx.CollectableRow) (moffman.Delivery, error) {
	var d moffman.Delivery
	n := &d.Notification
	err := row.Scan(&n.ID, &n.Type, &n.Office, &n.CalendarID, &n.EventID, &n.PersonName,
		&n.PersonEmail, &n.Start, &n.End, &n.Status, &n.Detail, &n.At,
		&d.Destination, &d.State, &d.Attempts, &d.LastError, &d.NextAttempt, &d.Created)
	n.At, d.NextAttempt, d.Created = n.At.UTC(), d.NextAttempt.UTC(), d.Created.UTC()
	return d, err
}

// SaveDelivery stores a delivery's state, attempts, error and next attempt.
func (s *Store) SaveDelivery(ctx context.Context, d moffman.Delivery) error {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET state = $1, attempts = $2, last_error = $3,
		next_attempt = $4, updated = $5 WHERE notification_id = $6 AND destination = $7`,
		string(d.State), d.Attempts, d.LastError, dbTime(d.NextAttempt), s.now(), d.Notification.ID, d.Destination)
	if err != nil {
		return s.fail(ctx, err, "save delivery")
	}
	if tag.RowsAffected() == 0 {
		return moffman.Errorf(moffman.NotFound, "no delivery of notification %q to %q", d.Notification.ID, d.Destination)
	}
	return nil
}

// OutboxStats counts each destination's deliveries by state, with the
// error of the most recently written delivery that has one.
func (s *Store) OutboxStats(ctx context.Context) (map[string]moffman.OutboxStats, error) {
	rows, err := s.pool.Query(ctx, `SELECT destination,
		count(*) FILTER (WHERE state = 'pending'),
		count(*) FILTER (WHERE state = 'delivered'),
		count(*) FILTER (WHERE state = 'failed'),
		COALESCE((array_agg(last_error ORDER BY updated DESC) FILTER (WHERE last_error <> ''))[1], '')
		FROM deliveries GROUP BY destination`)
	if err != nil {
		return nil, s.fail(ctx, err, "outbox stats")
	}
	defer rows.Close()
	stats := make(map[string]moffman.OutboxStats)
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
// notifications left without any, in one transaction.
func (s *Store) PruneOutbox(ctx context.Context, finishedBefore time.Time) (int, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM deliveries WHERE state <> 'pending' AND updated < $1`,
			dbTime(finishedBefore))
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, `DELETE FROM notifications n WHERE NOT EXISTS
			(SELECT 1 FROM deliveries d WHERE d.notification_id = n.id)`)
		return err
	})
	if err != nil {
		return 0, s.fail(ctx, err, "prune outbox")
	}
	return int(n), nil
}
