// Package sqlite is moffman's embedded store: one SQLite file (pure Go,
// modernc.org/sqlite) that holds local calendars, which behave like Google
// Calendar v3 when no Google account is configured, and moffman's own
// durable state (sync tokens, manual-event jobs, last good directory lists).
package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/moffman/moffman"
)

// applicationID marks a database as a moffman store ("MOFF"), so that
// another program's SQLite file is never mistaken for one.
const applicationID = 0x4d4f4646

// migrations bring the schema forward: migrations[i] turns user_version i
// into i+1. Append only; never edit a released step.
var migrations = []string{
	`-- max_days is the longest event in the calendar, kept by the triggers
	-- below: a window listing then scans only events starting at most that
	-- long before the window, not the calendar's whole history.
	CREATE TABLE calendars (
		id       TEXT PRIMARY KEY,
		max_days INTEGER NOT NULL DEFAULT 0
	) WITHOUT ROWID;

	-- seq is the event's change sequence, unique and increasing per
	-- calendar: every write gives the event the calendar's next number.
	-- Sync tokens and etags are made of it. Events are never deleted
	-- (Delete only cancels), so MAX(seq) never goes back.
	CREATE TABLE events (
		calendar_id   TEXT NOT NULL,
		id            TEXT NOT NULL,
		seq           INTEGER NOT NULL,
		summary       TEXT NOT NULL,
		start_date    TEXT NOT NULL,
		end_date      TEXT NOT NULL,
		color_id      TEXT NOT NULL,
		private       TEXT NOT NULL, -- JSON object of strings
		creator_email TEXT NOT NULL,
		status        TEXT NOT NULL,
		created       INTEGER NOT NULL, -- Unix milliseconds
		updated       INTEGER NOT NULL,
		PRIMARY KEY (calendar_id, id),
		CHECK (end_date > start_date)
	) WITHOUT ROWID;
	CREATE INDEX events_by_start ON events (calendar_id, start_date, id, end_date);
	CREATE UNIQUE INDEX events_by_seq ON events (calendar_id, seq);
	CREATE TRIGGER events_span_insert AFTER INSERT ON events BEGIN
		INSERT INTO calendars (id, max_days)
		VALUES (NEW.calendar_id, CAST(julianday(NEW.end_date) - julianday(NEW.start_date) AS INTEGER))
		ON CONFLICT (id) DO UPDATE SET max_days = excluded.max_days WHERE excluded.max_days > max_days;
	END;
	CREATE TRIGGER events_span_update AFTER UPDATE OF start_date, end_date ON events BEGIN
		INSERT INTO calendars (id, max_days)
		VALUES (NEW.calendar_id, CAST(julianday(NEW.end_date) - julianday(NEW.start_date) AS INTEGER))
		ON CONFLICT (id) DO UPDATE SET max_days = excluded.max_days WHERE excluded.max_days > max_days;
	END;

	CREATE TABLE sync_tokens (
		calendar_id TEXT PRIMARY KEY,
		token       TEXT NOT NULL
	) WITHOUT ROWID;

	CREATE TABLE jobs (
		calendar_id  TEXT NOT NULL,
		event_id     TEXT NOT NULL,
		office_id    TEXT NOT NULL,
		step         TEXT NOT NULL,
		attempts     INTEGER NOT NULL,
		last_error   TEXT NOT NULL,
		next_attempt INTEGER NOT NULL, -- Unix milliseconds
		created      INTEGER NOT NULL,
		updated      INTEGER NOT NULL,  -- last write; finished jobs are pruned by it
		PRIMARY KEY (calendar_id, event_id)
	);
	CREATE INDEX jobs_unfinished ON jobs (created, calendar_id, event_id) WHERE step NOT IN ('done', 'dropped');

	CREATE TABLE kv (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	) WITHOUT ROWID;`,
	outboxSchema, // outbox.go

	`-- unknown_outcomes counts form requests whose answer never came;
	-- event_updated is the event's updated time (Unix ms, 0: unknown) as
	-- the job last saw it, to re-open a job dropped for a cancelled event
	-- that was restored.
	ALTER TABLE jobs ADD COLUMN unknown_outcomes INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE jobs ADD COLUMN event_updated INTEGER NOT NULL DEFAULT 0;`,
}

