package sqlite

import (
	"context"
	"database/sql"
	"os"
	"sync/atomic"
	"time"
)

// Checkpoints copy the WAL back into the database file so that the WAL can
// start over. SQLite runs them inside the COMMIT that crosses 1000 WAL
// pages, which puts a checkpoint's I/O in front of the writes queued behind
// that commit; profiles of the ingest benchmark showed it as a fifth of the
// committer's time and the main cause of the latency tail. So the writing
// connection does not checkpoint (wal_autocheckpoint=0) and this goroutine,
// on its own connection, runs a PASSIVE checkpoint four times a second:
// it never blocks the writer or readers.
//
// But the WAL starts over from its beginning only when a write transaction
// begins after a checkpoint has copied all of it, and beside a busy writer
// a checkpoint never has: new frames arrive while it copies. Under steady
// load the WAL then grew by tens of MB a second and every commit extended
// the file. So once the WAL holds walRestartFrames, the checkpointer copies
// it in PASSIVE passes beside the writer, each copying what was committed
// during the one before, until that is little, and then a last one while
// the committer waits between two batches (pauseWrites): that one copies
// only the frames committed since, a few milliseconds' worth, and the next
// batch starts the WAL over. The last pass is PASSIVE too: a TRUNCATE
// there held the writer for 75-150 ms under wrk (it waits for readers and
// truncates a file of tens of MB). The file is bounded by the writer's
// journal_size_limit instead: SQLite cuts the WAL back to walSizeLimit in
// the commit that starts it over. Under wrk the WAL holds 60-100 MB by
// then: with a limit of 64 MiB that commit cut the file back and the
// following ones grew it again, once or twice a second. So the limit is
// four times walRestartFrames; it bounds a WAL that readers kept from
// starting over, not the ordinary one.
//
// A pass syncs the database file only when it has copied the whole WAL,
// so the paused pass used to pay the fsync of every page the passes beside
// the writer had copied (20-80 ms under load). The checkpointer therefore
// syncs the database file itself, beside the writer, before each pass of a
// restart; the paused pass then flushes only what it copied.
//
// A checkpoint copies each page once, however often the WAL holds it, and
// syncs the WAL and the database file: the longer the WAL between two
// passes, the less it costs per write. Under wrk, a pass every 250 ms and
// a restart at 32 MiB (instead of 100 ms and 16 MiB) read and wrote a
// third fewer pages per reservation and synced half as often.

const (
	checkpointEvery  = 250 * time.Millisecond
	walRestartFrames = 8192 // 32 MiB of 4 KiB pages
	walPausedFrames  = 64   // at most about this many are left to the paused pass
	walSizeLimit     = 128 << 20
)

type checkpointer struct {
	ckpt     *sql.DB
	dbFile   *os.File // the database file, for syncing it beside the writer
	stopCkpt context.CancelFunc
	ckptDone chan struct{}
	pauses   atomic.Int64 // paused passes so far, for the tests
}

// startCheckpointer opens the checkpointing connection and starts its
// goroutine; Close stops it.
func (s *Store) startCheckpointer(ctx context.Context, dsn, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return accessError(path, err)
	}
	db, err := openDB(ctx, dsn, 1)
	if err != nil {
		f.Close()
		return err
	}
	s.dbFile = f
	loopCtx, cancel := context.WithCancel(context.Background())
	s.ckpt, s.stopCkpt, s.ckptDone = db, cancel, make(chan struct{})
	go s.checkpointLoop(loopCtx)
	return nil
}

func (s *Store) checkpointLoop(ctx context.Context) {
	defer close(s.ckptDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	// held is the WAL's size in frames when the last paused pass could
	// not copy all of it, 0 if it could. With the writes paused, only a
	// reader's older snapshot holds frames back, and until that reader
	// ends the WAL cannot start over: another pause would be for nothing.
	// A slow read (a backup, a long listing) would otherwise pause the
	// writes at every tick while it lasts.
	held := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		frames, copied, err := s.checkpoint(ctx)
		if frames < held {
			held = 0 // the WAL has started over since
		}
		if err != nil || frames < walRestartFrames || copied < held {
			continue
		}
		held = 0
		// Each pass copies what was committed during the one before;
		// stop when that is little, so that the paused pass is short.
		for range 4 {
			_ = s.dbFile.Sync() // a failure shows in the pass's own sync
			more, _, err := s.checkpoint(ctx)
			if err != nil || more-frames < walPausedFrames {
				break
			}
			frames = more
		}
		_ = s.dbFile.Sync()
		s.pauseWrites(func() {
			s.pauses.Add(1)
			if frames, copied, err := s.checkpoint(ctx); err == nil && copied < frames {
				held = frames
			}
		})
		// The passes took longer than a tick: without a reset the next
		// one would come at once, before the committer has started the
		// WAL over, and pause the writes a second time for nothing.
		t.Reset(checkpointEvery)
		// Errors (busy, ctx ended) are retried on the next tick.
	}
}

// checkpoint runs one PASSIVE checkpoint and returns the WAL's size in
// frames before it and how many of them the database file now holds.
func (s *Store) checkpoint(ctx context.Context) (frames, copied int, err error) {
	var busy int
	err = s.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	return frames, copied, err
}

// stopCheckpointer stops the goroutine and closes its connection. The
// database file stays open until closeDBFile, after the last SQLite
// connection: closing any descriptor of a file drops the process's POSIX
// locks on it, SQLite's among them.
func (s *Store) stopCheckpointer() error {
	if s.stopCkpt == nil {
		return nil // in memory, or Open failed before starting it
	}
	s.stopCkpt()
	<-s.ckptDone
	return s.ckpt.Close()
}

func (s *Store) closeDBFile() error {
	if s.dbFile == nil {
		return nil
	}
	return s.dbFile.Close()
}
