package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// TestCheckpointsRunBesideTheWriter writes enough to need checkpoints and
// checks that the database file receives the pages while the store is open:
// the writer itself never checkpoints, so only the checkpointer can.
func TestCheckpointsRunBesideTheWriter(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	before := size(path)
	for i := range 2000 {
		ev := moffman.Event{ID: fmt.Sprintf("ckpt%06d", i), Summary: "x", Start: "2026-11-30", End: "2026-12-01"}
		if _, err := s.Insert(context.Background(), "cal", ev); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for size(path) < before+256<<10 {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes (WAL %d): no checkpoint ran", size(path), size(path+"-wal"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWALStartsOverUnderSteadyWrites keeps writers busy and checks that the
// WAL file stays under twice walRestartFrames: the checkpointer lets it
// start over while writes keep coming, instead of letting it grow with
// every commit (the checkpointer before the restarts let it reach
// 112-131 MB here).
func TestWALStartsOverUnderSteadyWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 16,000 events")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	const writers, each = 8, 2000
	done := make(chan struct{})
	go func() { insertRandom(t, s, writers, each, 4); close(done) }()
	var most int64
	for {
		most = max(most, walSize())
		select {
		case <-done:
			if limit := int64(2 * walRestartFrames * 4096); most >= limit {
				t.Errorf("with %d events written the WAL grew to %d bytes; want less than %d", writers*each, most, limit)
			}
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestNoPausesWhileAReaderHoldsTheWAL holds a read transaction open while
// the WAL passes the restart size. The WAL cannot start over until that
// reader ends, so the checkpointer pauses the writes once to find that
// out and not at every tick after; once the reader has ended, the WAL
// starts over.
func TestNoPausesWhileAReaderHoldsTheWAL(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 4,000 events")
	}
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	uri, err := fileURI(s.dbFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	reader, err := sql.Open("sqlite", uri)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	tx, err := reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}

	walFrames := func() int {
		frames, _, err := s.checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return frames
	}
	for walFrames() < walRestartFrames {
		insertRandom(t, s, 8, 500, 1)
		if t.Failed() {
			return
		}
	}
	// Wait for the checkpointer to pause once with the reader there.
	deadline := time.Now().Add(5 * time.Second)
	for s.pauses.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the checkpointer never paused the writes with a full WAL")
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := s.pauses.Load()
	time.Sleep(6 * checkpointEvery)
	if extra := s.pauses.Load() - before; extra > 0 {
		t.Errorf("while a reader held the WAL the checkpointer paused the writes %d more times in %v", extra, 6*checkpointEvery)
	}

	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for walFrames() >= walRestartFrames {
		if time.Now().After(deadline) {
			t.Fatalf("the reader has ended, but the WAL still holds %d frames", walFrames())
		}
		insertRandom(t, s, 1, 1, 1) // the WAL starts over at a write
		time.Sleep(50 * time.Millisecond)
	}
}

// insertRandom inserts each events from each of writers goroutines into
// calendars cal0 … cal<calendars-1>, and returns when all are done. The
// ids are random, as event ids are hashes: every insert lands on its own
// leaf page, as in production.
func insertRandom(t *testing.T, s *Store, writers, each, calendars int) {
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for i := range each {
				ev := moffman.Event{ID: fmt.Sprintf("%016x", rand.Uint64()), Summary: "a visit", Start: "2026-11-30", End: "2026-12-01"}
				if _, err := s.Insert(context.Background(), fmt.Sprintf("cal%d", i%calendars), ev); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
