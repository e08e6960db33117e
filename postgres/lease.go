package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultLeaseTTL is how long a lease lasts unless renewed. The holder
// renews it every third of that, so a dead leader is replaced within about
// 15 s plus one attempt interval.
const DefaultLeaseTTL = 15 * time.Second

// Lease is a named lease in the leases table: at most one holder at a
// time, which must renew it before it expires; after that anyone may take
// it over. Expiry is by the database's clock, so replicas' clocks need not
// agree. Each statement stands alone (no session state, no advisory lock),
// so it works behind PgBouncer in transaction mode.
type Lease struct {
	store  *Store
	name   string
	holder string
	ttl    time.Duration

	mu    sync.Mutex
	token int64     // fencing token while held, 0 when not
	until time.Time // local clock: the lease is surely ours before this
}

// Lease returns the lease called name for holder (unique per process: see
// NewHolderID), lasting ttl (<= 0: DefaultLeaseTTL) from each renewal. It
// does not acquire it.
func (s *Store) Lease(name, holder string, ttl time.Duration) *Lease {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	return &Lease{store: s, name: name, holder: holder, ttl: ttl}
}

// NewHolderID returns an id naming this process among the replicas: host,
// process id and random bits, so a restarted process is a new holder.
func NewHolderID() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// TryAcquire takes the lease if it is free, lapsed or ours already, and
// returns its fencing token: unchanged while the same holder keeps it,
// raised on every takeover. ok is false when another holder has it.
func (l *Lease) TryAcquire(ctx context.Context) (token int64, ok bool, err error) {
	sent := time.Now()
	err = l.store.pool.QueryRow(ctx, `INSERT INTO leases AS l (name, holder, token, expires)
		VALUES ($1, $2, 1, now() + $3::float8 * interval '1 second')
		ON CONFLICT (name) DO UPDATE SET
			token = CASE WHEN l.holder = excluded.holder AND l.expires > now() THEN l.token ELSE l.token + 1 END,
			holder = excluded.holder, expires = excluded.expires
		WHERE l.holder = excluded.holder OR l.expires <= now()
		RETURNING token`, l.name, l.holder, l.ttl.Seconds()).Scan(&token)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		l.token, l.until = 0, time.Time{}
		return 0, false, nil
	case err != nil:
		return 0, false, l.store.fail(ctx, err, "acquire lease")
	}
	l.token, l.until = token, sent.Add(l.ttl)
	return token, true, nil
}

// Renew extends the lease by its ttl. It reports false, and the lease is
// no longer held, when it expired or another holder has taken it.
func (l *Lease) Renew(ctx context.Context) (bool, error) {
	l.mu.Lock()
	token := l.token
	l.mu.Unlock()
	if token == 0 {
		return false, nil
	}
	sent := time.Now()
	tag, err := l.store.pool.Exec(ctx, `UPDATE leases SET expires = now() + $4::float8 * interval '1 second'
		WHERE name = $1 AND holder = $2 AND token = $3 AND expires > now()`,
		l.name, l.holder, token, l.ttl.Seconds())
	if err != nil {
		return false, l.store.fail(ctx, err, "renew lease")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if tag.RowsAffected() == 0 {
		l.token, l.until = 0, time.Time{}
		return false, nil
	}
	l.until = sent.Add(l.ttl)
	return true, nil
}

// Release gives the lease up at once, so another replica need not wait
// for it to expire. Releasing a lease not held is no error.
func (l *Lease) Release(ctx context.Context) error {
	l.mu.Lock()
	token := l.token
	l.token, l.until = 0, time.Time{}
	l.mu.Unlock()
	if token == 0 {
		return nil
	}
	_, err := l.store.pool.Exec(ctx, `UPDATE leases SET expires = now()
		WHERE name = $1 AND holder = $2 AND token = $3`, l.name, l.holder, token)
	return l.store.fail(ctx, err, "release lease")
}

// Held returns the fencing token and whether the lease is surely held now
// by this process's clock (acquired or renewed less than ttl ago).
func (l *Lease) Held() (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.token == 0 || !time.Now().Before(l.until) {
		return 0, false
	}
	return l.token, true
}

// Lead runs work whenever this process holds the lease, until ctx ends.
// It tries to acquire the lease every third of its ttl; while held, it
// renews it as often and cancels work's context as soon as the lease is
// lost, or could lapse before the next renewal because the database does
// not answer, and waits for work to return before trying again. If work
// returns by itself the lease is released and taken again on the next
// try. Lead returns nil when ctx ends, after releasing the lease.
func (l *Lease) Lead(ctx context.Context, work func(ctx context.Context, token int64)) error {
	every := l.ttl / 3
	for {
		tryCtx, cancel := context.WithTimeout(ctx, every)
		token, ok, err := l.TryAcquire(tryCtx)
		cancel()
		if err != nil && ctx.Err() == nil {
			l.store.logError(ctx, "acquiring the lease failed", l.name, err)
		}
		if ok {
			l.hold(ctx, token, every, work)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

// hold runs work while the lease stays held, renewing it every interval.
func (l *Lease) hold(ctx context.Context, token int64, every time.Duration, work func(context.Context, int64)) {
	workCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		work(workCtx, token)
	}()
	defer func() {
		stop()
		<-done
		// Give the lease up even when ctx has ended (shutdown).
		relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), every)
		defer cancel()
		if err := l.Release(relCtx); err != nil {
			l.store.logError(relCtx, "releasing the lease failed", l.name, err)
		}
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-tick.C:
		}
		renewCtx, cancel := context.WithTimeout(ctx, every)
		ok, err := l.Renew(renewCtx)
		cancel()
		if ok {
			continue
		}
		if err == nil {
			return // lost: another holder has it
		}
		l.mu.Lock()
		until := l.until
		l.mu.Unlock()
		if time.Now().Add(every).After(until) {
			// The lease may lapse before the next try: stop the work now,
			// while the lease is still ours.
			l.store.logError(ctx, "cannot renew the lease; stepping down", l.name, err)
			return
		}
	}
}

// logError reports a background failure of a lease, unless ctx has ended
// (shutdown).
func (s *Store) logError(ctx context.Context, msg, lease string, err error) {
	if ctx.Err() == nil {
		s.logger.ErrorContext(ctx, msg, "lease", lease, "error", err)
	}
}
