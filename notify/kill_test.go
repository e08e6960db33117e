package notify

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/config"
	"github.com/moffman/moffman/sqlite"
)

// The child process of TestKillNine: it records notifications while the
// receiver is down, says so, and keeps retrying until it is killed.
func TestMain(m *testing.M) {
	if db := os.Getenv("NOTIFY_KILL_CHILD_DB"); db != "" {
		os.Exit(killChild(db, os.Getenv("NOTIFY_KILL_CHILD_URL"), os.Getenv("NOTIFY_KILL_CHILD_SECRET")))
	}
	os.Exit(m.Run())
}

func killChild(db, url, secret string) int {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, db)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	svc, err := New(config.Notifications{Webhooks: []config.WebhookDest{{URL: url, Secret: secret}}}, store, Options{Backoff: quick})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go svc.Run(ctx)
	for _, ev := range killEvents {
		if err := svc.Notify(ctx, notification(moffman.NotifyReservationApproved, ev)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fmt.Println("recorded")
	select {} // until killed
}

var killEvents = []string{"evt01", "evt02", "evt03", "evt04"}

// A process killed with SIGKILL while its notifications are undelivered
// loses none: the next start delivers each once.
func TestKillNine(t *testing.T) {
	secret := newSecret(t)
	var up atomic.Bool
	rcv, url := newReceiver(t, secret, func(int) int {
		if up.Load() {
			return http.StatusOK
		}
		return http.StatusBadGateway
	})
	db := filepath.Join(t.TempDir(), "moffman.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NOTIFY_KILL_CHILD_DB="+db, "NOTIFY_KILL_CHILD_URL="+url, "NOTIFY_KILL_CHILD_SECRET="+secret)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "recorded\n" {
		cmd.Process.Kill()
		t.Fatalf("child said %q, %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	if len(rcv.all()) == 0 {
		t.Log("the child was killed before its first attempt")
	}

	up.Store(true)
	svc, err := New(config.Notifications{Webhooks: []config.WebhookDest{{URL: url, Secret: secret}}}, openStore(t, db), Options{Backoff: quick})
	if err != nil {
		t.Fatal(err)
	}
	run(t, svc)
	var got, want []string
	for _, r := range rcv.wait(len(killEvents)) {
		got = append(got, r.id)
	}
	for _, ev := range killEvents {
		want = append(want, notification(moffman.NotifyReservationApproved, ev).ID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("delivered after the kill: %v, want each of %v once", got, want)
	}
}
