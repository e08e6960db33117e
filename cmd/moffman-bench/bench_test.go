package main

import (
	"context"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/moffman/moffman"
)

// TestLedger feeds the ledger crafted outcomes, one of each kind, and
// checks that each is counted where it belongs.
func TestLedger(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	form := func(n int) formKey {
		return formKey{User: "u@x", From: "2026-03-1" + string(rune('0'+n)), To: "2026-03-1" + string(rune('0'+n))}
	}
	in := ledgerInput{
		Requests: []reqRecord{
			{Key: "ok", Acked: true},                   // found once: fine
			{Key: "ok", Approve: true, Acked: true},    // and approved
			{Key: "lost", Acked: true},                 // acknowledged, no event
			{Key: "unacked", Acked: false},             // refused, not stored: fine
			{Key: "unacked-stored", Acked: false},      // refused, stored anyway: fine
			{Key: "dup", Acked: true},                  // two events for one request
			{Key: "stale", Acked: true},                // pending stored…
			{Key: "stale", Approve: true, Acked: true}, // …its approval acknowledged but not applied
		},
		Events: []calEvent{
			{Calendar: "c", ID: "e1", RequestKey: "ok", Approved: true},
			{Calendar: "c", ID: "e2", RequestKey: "unacked-stored"},
			{Calendar: "c", ID: "e3", RequestKey: "dup"},
			{Calendar: "c", ID: "e4", RequestKey: "dup"},
			{Calendar: "c", ID: "e5", RequestKey: "stale"},
			{Calendar: "c", ID: "m1", Approved: true},
			{Calendar: "c", ID: "m2", Approved: true},
			{Calendar: "c", ID: "m3", Approved: true},
			{Calendar: "c", ID: "m4"},
			{Calendar: "c", ID: "m5", Approved: true},
		},
		Manual: []manualRecord{
			{Calendar: "c", ID: "m1", Form: form(1)}, // one form: fine
			{Calendar: "c", ID: "m2", Form: form(2)}, // two forms, a kill right after the first: crash window
			{Calendar: "c", ID: "m3", Form: form(3)}, // two forms, both after the kill: duplicated
			{Calendar: "c", ID: "m4", Form: form(4)}, // not approved, form out
			{Calendar: "c", ID: "m5", Form: form(5)}, // approved without a form
		},
		Forms: map[formKey][]time.Time{
			form(1):                            {t0},
			form(2):                            {t0, t0.Add(5 * time.Second)},
			form(3):                            {t0.Add(2 * time.Second), t0.Add(20 * time.Second)},
			form(4):                            {t0},
			{User: "nobody", From: "", To: ""}: {t0},
		},
		Kills:       []time.Time{t0.Add(100 * time.Millisecond)},
		CrashWindow: time.Second,
	}
	got := computeLedger(in)
	want := Ledger{
		RequestsSent: 8, RequestsAcked: 6,
		ReservationsSent: 6, ReservationsAcked: 4, Found: 4, Lost: 1, Duplicated: 1,
		ApprovalsAcked: 2, ApprovalsLost: 1,
		ManualAdded: 5, ManualSeen: 5, ManualApproved: 4, ManualUnapproved: 1,
		FormsDelivered: 4, FormsMissing: 1, FormsDuplicated: 1, FormsCrashWindow: 1, FormsStray: 1,
	}
	if got != want {
		t.Errorf("ledger:\n got %+v\nwant %+v", got, want)
	}
	if got.OK() {
		t.Error("OK() is true for a ledger with losses and duplicates")
	}
}

// TestLedgerClean: a run where everything went right is OK, and a repeat
// in the crash window alone does not fail it.
func TestLedgerClean(t *testing.T) {
	t0 := time.Now()
	f := formKey{"u@x", "2026-03-10", "2026-03-10"}
	l := computeLedger(ledgerInput{
		Requests: []reqRecord{{Key: "a", Acked: true}, {Key: "a", Approve: true, Acked: true}, {Key: "b"}},
		Events:   []calEvent{{Calendar: "c", ID: "a", RequestKey: "a", Approved: true}, {Calendar: "c", ID: "m", Approved: true}},
		Manual:   []manualRecord{{Calendar: "c", ID: "m", Form: f}},
		Forms:    map[formKey][]time.Time{f: {t0, t0.Add(time.Second)}},
		Kills:    []time.Time{t0.Add(10 * time.Millisecond)}, CrashWindow: 50 * time.Millisecond,
	})
	if !l.OK() || l.FormsCrashWindow != 1 || l.Lost != 0 || l.ReservationsSent != 2 {
		t.Errorf("ledger %+v: want OK with one repeat in the crash window", l)
	}
	// The same repeat with the kill too long after the first delivery is a duplicate.
	l = computeLedger(ledgerInput{
		Manual: []manualRecord{{Calendar: "c", ID: "m", Form: f}},
		Events: []calEvent{{Calendar: "c", ID: "m", Approved: true}},
		Forms:  map[formKey][]time.Time{f: {t0, t0.Add(time.Second)}},
		Kills:  []time.Time{t0.Add(500 * time.Millisecond)}, CrashWindow: 50 * time.Millisecond,
	})
	if l.OK() || l.FormsDuplicated != 1 {
		t.Errorf("ledger %+v: want one duplicated form", l)
	}
}

