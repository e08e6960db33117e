package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/eventstore"
)

// holdCommitter makes the committer run a write that blocks until release
// is called, so that the writes submitted meanwhile queue up and then run
// as one batch. The queue must be empty when it is called.
func holdCommitter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, unblock := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.write(context.Background(), "hold", func(context.Context, *sql.Tx) error {
			close(started)
			<-unblock
			return nil
		})
	}()
	<-started
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(unblock)
			if err := <-errc; err != nil {
				t.Errorf("held write: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// waitQueued waits until n writes are queued behind the held one.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		got := len(s.queue)
		s.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", got, n)
		}
	}
}

// queue submits each call in its own goroutine, in order, once the one
// before is queued, and returns their errors once all have returned.
func queue(t *testing.T, s *Store, calls ...func() error) func() []error {
	t.Helper()
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() { errs[i] = call() })
		waitQueued(t, s, i+1)
	}
	return func() []error {
		wg.Wait()
		return errs
	}
}

// TestGroupCommitConcurrentInserts inserts from many goroutines, some ids
// twice or three times: exactly one insert of each id succeeds, the others
// are Conflict, and every event is stored with the etag its insert returned.
func TestGroupCommitConcurrentInserts(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	const unique, workers = 600, 48
	var ids []string
	for i := range unique {
		id := fmt.Sprintf("evt%04d", i)
		ids = append(ids, id)
		if i%7 == 0 {
			ids = append(ids, id)
		}
		if i%50 == 0 {
			ids = append(ids, id)
		}
	}
	var mu sync.Mutex
	stored := map[string]moffman.Event{}
	conflicts := map[string]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(ids); i += workers {
				ev, err := s.Insert(ctx, "c", event(ids[i], "2024-01-01", "2024-01-02"))
				mu.Lock()
				switch {
				case err == nil:
					if _, dup := stored[ev.ID]; dup {
						t.Errorf("%s inserted twice", ev.ID)
					}
					stored[ev.ID] = ev
				case moffman.IsCode(err, moffman.Conflict):
					conflicts[ids[i]]++
				default:
					t.Errorf("insert %s: %v", ids[i], err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	if len(stored) != unique {
		t.Errorf("%d events stored, want %d", len(stored), unique)
	}
	for i := range unique {
		id := fmt.Sprintf("evt%04d", i)
		want := 0
		if i%7 == 0 {
			want++
		}
		if i%50 == 0 {
			want++
		}
		if conflicts[id] != want {
			t.Errorf("%s: %d conflicts, want %d", id, conflicts[id], want)
		}
	}
	evs, _, err := moffman.ListAll(ctx, s, "c", moffman.ListQuery{SyncToken: eventstore.SyncToken("c", 0)})
	if err != nil {
		t.Fatal(err)
	}
	last := 0
	for _, e := range evs {
		if stored[e.ID].ETag != e.ETag {
			t.Errorf("%s: stored etag %s, insert returned %s", e.ID, e.ETag, stored[e.ID].ETag)
		}
		seq := seqOf(e.ETag)
		if seq <= last {
			t.Errorf("%s: seq %d after %d", e.ID, seq, last)
		}
		last = seq
	}
	if len(evs) != unique || last != unique {
		t.Errorf("listed %d events up to seq %d, want %d", len(evs), last, unique)
	}
}

// TestBatchFailuresStayAlone runs one batch in which several writes fail:
// each failing caller gets its own error, the failed writes leave nothing
// behind, and the others commit.
func TestBatchFailuresStayAlone(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	mustInsert(t, s, "c", event("taken", "2024-01-01", "2024-01-02"))

	release := holdCommitter(t, s)
	var good1, good2 moffman.Event
	end := "2023-12-01"
	errBoom := errors.New("boom")
	wait := queue(t, s,
		func() (err error) {
			good1, err = s.Insert(ctx, "c", event("good1", "2024-01-01", "2024-01-02"))
			return err
		},
		func() error { _, err := s.Insert(ctx, "c", event("taken", "2024-01-01", "2024-01-02")); return err },
		func() error { _, err := s.Patch(ctx, "c", "missing", moffman.EventPatch{}); return err },
		func() error { _, err := s.Patch(ctx, "c", "good1", moffman.EventPatch{End: &end}); return err },
		func() error {
			// Two statements, then a failure: both must be undone.
			return s.write(ctx, "test", func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO kv (key, value) VALUES ('partial', 'x')`); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE events SET summary = 'partial' WHERE calendar_id = 'c'`); err != nil {
					return err
				}
				return errBoom
			})
		},
		func() error { return s.Delete(ctx, "c", "missing") },
		func() (err error) {
			good2, err = s.Insert(ctx, "c", event("good2", "2024-01-01", "2024-01-02"))
			return err
		},
		func() error { return s.CommitSync(ctx, "c", []moffman.Job{{CalendarID: "c", EventID: "good2"}}, "tok") },
	)
	release()
	errs := wait()

	for i, want := range []moffman.Code{"", moffman.Conflict, moffman.NotFound, moffman.Invalid, moffman.Internal, moffman.NotFound, "", ""} {
		if got := moffman.ErrorCode(errs[i]); got != want {
			t.Errorf("write %d: error %v (code %q), want code %q", i, errs[i], got, want)
		}
	}
	if !errors.Is(errs[4], errBoom) {
		t.Errorf("failed write got %v, want its own error", errs[4])
	}
	for _, want := range []moffman.Event{good1, good2} {
		if got, err := s.Get(ctx, "c", want.ID); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Get(%s) = %+v, %v\nwant %+v", want.ID, got, err, want)
		}
	}
	if seqOf(good1.ETag) == 0 || seqOf(good2.ETag) <= seqOf(good1.ETag) {
		t.Errorf("etags %s then %s: want increasing", good1.ETag, good2.ETag)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM kv WHERE key = 'partial') +
		(SELECT count(*) FROM events WHERE summary = 'partial')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the failed write left %d rows, %v", n, err)
	}
	if tok, _ := s.SyncToken(ctx, "c"); tok != "tok" {
		t.Errorf("sync token %q", tok)
	}
}

