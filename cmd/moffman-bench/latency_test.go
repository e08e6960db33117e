package main

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestOpenLoopCountsTheStall: with one client and a server that stalls on
// the first request, the requests that fell due during the stall are late,
// and the open loop counts that lateness in their latency (a closed loop
// would report only the first request as slow).
func TestOpenLoopCountsTheStall(t *testing.T) {
	t.Parallel()
	const stall = 50 * time.Millisecond
	var calls atomic.Int64
	fn := func(ctx context.Context, _ int) (int, error) {
		if calls.Add(1) == 1 {
			time.Sleep(stall)
		}
		return http.StatusOK, nil
	}
	s := openLoop(context.Background(), "t", 1000, 1, 100*time.Millisecond, fn)
	if s.Requests != 100 || s.OK != 100 {
		t.Fatalf("requests %d, ok %d; want 100 sent at 1000/s over 100 ms", s.Requests, s.OK)
	}
	// Request 0 took the stall; request 1 was due 1 ms later but could
	// only be sent after it, so it too is late by almost the whole stall:
	// at least 2 of the 100 (the p99) took 45 ms or more.
	if s.P99ms < 45 || s.MaxMs < 50 {
		t.Errorf("p99 %.1f ms, max %.1f ms: the stall of %v is not counted from the intended send times", s.P99ms, s.MaxMs, stall)
	}
	if s.Rate != 1000 {
		t.Errorf("intended rate %v, want 1000", s.Rate)
	}
}

func TestParseWrk(t *testing.T) {
	t.Parallel()
	out := []byte(`Running 10s test @ http://127.0.0.1:8080
  2 threads and 32 connections
  42711 requests in 10.08s, 20.36MB read
wrk-json: {"requests":42711,"duration_us":10080000,"non_2xx":11,"socket_errors":2,"p50_us":6340,"p95_us":40000,"p99_us":146900,"p999_us":200000,"max_us":263070}
Requests/sec:   4238.65
`)
	s, err := parseWrk("moffman", 32, out)
	if err != nil {
		t.Fatal(err)
	}
	if s.Requests != 42711 || s.OK != 42700 || s.Errors != 13 || s.Statuses["non-2xx"] != 11 || s.Statuses["socket error"] != 2 {
		t.Errorf("counts: %+v", s)
	}
	if s.P50ms != 6.34 || s.P99ms != 146.9 || s.P999ms != 200 || s.MaxMs != 263.07 || int(s.RPS) != 4237 {
		t.Errorf("figures: %+v", s)
	}
	if _, err := parseWrk("moffman", 32, []byte("unable to connect to 127.0.0.1:8080 Connection refused\n")); err == nil {
		t.Error("output without the wrk-json line: no error")
	}
}

func TestMedianOf(t *testing.T) {
	t.Parallel()
	runs := []*LoadStats{
		{RPS: 100, P99ms: 30, MaxMs: 90, Requests: 10},
		{RPS: 300, P99ms: 10, MaxMs: 50, Requests: 20},
		{RPS: 200, P99ms: 20, MaxMs: 70, Requests: 30},
	}
	m := medianOf("x", runs)
	if m.RPS != 200 || m.P99ms != 20 || m.MaxMs != 70 || m.Requests != 60 || !m.Median {
		t.Errorf("median of three: %+v", m)
	}
}
