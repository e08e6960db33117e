package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/moffman/moffman"
)

// migrationLock is the key of the transaction-scoped advisory lock that
// serialises migrations when several replicas start at once. A
// transaction-level lock ends with its transaction, so it is safe behind
// PgBouncer in transaction mode (a session-level one could outlive the
// client on a pooled server connection, or be released on another).
const migrationLock int64 = 0x6d6f66666d616e // "moffman"

// migrations bring the schema forward: migrations[i] is version i+1.
// Append only; never edit a released step.
var migrations = []string{
	`-- seq is the calendar's change sequence: every write to one of its
	-- events takes the next number, under the row lock of this row, which
	-- it holds until it commits. So numbers are given out in commit order
	-- and a sync token (the highest number a listing saw) never skips a
	-- write that commits later. max_days is the longest event in the
	-- calendar: a window listing then reads only events starting at most
	-- that long before the window, not the calendar's whole history.
	CREATE TABLE calendars (
		id       text COLLATE "C" PRIMARY KEY,
		seq      bigint NOT NULL DEFAULT 0,
		max_days integer NOT NULL DEFAULT 0
	);

	-- Events are never deleted (Delete only cancels), so an id stays used.
	CREATE TABLE events (
		calendar_id   text COLLATE "C" NOT NULL,
		id            text COLLATE "C" NOT NULL,
		seq           bigint NOT NULL,
		summary       text NOT NULL,
		start_date    date NOT NULL,
		end_date      date NOT NULL, -- exclusive
		color_id      text NOT NULL,
		private       jsonb NOT NULL, -- object of strings
		creator_email text NOT NULL,
		status        text NOT NULL,
		created       timestamptz NOT NULL,
		updated       timestamptz NOT NULL,
		PRIMARY KEY (calendar_id, id),
		CHECK (end_date > start_date)
	);
	CREATE INDEX events_by_start ON events (calendar_id, start_date, id);
	CREATE UNIQUE INDEX events_by_seq ON events (calendar_id, seq);

	-- Keeps calendars.max_days; the writer holds the calendar's row lock
	-- already.
	CREATE FUNCTION events_span() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		UPDATE calendars SET max_days = NEW.end_date - NEW.start_date
		WHERE id = NEW.calendar_id AND max_days < NEW.end_date - NEW.start_date;
		RETURN NULL;
	END $$;
	CREATE TRIGGER events_span AFTER INSERT OR UPDATE OF start_date, end_date ON events
		FOR EACH ROW EXECUTE FUNCTION events_span();

	CREATE TABLE sync_tokens (
		calendar_id text PRIMARY KEY,
		token       text NOT NULL
	);

	-- claim_*: the replica working on the job (ClaimJobs). claim_token is
	-- the fencing value, raised by every claim; claim_until NULL means
	-- unclaimed.
	CREATE TABLE jobs (
		calendar_id  text COLLATE "C" NOT NULL,
		event_id     text COLLATE "C" NOT NULL,
		office_id    text NOT NULL,
		step         text NOT NULL,
		attempts     integer NOT NULL,
		last_error   text NOT NULL,
		next_attempt timestamptz NOT NULL,
		created      timestamptz NOT NULL,
		updated      timestamptz NOT NULL, -- last write; finished jobs are pruned by it
		claim_holder text NOT NULL DEFAULT '',
		claim_token  bigint NOT NULL DEFAULT 0,
		claim_until  timestamptz,
		PRIMARY KEY (calendar_id, event_id)
	);
	CREATE INDEX jobs_unfinished ON jobs (created, calendar_id, event_id) WHERE step NOT IN ('done', 'dropped');

	CREATE TABLE kv (
		key   text PRIMARY KEY,
		value jsonb NOT NULL
	);

	-- One row per lease (Lease); token is the fencing value, raised on
	-- every change of holder.
	CREATE TABLE leases (
		name    text PRIMARY KEY,
		holder  text NOT NULL,
		token   bigint NOT NULL,
		expires timestamptz NOT NULL
	);`,

	`-- The notification outbox (outbox.go): each notification once, and one
	-- delivery row per destination, moved from pending to delivered or
	-- failed. start_date and end_date are text: "" for sync.failing.
	CREATE TABLE notifications (
		id           text COLLATE "C" PRIMARY KEY,
		type         text NOT NULL,
		office       text NOT NULL,
		calendar_id  text NOT NULL,
		event_id     text NOT NULL,
		person_name  text NOT NULL,
		person_email text NOT NULL,
		start_date   text NOT NULL,
		end_date     text NOT NULL,
		status       text NOT NULL,
		detail       text NOT NULL,
		at           timestamptz NOT NULL
	);

	CREATE TABLE deliveries (
		notification_id text COLLATE "C" NOT NULL REFERENCES notifications (id),
		destination     text NOT NULL,
		state           text NOT NULL, -- pending, delivered, failed
		attempts        integer NOT NULL,
		last_error      text NOT NULL,
		next_attempt    timestamptz NOT NULL,
		created         timestamptz NOT NULL,
		updated         timestamptz NOT NULL, -- last write; finished deliveries are pruned by it
		PRIMARY KEY (notification_id, destination)
	);
	CREATE INDEX deliveries_due ON deliveries (destination, next_attempt, created) WHERE state = 'pending';`,
	`-- unknown_outcomes counts form requests whose answer never came;
	-- event_updated is the event's updated time as the job last saw it
	-- (NULL: unknown), to re-open a job dropped for a cancelled event that
	-- was restored.
	ALTER TABLE jobs ADD COLUMN unknown_outcomes integer NOT NULL DEFAULT 0;
	ALTER TABLE jobs ADD COLUMN event_updated timestamptz;`,
}

// migrate applies the migrations not applied yet, each recorded in
// schema_migrations, in one transaction under the advisory lock: replicas
// starting together apply them once, the others wait and find them done.
func (s *Store) migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		var version int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
			return err
		}
		if version > len(migrations) {
			return moffman.Errorf(moffman.Invalid, "the database of %s was migrated by a newer moffman "+
				"(schema %d, this one knows %d): upgrade moffman or use another database", configKey, version, len(migrations))
		}
		for v := version; v < len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return moffman.WrapError(moffman.Internal, err, "store: migrate to schema %d", v+1)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v+1); err != nil {
				return err
			}
		}
		return nil
	})
	var me *moffman.Error
	if err != nil && !errors.As(err, &me) && unavailable(err) {
		return moffman.WrapError(moffman.Unavailable, err, "cannot reach the database of %s", configKey)
	}
	return s.fail(ctx, err, "migrate")
}
