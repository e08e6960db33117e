package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moffman/moffman"
)

// Group commit. SQLite has one writer at a time, and a small write's cost
// is mostly its transaction: taking the write lock and appending the pages
// it changed (the table's and each index's) to the WAL at COMMIT. So every
// write goes through one committer goroutine, which runs the writes
// waiting at that moment in one transaction and commits once: under load
// the fixed costs are paid once per batch, and a page that several writes
// change (the newest leaf of the seq index, the calendar's row) is written
// once. An idle store adds no latency (see gatherWait for the one wait).
// The queue is served in arrival order, whereas database/sql hands its
// one writing connection to a random waiter, which under load left some
// writes waiting behind dozens of others.
//
// A write of several statements runs inside its own SAVEPOINT, so a write
// that fails (a duplicate id, a missing event) is undone alone and only
// its caller sees the error; a write of one statement (an insert, a patch)
// needs none, as SQLite undoes a failed statement by itself
// (oneStatement). A caller is answered only after the COMMIT of its batch,
// so a write that succeeds is durable and visible to later reads, as when
// every write was its own transaction; if the COMMIT fails, every caller
// of the batch gets that error.
//
// The writer never checkpoints (wal_autocheckpoint=0): the checkpointer
// copies the WAL back on its own connection beside it (checkpoint.go).

// maxBatch bounds the writes of one transaction, so that one batch cannot
// hold the write lock for long.
const maxBatch = 128

// gatherWait is how long the committer waits, under load, for more writes
// to queue before it starts a batch. Under wrk with 32 connections the
// batches held two writes on average: the committer took whatever had
// arrived while the HTTP side was still parsing the next requests, so
// every write paid about half a transaction (BEGIN, COMMIT, the WAL
// frames of the pages it shares with others, such as the newest leaf of
// the seq index) and a reservation wrote about five WAL pages. Waiting a
// millisecond lets the batch grow to what the clients send meanwhile. The
// wait applies only after a batch of several writes, so a store written
// by one caller at a time never waits.
const gatherWait = time.Millisecond

// writeFunc is one write. It runs inside the batch's transaction, and must
// use only tx: in memory the store has one connection, which the batch
// holds. Its ctx never ends (see runBatch).
type writeFunc func(ctx context.Context, tx *sql.Tx) error

// States of a queued write: the committer claims it or its caller, whose
// context ended, abandons it; whichever comes first wins.
const (
	queued int32 = iota
	claimed
	abandoned
)

// write is a writeFunc waiting for, or running in, a batch.
type write struct {
	fn    writeFunc
	one   bool // fn runs one statement: no savepoint (oneStatement)
	state atomic.Int32
	err   error         // the outcome, set before done is closed
	done  chan struct{} // closed once the outcome is known
}

// committer is the queue of writes and the goroutine that commits them.
type committer struct {
	batchMu sync.Mutex // held while a batch runs (pauseWrites)
	mu      sync.Mutex
	queue   []*write
	closed  bool          // no more writes are accepted
	wake    chan struct{} // capacity 1: the queue may have grown, or closed was set
	exited  chan struct{} // closed when the committer goroutine returns
}

// startCommitter starts the committer goroutine; Close stops it.
func (s *Store) startCommitter() {
	s.wake = make(chan struct{}, 1)
	s.exited = make(chan struct{})
	go s.commitLoop()
}

