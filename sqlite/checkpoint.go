package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"time"
)

// Checkpoints copy the WAL back into the database file so that the WAL can
// start over. SQLite runs them inside the COMMIT that crosses 1000 WAL
// pages, which puts a checkpoint's I/O in front of the writes queued behind
// that commit; profiles of the ingest benchmark showed it as a fifth of the
// committer's time and the main cause of the latency tail. So the writing
// connection does not checkpoint (wal_autocheckpoint=0) and this goroutine,
// on its own connection, runs a PASSIVE checkpoint a few times a second:
// it never blocks the writer or readers. Should readers keep it from
// catching up and the WAL pass walLimitFrames, a TRUNCATE checkpoint, which
// briefly holds the writer back, bounds the file.

const (
	checkpointEvery = 200 * time.Millisecond
	walLimitFrames  = 16384 // 64 MiB of 4 KiB pages
)

type checkpointer struct {
	ckpt     *sql.DB
	stopCkpt context.CancelFunc
	ckptDone chan struct{}
	walLimit int // 0: walLimitFrames
}

// withWALLimit lowers the frames above which the WAL is truncated (tests
// only: reaching walLimitFrames takes 64 MiB of writes).
func withWALLimit(frames int) Option { return func(s *Store) { s.walLimit = frames } }

// startCheckpointer opens the checkpointing connection and starts its
// goroutine; Close stops it.
func (s *Store) startCheckpointer(ctx context.Context, dsn string) error {
	db, err := openDB(ctx, dsn, 1)
	if err != nil {
		return err
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	s.ckpt, s.stopCkpt, s.ckptDone = db, cancel, make(chan struct{})
	go s.checkpointLoop(loopCtx)
	return nil
}

func (s *Store) checkpointLoop(ctx context.Context) {
	defer close(s.ckptDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	limit := cmp.Or(s.walLimit, walLimitFrames)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var busy, frames, done int
		err := s.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done)
		if err == nil && frames > limit {
			_ = s.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done)
		}
		// Errors (busy, ctx ended) are retried on the next tick.
	}
}

// stopCheckpointer stops the goroutine and closes its connection.
func (s *Store) stopCheckpointer() error {
	if s.stopCkpt == nil {
		return nil // in memory, or Open failed before starting it
	}
	s.stopCkpt()
	<-s.ckptDone
	return s.ckpt.Close()
}
