package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/moffman/moffman"
)

// Claims let several replicas work through the jobs without two of them
// ever running the same job at once: ClaimJobs takes due jobs that nobody
// holds, each for a while, and a result is recorded (SaveJob) only
// while the claim still holds. Claims are timed by the database's clock,
// which all replicas share.
//
// A replica that pauses (a stopped process, a long GC) past its claim may
// find the job claimed by another: its token no longer matches and its
// result is refused (Conflict). What it cannot take back is a form it sent
// after the claim lapsed; the caller keeps that window shut by ending each
// step (its context) before JobClaim.Until, and claimFor well above the
// longest step.

// ClaimJobs claims up to limit (<= 0: all) unfinished jobs whose next
// attempt is not after now and that nobody holds (never claimed, released,
// or the claim lapsed), oldest created first, for holder and claimFor.
// Rows other replicas are claiming at the same moment are skipped (FOR
// UPDATE SKIP LOCKED), so concurrent claimers get disjoint jobs. Each job
// carries its moffman.JobClaim; its Token is the fencing value.
func (s *Store) ClaimJobs(ctx context.Context, now time.Time, limit int, holder string, claimFor time.Duration) ([]moffman.Job, error) {
	if holder == "" || claimFor <= 0 {
		return nil, moffman.Errorf(moffman.Invalid, "store: a claim needs a holder and a positive duration")
	}
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	sent := time.Now()
	rows, err := s.pool.Query(ctx, `WITH due AS (
			SELECT calendar_id, event_id FROM jobs
			WHERE `+due+` AND next_attempt <= $1 AND (claim_until IS NULL OR claim_until <= now())
			ORDER BY created, calendar_id, event_id LIMIT $2
			FOR UPDATE SKIP LOCKED)
		UPDATE jobs j SET claim_holder = $3, claim_token = j.claim_token + 1,
			claim_until = now() + $4::float8 * interval '1 second'
		FROM due WHERE j.calendar_id = due.calendar_id AND j.event_id = due.event_id
		RETURNING j.calendar_id, j.event_id, j.office_id, j.step, j.attempts, j.last_error,
			j.next_attempt, j.created, j.unknown_outcomes, j.event_updated, j.claim_token`,
		dbTime(now), lim, holder, claimFor.Seconds())
	if err != nil {
		return nil, s.fail(ctx, err, "claim jobs")
	}
	jobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (moffman.Job, error) {
		j := moffman.Job{Claim: moffman.JobClaim{Holder: holder, For: claimFor, Until: sent.Add(claimFor)}}
		var eventUpdated *time.Time
		err := row.Scan(&j.CalendarID, &j.EventID, &j.OfficeID, &j.Step, &j.Attempts,
			&j.LastError, &j.NextAttempt, &j.Created, &j.UnknownOutcomes, &eventUpdated, &j.Claim.Token)
		j.NextAttempt, j.Created = j.NextAttempt.UTC(), j.Created.UTC()
		if eventUpdated != nil {
			j.EventUpdated = eventUpdated.UTC()
		}
		return j, err
	})
	if err != nil {
		return nil, s.fail(ctx, err, "claim jobs")
	}
	// RETURNING has no order.
	slices.SortFunc(jobs, cmpJobs)
	return jobs, nil
}

func cmpJobs(a, b moffman.Job) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	if c := strings.Compare(a.CalendarID, b.CalendarID); c != 0 {
		return c
	}
	return strings.Compare(a.EventID, b.EventID)
}

// saveClaimed stores the job's step, attempts, last error and next
// attempt if j.Claim still holds (same holder and token): Conflict when
// another claim has replaced it or it was released, NotFound when no job
// has the key.
//
// The claim is kept and extended by j.Claim.For while the job goes on at
// once: unfinished, without an error and For > 0. A finished job, or one
// whose step failed and waits for its retry, is released, so any replica
// can claim the retry when it is due.
func (s *Store) saveClaimed(ctx context.Context, j moffman.Job) error {
	keep := !j.Finished() && j.LastError == "" && j.Claim.For > 0
	tag, err := s.pool.Exec(ctx, `UPDATE jobs SET step = $1, attempts = $2, last_error = $3,
			next_attempt = $4, updated = $5, unknown_outcomes = $12, event_updated = $13,
			claim_holder = CASE WHEN $8 THEN claim_holder ELSE '' END,
			claim_until = CASE WHEN $8 THEN now() + $9::float8 * interval '1 second' END
		WHERE calendar_id = $6 AND event_id = $7 AND claim_holder = $10 AND claim_token = $11`,
		string(j.Step), j.Attempts, j.LastError, dbTime(j.NextAttempt), s.now(), j.CalendarID, j.EventID,
		keep, j.Claim.For.Seconds(), j.Claim.Holder, j.Claim.Token, j.UnknownOutcomes, nullTime(j.EventUpdated))
	if err != nil {
		return s.fail(ctx, err, "save job")
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var holder string
	var token int64
	err = s.pool.QueryRow(ctx, `SELECT claim_holder, claim_token FROM jobs WHERE calendar_id = $1 AND event_id = $2`,
		j.CalendarID, j.EventID).Scan(&holder, &token)
	if errors.Is(err, pgx.ErrNoRows) {
		return moffman.Errorf(moffman.NotFound, "no job for event %q of calendar %q", j.EventID, j.CalendarID)
	}
	if err != nil {
		return s.fail(ctx, err, "save job")
	}
	if holder == "" {
		return moffman.Errorf(moffman.Conflict, "job for event %q of calendar %q: claim %d of %q was released; result not recorded",
			j.EventID, j.CalendarID, j.Claim.Token, j.Claim.Holder)
	}
	return moffman.Errorf(moffman.Conflict, "job for event %q of calendar %q is claimed by %q (claim %d), not by %q (claim %d); result not recorded",
		j.EventID, j.CalendarID, holder, token, j.Claim.Holder, j.Claim.Token)
}