// Store is the embedded store. It implements moffman.Calendar and
// moffman.StateStore and is safe for concurrent use.
type Store struct {
	w    *sql.DB // the one writing connection
	r    *sql.DB // readers; the same as w in memory
	keep *sql.DB // in memory: holds the database while w reconnects

	clock   func() time.Time
	account string
	openOS  openOS // nil: os.OpenFile (openerr.go)

	insertEvent, patchEvent, cancelEvent, eventExists *sql.Stmt
	getEvent, maxSeq, listWindow, listChanges         *sql.Stmt

	committer    // every write after Open goes through it (commit.go)
	checkpointer // keeps the WAL short, off the write path (checkpoint.go)

	claims jobClaims // held in memory (claim.go)
}

var (
	_ moffman.Calendar   = (*Store)(nil)
	_ moffman.StateStore = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock used for created and updated times (default
// time.Now), so tests can control them.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.clock = now } }

// WithAccount sets the creator e-mail of events inserted without one
// (default "moffman@localhost"), as Google records the writing account.
func WithAccount(email string) Option { return func(s *Store) { s.account = email } }

// Open opens or creates the store at path; "" keeps it in memory, private
// to this Store. A file that is not a moffman store is refused (Invalid)
// and left untouched.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	s := &Store{clock: time.Now, account: "moffman@localhost"}
	for _, o := range opts {
		o(s)
	}
	var err error
	if path == "" {
		err = s.openMemory(ctx)
	} else {
		err = s.openFile(ctx, path)
	}
	if err == nil {
		err = s.migrate(ctx, path)
	}
	if err == nil {
		err = s.prepare(ctx)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	s.startCommitter()
	return s, nil
}

// openMemory uses a uniquely named shared-cache memory database, so it is
// private to this Store, through a single connection for reads and writes
// (shared-cache connections lock whole tables and do not honour
// busy_timeout). keep holds a second connection so that the data survives
// if database/sql ever replaces the working one.
func (s *Store) openMemory(ctx context.Context) error {
	var b [8]byte
	rand.Read(b[:])
	dsn := "file:moffman-" + hex.EncodeToString(b[:]) + "?mode=memory&cache=shared"
	var err error
	if s.keep, err = openDB(ctx, dsn, 1); err != nil {
		return err
	}
	s.w, err = openDB(ctx, dsn+"&_txlock=immediate&_pragma=busy_timeout(5000)", 1)
	s.r = s.w
	return err
}

// openFile checks that path is a moffman store or new, then opens one
// writing connection and a pool of readers.
//
// Durability: in WAL mode a commit has written its frames to the -wal file
// (write(2), into the OS page cache) before it returns. With
// synchronous=NORMAL the WAL is not fsynced on every commit, only at
// checkpoints, so an acknowledged write survives the process being killed
// (kill -9, a crash, OOM) but the last commits may be lost on power loss or
// an OS crash; the database stays consistent either way. FULL would fsync
// every commit and cap throughput at the disk's flush rate.
//
// The writer keeps up to 16 MiB of pages in its cache (SQLite's default is
// 2 MiB): event ids are hashes, so inserts land on random leaves of the
// table and of the start-date index, and with a small cache most of them
// were read back with a system call; its savepoints' journal stays in
// memory (temp_store) instead of spilling into a temporary file. Neither
// changes what is durable.
//
// All writes go through one connection, used by the committer (commit.go),
// whose transactions start with BEGIN IMMEDIATE: a transaction never has
// to upgrade a read lock to a write lock. Readers never block the writer
// in WAL mode; busy_timeout covers other processes and checkpoints.
func (s *Store) openFile(ctx context.Context, path string) error {
	if err := checkForeign(ctx, path); err != nil {
		return err
	}
	if err := s.checkWritable(path); err != nil {
		return err
	}
	base, err := fileURI(path)
	if err != nil {
		return err
	}
	s.w, err = openDB(ctx, base+"?_txlock=immediate&_pragma=busy_timeout(5000)"+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(0)"+
		"&_pragma=cache_size(-16384)&_pragma=temp_store(MEMORY)"+
		"&_pragma=journal_size_limit("+strconv.Itoa(walSizeLimit)+")", 1)
	if damaged(err) {
		return damagedError(path, err)
	}
	if err != nil {
		return moffman.WrapError(moffman.Invalid, err, "cannot open general.storage_path %q", path)
	}
	// On the writer: the last connection to close removes the -wal and
	// -shm files it made, which a read-only one cannot.
	if err := checkIntact(ctx, s.w, path); err != nil {
		return err
	}
	s.r, err = openDB(ctx, base+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)", max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		return err
	}
	return s.startCheckpointer(ctx, base+"?_pragma=busy_timeout(5000)", path)
}

// openDB opens a pool of at most n connections and connects once.
func openDB(ctx context.Context, dsn string, n int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, moffman.WrapError(moffman.Internal, err, "store: open")
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, moffman.WrapError(moffman.Internal, err, "store: open")
	}
	return db, nil
}

