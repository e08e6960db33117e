package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/moffman/moffman"
)

// unfinished is the SQL condition of a job that still has work to do; the
// partial index jobs_unfinished uses the same text.
const unfinished = `step NOT IN ('done', 'dropped')`

// jobColumns are the columns scanJob reads, in its order.
const jobColumns = `calendar_id, event_id, office_id, step, attempts, last_error,
	next_attempt, created, unknown_outcomes, event_updated`

// kv keys: the last good directory lists, and the manual users searched for.
const (
	directoryKey   = "directory"
	manualUsersKey = "manual_users"
)

// SyncToken returns the stored sync token of a calendar, "" if none.
func (s *Store) SyncToken(ctx context.Context, calendarID string) (string, error) {
	var tok string
	err := s.r.QueryRowContext(ctx, `SELECT token FROM sync_tokens WHERE calendar_id = ?`, calendarID).Scan(&tok)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return tok, s.fail(ctx, err, "read sync token")
}

// CommitSync adds the new jobs and stores the next sync token in one
// transaction, so a crash leaves either both or neither. Jobs whose key
// exists, finished ones included, are left alone: an event seen again is
// never processed twice.
func (s *Store) CommitSync(ctx context.Context, calendarID string, jobs []moffman.Job, nextToken string) error {
	now := s.now().UnixMilli()
	return s.write(ctx, "commit sync", func(ctx context.Context, tx *sql.Tx) error {
		if len(jobs) > 0 {
			// A dropped job is re-opened by a newer version of its event.
			ins, err := tx.PrepareContext(ctx, `INSERT INTO jobs (calendar_id, event_id, office_id, step,
				attempts, last_error, next_attempt, created, updated, unknown_outcomes, event_updated)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (calendar_id, event_id) DO UPDATE SET office_id = excluded.office_id,
					step = excluded.step, attempts = excluded.attempts, last_error = excluded.last_error,
					next_attempt = excluded.next_attempt, created = excluded.created, updated = excluded.updated,
					unknown_outcomes = excluded.unknown_outcomes, event_updated = excluded.event_updated
				WHERE jobs.step = 'dropped' AND jobs.event_updated < excluded.event_updated`)
			if err != nil {
				return err
			}
			defer ins.Close()
			for _, j := range jobs {
				if j.Step == "" {
					j.Step = moffman.StepDetected
				}
				created := now
				if !j.Created.IsZero() {
					created = j.Created.UnixMilli()
				}
				if _, err := ins.ExecContext(ctx, j.CalendarID, j.EventID, j.OfficeID, string(j.Step),
					j.Attempts, j.LastError, j.NextAttempt.UnixMilli(), created, now,
					j.UnknownOutcomes, unixMilli(j.EventUpdated)); err != nil {
					return err
				}
			}
		}
		var err error
		if nextToken == "" {
			_, err = tx.ExecContext(ctx, `DELETE FROM sync_tokens WHERE calendar_id = ?`, calendarID)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO sync_tokens (calendar_id, token) VALUES (?, ?)
				ON CONFLICT (calendar_id) DO UPDATE SET token = excluded.token`, calendarID, nextToken)
		}
		return err
	})
}

// DueJobs returns up to limit unfinished jobs whose next attempt is not
// after now, oldest created first; limit <= 0 means no limit. Jobs waiting
// for an operator are not due.
func (s *Store) DueJobs(ctx context.Context, now time.Time, limit int) ([]moffman.Job, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE `+unfinished+` AND step <> 'needs_operator' AND next_attempt <= ?
		ORDER BY created, calendar_id, event_id LIMIT ?`, now.UnixMilli(), limit)
	if err != nil {
		return nil, s.fail(ctx, err, "due jobs")
	}
	return s.scanJobs(ctx, rows, "due jobs")
}

// Job returns the job of an event; NotFound when there is none.
func (s *Store) Job(ctx context.Context, calendarID, eventID string) (moffman.Job, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE calendar_id = ? AND event_id = ?`, calendarID, eventID)
	if err != nil {
		return moffman.Job{}, s.fail(ctx, err, "read job")
	}
	jobs, err := s.scanJobs(ctx, rows, "read job")
	if err != nil {
		return moffman.Job{}, err
	}
	if len(jobs) == 0 {
		return moffman.Job{}, moffman.Errorf(moffman.NotFound, "no manual-event job for event %q of calendar %q", eventID, calendarID)
	}
	return jobs[0], nil
}

// scanJobs reads rows of jobColumns and closes them.
func (s *Store) scanJobs(ctx context.Context, rows *sql.Rows, what string) ([]moffman.Job, error) {
	defer rows.Close()
	var jobs []moffman.Job
	for rows.Next() {
		var j moffman.Job
		var next, created, eventUpdated int64
		if err := rows.Scan(&j.CalendarID, &j.EventID, &j.OfficeID, &j.Step, &j.Attempts,
			&j.LastError, &next, &created, &j.UnknownOutcomes, &eventUpdated); err != nil {
			return nil, s.fail(ctx, err, what)
		}
		j.NextAttempt = time.UnixMilli(next).UTC()
		j.Created = time.UnixMilli(created).UTC()
		if eventUpdated != 0 {
			j.EventUpdated = time.UnixMilli(eventUpdated).UTC()
		}
		jobs = append(jobs, j)
	}
	return jobs, s.fail(ctx, rows.Err(), what)
}

// unixMilli is t in Unix milliseconds, 0 for the zero time.
func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// SaveJob stores the job's step, attempts, last error, next attempt,
// unknown outcomes and event time: for a job with a claim only while
// the claim holds (claim.go). NotFound when no job has its key.
func (s *Store) SaveJob(ctx context.Context, j moffman.Job) error {
	if j.Claim.Holder != "" {
		return s.saveClaimed(ctx, j)
	}
	return s.saveJob(ctx, j)
}

func (s *Store) saveJob(ctx context.Context, j moffman.Job) error {
	now := s.now().UnixMilli()
	return s.write(ctx, "save job", func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET step = ?, attempts = ?, last_error = ?,
			next_attempt = ?, updated = ?, unknown_outcomes = ?, event_updated = ?
			WHERE calendar_id = ? AND event_id = ?`,
			string(j.Step), j.Attempts, j.LastError, j.NextAttempt.UnixMilli(), now,
			j.UnknownOutcomes, unixMilli(j.EventUpdated), j.CalendarID, j.EventID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return moffman.Errorf(moffman.NotFound, "no job for event %q of calendar %q", j.EventID, j.CalendarID)
		}
		return nil
	})
}

