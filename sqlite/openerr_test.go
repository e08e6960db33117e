package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/moffman/moffman"
)

// newStoreFile writes a closed store holding n events and returns its path.
func newStoreFile(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "moffman.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		mustInsert(t, s, "c", moffman.Event{Summary: strings.Repeat("x", 200), Start: "2024-01-01", End: "2024-01-02", Private: map[string]string{"i": string(rune('a' + i%26))}})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// refusedUnchanged opens path, expects an Invalid error holding every one
// of want, and checks that the file was not changed.
func refusedUnchanged(t *testing.T, path string, opts []Option, want ...string) {
	t.Helper()
	before, _ := os.ReadFile(path)
	s, err := Open(context.Background(), path, opts...)
	if err == nil {
		s.Close()
		t.Fatalf("Open(%s) succeeded, want a refusal", path)
	}
	wantCode(t, err, moffman.Invalid)
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message %q lacks %q", err, w)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("%s was changed", path)
	}
}

// failOpen makes the access checks meet err, as a process that is not
// root meets EACCES on a file it may not write (root never does).
func failOpen(err error) Option {
	return withOpenOS(func(name string, flag int, perm fs.FileMode) (*os.File, error) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	})
}

func TestOpenRefusesStoreItMayNotWrite(t *testing.T) {
	t.Parallel()
	path := newStoreFile(t, 3)
	refusedUnchanged(t, path, []Option{failOpen(syscall.EACCES)},
		path, "permission denied for "+runningAs()+", the user moffman runs as", "read and write access")
	refusedUnchanged(t, path, []Option{failOpen(syscall.EROFS)},
		path, "is on a read-only file system", runningAs())
	for _, msg := range []string{"not a moffman store", "damaged"} {
		_, err := Open(context.Background(), path, failOpen(syscall.EACCES))
		if err != nil && strings.Contains(err.Error(), msg) {
			t.Errorf("a permission problem is reported as %q: %v", msg, err)
		}
	}
	if s, err := Open(context.Background(), path); err != nil {
		t.Errorf("the store no longer opens: %v", err)
	} else {
		s.Close()
	}
}

// The same through the real file system, where the test can meet it: a
// process running as root reads and writes any file whatever its mode.
func TestOpenRefusesReadOnlyFileForAnotherUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("running as root, which may write any file: TestOpenRefusesStoreItMayNotWrite covers EACCES through an injected error")
	}
	path := newStoreFile(t, 3)
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	refusedUnchanged(t, path, nil, path, "permission denied", runningAs())
}

func TestOpenRefusesDamagedStore(t *testing.T) {
	t.Parallel()
	t.Run("pages", func(t *testing.T) {
		t.Parallel()
		path := newStoreFile(t, 300)
		b, err := os.ReadFile(path)
		if err != nil || len(b) < 6*4096 {
			t.Fatalf("store of %d bytes, %v", len(b), err)
		}
		// Keep page 1 (the header and schema), scramble the pages after.
		copy(b[4096:], bytes.Repeat([]byte{0x5a, 0xa5, 0x17}, (len(b)-4096)/3))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		refusedUnchanged(t, path, nil, path, "is damaged", "restore the latest backup")
		if files, _ := filepath.Glob(path + "-*"); len(files) != 0 {
			t.Errorf("left files beside the damaged store: %v", files)
		}
	})
	t.Run("header", func(t *testing.T) {
		t.Parallel()
		path := newStoreFile(t, 1)
		b, _ := os.ReadFile(path)
		copy(b[16:100], bytes.Repeat([]byte{0xff}, 84)) // page size, counts and version: nonsense
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		refusedUnchanged(t, path, nil, path, "is damaged", "restore the latest backup")
	})
	t.Run("truncated", func(t *testing.T) {
		t.Parallel()
		path := newStoreFile(t, 300)
		b, _ := os.ReadFile(path)
		if err := os.WriteFile(path, b[:len(b)/2], 0o600); err != nil {
			t.Fatal(err)
		}
		refusedUnchanged(t, path, nil, path, "is damaged")
	})
}

func TestCheckChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	good := newStoreFile(t, 3)
	before, _ := os.ReadFile(good)
	if err := Check(ctx, good); err != nil {
		t.Errorf("a good store: %v", err)
	}
	if after, _ := os.ReadFile(good); !bytes.Equal(before, after) {
		t.Error("Check changed the store")
	}
	fresh := filepath.Join(t.TempDir(), "new.db")
	if err := Check(ctx, fresh); err != nil {
		t.Errorf("a new store in an existing directory: %v", err)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Error("Check created the new store")
	}
	missingDir := filepath.Join(t.TempDir(), "no", "such", "moffman.db")
	for _, err := range []error{Check(ctx, missingDir), openErr(missingDir)} {
		if !moffman.IsCode(err, moffman.Invalid) || !strings.Contains(fmt.Sprint(err), "the directory "+filepath.Dir(missingDir)+" does not exist") {
			t.Errorf("a store in a missing directory: %v", err)
		}
	}
	damagedFile := newStoreFile(t, 300)
	b, _ := os.ReadFile(damagedFile)
	copy(b[4096:], bytes.Repeat([]byte{0x5a}, len(b)-4096))
	os.WriteFile(damagedFile, b, 0o600)
	if err := Check(ctx, damagedFile); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("a damaged store: %v", err)
	}
}

func openErr(path string) error {
	s, err := Open(context.Background(), path)
	if err == nil {
		s.Close()
	}
	return err
}

// TestRunningAsNamesTheUser: a permission error names the user by name
// and uid, as the administrator fixing the file's owner needs both.
func TestRunningAsNamesTheUser(t *testing.T) {
	t.Parallel()
	u, err := user.Current()
	if err != nil {
		t.Skipf("this system cannot name the current user: %v", err)
	}
	if got, want := runningAs(), u.Username+" (uid "+u.Uid+")"; got != want {
		t.Errorf("runningAs() = %q, want %q", got, want)
	}
}