func TestCheckTarget(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"http://127.0.0.1:8080", "http://[::1]:8080/", "http://localhost:9000"} {
		if err := checkTarget(ctx, u); err != nil {
			t.Errorf("checkTarget(%q) = %v, want nil", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1:8080", "http://192.0.2.1", "ftp://127.0.0.1", "127.0.0.1:8080", "http://0.0.0.0:8080"} {
		if err := checkTarget(ctx, u); err == nil {
			t.Errorf("checkTarget(%q) = nil, want a refusal", u)
		}
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond} {
		if got := percentile(d, p); got != want {
			t.Errorf("percentile(%v) = %v, want %v", p, got, want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

// TestSoakReduced runs the soak end to end in a few seconds: moffman
// built and killed, googlefake failing calls, Byroapi down; the ledger
// must come out clean.
func TestSoakReduced(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs moffman")
	}
	// moffman refuses unknown MOFFMAN_ variables: the child must not
	// inherit the environment go test runs with.
	t.Setenv("MOFFMAN_NOT_A_SETTING", "1")
	dir := t.TempDir()
	e := &env{opt: options{quick: true}, dir: dir, progress: io.Discard}
	if testing.Verbose() {
		e.progress = os.Stderr
	}
	r := &Report{Scenario: "soak", Mode: "test"}
	p := soakParams{Duration: 4 * time.Second, Rate: 40, InFlight: 16, Manual: 8, Offices: 3, Drain: 45 * time.Second, FaultShare: 0.1}
	if err := soak(context.Background(), e, r, p); err != nil {
		t.Fatal(err)
	}
	if r.Ledger == nil {
		t.Fatal("no ledger")
	}
	l := *r.Ledger
	if !l.OK() || r.Failed() {
		r.print(os.Stderr)
		t.Fatalf("soak ledger not clean: %+v", l)
	}
	if l.RequestsSent < 100 || l.ReservationsAcked == 0 || l.ManualAdded != p.Manual || l.FormsDelivered != p.Manual {
		t.Errorf("soak did less than planned: %+v", l)
	}
	c := r.Capacity
	if c == nil || !c.OK() || c.RaceRounds != 9 || c.Refused == 0 || c.ManualAdded != waitDays*waitPerDay ||
		c.PromotedExpected != waitDays*waitCancelled || c.StillWaitlisted != waitDays*(waitPerDay-waitCancelled) {
		r.print(os.Stderr)
		t.Errorf("capacity part did less than planned or went wrong: %+v", c)
	}
}

func TestHolderPID(t *testing.T) {
	for holder, want := range map[string]string{"my-host-4242-0a1b2c3d": "4242", "vm-26605-16a8b11d": "26605", "nodash": ""} {
		if got := holderPID(holder); got != want {
			t.Errorf("holderPID(%q) = %q, want %q", holder, got, want)
		}
	}
}

// TestCapacityLedger feeds the capacity ledger crafted outcomes and checks
// that each is counted where it belongs, and that a clean run is OK.
func TestCapacityLedger(t *testing.T) {
	three := 3
	full := func(day string, approved int) []moffman.FullDay {
		return []moffman.FullDay{{Date: day, Capacity: &three, Approved: approved}}
	}
	ev := func(id, day string, desk, approved bool) capEvent {
		d, _ := time.Parse(moffman.DateLayout, day)
		return capEvent{ID: id, Start: day, End: d.AddDate(0, 0, 1).Format(moffman.DateLayout), Desk: desk, Approved: approved}
	}
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	form := func(u string) formKey { return formKey{User: u, From: "2026-03-10", To: "2026-03-10"} }
	// A clean round: 4 people for 3 desks, one winner cancels, the
	// refused one gets the freed desk.
	clean := raceRound{Day: "2026-03-20", People: 4,
		First: []approvalRecord{{ID: "a", Status: 200}, {ID: "b", Status: 200}, {ID: "c", Status: 200},
			{ID: "d", Status: 409, FullDays: full("2026-03-20", 3)}},
		Cancelled: "a", Again: []approvalRecord{{ID: "d", Status: 200}}}
	cleanEvents := []capEvent{ev("a", "2026-03-20", true, true), ev("b", "2026-03-20", true, true),
		ev("c", "2026-03-20", true, true), ev("d", "2026-03-20", true, true)}
	cleanEvents[0].Cancelled = true
	wait := waitDay{Day: "2026-03-10", Filled: 3, Cancelled: 2, Manual: []manualRecord{
		{ID: "m1", Form: form("u1")}, {ID: "m2", Form: form("u2")}, {ID: "m3", Form: form("u3")}}}
	waitEvents := []capEvent{ev("m1", "2026-03-10", true, true), ev("m2", "2026-03-10", true, true),
		ev("m3", "2026-03-10", false, false), ev("f1", "2026-03-10", true, true)}
	in := capInput{Capacity: 3, Events: append(slices.Clone(cleanEvents), waitEvents...), Rounds: []raceRound{clean},
		Days: []waitDay{wait}, Forms: map[formKey][]time.Time{form("u1"): {t0}, form("u2"): {t0}}, AtKill: 2}
	l := computeCapLedger(in)
	want := CapacityLedger{Capacity: 3, DaysHeld: 2, MostTaken: 3, RaceRounds: 1, Approvals: 5, Accepted: 4, Refused: 1,
		ManualAdded: 3, WaitlistedAtKill: 2, Promoted: 2, PromotedExpected: 2, StillWaitlisted: 1}
	if l != want || !l.OK() {
		t.Fatalf("clean run:\n got %+v\nwant %+v", l, want)
	}

	// Everything wrong at once: a fourth desk taken, a 409 naming another
	// day, a 200 whose event has no desk, the freed desk to nobody, the
	// younger event approved ahead of the older, a form for the waiting
	// one, a promoted one with two forms.
	bad := raceRound{Day: "2026-03-21", People: 4,
		First: []approvalRecord{{ID: "p", Status: 200}, {ID: "q", Status: 200}, {ID: "r", Status: 409, FullDays: full("2026-03-22", 3)},
			{ID: "s", Status: 409, FullDays: full("2026-03-21", 3)}, {ID: "x", Status: 503}},
		Cancelled: "p", Again: []approvalRecord{{ID: "r", Status: 409, FullDays: full("2026-03-21", 2)}, {ID: "s", Status: 409, FullDays: full("2026-03-21", 3)}}}
	badEvents := []capEvent{ev("p", "2026-03-21", false, false), ev("q", "2026-03-21", false, false),
		ev("s", "2026-03-21", true, true)}
	badEvents[0].Cancelled = true
	badWait := waitDay{Day: "2026-03-11", Filled: 3, Cancelled: 1, Manual: []manualRecord{
		{ID: "n1", Form: form("v1")}, {ID: "n2", Form: form("v2")}}}
	over := []capEvent{ev("n2", "2026-03-11", true, true), ev("g1", "2026-03-11", true, true),
		ev("g2", "2026-03-11", true, true), ev("g3", "2026-03-11", true, true), ev("n1", "2026-03-11", false, false)}
	in = capInput{Capacity: 3, Events: append(badEvents, over...), Rounds: []raceRound{bad}, Days: []waitDay{badWait},
		Forms: map[formKey][]time.Time{form("v1"): {t0}, form("v2"): {t0, t0.Add(time.Minute)}}}
	l = computeCapLedger(in)
	want = CapacityLedger{Capacity: 3, DaysHeld: 2, MostTaken: 4, DaysOver: 1, RaceRounds: 1, Approvals: 7, Accepted: 2, Refused: 4,
		Unanswered: 1, RefusedWrongly: 2, RaceDaysWrong: 1, AcceptedLost: 1, RefusedHeld: 1, FreedWrong: 1,
		ManualAdded: 2, Promoted: 1, PromotedExpected: 1, StillWaitlisted: 1, OutOfOrder: 1, FormsDuplicated: 1, FormsWaitlisted: 1}
	if l != want {
		t.Errorf("bad run:\n got %+v\nwant %+v", l, want)
	}
	if l.OK() {
		t.Error("OK() is true for a capacity ledger with every kind of fault")
	}
}
