package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/byroapi/byroapitest"
	"github.com/moffman/moffman/internal/pgtest"
	"github.com/moffman/moffman/internal/testlog"
	"github.com/moffman/moffman/postgres"
)

// testLeaseTTL is the lease of the replicas in these tests: short, so a
// takeover takes seconds (in production postgres.DefaultLeaseTTL).
const testLeaseTTL = 2 * time.Second

const replicaOffice = "prague@embedded"

// replica is one running moffman in a failover test.
type replica struct {
	base string
	logs *testlog.Buffer
	stop func() error
}

func (r replica) leads() bool {
	return strings.Count(r.logs.String(), "leading the background work") > r.leadsLost()
}

func (r replica) leadsLost() int {
	l := r.logs.String()
	return strings.Count(l, "lost the lead") + strings.Count(l, "giving up the lead")
}

// replicaEnv is two replicas on one fresh database, with a fake Byroapi.
type replicaEnv struct {
	t     *testing.T
	url   string
	args  []string
	byro  *byroapitest.Server
	store *postgres.Store // the test's own connection, as a person's calendar client
	mu    sync.Mutex
	ids   []string // reservations acknowledged (200) by any replica
}

func newReplicaEnv(t *testing.T) *replicaEnv {
	url := pgtest.NewDatabase(t)
	e := &replicaEnv{t: t, url: url, byro: byroapitest.Start(t)}
	cfg := writeConfig(t, t.TempDir(), `
general: {manual_calendar_check_interval: 1, log_level: INFO}
offices:
  office_list: [{name: prague, id: `+replicaOffice+`}]
manual_users:
  user_list: [{id: jan.novak@acme.com, first_name: Jan, last_name: Novák, employee_number: "1234"}]
forms:
  template: attendance
  url: `+e.byro.URL+`
  email: {subject: "{user_name}", contents: "{date_from}"}
rest_api: {addr: 127.0.0.1, port: 0}
`)
	e.args = []string{"--config", cfg, "--general--database-url", url}
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e.store = s
	return e
}

func (e *replicaEnv) start() replica {
	base, logs, stop := startServiceWith(e.t, e.args, nil, backendOptions{leaseTTL: testLeaseTTL})
	return replica{base, logs, stop}
}

// waitLeader waits until exactly one of rs leads and returns it.
func (e *replicaEnv) waitLeader(within time.Duration, rs ...replica) replica {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		var leading []replica
		for _, r := range rs {
			if r.leads() {
				leading = append(leading, r)
			}
		}
		if len(leading) == 1 {
			return leading[0]
		}
		if len(leading) > 1 {
			e.t.Fatalf("%d replicas lead at once", len(leading))
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no replica leads after %v", within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// manual puts an event in as Jan would, through a calendar client, and
// waits until it is approved.
func (e *replicaEnv) manualApproved(day int) {
	e.t.Helper()
	start := time.Now().UTC().AddDate(0, 0, day)
	ev, err := e.store.Insert(context.Background(), replicaOffice, moffman.Event{
		Summary: "office", Start: start.Format(time.DateOnly), End: start.AddDate(0, 0, 1).Format(time.DateOnly),
		ColorID: "2", CreatorEmail: "jan.novak@acme.com",
	})
	if err != nil {
		e.t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got, err := e.store.Get(context.Background(), replicaOffice, ev.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		if got.State() == moffman.StateApproved {
			if got.Summary != "Jan Novák" {
				e.t.Errorf("approved event = %+v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("manual event of %s not approved", ev.Start)
		}
	}
	n := 0
	for _, f := range e.byro.Delivered() {
		if f.UserID == "jan.novak@acme.com" && f.DateFrom == start.Format("02.01.2006") {
			n++
		}
	}
	if n != 1 {
		e.t.Errorf("%d forms for the event of %s, want 1", n, ev.Start)
	}
}

// reserve posts a reservation to r and remembers it when acknowledged.
func (e *replicaEnv) reserve(r replica, n int) {
	e.t.Helper()
	body := fmt.Sprintf(`{"user": {"name": "User %d", "email": "user%d@acme.com"}, "approved": false, "start": "2022-06-28", "end": "2022-06-29", "request_dt": "%d", "office_id": "prague"}`, n, n, n)
	if status := post(e.t, r.base+"/api/v1/reservations", body); status == 200 {
		e.mu.Lock()
		e.ids = append(e.ids, fmt.Sprint(n))
		e.mu.Unlock()
	}
}

// wantReservations checks that every acknowledged reservation is listed.
func (e *replicaEnv) wantReservations(r replica) {
	e.t.Helper()
	status, body := getJSON(e.t, r.base+"/api/v1/offices/prague/reservations?from=2022-06-01&to=2022-07-01")
	list, _ := body["reservations"].([]any)
	if status != 200 || len(list) != len(e.ids) || len(e.ids) == 0 {
		e.t.Errorf("listing = %d with %d reservations, want the %d acknowledged", status, len(list), len(e.ids))
	}
}

// Two replicas on one database: one leads. When the leader stops, or its
// lease lapses without it stopping, the other leads within the lease's
// TTL and approves later manual events with one form each; every
// reservation acknowledged by either replica is there.
func TestFailoverOnPostgres(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fail func(e *replicaEnv, leader replica)
	}{
		{"leader stops", func(e *replicaEnv, leader replica) {
			if err := leader.stop(); err != nil {
				e.t.Fatalf("leader shutdown: %v", err)
			}
		}},
		{"lease lapses", func(e *replicaEnv, leader replica) {
			// As if the leader could not renew in time (a pause, a network
			// partition): the lease expires while the process runs on.
			conn, err := pgx.Connect(context.Background(), e.url)
			if err != nil {
				e.t.Fatal(err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(context.Background(), `UPDATE leases SET expires = now()`); err != nil {
				e.t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newReplicaEnv(t)
			a, b := e.start(), e.start()
			leader := e.waitLeader(3*testLeaseTTL, a, b)
			follower := b
			if leader.base == b.base {
				follower = a
			}
			e.manualApproved(3)
			for i := range 10 {
				e.reserve([]replica{a, b}[i%2], i)
			}

			tc.fail(e, leader)
			taken := time.Now()
			for !follower.leads() {
				if time.Since(taken) > 3*testLeaseTTL {
					t.Fatalf("the other replica does not lead %v after the failure:\n%s", time.Since(taken), follower.logs)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if tc.name == "lease lapses" {
				for deadline := time.Now().Add(3 * testLeaseTTL); !strings.Contains(leader.logs.String(), "lost the lead"); time.Sleep(20 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("the old leader never noticed it lost the lead:\n%s", leader.logs)
					}
				}
				if leader.leads() {
					t.Error("the old leader leads again while the other holds the lease")
				}
			}
			for i := 10; i < 15; i++ {
				e.reserve(follower, i)
			}
			e.manualApproved(4)
			e.wantReservations(follower)
		})
	}
}
