package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// TestLongWALIsTruncated: once the WAL holds more frames than the limit,
// the checkpointer truncates the file, so the disk it takes stays bounded.
func TestLongWALIsTruncated(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := Open(context.Background(), path, withWALLimit(100))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 2000 {
		ev := moffman.Event{ID: fmt.Sprintf("trunc%06d", i), Summary: "x", Start: "2026-11-30", End: "2026-12-01"}
		if _, err := s.Insert(context.Background(), "cal", ev); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the WAL still holds %d bytes, more than 100 frames: never truncated", fi.Size())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
