// Package postgres keeps moffman's state in PostgreSQL (through pgx v5), so
// that several replicas can share it: the embedded calendars, which behave
// like Google Calendar v3 exactly as the sqlite package's do, the sync
// tokens, the manual-event jobs, the last good directory lists and the
// notification outbox. On top of the StateStore port it offers what
// replicas need: a leader lease (Lease) and job claims with a fencing token
// (ClaimJobs, then SaveJob).
package postgres

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/moffman/moffman"
)

// configKey names the configuration key in errors about the URL.
const configKey = "general.database_url"

// Store is moffman's PostgreSQL store. It implements moffman.Calendar,
// moffman.StateStore and moffman.Outbox and is safe for concurrent use, by
// several processes too.
//
// Every write is one statement or one short transaction; nothing is held
// between calls, so the store works behind PgBouncer in transaction mode.
// PgBouncer before 1.21 cannot keep prepared statements: add
// default_query_exec_mode=exec to the URL there.
type Store struct {
	pool    *pgxpool.Pool
	clock   func() time.Time
	account string
	logger  *slog.Logger
	closed  atomic.Bool
}

var (
	_ moffman.Calendar   = (*Store)(nil)
	_ moffman.StateStore = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock used for the created and updated times of
// events and jobs (default time.Now), so tests can control them. Leases and
// claims always use the database's clock, which all replicas share.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.clock = now } }

// WithAccount sets the creator e-mail of events inserted without one
// (default "moffman@localhost"), as Google records the writing account.
func WithAccount(email string) Option { return func(s *Store) { s.account = email } }

// WithLogger sets the logger of the leases' background work (default
// slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.logger = l } }

// Open connects to the database at databaseURL (postgres:// or
// postgresql://, or a key=value connection string) and brings its schema to
// the current version. Invalid when the URL cannot be parsed or the schema
// is newer than this moffman; Unavailable when the server does not answer.
func Open(ctx context.Context, databaseURL string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx's message may repeat the URL, password included.
		return nil, moffman.Errorf(moffman.Invalid, "%s is not a valid PostgreSQL connection URL "+
			"(expected e.g. postgres://moffman@db.example.com/moffman)", configKey)
	}
	s := &Store{clock: time.Now, account: "moffman@localhost", logger: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, moffman.WrapError(moffman.Invalid, err, "%s: cannot use the connection settings", configKey)
	}
	if err := s.migrate(ctx); err != nil {
		s.pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the connections once the calls under way have returned;
// later calls fail (Unavailable).
func (s *Store) Close() error {
	s.closed.Store(true)
	s.pool.Close()
	return nil
}

// Ping checks that the database answers (for health checks).
func (s *Store) Ping(ctx context.Context) error {
	return s.fail(ctx, s.pool.Ping(ctx), "ping")
}

// fail turns a database error into the core's vocabulary: a done context,
// a closed store, a lost connection or a server that is shutting down,
// overloaded or aborted the transaction for a conflict is Unavailable (try
// later); anything else Internal. *moffman.Error passes through.
func (s *Store) fail(ctx context.Context, err error, what string) error {
	if err == nil {
		return nil
	}
	var me *moffman.Error
	if errors.As(err, &me) {
		return err
	}
	if s.closed.Load() {
		return moffman.WrapError(moffman.Unavailable, err, "store: %s: the store is closed", what)
	}
	if ctx.Err() != nil {
		return moffman.WrapError(moffman.Unavailable, ctx.Err(), "store: %s", what)
	}
	if c := pgCode(err); c == "42P05" || c == "26000" {
		// A prepared statement exists twice or not at all: the connection
		// is shared with other clients, as behind PgBouncer in transaction
		// mode before 1.21.
		return moffman.WrapError(moffman.Internal, err, "store: %s: the server's prepared statements are not this connection's; "+
			"behind PgBouncer in transaction mode add default_query_exec_mode=exec to %s", what, configKey)
	}
	if unavailable(err) {
		return moffman.WrapError(moffman.Unavailable, err, "store: %s: the database is unavailable", what)
	}
	return moffman.WrapError(moffman.Internal, err, "store: %s", what)
}

// unavailable reports whether err says the database could not do the work
// now, rather than that the work is wrong.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		case "08", // connection exception
			"40", // serialization failure, deadlock
			"53", // insufficient resources (too many connections, disk full)
			"57": // operator intervention (shutdown, cancelled statement)
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// pgCode returns the SQLSTATE of err, "" if it is not a server error.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// now is the clock in UTC at millisecond precision, as Google's times and
// the sqlite store's.
func (s *Store) now() time.Time { return s.clock().UTC().Truncate(time.Millisecond) }

// dbTime is t as stored: UTC, millisecond precision.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
