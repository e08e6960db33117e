package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// op sends one request. It returns the HTTP status (0 when there was no
// answer) and an error for a failure without an answer. 2xx is success.
type op func(ctx context.Context, worker int) (status int, err error)

// LoadStats summarises one measured run of requests.
type LoadStats struct {
	Name     string         `json:"name"`
	Clients  int            `json:"clients"`
	Requests int            `json:"requests"`
	OK       int            `json:"ok"`
	Errors   int            `json:"errors"`
	Statuses map[string]int `json:"statuses,omitempty"` // every outcome but 2xx, e.g. "503", "connection refused"
	Seconds  float64        `json:"seconds"`
	RPS      float64        `json:"requests_per_second"`
	P50ms    float64        `json:"p50_ms"`
	P95ms    float64        `json:"p95_ms"`
	P99ms    float64        `json:"p99_ms"`
	P999ms   float64        `json:"p999_ms"`
	MaxMs    float64        `json:"max_ms"`
	// Rate is the intended rate of an open-loop run (0: closed loop).
	Rate float64 `json:"intended_rate,omitempty"`
	// ServerCPUus is the server's CPU time per request in µs (0: not
	// measured): steadier than req/s on a machine that other load shares.
	ServerCPUus float64 `json:"server_cpu_us_per_request,omitempty"`
	// Median: the figures are per-figure medians of repeated runs.
	Median bool `json:"median,omitempty"`
	// Late counts fixed-rate requests sent more than 100 ms after their
	// schedule (the load generator could not keep up).
	Late int `json:"late,omitempty"`
}

// recorder collects one worker's latencies and outcomes; workers merge
// theirs at the end, so nothing is shared on the hot path.
type recorder struct {
	lat      []time.Duration
	ok       int
	statuses map[string]int
	late     int
}

func (r *recorder) record(d time.Duration, status int, err error) {
	r.lat = append(r.lat, d)
	if err == nil && status >= 200 && status < 300 {
		r.ok++
		return
	}
	if r.statuses == nil {
		r.statuses = map[string]int{}
	}
	r.statuses[outcome(status, err)]++
}

// outcome names a failed request for the statuses table.
func outcome(status int, err error) string {
	switch {
	case err == nil:
		return strconv.Itoa(status)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection reset"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "transport error"
}

// summarise merges the workers' records into LoadStats.
func summarise(name string, clients int, elapsed time.Duration, recs []*recorder) *LoadStats {
	s := &LoadStats{Name: name, Clients: clients, Seconds: elapsed.Seconds()}
	var lat []time.Duration
	for _, r := range recs {
		lat = append(lat, r.lat...)
		s.OK += r.ok
		s.Late += r.late
		for k, v := range r.statuses {
			if s.Statuses == nil {
				s.Statuses = map[string]int{}
			}
			s.Statuses[k] += v
		}
	}
	s.Requests = len(lat)
	s.Errors = s.Requests - s.OK
	if elapsed > 0 {
		s.RPS = float64(s.Requests) / elapsed.Seconds()
	}
	slices.Sort(lat)
	s.P50ms, s.P95ms, s.P99ms = ms(percentile(lat, 50)), ms(percentile(lat, 95)), ms(percentile(lat, 99))
	s.P999ms = ms(percentile(lat, 99.9))
	if len(lat) > 0 {
		s.MaxMs = ms(lat[len(lat)-1])
	}
	return s
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// closedLoop runs clients workers, each sending its next request as soon as
// the previous one is answered, until dur has passed, limit requests were
// sent (0: no limit), fn reports that it has nothing left to send
// (errExhausted) or ctx ends. Requests under way when dur ends are waited
// for and counted, so that what the server did matches what was recorded.
func closedLoop(ctx context.Context, name string, clients int, dur time.Duration, limit int, fn op) *LoadStats {
	var sent atomic.Int64
	recs := make([]*recorder, clients)
	start := time.Now()
	end := start.Add(dur)
	var wg sync.WaitGroup
	for w := range clients {
		rec := &recorder{lat: make([]time.Duration, 0, 1024)}
		recs[w] = rec
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(end) {
				if limit > 0 && sent.Add(1) > int64(limit) {
					return
				}
				t := time.Now()
				status, err := fn(ctx, w)
				if errors.Is(err, errExhausted) {
					return
				}
				rec.record(time.Since(t), status, err)
			}
		})
	}
	wg.Wait()
	return summarise(name, clients, time.Since(start), recs)
}

// errExhausted tells the load driver that a worker has nothing left to send.
var errExhausted = errors.New("nothing left to send")

// fixedRate sends rate requests a second for dur, from at most inFlight
// workers: request k is due at start + k/rate. Latency is measured from the
// actual send; requests that could only be sent more than 100 ms after
// their schedule are counted as late. Requests already sent when dur ends
// are waited for.
func fixedRate(ctx context.Context, name string, rate float64, inFlight int, dur time.Duration, fn op) *LoadStats {
	return scheduled(ctx, name, rate, inFlight, dur, fn, false)
}

// scheduled runs the schedule of fixedRate and openLoop; fromDue measures
// each latency from the request's intended send time instead of the send.
func scheduled(ctx context.Context, name string, rate float64, workers int, dur time.Duration, fn op, fromDue bool) *LoadStats {
	interval := max(time.Duration(float64(time.Second)/rate), time.Nanosecond)
	total := int64(dur / interval)
	var next atomic.Int64
	recs := make([]*recorder, workers)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		rec := &recorder{lat: make([]time.Duration, 0, int(total)/workers+1)}
		recs[w] = rec
		wg.Go(func() {
			for {
				k := next.Add(1) - 1
				if k >= total {
					return
				}
				due := start.Add(time.Duration(k) * interval)
				if wait := time.Until(due); wait > 0 {
					select {
					case <-time.After(wait):
					case <-ctx.Done():
						return
					}
				} else if -wait > 100*time.Millisecond {
					rec.late++
				}
				if ctx.Err() != nil {
					return
				}
				from := time.Now()
				if fromDue {
					from = due
				}
				status, err := fn(context.WithoutCancel(ctx), w)
				rec.record(time.Since(from), status, err)
			}
		})
	}
	wg.Wait()
	return summarise(name, workers, time.Since(start), recs)
}

// bearerToken, when set (--token), goes with every request to moffman.
var bearerToken string

// newHTTPClient is the load generator's client: keep-alive connections,
// enough of them for every worker, a timeout on every request.
func newHTTPClient(clients int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * clients
	tr.MaxIdleConnsPerHost = 2 * clients
	tr.DisableCompression = true
	var rt http.RoundTripper = tr
	if bearerToken != "" {
		rt = withToken{tr, "Bearer " + bearerToken}
	}
	return &http.Client{Transport: rt, Timeout: 30 * time.Second}
}

// withToken adds the Authorization header to every request.
type withToken struct {
	next http.RoundTripper
	auth string
}

func (t withToken) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", t.auth)
	return t.next.RoundTrip(r)
}

// do sends a request and reads the whole answer. body is nil for GET.
func do(ctx context.Context, c *http.Client, method, url string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reading the answer: %w", err)
	}
	return resp.StatusCode, b, nil
}

// discard sends a request and throws the answer away (the hot path of the
// load: no copy of big list answers).
func discard(ctx context.Context, c *http.Client, method, url string, body []byte) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return resp.StatusCode, fmt.Errorf("reading the answer: %w", err)
	}
	return resp.StatusCode, nil
}
