package postgres

import (
	"context"

	"github.com/moffman/moffman"
)

// capacityLockClass is the first key of the advisory locks that serialise
// approvals per office (the second is the office name's hash).
const capacityLockClass int32 = 0x6d6f66 // "mof"

// CapacityLock is a moffman.CapacityLock shared by every replica on the
// database: a transaction-scoped advisory lock per office, held while an
// approval is counted and written, so two replicas never give away one
// last desk. Transaction-scoped, it ends with its transaction (also when
// the connection drops) and works behind PgBouncer in transaction mode.
//
// Waiters are queued in this process first (one database connection per
// office at a time), and at most half the pool's connections hold or wait
// for locks, so the holder always has a connection left for its calendar
// calls when this store is the calendar too.
func (s *Store) CapacityLock() moffman.CapacityLock {
	n := max(1, int(s.pool.Config().MaxConns)/2)
	return &capacityLock{s: s, slots: make(chan struct{}, n)}
}

type capacityLock struct {
	s     *Store
	local moffman.LocalCapacityLock
	slots chan struct{}
}

func (l *capacityLock) Lock(ctx context.Context, officeID string) (func(), error) {
	unlockLocal, err := l.local.Lock(ctx, officeID)
	if err != nil {
		return nil, err
	}
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		unlockLocal()
		return nil, moffman.WrapError(moffman.Unavailable, ctx.Err(), "waiting for the capacity of office %q timed out", officeID)
	}
	release := func() { <-l.slots; unlockLocal() }
	tx, err := l.s.pool.Begin(ctx)
	if err != nil {
		release()
		return nil, l.s.fail(ctx, err, "lock the capacity of office "+officeID)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, capacityLockClass, officeID); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		release()
		return nil, l.s.fail(ctx, err, "lock the capacity of office "+officeID)
	}
	return func() {
		_ = tx.Rollback(context.WithoutCancel(ctx)) // ends the lock; nothing was written
		release()
	}, nil
}