// fileURI returns a file: URI for path, escaped so that '?' or '#' in a
// file name cannot be read as URI parameters.
func fileURI(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", moffman.WrapError(moffman.Invalid, err, "general.storage_path %q", path)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// checkForeign refuses an existing, non-empty file that is not a moffman
// store, before anything could write to it (even switching it to WAL
// would). An SQLite file without tables is taken over.
func checkForeign(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return accessError(path, err)
	}
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	f.Close()
	switch {
	case n == 0 && (err == io.EOF):
		return nil // empty file: ours to initialise
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return moffman.WrapError(moffman.Invalid, err, "cannot read general.storage_path %q", path)
	case !bytes.Equal(head[:n], sqliteHeader):
		return moffman.Errorf(moffman.Invalid, "general.storage_path %q is not a moffman store (it looks like another program's file, "+
			"such as the Python moffman's dbm store); moffman will not overwrite it: "+
			"set general.storage_path to a new file, e.g. moffman.db, or move that file away", path)
	}

	base, err := fileURI(path)
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", base+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return moffman.WrapError(moffman.Invalid, err, "cannot open general.storage_path %q", path)
	}
	defer db.Close()
	var appID, tables int
	err = db.QueryRowContext(ctx, `SELECT (SELECT application_id FROM pragma_application_id),
		(SELECT count(*) FROM sqlite_schema)`).Scan(&appID, &tables)
	switch {
	case damaged(err):
		return damagedError(path, err) // an SQLite header, but not an SQLite file behind it
	case err != nil:
		return accessError(path, err)
	}
	return checkMarker(path, appID, tables)
}

// checkMarker accepts a database marked as moffman's or one without tables.
func checkMarker(path string, appID, tables int) error {
	if appID == applicationID || (appID == 0 && tables == 0) {
		return nil
	}
	return moffman.Errorf(moffman.Invalid, "general.storage_path %q is not a moffman store (it is another program's SQLite database, "+
		"such as the Python moffman's dbm.sqlite3 store); moffman will not touch it: "+
		"set general.storage_path to a new file, e.g. moffman.db, or move that file away", path)
}

// migrate marks a new database as moffman's and brings the schema to the
// current version, in one write transaction.
func (s *Store) migrate(ctx context.Context, path string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return moffman.WrapError(moffman.Internal, err, "store: migrate")
	}
	defer tx.Rollback()
	var appID, tables, version int
	err = tx.QueryRowContext(ctx, `SELECT (SELECT application_id FROM pragma_application_id),
		(SELECT count(*) FROM sqlite_schema), (SELECT user_version FROM pragma_user_version)`).Scan(&appID, &tables, &version)
	if err != nil {
		return moffman.WrapError(moffman.Internal, err, "store: migrate")
	}
	if err := checkMarker(path, appID, tables); err != nil {
		return err
	}
	if version > len(migrations) {
		return moffman.Errorf(moffman.Invalid, "general.storage_path %q was written by a newer moffman (schema %d, this one knows %d): "+
			"upgrade moffman or use another file", path, version, len(migrations))
	}
	if version == len(migrations) {
		return nil
	}
	if appID == 0 {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
			return moffman.WrapError(moffman.Internal, err, "store: migrate")
		}
	}
	for v := version; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return moffman.WrapError(moffman.Internal, err, "store: migrate to schema %d", v+1)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return moffman.WrapError(moffman.Internal, err, "store: migrate")
	}
	if err := tx.Commit(); err != nil {
		return moffman.WrapError(moffman.Internal, err, "store: migrate")
	}
	return nil
}

// eventCols are the columns scanEvent reads, in its order.
const eventCols = `id, seq, summary, start_date, end_date, color_id, private, creator_email, status, created, updated`

