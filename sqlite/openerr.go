package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/moffman/moffman"
)

// Opening the store tells apart what stops it, since each needs another
// fix: a file moffman may not write (permissions, a read-only file
// system), another program's file (checkForeign), and a damaged SQLite
// file. None of them is ever written to.

// openOS opens files for the access checks; tests replace it to see
// errors a root test process cannot meet.
type openOS func(name string, flag int, perm fs.FileMode) (*os.File, error)

// withOpenOS replaces os.OpenFile in the access checks (tests only).
func withOpenOS(open openOS) Option { return func(s *Store) { s.openOS = open } }

// checkWritable checks that the user moffman runs as can write the store
// and create its write-ahead log beside it, before SQLite tries and fails
// with a vaguer message. It creates nothing but what SQLite would: the
// store (empty, when new) and its -wal file.
func (s *Store) checkWritable(path string) error {
	open := s.openOS
	if open == nil {
		open = os.OpenFile
	}
	for _, name := range []string{path, path + "-wal"} {
		f, err := open(name, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return accessError(path, err)
		}
		f.Close()
	}
	return nil
}

// accessError explains an error of opening the store's files.
func accessError(path string, err error) error {
	switch {
	case errors.Is(err, syscall.EROFS):
		return moffman.WrapError(moffman.Invalid, err, "general.storage_path %q is on a read-only file system, and moffman (running as %s) must write its store: "+
			"set general.storage_path to a file on a writable file system", path, runningAs())
	case errors.Is(err, fs.ErrNotExist):
		return moffman.WrapError(moffman.Invalid, err, "general.storage_path %q: the directory %s does not exist; create it or set general.storage_path to a file in an existing directory",
			path, filepath.Dir(path))
	case errors.Is(err, fs.ErrPermission):
		return moffman.WrapError(moffman.Invalid, err, "general.storage_path %q: permission denied for %s, the user moffman runs as: "+
			"give that user read and write access to the file and its directory (SQLite keeps %s-wal and %s-shm beside it), or run moffman as the file's owner",
			path, runningAs(), path, path)
	}
	return moffman.WrapError(moffman.Invalid, err, "cannot open general.storage_path %q", path)
}

// runningAs names the process's user, e.g. "moffman (uid 998)".
func runningAs() string {
	uid := os.Geteuid()
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username + " (uid " + strconv.Itoa(uid) + ")"
	}
	return "uid " + strconv.Itoa(uid)
}

// damaged reports whether err is SQLite finding a file with its header
// damaged or its pages inconsistent.
func damaged(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff // the primary code of an extended one
	return code == sqlite3.SQLITE_CORRUPT || code == sqlite3.SQLITE_NOTADB
}

// damagedError says what to do with a damaged store.
func damagedError(path string, err error) error {
	return moffman.WrapError(moffman.Invalid, err, "general.storage_path %q is damaged (%v); moffman will not overwrite it: "+
		"stop moffman, move the file away and restore the latest backup to that path (see \"moffman backup\" in the README), "+
		"or start with a new file", path, err)
}

// checkIntact runs SQLite's quick check over the whole file, read-only: a
// damaged page would otherwise show up only when a request reads it.
func checkIntact(ctx context.Context, db *sql.DB, path string) error {
	var result string
	err := db.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&result)
	switch {
	case err != nil && damaged(err):
		return damagedError(path, err)
	case err != nil:
		return moffman.WrapError(moffman.Internal, err, "store: checking general.storage_path %q", path)
	case result != "ok":
		return damagedError(path, errors.New(result))
	}
	return nil
}

// Check makes Open's checks of the store at path without creating or
// changing anything, for --check-config: a new store's directory exists;
// an existing file is a moffman store, writable and intact.
func Check(ctx context.Context, path string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		st, err := os.Stat(filepath.Dir(path))
		switch {
		case err != nil:
			return accessError(path, err)
		case !st.IsDir():
			return moffman.Errorf(moffman.Invalid, "general.storage_path %q: %s is not a directory", path, filepath.Dir(path))
		}
		return nil
	}
	if err := checkForeign(ctx, path); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0) // neither creates nor changes it
	if err != nil {
		return accessError(path, err)
	}
	f.Close()
	base, err := fileURI(path)
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", base+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return moffman.WrapError(moffman.Internal, err, "store: open %s", path)
	}
	defer db.Close()
	return checkIntact(ctx, db, path)
}
