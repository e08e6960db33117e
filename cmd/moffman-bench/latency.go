package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// openLoop sends rate requests a second for dur from clients workers:
// request k is due at start + k/rate, whether or not the earlier ones were
// answered. Its latency runs from that intended send time, not from the
// moment a worker got to send it, so a stall of the server counts for
// every request that should have gone out during it (no coordinated
// omission): with all workers waiting on a stalled server, the requests
// falling due meanwhile are sent late and their lateness is part of their
// latency. Requests under way when dur ends are waited for.
func openLoop(ctx context.Context, name string, rate float64, clients int, dur time.Duration, fn op) *LoadStats {
	s := scheduled(ctx, name, rate, clients, dur, fn, true)
	s.Rate = rate
	return s
}

// wrkScript is the wrk script that POSTs distinct reservations; the bench
// writes it next to the stores for wrk, and users run the file itself.
//
//go:embed wrk-ingest.lua
var wrkScript []byte

// wrkLoad runs wrk (-t2 -c<clients> -d<dur>) with wrk-ingest.lua against
// base and reads the figures its done() prints. wrk is a measuring tool
// from Debian (apt-get install wrk), needed only for --wrk.
func wrkLoad(ctx context.Context, name, dir, base string, clients int, dur time.Duration, offices []office, salt string) (*LoadStats, error) {
	bin, err := exec.LookPath("wrk")
	if err != nil {
		return nil, errors.New("--wrk needs wrk on PATH (Debian: apt-get install wrk)")
	}
	script := filepath.Join(dir, "wrk-ingest.lua")
	if err := os.WriteFile(script, wrkScript, 0o644); err != nil {
		return nil, err
	}
	names := make([]string, len(offices))
	for i, o := range offices {
		names[i] = o.Name
	}
	threads := min(2, clients)
	cmd := exec.CommandContext(ctx, bin, "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(clients),
		"-d"+strconv.Itoa(max(1, int(dur.Seconds())))+"s", "--timeout", "30s", "-s", script, base, "--", strings.Join(names, ","), salt)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	return parseWrk(name, clients, out)
}

// parseWrk reads the "wrk-json:" line of wrk-ingest.lua's done().
func parseWrk(name string, clients int, out []byte) (*LoadStats, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "wrk-json: ")
		if !ok {
			continue
		}
		var w struct {
			Requests     int64 `json:"requests"`
			DurationUs   int64 `json:"duration_us"`
			Non2xx       int64 `json:"non_2xx"`
			SocketErrors int64 `json:"socket_errors"`
			P50          int64 `json:"p50_us"`
			P95          int64 `json:"p95_us"`
			P99          int64 `json:"p99_us"`
			P999         int64 `json:"p999_us"`
			Max          int64 `json:"max_us"`
		}
		if err := json.Unmarshal([]byte(line), &w); err != nil {
			return nil, fmt.Errorf("wrk's output %q: %w", line, err)
		}
		us := func(v int64) float64 { return float64(v) / 1000 }
		s := &LoadStats{Name: name, Clients: clients, Requests: int(w.Requests), Seconds: float64(w.DurationUs) / 1e6,
			P50ms: us(w.P50), P95ms: us(w.P95), P99ms: us(w.P99), P999ms: us(w.P999), MaxMs: us(w.Max)}
		s.Errors = int(w.Non2xx + w.SocketErrors)
		s.OK = s.Requests - int(w.Non2xx)
		if w.Non2xx > 0 || w.SocketErrors > 0 {
			s.Statuses = map[string]int{}
			if w.Non2xx > 0 {
				s.Statuses["non-2xx"] = int(w.Non2xx)
			}
			if w.SocketErrors > 0 {
				s.Statuses["socket error"] = int(w.SocketErrors)
			}
		}
		if s.Seconds > 0 {
			s.RPS = float64(s.Requests) / s.Seconds
		}
		return s, nil
	}
	return nil, fmt.Errorf("wrk printed no wrk-json line:\n%s", out)
}

// withCPU runs load and sets the server's CPU time per request, read with
// cpu before and after (ok false: not measured).
func withCPU(cpu func() (time.Duration, bool), load func() (*LoadStats, error)) (*LoadStats, error) {
	c0, ok0 := cpu()
	s, err := load()
	c1, ok1 := cpu()
	if err == nil && ok0 && ok1 && s.Requests > 0 {
		s.ServerCPUus = float64((c1 - c0).Microseconds()) / float64(s.Requests)
	}
	return s, err
}

// medianOf is the per-figure median of repeated runs of one load (each
// figure on its own: the median p99 need not come from the median run).
func medianOf(name string, runs []*LoadStats) *LoadStats {
	if len(runs) == 1 {
		return runs[0]
	}
	med := func(f func(*LoadStats) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	s := &LoadStats{Name: fmt.Sprintf("%s: median of %d", name, len(runs)), Clients: runs[0].Clients, Rate: runs[0].Rate,
		RPS: med(func(l *LoadStats) float64 { return l.RPS }), P50ms: med(func(l *LoadStats) float64 { return l.P50ms }),
		P95ms: med(func(l *LoadStats) float64 { return l.P95ms }), P99ms: med(func(l *LoadStats) float64 { return l.P99ms }),
		P999ms: med(func(l *LoadStats) float64 { return l.P999ms }), MaxMs: med(func(l *LoadStats) float64 { return l.MaxMs }),
		ServerCPUus: med(func(l *LoadStats) float64 { return l.ServerCPUus }), Median: true}
	for _, r := range runs {
		s.Requests += r.Requests
		s.OK += r.OK
		s.Errors += r.Errors
		s.Seconds += r.Seconds
		s.Late += r.Late
		for k, v := range r.Statuses {
			if s.Statuses == nil {
				s.Statuses = map[string]int{}
			}
			s.Statuses[k] += v
		}
	}
	return s
}
