package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"

	"github.com/moffman/moffman"
)

// Backup writes a consistent copy of the store at path to dest while the
// service may go on writing to it: SQLite's VACUUM INTO reads one snapshot
// in a read transaction, which in WAL mode never blocks the writer. dest
// must not exist; it is never overwritten. The copy is a store like any
// other: to restore it, stop moffman and put it at general.storage_path.
func Backup(ctx context.Context, path, dest string) error {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return moffman.Errorf(moffman.Invalid, "general.storage_path %q does not exist: there is no store to back up", path)
		}
		return accessError(path, err)
	}
	if err := checkForeign(ctx, path); err != nil {
		return err
	}
	// Claim dest first, so that an existing file is refused at once and
	// nobody else's file can appear there while the copy is written.
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return moffman.Errorf(moffman.Invalid, "%s already exists; moffman will not overwrite it: name a new file", dest)
	}
	if err != nil {
		return moffman.WrapError(moffman.Invalid, err, "cannot create the backup %s", dest)
	}
	f.Close()
	if err := vacuumInto(ctx, path, dest); err != nil {
		os.Remove(dest) // the empty or partial file we made, nobody else's
		return err
	}
	return nil
}

// vacuumInto copies the store at path into the empty file dest and checks
// the copy.
func vacuumInto(ctx context.Context, path, dest string) error {
	base, err := fileURI(path)
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", base+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return moffman.WrapError(moffman.Internal, err, "backup: open %s", path)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		if damaged(err) {
			return damagedError(path, err)
		}
		return moffman.WrapError(moffman.Internal, err, "backup of %s into %s", path, dest)
	}
	copyURI, err := fileURI(dest)
	if err != nil {
		return err
	}
	cp, err := sql.Open("sqlite", copyURI+"?mode=ro")
	if err != nil {
		return moffman.WrapError(moffman.Internal, err, "backup: open the copy %s", dest)
	}
	defer cp.Close()
	if err := checkIntact(ctx, cp, dest); err != nil {
		return moffman.WrapError(moffman.Internal, err, "backup: the copy %s fails its check", dest)
	}
	return nil
}