// prepare compiles the statements of the hot paths once.
func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		db    *sql.DB
		stmt  **sql.Stmt
		query string
	}{
		{s.w, &s.insertEvent, `INSERT INTO events (calendar_id, id, seq, summary, start_date, end_date,
			color_id, private, creator_email, status, created, updated)
			VALUES (?1, ?2, (SELECT IFNULL(MAX(seq), 0) + 1 FROM events WHERE calendar_id = ?1),
			?3, ?4, ?5, ?6, ?7, ?8, 'confirmed', ?9, ?9) RETURNING seq`},
		{s.w, &s.patchEvent, `UPDATE events SET
			summary = IFNULL(?3, summary), start_date = IFNULL(?4, start_date),
			end_date = IFNULL(?5, end_date), color_id = IFNULL(?6, color_id),
			private = IFNULL(json_patch(private, ?7), private), updated = ?8,
			seq = (SELECT MAX(seq) + 1 FROM events WHERE calendar_id = ?1)
			WHERE calendar_id = ?1 AND id = ?2 RETURNING ` + eventCols},
		{s.w, &s.cancelEvent, `UPDATE events SET status = 'cancelled', updated = ?3,
			seq = (SELECT MAX(seq) + 1 FROM events WHERE calendar_id = ?1)
			WHERE calendar_id = ?1 AND id = ?2 AND status <> 'cancelled'`},
		{s.w, &s.eventExists, `SELECT 1 FROM events WHERE calendar_id = ? AND id = ?`},
		{s.r, &s.getEvent, `SELECT ` + eventCols + ` FROM events WHERE calendar_id = ? AND id = ?`},
		{s.r, &s.maxSeq, `SELECT IFNULL(MAX(seq), 0) FROM events WHERE calendar_id = ?`},
		{s.r, &s.listWindow, listWindowQuery},
		{s.r, &s.listChanges, `SELECT ` + eventCols + ` FROM events
			WHERE calendar_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3`},
	} {
		st, err := p.db.PrepareContext(ctx, p.query)
		if err != nil {
			return moffman.WrapError(moffman.Internal, err, "store: prepare")
		}
		*p.stmt = st
	}
	return nil
}

// listWindowQuery lists a window page. The scan starts after the later
// of the page cursor (?5, ?6) and the earliest start that can still
// overlap the window: its start less the calendar's longest event, L.
// Ids are never empty, so "start >= L" is the row value (L, empty id).
// One row-value bound lets SQLite seek the index there; with two bounds
// it takes the window's and filters its way to the cursor, so that a deep
// page costs every page before it.
const listWindowQuery = `SELECT ` + eventCols + ` FROM events
	WHERE calendar_id = ?1 AND start_date < ?2 AND end_date > ?3 AND (?4 OR status = 'confirmed')
	AND (start_date, id) > (
		MAX(?5, IFNULL(date(?3, '-' || (SELECT max_days FROM calendars WHERE id = ?1) || ' days'), '')),
		CASE WHEN ?5 >= IFNULL(date(?3, '-' || (SELECT max_days FROM calendars WHERE id = ?1) || ' days'), '')
			THEN ?6 ELSE '' END)
	ORDER BY start_date, id LIMIT ?7`

// Close closes the database. Writes already queued are committed first;
// later ones fail (Unavailable).
func (s *Store) Close() error {
	s.stopCommitter()
	errs := []error{s.stopCheckpointer()}
	for _, st := range []*sql.Stmt{s.insertEvent, s.patchEvent, s.cancelEvent, s.eventExists,
		s.getEvent, s.maxSeq, s.listWindow, s.listChanges} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	for _, db := range []*sql.DB{s.w, s.keep} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	errs = append(errs, s.closeDBFile())
	return errors.Join(errs...)
}

// Ping checks that the reading and the writing connections answer (for
// health checks).
func (s *Store) Ping(ctx context.Context) error {
	var v int
	if err := s.r.QueryRowContext(ctx, `SELECT user_version FROM pragma_user_version`).Scan(&v); err != nil {
		return s.fail(ctx, err, "ping")
	}
	return s.fail(ctx, s.w.PingContext(ctx), "ping")
}

// fail turns a database error into the core's vocabulary: a done context
// or a lock held too long is Unavailable (try later), anything else
// Internal. *moffman.Error passes through.
func (s *Store) fail(ctx context.Context, err error, what string) error {
	if err == nil {
		return nil
	}
	var me *moffman.Error
	if errors.As(err, &me) {
		return err
	}
	if ctx.Err() != nil {
		return moffman.WrapError(moffman.Unavailable, ctx.Err(), "store: %s", what)
	}
	if c := sqliteCode(err) & 0xff; c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED {
		return moffman.WrapError(moffman.Unavailable, err, "store: %s: database is busy", what)
	}
	return moffman.WrapError(moffman.Internal, err, "store: %s", what)
}

// sqliteCode returns the extended SQLite result code of err, 0 if none.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}