// TestCommitFailure makes the COMMIT of a batch fail (a deferred foreign
// key is violated): every write of the batch gets the error, none is
// stored, and the store keeps working.
func TestCommitFailure(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	// The writer is one connection: the pragma and the temporary tables
	// are the committer's.
	if _, err := s.w.ExecContext(ctx, `PRAGMA foreign_keys = ON;
		CREATE TEMP TABLE parent (id INTEGER PRIMARY KEY);
		CREATE TEMP TABLE child (p INTEGER REFERENCES parent DEFERRABLE INITIALLY DEFERRED)`); err != nil {
		t.Fatal(err)
	}

	release := holdCommitter(t, s)
	wait := queue(t, s,
		func() error { _, err := s.Insert(ctx, "c", event("good1", "2024-01-01", "2024-01-02")); return err },
		func() error {
			return s.write(ctx, "test", func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO temp.child VALUES (1)`)
				return err
			})
		},
		func() error { _, err := s.Insert(ctx, "c", event("good2", "2024-01-01", "2024-01-02")); return err },
	)
	release()
	for i, err := range wait() {
		if !moffman.IsCode(err, moffman.Internal) || !strings.Contains(err.Error(), "FOREIGN KEY") {
			t.Errorf("write %d: %v, want the commit's error", i, err)
		}
	}
	for _, id := range []string{"good1", "good2"} {
		_, err := s.Get(ctx, "c", id)
		wantCode(t, err, moffman.NotFound)
	}
	// The failed transaction was rolled back: the next batch can begin.
	mustInsert(t, s, "c", event("good3", "2024-01-01", "2024-01-02"))
}

// TestCancelQueued gives up on a write while it waits for the committer:
// the caller returns at once and the write never happens. The writes
// queued behind it in the same batch still run.
func TestCancelQueued(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	release := holdCommitter(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.Insert(ctx, "c", event("event1", "2024-01-01", "2024-01-02"))
		errc <- err
	}()
	waitQueued(t, s, 1)
	after := queue(t, s, func() error {
		_, err := s.Insert(context.Background(), "c", event("event2", "2024-01-01", "2024-01-02"))
		return err
	})
	waitQueued(t, s, 2)
	cancel()
	select {
	case err := <-errc: // the committer is still held
		if !errors.Is(err, context.Canceled) || !moffman.IsCode(err, moffman.Unavailable) {
			t.Errorf("cancelled insert: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled queued write did not return")
	}
	release()
	if errs := after(); errs[0] != nil {
		t.Errorf("the insert queued behind the cancelled one: %v", errs[0])
	}
	// It ran in the batch that skipped the cancelled write.
	if _, err := s.Get(context.Background(), "c", "event2"); err != nil {
		t.Errorf("the insert queued behind the cancelled one is missing: %v", err)
	}
	mustInsert(t, s, "c", event("event3", "2024-01-01", "2024-01-02")) // a later batch
	_, err := s.Get(context.Background(), "c", "event1")
	wantCode(t, err, moffman.NotFound)
}

// TestCancelRunning gives up on a write that has already run in a batch:
// the caller waits for the commit and is told the write succeeded.
func TestCancelRunning(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.write(ctx, "test", func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO kv (key, value) VALUES ('k', 'v')`); err != nil {
				return err
			}
			close(ran)
			time.Sleep(50 * time.Millisecond) // the caller gives up meanwhile
			return nil
		})
	}()
	<-ran
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("write that committed reported %v", err)
	}
	var v string
	if err := s.r.QueryRow(`SELECT value FROM kv WHERE key = 'k'`).Scan(&v); err != nil || v != "v" {
		t.Errorf("stored %q, %v", v, err)
	}
}

