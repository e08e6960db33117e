package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/pgtest"
)

// openTest opens a store on a fresh database.
func openTest(t testing.TB, opts ...Option) *Store {
	t.Helper()
	return openURL(t, pgtest.NewDatabase(t), opts...)
}

func openURL(t testing.TB, url string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func wantCode(t *testing.T, err error, code moffman.Code) {
	t.Helper()
	if moffman.ErrorCode(err) != code {
		t.Fatalf("error = %v (code %q), want code %q", err, moffman.ErrorCode(err), code)
	}
}

func event(id, start, end string) moffman.Event {
	return moffman.Event{ID: id, Summary: "s " + id, Start: start, End: end}
}

func mustInsert(t testing.TB, s *Store, cal string, ev moffman.Event) moffman.Event {
	t.Helper()
	got, err := s.Insert(context.Background(), cal, ev)
	if err != nil {
		t.Fatalf("Insert(%q): %v", ev.ID, err)
	}
	return got
}

func TestMigrationsOnceAcrossReopens(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	s := openURL(t, url)
	mustInsert(t, s, "cal", event("event1", "2024-01-01", "2024-01-02"))
	s.Close()

	// Opening again applies nothing and keeps the data.
	s = openURL(t, url)
	var versions []int
	rows, err := s.pool.Query(context.Background(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		rows.Scan(&v)
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(migrations) || versions[len(versions)-1] != len(migrations) {
		t.Errorf("schema_migrations = %v, want 1..%d once each", versions, len(migrations))
	}
	if _, err := s.Get(context.Background(), "cal", "event1"); err != nil {
		t.Errorf("event lost after reopening: %v", err)
	}
}

func TestMigrationsConcurrentStarts(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	const replicas = 6
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() {
			s, err := Open(context.Background(), url)
			if err == nil {
				_, err = s.Insert(context.Background(), "cal", event(fmt.Sprintf("event%d", i), "2024-01-01", "2024-01-02"))
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	s := openURL(t, url)
	var n int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) {
		t.Errorf("%d migrations recorded, want %d", n, len(migrations))
	}
	evs, _, err := moffman.ListAll(context.Background(), s, "cal", moffman.ListQuery{})
	if err != nil || len(evs) != replicas {
		t.Errorf("listed %d events (%v), want %d", len(evs), err, replicas)
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	s := openURL(t, url)
	if _, err := s.pool.Exec(context.Background(), `INSERT INTO schema_migrations (version) VALUES ($1)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(context.Background(), url)
	wantCode(t, err, moffman.Invalid)
	if !strings.Contains(err.Error(), "newer moffman") || !strings.Contains(err.Error(), "general.database_url") {
		t.Errorf("message %q should say a newer moffman migrated general.database_url", err)
	}
}

func TestOpenBadURL(t *testing.T) {
	t.Parallel()
	_, err := Open(context.Background(), "postgres://user:secret@host:notaport/db")
	wantCode(t, err, moffman.Invalid)
	if !strings.Contains(err.Error(), "general.database_url") || strings.Contains(err.Error(), "secret") {
		t.Errorf("message %q should name the key and not show the password", err)
	}
}

func TestOpenNoServer(t *testing.T) {
	t.Parallel()
	// Port 1 on the loopback refuses at once.
	_, err := Open(context.Background(), "postgres://postgres@127.0.0.1:1/none?connect_timeout=5")
	wantCode(t, err, moffman.Unavailable)
	if !strings.Contains(err.Error(), "general.database_url") {
		t.Errorf("message %q should name the key", err)
	}
}

func TestClosedStoreUnavailable(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	s.Close()
	_, err := s.Get(context.Background(), "cal", "event1")
	wantCode(t, err, moffman.Unavailable)
	wantCode(t, s.Ping(context.Background()), moffman.Unavailable)
}
