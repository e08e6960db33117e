package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "moffman.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ins := mustInsert(t, s, "c", moffman.Event{ID: "event1", Start: "2024-01-01", End: "2024-01-02",
		Private: map[string]string{"k": "v"}, CreatorEmail: "p@x"})
	_, tok, err := moffman.ListAll(ctx, s, "c", moffman.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CommitSync(ctx, "c", []moffman.Job{{CalendarID: "c", EventID: "event1", OfficeID: "prague"}}, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDirectory(ctx, moffman.DirectoryLists{Offices: []moffman.Office{{Name: "prague", CalendarID: "c"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Get(ctx, "c", "event1"); err != nil || fmt.Sprint(got) != fmt.Sprint(ins) {
		t.Errorf("after reopen Get = %+v, %v\nwant %+v", got, err, ins)
	}
	if got, _ := s.SyncToken(ctx, "c"); got != tok {
		t.Errorf("stored token = %q, want %q", got, tok)
	}
	mustInsert(t, s, "c", event("event2", "2024-01-01", "2024-01-02"))
	evs, _, err := moffman.ListAll(ctx, s, "c", moffman.ListQuery{SyncToken: tok})
	if err != nil || ids(evs) != "event2" {
		t.Errorf("incremental after reopen = %s, %v", ids(evs), err)
	}
	if jobs, _ := s.DueJobs(ctx, time.Now(), 10); len(jobs) != 1 || jobs[0].OfficeID != "prague" {
		t.Errorf("jobs after reopen = %+v", jobs)
	}
	if d, ok, _ := s.LoadDirectory(ctx); !ok || len(d.Offices) != 1 {
		t.Errorf("directory after reopen = %+v %v", d, ok)
	}
}

func TestRefuseForeignFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		// What Python's dbm.gnu and dbm.ndbm files start with, and a short one.
		"moffman_store.dbm": append([]byte{0xce, 0x9a, 0x57, 0x13, 0, 0, 0x10, 0}, bytes.Repeat([]byte{0}, 4096)...),
		"short.db":          []byte("SQLite"),
		"text.db":           []byte("not a database at all, just some text\n"),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(context.Background(), path)
		wantCode(t, err, moffman.Invalid)
		if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "not a moffman store") ||
			!strings.Contains(msg, "general.storage_path") {
			t.Errorf("message %q does not name the path and what to do", msg)
		}
		after, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(after, content) {
			t.Errorf("%s was changed", name)
		}
		if files, _ := filepath.Glob(path + "-*"); len(files) != 0 {
			t.Errorf("left files beside %s: %v", name, files)
		}
	}
}

func TestRefuseForeignSQLite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE Dict (key BLOB UNIQUE NOT NULL, value BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)

	_, err = Open(context.Background(), path)
	wantCode(t, err, moffman.Invalid)
	if !strings.Contains(err.Error(), path) {
		t.Errorf("message %q does not name the path", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the foreign database was changed")
	}
}

func TestTakeOverEmptyFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// An SQLite database without tables, as `sqlite3 x.db 'PRAGMA user_version=0'` leaves.
	bare := filepath.Join(dir, "bare.db")
	db, _ := sql.Open("sqlite", bare)
	if _, err := db.Exec(`PRAGMA page_size = 4096; VACUUM`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, p := range []string{empty, bare} {
		s, err := Open(context.Background(), p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		mustInsert(t, s, "c", event("event1", "2024-01-01", "2024-01-02"))
		s.Close()
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "moffman.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(context.Background(), path)
	wantCode(t, err, moffman.Invalid)
	if !strings.Contains(err.Error(), "newer moffman") {
		t.Errorf("message %q", err)
	}
}

// TestHelperProcess is the child of TestKillDurability: it inserts events
// until killed and prints each id once the insert has returned.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv("MOFFMAN_SQLITE_KILL_DB")
	if path == "" {
		t.Skip("helper process for TestKillDurability")
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		ev, err := s.Insert(ctx, "c", moffman.Event{Start: "2024-01-01", End: "2024-01-02"})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stdout, ev.ID) // os.Stdout is unbuffered: one write per id
	}
}

func TestKillDurability(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "moffman.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MOFFMAN_SQLITE_KILL_DB="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		acked = append(acked, sc.Text())
		if len(acked) == 300 {
			cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	err = cmd.Wait()
	if len(acked) < 300 {
		t.Fatalf("child acknowledged %d inserts: %v\n%s", len(acked), err, stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed: %v", err)
	}

	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range acked {
		if _, err := s.Get(context.Background(), "c", id); err != nil {
			t.Fatalf("acknowledged event %s lost after kill -9: %v", id, err)
		}
	}
	t.Logf("%d acknowledged inserts survived", len(acked))
}

// TestClaims: ClaimJobs claims no more than its limit, so a worker taking
// one job at a time leaves the others to the other workers; a job saved
// with Claim.For 0 is released: its holder cannot save under that claim
// any more, and another may claim the job at once.
func TestClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	now := time.Now().Truncate(time.Millisecond)
	var jobs []moffman.Job
	for i := range 3 {
		jobs = append(jobs, moffman.Job{CalendarID: "c", EventID: fmt.Sprintf("ev%d", i), OfficeID: "prague",
			Step: moffman.StepDetected, NextAttempt: now.Add(-time.Minute), Created: now})
	}
	if err := s.CommitSync(ctx, "c", jobs, "token"); err != nil {
		t.Fatal(err)
	}
	// A claim that lapses at once leaves its job free again.
	if got, err := s.ClaimJobs(ctx, now, 1, "sleeper", time.Nanosecond); err != nil || len(got) != 1 {
		t.Fatalf("a first claim = %+v, %v", got, err)
	}
	var claimed []moffman.Job
	seen := map[string]bool{}
	for i := range 3 {
		got, err := s.ClaimJobs(ctx, now, 1, fmt.Sprintf("worker%d", i), time.Minute)
		if err != nil || len(got) != 1 || seen[got[0].EventID] {
			t.Fatalf("claim %d with limit 1 = %+v, %v; want one job not claimed before", i, got, err)
		}
		seen[got[0].EventID] = true
		claimed = append(claimed, got[0])
	}
	if got, err := s.ClaimJobs(ctx, now, 1, "late", time.Minute); err != nil || len(got) != 0 {
		t.Errorf("a claim while every job is held = %+v, %v; want none", got, err)
	}

	stop := claimed[0]
	stop.Claim.For = 0 // its holder stops between steps
	if err := s.SaveJob(ctx, stop); err != nil {
		t.Fatal(err)
	}
	stop.Step = moffman.StepFormDelivered
	wantCode(t, s.SaveJob(ctx, stop), moffman.Conflict)
	if got, err := s.ClaimJobs(ctx, now, 0, "late", time.Minute); err != nil || len(got) != 1 || got[0].EventID != stop.EventID {
		t.Errorf("a claim after the release = %+v, %v; want the released job", got, err)
	}
}