// JobStats summarises the unfinished jobs per office: how many, the oldest
// creation time (waitlisted jobs counted apart, in neither) and the most
// recently stored error.
func (s *Store) JobStats(ctx context.Context) (map[string]moffman.JobStats, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.fail(ctx, err, "job stats")
	}
	defer tx.Rollback()
	stats := make(map[string]moffman.JobStats)
	rows, err := tx.QueryContext(ctx, `SELECT office_id, SUM(step <> 'waitlisted'),
		MIN(CASE WHEN step <> 'waitlisted' THEN created END), SUM(step = 'waitlisted') FROM jobs
		WHERE `+unfinished+` GROUP BY office_id`)
	if err != nil {
		return nil, s.fail(ctx, err, "job stats")
	}
	defer rows.Close()
	for rows.Next() {
		var office string
		var st moffman.JobStats
		var oldest sql.NullInt64 // NULL when every job is waitlisted
		if err := rows.Scan(&office, &st.Pending, &oldest, &st.Waitlisted); err != nil {
			return nil, s.fail(ctx, err, "job stats")
		}
		if oldest.Valid {
			st.Oldest = time.UnixMilli(oldest.Int64).UTC()
		}
		stats[office] = st
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, err, "job stats")
	}
	// With MAX(), SQLite takes the bare column last_error from the row
	// holding the maximum.
	rows, err = tx.QueryContext(ctx, `SELECT office_id, last_error, MAX(updated) FROM jobs
		WHERE `+unfinished+` AND last_error <> '' GROUP BY office_id`)
	if err != nil {
		return nil, s.fail(ctx, err, "job stats")
	}
	defer rows.Close()
	for rows.Next() {
		var office, last string
		var at int64
		if err := rows.Scan(&office, &last, &at); err != nil {
			return nil, s.fail(ctx, err, "job stats")
		}
		st := stats[office]
		st.LastError = last
		stats[office] = st
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, err, "job stats")
	}
	rows, err = tx.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE step = 'needs_operator' ORDER BY created, calendar_id, event_id`)
	if err != nil {
		return nil, s.fail(ctx, err, "job stats")
	}
	waiting, err := s.scanJobs(ctx, rows, "job stats")
	for _, j := range waiting {
		st := stats[j.OfficeID]
		st.NeedsOperator = append(st.NeedsOperator, j)
		stats[j.OfficeID] = st
	}
	return stats, err
}

// PruneJobs deletes jobs that finished (done or dropped) before the given
// time and returns how many. Keep finished jobs for longer than an event
// can be listed again by a full sync, or it could be processed twice.
func (s *Store) PruneJobs(ctx context.Context, finishedBefore time.Time) (int, error) {
	var n int64
	err := s.write(ctx, "prune jobs", func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE NOT (`+unfinished+`) AND updated < ?`,
			finishedBefore.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// SaveDirectory stores the last good spreadsheet lists.
func (s *Store) SaveDirectory(ctx context.Context, lists moffman.DirectoryLists) error {
	return s.putKV(ctx, "save directory", directoryKey, lists)
}

// LoadDirectory returns the lists last saved; false when none were.
func (s *Store) LoadDirectory(ctx context.Context) (moffman.DirectoryLists, bool, error) {
	var lists moffman.DirectoryLists
	ok, err := s.getKV(ctx, "load directory", directoryKey, &lists)
	if !ok || err != nil {
		return moffman.DirectoryLists{}, false, err
	}
	return lists, true, nil
}

// SaveManualUsers stores the e-mails of the manual users searched for.
func (s *Store) SaveManualUsers(ctx context.Context, emails []string) error {
	return s.putKV(ctx, "save manual users", manualUsersKey, emails)
}

// ManualUsers returns the e-mails last saved; false when none were.
func (s *Store) ManualUsers(ctx context.Context) ([]string, bool, error) {
	var emails []string
	ok, err := s.getKV(ctx, "load manual users", manualUsersKey, &emails)
	return emails, ok, err
}

// putKV stores v as JSON under key.
func (s *Store) putKV(ctx context.Context, what, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return moffman.WrapError(moffman.Internal, err, "store: %s", what)
	}
	return s.write(ctx, what, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO kv (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, string(b))
		return err
	})
}

// getKV reads the JSON under key into v; false when the key is not set.
func (s *Store) getKV(ctx context.Context, what, key string, v any) (bool, error) {
	var raw string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM kv WHERE key = ?`, key).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, s.fail(ctx, err, what)
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return false, moffman.WrapError(moffman.Internal, err, "store: %s", what)
	}
	return true, nil
}