// TestCloseWithQueuedWrites closes the store while writes wait: Close
// commits them before it returns, and later writes fail cleanly.
func TestCloseWithQueuedWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "moffman.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	release := holdCommitter(t, s)
	const n = 20
	var calls []func() error
	for i := range n {
		calls = append(calls, func() error {
			_, err := s.Insert(ctx, "c", event(fmt.Sprintf("queued%02d", i), "2024-01-01", "2024-01-02"))
			return err
		})
	}
	wait := queue(t, s, calls...)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for {
		s.mu.Lock()
		c := s.closed
		s.mu.Unlock()
		if c {
			break
		}
		time.Sleep(time.Millisecond)
	}
	_, err = s.Insert(ctx, "c", event("late1", "2024-01-01", "2024-01-02"))
	wantCode(t, err, moffman.Unavailable)
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for i, err := range wait() {
		if err != nil {
			t.Errorf("queued insert %d: %v", i, err)
		}
	}
	_, err = s.Insert(ctx, "c", event("late2", "2024-01-01", "2024-01-02"))
	wantCode(t, err, moffman.Unavailable)
	if err := s.Delete(ctx, "c", "queued00"); !moffman.IsCode(err, moffman.Unavailable) {
		t.Errorf("delete after close: %v", err)
	}
	s.Close() // twice is harmless

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, _, err := moffman.ListAll(ctx, s, "c", moffman.ListQuery{})
	if err != nil || len(evs) != n {
		t.Errorf("after reopen: %d events (%s), %v", len(evs), ids(evs), err)
	}
}

// seqOf returns the change sequence in an etag, 0 if none.
func seqOf(etag string) int {
	n, _ := strconv.Atoi(strings.Trim(etag, `"`))
	return n
}

// TestLoneWriteAfterBusyBatch commits a batch of several writes, after
// which the committer waits for more to gather; a lone write that follows
// is committed all the same, as is one queued while the store closes.
func TestLoneWriteAfterBusyBatch(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	release := holdCommitter(t, s)
	var calls []func() error
	for i := range 4 {
		calls = append(calls, func() error {
			_, err := s.Insert(ctx, "c", event(fmt.Sprint("batch", i), "2024-01-01", "2024-01-02"))
			return err
		})
	}
	wait := queue(t, s, calls...)
	release()
	for i, err := range wait() {
		if err != nil {
			t.Errorf("insert %d: %v", i, err)
		}
	}
	lone := mustInsert(t, s, "c", event("alone", "2024-01-01", "2024-01-02"))
	if got, err := s.Get(ctx, "c", "alone"); err != nil || got.ETag != lone.ETag {
		t.Errorf("Get(alone) = %+v, %v", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.Insert(ctx, "c", event("later", "2024-01-01", "2024-01-02"))
	wantCode(t, err, moffman.Unavailable)
}
