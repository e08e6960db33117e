package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/moffman/moffman"
)

// unfinished is the SQL condition of a job that still has work to do; the
// partial index jobs_unfinished uses the same text.
const unfinished = `step NOT IN ('done', 'dropped')`

// jobCols are the columns scanJob reads, in its order.
const jobCols = `calendar_id, event_id, office_id, step, attempts, last_error, next_attempt, created,
	unknown_outcomes, event_updated`

// due is the SQL condition of a job that may be worked on: unfinished and
// not waiting for an operator.
const due = unfinished + ` AND step <> 'needs_operator'`

// kv keys: the last good directory lists, and the manual users searched for.
const (
	directoryKey   = "directory"
	manualUsersKey = "manual_users"
)

// SyncToken returns the stored sync token of a calendar, "" if none.
func (s *Store) SyncToken(ctx context.Context, calendarID string) (string, error) {
	var tok string
	err := s.pool.QueryRow(ctx, `SELECT token FROM sync_tokens WHERE calendar_id = $1`, calendarID).Scan(&tok)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return tok, s.fail(ctx, err, "read sync token")
}

// CommitSync adds the new jobs and stores the next sync token in one
// transaction, so a crash leaves either both or neither. Jobs whose key
// exists, finished ones included, are left alone: an event seen again is
// never processed twice, even when two replicas detect it at once. The one
// exception: a dropped job is re-opened by a newer version of its event
// (restored after its cancellation).
func (s *Store) CommitSync(ctx context.Context, calendarID string, jobs []moffman.Job, nextToken string) error {
	now := s.now()
	b := &pgx.Batch{}
	for _, j := range jobs {
		if j.Step == "" {
			j.Step = moffman.StepDetected
		}
		created := now
		if !j.Created.IsZero() {
			created = dbTime(j.Created)
		}
		b.Queue(`INSERT INTO jobs (calendar_id, event_id, office_id, step, attempts, last_error,
			next_attempt, created, updated, unknown_outcomes, event_updated)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (calendar_id, event_id) DO UPDATE SET office_id = excluded.office_id,
				step = excluded.step, attempts = excluded.attempts, last_error = excluded.last_error,
				next_attempt = excluded.next_attempt, created = excluded.created, updated = excluded.updated,
				unknown_outcomes = excluded.unknown_outcomes, event_updated = excluded.event_updated
			WHERE jobs.step = 'dropped' AND COALESCE(jobs.event_updated, '-infinity') < excluded.event_updated`,
			j.CalendarID, j.EventID, j.OfficeID, string(j.Step), j.Attempts, j.LastError,
			dbTime(j.NextAttempt), created, now, j.UnknownOutcomes, nullTime(j.EventUpdated))
	}
	if nextToken == "" {
		b.Queue(`DELETE FROM sync_tokens WHERE calendar_id = $1`, calendarID)
	} else {
		b.Queue(`INSERT INTO sync_tokens (calendar_id, token) VALUES ($1, $2)
			ON CONFLICT (calendar_id) DO UPDATE SET token = excluded.token`, calendarID, nextToken)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, b).Close()
	})
	return s.fail(ctx, err, "commit sync")
}

// DueJobs returns up to limit unfinished jobs whose next attempt is not
// after now, oldest created first; limit <= 0 means no limit. Claims are
// not looked at: with several replicas use ClaimJobs.
func (s *Store) DueJobs(ctx context.Context, now time.Time, limit int) ([]moffman.Job, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, `SELECT `+jobCols+` FROM jobs
		WHERE `+due+` AND next_attempt <= $1
		ORDER BY created, calendar_id, event_id LIMIT $2`, dbTime(now), lim)
	if err != nil {
		return nil, s.fail(ctx, err, "due jobs")
	}
	jobs, err := pgx.CollectRows(rows, scanJob)
	return jobs, s.fail(ctx, err, "due jobs")
}

// Job returns the job of an event; NotFound when there is none.
func (s *Store) Job(ctx context.Context, calendarID, eventID string) (moffman.Job, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+jobCols+` FROM jobs WHERE calendar_id = $1 AND event_id = $2`,
		calendarID, eventID)
	if err != nil {
		return moffman.Job{}, s.fail(ctx, err, "read job")
	}
	j, err := pgx.CollectOneRow(rows, scanJob)
	if errors.Is(err, pgx.ErrNoRows) {
		return moffman.Job{}, moffman.Errorf(moffman.NotFound, "no manual-event job for event %q of calendar %q", eventID, calendarID)
	}
	return j, s.fail(ctx, err, "read job")
}

// scanJob reads the columns of jobCols.
func scanJob(row pgx.CollectableRow) (moffman.Job, error) {
	var j moffman.Job
	var eventUpdated *time.Time
	err := row.Scan(&j.CalendarID, &j.EventID, &j.OfficeID, &j.Step, &j.Attempts,
		&j.LastError, &j.NextAttempt, &j.Created, &j.UnknownOutcomes, &eventUpdated)
	j.NextAttempt, j.Created = j.NextAttempt.UTC(), j.Created.UTC()
	if eventUpdated != nil {
		j.EventUpdated = eventUpdated.UTC()
	}
	return j, err
}

// nullTime is t for the database, NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	d := dbTime(t)
	return &d
}

