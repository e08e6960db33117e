package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/moffman/moffman"
)

func TestBackupWhileWritesGoOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "moffman.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 200 {
		mustInsert(t, s, "c", event(fmt.Sprintf("before%05d", i), "2024-01-01", "2024-01-02"))
	}

	var written atomic.Int64
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if _, err := s.Insert(ctx, "c", event(fmt.Sprintf("during%05d", i), "2024-02-01", "2024-02-02")); err != nil {
				done <- err
				return
			}
			written.Add(1)
		}
	}()
	for written.Load() < 20 {
		runtime.Gosched() // let the writes get going
	}
	dest := filepath.Join(dir, "backup.db")
	err = Backup(ctx, path, dest)
	atBackup := written.Load()
	close(stop)
	if werr := <-done; werr != nil {
		t.Fatalf("a write failed during the backup: %v", werr)
	}
	if err != nil {
		t.Fatal(err)
	}

	cp, err := Open(ctx, dest)
	if err != nil {
		t.Fatalf("the copy does not open as a store: %v", err)
	}
	defer cp.Close()
	evs, _, err := moffman.ListAll(ctx, cp, "c", moffman.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	before, during := 0, 0
	for _, ev := range evs {
		switch {
		case strings.HasPrefix(ev.ID, "before"):
			before++
		case strings.HasPrefix(ev.ID, "during"):
			during++
		}
	}
	if before != 200 || during < 20 || int64(during) > atBackup {
		t.Errorf("copy holds %d events from before and %d written during the backup; want 200 and 20 to %d", before, during, atBackup)
	}
	// A snapshot has no gaps: the writes in it are the first ones made.
	for i := range during {
		if _, err := cp.Get(ctx, "c", fmt.Sprintf("during%05d", i)); err != nil {
			t.Errorf("copy lacks during%05d but holds %d of them: %v", i, during, err)
			break
		}
	}
}

func TestBackupRefusesToOverwrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := newStoreFile(t, 2)
	dest := filepath.Join(t.TempDir(), "existing.db")
	if err := os.WriteFile(dest, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Backup(ctx, path, dest)
	wantCode(t, err, moffman.Invalid)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("backup onto an existing file: %v", err)
	}
	if b, _ := os.ReadFile(dest); string(b) != "keep me" {
		t.Errorf("the existing file was changed: %q", b)
	}
	// Neither is a missing or foreign store copied.
	for _, src := range []string{filepath.Join(t.TempDir(), "missing.db"), dest} {
		if err := Backup(ctx, src, filepath.Join(t.TempDir(), "copy.db")); err == nil {
			t.Errorf("backup of %s succeeded", src)
		}
	}
}