// stopCommitter refuses further writes and waits until the writes already
// queued are committed and the goroutine has returned.
func (s *Store) stopCommitter() {
	if s.exited == nil {
		return // never started: Open failed
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.signal()
	<-s.exited
}

func (s *Store) signal() {
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// write queues fn and returns its outcome once its batch has committed,
// mapped by fail. If ctx ends while fn is still queued, fn never runs and
// write returns at once; once fn has started, write waits for the commit,
// so that no write that then commits is reported as failed.
func (s *Store) write(ctx context.Context, what string, fn writeFunc) error {
	return s.enqueue(ctx, what, &write{fn: fn})
}

// writeOne is write for a writeFunc that changes the database with one
// statement, and reports every failure the batch survives as a
// *moffman.Error (see oneStatement).
func (s *Store) writeOne(ctx context.Context, what string, fn writeFunc) error {
	return s.enqueue(ctx, what, &write{fn: fn, one: true})
}

func (s *Store) enqueue(ctx context.Context, what string, w *write) error {
	if err := ctx.Err(); err != nil {
		return s.fail(ctx, err, what)
	}
	w.done = make(chan struct{})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return moffman.Errorf(moffman.Unavailable, "store: %s: the store is closed", what)
	}
	s.queue = append(s.queue, w)
	s.mu.Unlock()
	s.signal()

	select {
	case <-w.done:
	case <-ctx.Done():
		if w.state.CompareAndSwap(queued, abandoned) {
			return s.fail(ctx, ctx.Err(), what)
		}
		<-w.done
	}
	return s.fail(ctx, w.err, what)
}

// commitLoop runs batches until the store is closed and the queue empty.
func (s *Store) commitLoop() {
	defer close(s.exited)
	batch := make([]*write, 0, maxBatch)
	for {
		if prev := len(batch); prev > 1 {
			s.gather(min(2*prev, maxBatch))
		}
		s.mu.Lock()
		n := min(len(s.queue), maxBatch)
		batch = append(batch[:0], s.queue[:n]...)
		rest := copy(s.queue, s.queue[n:])
		clear(s.queue[rest:])
		s.queue = s.queue[:rest]
		closed := s.closed
		s.mu.Unlock()
		if n > 0 {
			s.batchMu.Lock()
			s.runBatch(batch)
			s.batchMu.Unlock()
			clear(batch)
			continue
		}
		batch = batch[:0]
		if closed {
			return
		}
		<-s.wake
	}
}

// gather waits until n writes are queued, the store is closed or
// gatherWait has passed.
func (s *Store) gather(n int) {
	var timeout <-chan time.Time
	for {
		s.mu.Lock()
		enough := len(s.queue) >= n || s.closed
		s.mu.Unlock()
		if enough {
			return
		}
		if timeout == nil {
			t := time.NewTimer(gatherWait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-s.wake:
		case <-timeout:
			return
		}
	}
}

// pauseWrites runs fn between two batches: no write transaction is open
// while it runs, and the queued writes wait.
func (s *Store) pauseWrites(fn func()) {
	s.batchMu.Lock()
	defer s.batchMu.Unlock()
	fn()
}

// runBatch runs the writes of batch that are still wanted in one
// transaction, each within a savepoint, commits, and answers their callers.
//
// The writes run with a context that never ends: a caller giving up cannot
// interrupt a statement, which in SQLite may roll back the whole
// transaction and with it the other callers' writes. Once claimed, a write
// takes a few statements, and its caller waits for the commit.
func (s *Store) runBatch(batch []*write) {
	ctx := context.Background()
	var ran []*write // claimed writes, answered once the outcome is known
	claim := func(w *write) bool {
		if w.state.CompareAndSwap(queued, claimed) {
			ran = append(ran, w)
			return true
		}
		return false // abandoned: its caller has returned
	}
	finish := func(err error) {
		for _, w := range batch {
			claim(w) // the writes not run yet fail as well
		}
		for _, w := range ran {
			if err != nil {
				w.err = err
			}
			close(w.done)
		}
	}

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		finish(err)
		return
	}
	for _, w := range batch {
		if !claim(w) {
			continue
		}
		run := savepoint
		if w.one {
			run = oneStatement
		}
		if err := run(ctx, tx, w); err != nil {
			// The transaction is in an unknown state (SQLite rolls it
			// all back on some errors, such as a full disk): give up
			// the batch.
			tx.Rollback()
			finish(err)
			return
		}
	}
	// If the COMMIT fails, the driver rolls the transaction back.
	finish(tx.Commit())
}

// savepoint runs w within a savepoint: w.err is set to w's own error, and
// its changes are undone if it failed. The error returned is that of the
// savepoint statements, which leaves the transaction unusable.
func savepoint(ctx context.Context, tx *sql.Tx, w *write) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT w`); err != nil {
		return err
	}
	if w.err = w.fn(ctx, tx); w.err != nil {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO w`); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `RELEASE w`)
	return err
}

// oneStatement runs w, a write of one statement, without a savepoint: a
// statement that fails is undone by SQLite itself (its statement journal),
// and the transaction stays as it was before it. That saves the SAVEPOINT
// and RELEASE statements, about a tenth of an insert's time. The errors w
// reports as *moffman.Error (a duplicate id, a missing event) are its
// own; any other error may have rolled back the whole transaction (a full
// disk, an I/O error), so it is returned and the batch gives up.
func oneStatement(ctx context.Context, tx *sql.Tx, w *write) error {
	w.err = w.fn(ctx, tx)
	var me *moffman.Error
	if w.err != nil && !errors.As(w.err, &me) {
		return w.err
	}
	return nil
}
