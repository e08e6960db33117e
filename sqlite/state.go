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

// directoryKey is the kv key of the last good directory lists.
const directoryKey = "directory"

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
			ins, err := tx.PrepareContext(ctx, `INSERT INTO jobs (calendar_id, event_id, office_id, step,
				attempts, last_error, next_attempt, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (calendar_id, event_id) DO NOTHING`)
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
					j.Attempts, j.LastError, j.NextAttempt.UnixMilli(), created, now); err != nil {
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
// after now, oldest created first; limit <= 0 means no limit.
func (s *Store) DueJobs(ctx context.Context, now time.Time, limit int) ([]moffman.Job, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.r.QueryContext(ctx, `SELECT calendar_id, event_id, office_id, step, attempts,
		last_error, next_attempt, created FROM jobs
		WHERE `+unfinished+` AND next_attempt <= ?
		ORDER BY created, calendar_id, event_id LIMIT ?`, now.UnixMilli(), limit)
	if err != nil {
		return nil, s.fail(ctx, err, "due jobs")
	}
	defer rows.Close()
	var jobs []moffman.Job
	for rows.Next() {
		var j moffman.Job
		var next, created int64
		if err := rows.Scan(&j.CalendarID, &j.EventID, &j.OfficeID, &j.Step, &j.Attempts,
			&j.LastError, &next, &created); err != nil {
			return nil, s.fail(ctx, err, "due jobs")
		}
		j.NextAttempt = time.UnixMilli(next).UTC()
		j.Created = time.UnixMilli(created).UTC()
		jobs = append(jobs, j)
	}
	return jobs, s.fail(ctx, rows.Err(), "due jobs")
}

// SaveJob stores the job's step, attempts, last error and next attempt:
// for a job with a claim only while the claim holds (claim.go). NotFound
// when no job has its key.
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
			next_attempt = ?, updated = ? WHERE calendar_id = ? AND event_id = ?`,
			string(j.Step), j.Attempts, j.LastError, j.NextAttempt.UnixMilli(), now, j.CalendarID, j.EventID)
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
// creation time and the most recently stored error.
func (s *Store) JobStats(ctx context.Context) (map[string]moffman.JobStats, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.fail(ctx, err, "job stats")
	}
	defer tx.Rollback()
	stats := make(map[string]moffman.JobStats)
	rows, err := tx.QueryContext(ctx, `SELECT office_id, count(*), MIN(created) FROM jobs
		WHERE `+unfinished+` GROUP BY office_id`)
	if err != nil {
		return nil, s.fail(ctx, err, "job stats")
	}
	defer rows.Close()
	for rows.Next() {
		var office string
		var st moffman.JobStats
		var oldest int64
		if err := rows.Scan(&office, &st.Pending, &oldest); err != nil {
			return nil, s.fail(ctx, err, "job stats")
		}
		st.Oldest = time.UnixMilli(oldest).UTC()
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
	return stats, s.fail(ctx, rows.Err(), "job stats")
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
	b, err := json.Marshal(lists)
	if err != nil {
		return moffman.WrapError(moffman.Internal, err, "store: save directory")
	}
	return s.write(ctx, "save directory", func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO kv (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, directoryKey, string(b))
		return err
	})
}

// LoadDirectory returns the lists last saved; false when none were.
func (s *Store) LoadDirectory(ctx context.Context) (moffman.DirectoryLists, bool, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM kv WHERE key = ?`, directoryKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return moffman.DirectoryLists{}, false, nil
	}
	if err != nil {
		return moffman.DirectoryLists{}, false, s.fail(ctx, err, "load directory")
	}
	var lists moffman.DirectoryLists
	if err := json.Unmarshal([]byte(v), &lists); err != nil {
		return moffman.DirectoryLists{}, false, moffman.WrapError(moffman.Internal, err, "store: load directory")
	}
	return lists, true, nil
}
