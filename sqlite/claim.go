package sqlite

import (
	"context"
	"sync"
	"time"

	"github.com/moffman/moffman"
)

// jobClaims are the job claims (StateStore.ClaimJobs). A SQLite file has
// one process, so they live in memory: a restart ends them together with
// their holders. They are timed by the wall clock, not the store's clock.
type jobClaims struct {
	mu    sync.Mutex // held from the check of a claim to the write it guards
	last  int64      // the last token given out; tokens are never reused
	byJob map[jobKey]moffman.JobClaim
}

type jobKey struct{ calendarID, eventID string }

func keyOf(j moffman.Job) jobKey { return jobKey{j.CalendarID, j.EventID} }

// ClaimJobs claims up to limit (<= 0: all) due unfinished jobs that nobody
// holds, oldest created first, for holder and claimFor.
func (s *Store) ClaimJobs(ctx context.Context, now time.Time, limit int, holder string, claimFor time.Duration) ([]moffman.Job, error) {
	if holder == "" || claimFor <= 0 {
		return nil, moffman.Errorf(moffman.Invalid, "store: a claim needs a holder and a positive duration")
	}
	c := &s.claims
	c.mu.Lock()
	defer c.mu.Unlock()
	// Every job skipped is held, so this many rows surely hold limit free ones.
	read := limit
	if limit > 0 {
		read += len(c.byJob)
	}
	due, err := s.DueJobs(ctx, now, read)
	if err != nil {
		return nil, err
	}
	if c.byJob == nil {
		c.byJob = make(map[jobKey]moffman.JobClaim)
	}
	wall := time.Now()
	var out []moffman.Job
	for _, j := range due {
		if held, ok := c.byJob[keyOf(j)]; ok && wall.Before(held.Until) {
			continue
		}
		c.last++
		j.Claim = moffman.JobClaim{Holder: holder, Token: c.last, For: claimFor, Until: wall.Add(claimFor)}
		c.byJob[keyOf(j)] = j.Claim
		out = append(out, j)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// saveClaimed saves j if its claim is still the job's claim: the same
// holder and token, not released. A claim that lapsed but that nobody took
// over still holds. The claim is extended while the job goes on at once
// and released otherwise.
func (s *Store) saveClaimed(ctx context.Context, j moffman.Job) error {
	c := &s.claims
	c.mu.Lock()
	defer c.mu.Unlock()
	held, ok := c.byJob[keyOf(j)]
	switch {
	case !ok:
		return moffman.Errorf(moffman.Conflict, "job for event %q of calendar %q: claim %d of %q was released; result not recorded",
			j.EventID, j.CalendarID, j.Claim.Token, j.Claim.Holder)
	case held.Holder != j.Claim.Holder || held.Token != j.Claim.Token:
		return moffman.Errorf(moffman.Conflict, "job for event %q of calendar %q is claimed by %q (claim %d), not by %q (claim %d); result not recorded",
			j.EventID, j.CalendarID, held.Holder, held.Token, j.Claim.Holder, j.Claim.Token)
	}
	sent := time.Now()
	if err := s.saveJob(ctx, j); err != nil {
		return err
	}
	if !j.Finished() && j.LastError == "" && j.Claim.For > 0 {
		held.For, held.Until = j.Claim.For, sent.Add(j.Claim.For)
		c.byJob[keyOf(j)] = held
	} else {
		delete(c.byJob, keyOf(j))
	}
	return nil
}