// SaveJob stores the job's step, attempts, last error and next attempt:
// a job with a claim only while the claim holds (claim.go), one without
// whoever claimed it. NotFound when no job has its key.
func (s *Store) SaveJob(ctx context.Context, j moffman.Job) error {
	if j.Claim.Holder != "" {
		return s.saveClaimed(ctx, j)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE jobs SET step = $1, attempts = $2, last_error = $3,
		next_attempt = $4, updated = $5, unknown_outcomes = $8, event_updated = $9
		WHERE calendar_id = $6 AND event_id = $7`,
		string(j.Step), j.Attempts, j.LastError, dbTime(j.NextAttempt), s.now(), j.CalendarID, j.EventID,
		j.UnknownOutcomes, nullTime(j.EventUpdated))
	if err != nil {
		return s.fail(ctx, err, "save job")
	}
	if tag.RowsAffected() == 0 {
		return moffman.Errorf(moffman.NotFound, "no job for event %q of calendar %q", j.EventID, j.CalendarID)
	}
	return nil
}

// JobStats summarises the unfinished jobs per office: how many, the oldest
// creation time (waitlisted jobs counted apart, in neither) and the most
// recently stored error.
func (s *Store) JobStats(ctx context.Context) (map[string]moffman.JobStats, error) {
	rows, err := s.pool.Query(ctx, `SELECT office_id, count(*) FILTER (WHERE step <> 'waitlisted'),
		MIN(created) FILTER (WHERE step <> 'waitlisted'), count(*) FILTER (WHERE step = 'waitlisted'),
		COALESCE((array_agg(last_error ORDER BY updated DESC) FILTER (WHERE last_error <> ''))[1], '')
		FROM jobs WHERE `+unfinished+` GROUP BY office_id`)
	if err != nil {
		return nil, s.fail(ctx, err, "job stats")
	}
	defer rows.Close()
	stats := make(map[string]moffman.JobStats)
	for rows.Next() {
		var office string
		var st moffman.JobStats
		var oldest *time.Time // NULL when every job is waitlisted
		if err := rows.Scan(&office, &st.Pending, &oldest, &st.Waitlisted, &st.LastError); err != nil {
			return nil, s.fail(ctx, err, "job stats")
		}
		if oldest != nil {
			st.Oldest = oldest.UTC()
		}
		stats[office] = st
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, err, "job stats")
	}
	waiting, err := s.pool.Query(ctx, `SELECT `+jobCols+` FROM jobs
		WHERE step = 'needs_operator' ORDER BY created, calendar_id, event_id`)
	if err != nil {
		return nil, s.fail(ctx, err, "job stats")
	}
	jobs, err := pgx.CollectRows(waiting, scanJob)
	if err != nil {
		return nil, s.fail(ctx, err, "job stats")
	}
	for _, j := range jobs {
		st := stats[j.OfficeID]
		st.NeedsOperator = append(st.NeedsOperator, j)
		stats[j.OfficeID] = st
	}
	return stats, nil
}

// SaveManualUsers stores the e-mails of the manual users every office was
// searched for.
func (s *Store) SaveManualUsers(ctx context.Context, emails []string) error {
	b, err := json.Marshal(emails)
	if err != nil {
		return moffman.WrapError(moffman.Internal, err, "store: save manual users")
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO kv (key, value) VALUES ($1, $2::jsonb)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, manualUsersKey, string(b))
	return s.fail(ctx, err, "save manual users")
}

// ManualUsers returns the e-mails last saved; false when none were.
func (s *Store) ManualUsers(ctx context.Context) ([]string, bool, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM kv WHERE key = $1`, manualUsersKey).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, s.fail(ctx, err, "load manual users")
	}
	var emails []string
	if err := json.Unmarshal(v, &emails); err != nil {
		return nil, false, moffman.WrapError(moffman.Internal, err, "store: load manual users")
	}
	return emails, true, nil
}

// PruneJobs deletes jobs that finished (done or dropped) before the given
// time and returns how many. Keep finished jobs for longer than an event
// can be listed again by a full sync, or it could be processed twice.
func (s *Store) PruneJobs(ctx context.Context, finishedBefore time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM jobs WHERE NOT (`+unfinished+`) AND updated < $1`,
		dbTime(finishedBefore))
	if err != nil {
		return 0, s.fail(ctx, err, "prune jobs")
	}
	return int(tag.RowsAffected()), nil
}

// SaveDirectory stores the last good spreadsheet lists.
func (s *Store) SaveDirectory(ctx context.Context, lists moffman.DirectoryLists) error {
	b, err := json.Marshal(lists)
	if err != nil {
		return moffman.WrapError(moffman.Internal, err, "store: save directory")
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO kv (key, value) VALUES ($1, $2::jsonb)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, directoryKey, string(b))
	return s.fail(ctx, err, "save directory")
}

// LoadDirectory returns the lists last saved; false when none were.
func (s *Store) LoadDirectory(ctx context.Context) (moffman.DirectoryLists, bool, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM kv WHERE key = $1`, directoryKey).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return moffman.DirectoryLists{}, false, nil
	}
	if err != nil {
		return moffman.DirectoryLists{}, false, s.fail(ctx, err, "load directory")
	}
	var lists moffman.DirectoryLists
	if err := json.Unmarshal(v, &lists); err != nil {
		return moffman.DirectoryLists{}, false, moffman.WrapError(moffman.Internal, err, "store: load directory")
	}
	return lists, true, nil
}
