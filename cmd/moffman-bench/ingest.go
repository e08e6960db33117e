package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/option"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/googlefake"
)

// Targets from issue 7.
const (
	targetIngestRPS   = 5000
	targetIngestP99ms = 20
	targetPeakRSSMB   = 100
	targetIdleRSSMB   = 30
	targetOverheadMs  = 0.5
)

// firstDay is the first day the generated reservations fall on.
var firstDay = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// ackRec is a reservation the server acknowledged with 200.
type ackRec struct {
	res      reservation
	approved bool // an approval of it was acknowledged too
}

// ingestWorker is one client's own state: no locking on the hot path.
type ingestWorker struct {
	acked   []ackRec
	pending []int // indices into acked of pending ones not yet approved
	n       int
}

// ingest drives POST /api/v1/reservations: new pending reservations, and
// every approveEvery-th request (0: never) the approval of one this
// client registered earlier.
type ingest struct {
	base         string
	bases        []string // several replicas: worker w sends to bases[w%len]; nil: base
	client       *http.Client
	gen          *generator
	workers      []*ingestWorker
	approveEvery int
}

func newIngest(base string, client *http.Client, gen *generator, clients, approveEvery int) *ingest {
	in := &ingest{base: base, client: client, gen: gen, approveEvery: approveEvery}
	for range clients {
		in.workers = append(in.workers, &ingestWorker{})
	}
	return in
}

func (in *ingest) op(ctx context.Context, w int) (int, error) {
	wk := in.workers[w]
	base := in.base
	if len(in.bases) > 0 {
		base = in.bases[w%len(in.bases)]
	}
	wk.n++
	if in.approveEvery > 0 && wk.n%in.approveEvery == 0 && len(wk.pending) > 0 {
		i := wk.pending[0]
		wk.pending = wk.pending[1:]
		status, err := discard(ctx, in.client, http.MethodPost, base+"/api/v1/reservations", wk.acked[i].res.body(true))
		if err == nil && status == http.StatusOK {
			wk.acked[i].approved = true
		}
		return status, err
	}
	r := in.gen.next()
	status, err := discard(ctx, in.client, http.MethodPost, base+"/api/v1/reservations", r.body(false))
	if err == nil && status == http.StatusOK {
		wk.acked = append(wk.acked, ackRec{res: r})
		wk.pending = append(wk.pending, len(wk.acked)-1)
	}
	return status, err
}

// approveOnly approves, one by one, the pending reservations acknowledged
// by an earlier ingest; errExhausted when none is left.
func (in *ingest) approveOnly(from *ingest) op {
	var mu sync.Mutex
	var queue []*ackRec
	for _, wk := range from.workers {
		for _, i := range wk.pending {
			queue = append(queue, &wk.acked[i])
		}
	}
	return func(ctx context.Context, w int) (int, error) {
		mu.Lock()
		if len(queue) == 0 {
			mu.Unlock()
			return 0, errExhausted
		}
		a := queue[0]
		queue = queue[1:]
		mu.Unlock()
		status, err := discard(ctx, in.client, http.MethodPost, in.base+"/api/v1/reservations", a.res.body(true))
		if err == nil && status == http.StatusOK {
			a.approved = true
			wk := in.workers[w]
			wk.acked = append(wk.acked, *a)
		}
		return status, err
	}
}

// approveMissing approves reservations that were never registered: the
// service must insert them approved.
func (in *ingest) approveMissing(ctx context.Context, w int) (int, error) {
	r := in.gen.next()
	status, err := discard(ctx, in.client, http.MethodPost, in.base+"/api/v1/reservations", r.body(true))
	if err == nil && status == http.StatusOK {
		wk := in.workers[w]
		wk.acked = append(wk.acked, ackRec{res: r, approved: true})
	}
	return status, err
}

// acked returns every acknowledged reservation.
func (in *ingest) acked() []ackRec {
	var out []ackRec
	for _, wk := range in.workers {
		out = append(out, wk.acked...)
	}
	return out
}

func (in *ingest) approvals() int {
	n := 0
	for _, wk := range in.workers {
		for _, a := range wk.acked {
			if a.approved {
				n++
			}
		}
	}
	return n
}

// verifyResult is what reading back acknowledged reservations found.
type verifyResult struct {
	Checked, Total, Missing, NotApproved, Unreadable int
}

// verifyAcked reads acknowledged reservations back through the API (all of
// them, or a random sample of at most sample when sample > 0): each must
// exist, and be approved when its approval was acknowledged.
func verifyAcked(ctx context.Context, base string, client *http.Client, acked []ackRec, sample int) verifyResult {
	res := verifyResult{Total: len(acked)}
	list := acked
	if sample > 0 && len(list) > sample {
		rng := rand.New(rand.NewPCG(1, 2))
		list = make([]ackRec, len(acked))
		copy(list, acked)
		rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
		list = list[:sample]
	}
	res.Checked = len(list)
	var missing, notApproved, unreadable atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(list) || ctx.Err() != nil {
					return
				}
				a := list[i]
				u := base + "/api/v1/offices/" + url.PathEscape(a.res.Office.Name) + "/reservations/" + a.res.ID
				var status int
				var body []byte
				var err error
				for attempt := 0; attempt < 3; attempt++ {
					if status, body, err = do(ctx, client, http.MethodGet, u, nil); err == nil && status < 500 {
						break
					}
				}
				switch {
				case err == nil && status == http.StatusNotFound:
					missing.Add(1)
				case err != nil || status != http.StatusOK:
					unreadable.Add(1)
				default:
					var got struct {
						Status string `json:"status"`
					}
					if json.Unmarshal(body, &got) != nil {
						unreadable.Add(1)
					} else if a.approved && got.Status != string(moffman.StateApproved) {
						notApproved.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	res.Missing, res.NotApproved, res.Unreadable = int(missing.Load()), int(notApproved.Load()), int(unreadable.Load())
	return res
}

// discoverOffices asks a running moffman for its offices (--target).
func discoverOffices(ctx context.Context, base string, client *http.Client) ([]office, error) {
	status, body, err := do(ctx, client, http.MethodGet, base+"/api/v1/offices", nil)
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("GET %s/api/v1/offices: status %d, %v", base, status, err)
	}
	var got struct {
		Offices []struct {
			OfficeID   string `json:"office_id"`
			CalendarID string `json:"calendar_id"`
		} `json:"offices"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		return nil, fmt.Errorf("GET %s/api/v1/offices: %w", base, err)
	}
	var out []office
	for _, o := range got.Offices {
		out = append(out, office{Name: o.OfficeID, ID: o.CalendarID})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no offices configured", base)
	}
	return out, nil
}

// Targets from issue 12, against the baseline measured in the same run.
const (
	targetRPSRatio      = 0.8 // moffman req/s ≥ 0.8 × the baseline's
	targetWrkP99Ratio   = 1.5 // under wrk: p99 ≤ 1.5 × the baseline's
	targetWrkMaxRatio   = 2   // under wrk: max ≤ 2 × the baseline's
	targetOpenLoopP99ms = 25  // open loop at 70% of moffman's rate
)

// reportIngest records moffman's ingest load against the baseline's.
func reportIngest(r *Report, load, base *LoadStats, acked, approvals int, wrk bool) {
	if load.ServerCPUus > 0 {
		r.fact("moffman's CPU per request", load.ServerCPUus, "µs")
	}
	if base.ServerCPUus > 0 {
		r.fact("the baseline's CPU per request (under wrk)", base.ServerCPUus, "µs")
	}
	r.fact("moffman req/s ÷ baseline req/s", load.RPS/max(base.RPS, 1), "×")
	r.fact("moffman p99 ÷ baseline p99", load.P99ms/max(base.P99ms, 0.001), "×")
	r.fact("moffman max ÷ baseline max", load.MaxMs/max(base.MaxMs, 0.001), "×")
	r.fact("acknowledged reservations", float64(acked), "(by the bench's own client)")
	r.fact("of which approvals acknowledged", float64(approvals), "")
	r.check("embedded ingest throughput", fmt.Sprintf("≥ %d req/s", targetIngestRPS), fmt.Sprintf("%.0f req/s", load.RPS), load.RPS >= targetIngestRPS, false)
	r.check("embedded ingest p99", fmt.Sprintf("≤ %d ms", targetIngestP99ms), fmt.Sprintf("%.2f ms", load.P99ms), load.P99ms <= targetIngestP99ms, false)
	ratio := func(name string, got, want float64, atLeast bool) {
		ok := got <= want
		target := fmt.Sprintf("≤ %.1f× the baseline", want)
		if atLeast {
			ok, target = got >= want, fmt.Sprintf("≥ %.1f× the baseline", want)
		}
		r.check(name, target, fmt.Sprintf("%.2f×", got), ok, false)
	}
	ratio("throughput against the baseline", load.RPS/max(base.RPS, 1), targetRPSRatio, true)
	if wrk {
		ratio("p99 under wrk against the baseline", load.P99ms/max(base.P99ms, 0.001), targetWrkP99Ratio, false)
		ratio("max latency under wrk against the baseline", load.MaxMs/max(base.MaxMs, 0.001), targetWrkMaxRatio, false)
	}
	r.check("errors under load", "0", fmt.Sprint(load.Errors), load.Errors == 0, false)
}

// ingestEmbedded measures POST /api/v1/reservations on the embedded store
// against the baseline, then kills the server, restarts it on the same
// store and reads every acknowledged reservation back.
func ingestEmbedded(ctx context.Context, e *env, r *Report) error {
	dur, clients := e.pick(3*time.Second, 20*time.Second), e.clients()
	const people, days, approveEvery = 2000, 250, 5
	load := "the bench's closed loop"
	if e.opt.wrk {
		load = "wrk -t2 (new pending reservations only)"
	}
	r.Settings = fmt.Sprintf("%s per run, %d clients, %s, 10 offices, %d people, %d days; every %dth request of the bench's client approves an earlier one",
		dur, clients, load, people, days, approveEvery)
	dir, err := e.scenarioDir("ingest-embedded")
	if err != nil {
		return err
	}
	client := newHTTPClient(clients)
	defer client.CloseIdleConnections()
	offices := benchOffices(10, "bench.local")
	gen := newGenerator(offices, people, days, firstDay)

	bl, err := startBaseline(ctx, dir)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	defer bl.Close()
	blIn := newIngest(bl.URL, client, gen, clients, approveEvery)

	var srv *server
	var idle float64
	target := e.opt.target
	if target == "" {
		var err error
		if srv, err = e.launch(ctx, serviceConfig{Dir: dir, Offices: offices}); err != nil {
			return err
		}
		defer func() { srv.kill() }()
		time.Sleep(500 * time.Millisecond)
		idle = mb(srv.mem.RSS())
		r.fact("server RSS idle (after start)", idle, "MB")
		target = srv.base
	} else {
		if offices, err = discoverOffices(ctx, target, client); err != nil {
			return err
		}
		gen = newGenerator(offices, people, days, firstDay)
		gen.n.Store(time.Now().Unix()) // do not collide with an earlier run against the same store
	}
	in := newIngest(target, client, gen, clients, approveEvery)

	// The runs alternate, baseline then moffman, so that both see the
	// same machine (it is shared and its speed drifts).
	const baseName, moffName = "baseline: net/http + 1 SQLite INSERT", "moffman (embedded store)"
	// The server's CPU per request: moffman's from /proc; the baseline's
	// is this process's, which is only the baseline while wrk loads it.
	noCPU := func() (time.Duration, bool) { return 0, false }
	moffCPU, baseCPU := noCPU, noCPU
	if srv != nil {
		moffCPU = func() (time.Duration, bool) { return processCPU(srv.cmd.Process.Pid) }
	}
	if e.opt.wrk {
		baseCPU = selfCPU
	}
	measure := func(name, url string, in *ingest, i int, cpu func() (time.Duration, bool)) (*LoadStats, error) {
		e.logf("%s: %s", name, dur)
		return withCPU(cpu, func() (*LoadStats, error) {
			if e.opt.wrk {
				return wrkLoad(ctx, name, dir, url, clients, dur, offices, fmt.Sprintf("r%d", i))
			}
			return closedLoop(ctx, name, clients, dur, 0, in.op), nil
		})
	}
	var baseRuns, moffRuns []*LoadStats
	for i := range e.opt.repeat {
		b, err := measure(baseName, bl.URL, blIn, i, baseCPU)
		if err != nil {
			return err
		}
		m, err := measure(moffName, target, in, i, moffCPU)
		if err != nil {
			return err
		}
		baseRuns, moffRuns = append(baseRuns, b), append(moffRuns, m)
	}
	base, moff := medianOf(baseName, baseRuns), medianOf(moffName, moffRuns)
	r.Loads = append(r.Loads, baseRuns...)
	r.Loads = append(r.Loads, moffRuns...)
	if e.opt.repeat > 1 {
		r.Loads = append(r.Loads, base, moff)
	}
	if e.opt.openLoop {
		openLoopRuns(ctx, e, r, bl.URL, blIn, target, in, moff.RPS, dur)
	}
	acked := in.acked()
	reportIngest(r, moff, base, len(acked), in.approvals(), e.opt.wrk)
	if srv == nil {
		r.note("--target: no durability check and no memory figures (the bench did not start the server)")
		return nil
	}
	peak := srv.mem.Peak()
	r.fact("server RSS peak (VmHWM)", mb(peak), "MB")
	r.check("server RSS idle", fmt.Sprintf("≤ %d MB", targetIdleRSSMB), fmt.Sprintf("%.1f MB", idle), idle <= targetIdleRSSMB, false)
	r.check("server RSS under load", fmt.Sprintf("≤ %d MB", targetPeakRSSMB), fmt.Sprintf("%.1f MB", mb(peak)), mb(peak) <= targetPeakRSSMB, false)

	e.logf("SIGKILL, restart on the same store, read back %d acknowledged reservations", len(acked))
	srv.kill()
	restarted, err := srv.restart(ctx)
	if err != nil {
		return fmt.Errorf("restart after SIGKILL: %w", err)
	}
	srv = restarted
	sample := 0
	if e.opt.quick {
		sample = 5000
	}
	v := verifyAcked(ctx, srv.base, client, acked, sample)
	r.fact("read back after SIGKILL + restart", float64(v.Checked), fmt.Sprintf("of %d acknowledged", v.Total))
	r.check("acknowledged but lost after SIGKILL", "0", fmt.Sprint(v.Missing), v.Missing == 0, true)
	r.check("acknowledged approvals lost after SIGKILL", "0", fmt.Sprint(v.NotApproved), v.NotApproved == 0, true)
	r.check("unreadable after restart", "0", fmt.Sprint(v.Unreadable), v.Unreadable == 0, true)
	return nil
}

// openLoopRuns sends the baseline and moffman the same fixed rate, in
// turn: --rate, or --rate-fraction of moffman's measured req/s.
func openLoopRuns(ctx context.Context, e *env, r *Report, baseURL string, blIn *ingest, target string, in *ingest, moffRPS float64, dur time.Duration) {
	rate := e.opt.rate
	what := fmt.Sprintf("%.0f req/s", rate)
	if rate == 0 {
		rate = e.opt.rateFraction * moffRPS
		what = fmt.Sprintf("%.0f req/s, %.0f%% of moffman's %.0f req/s", rate, 100*e.opt.rateFraction, moffRPS)
	}
	clients := e.clients()
	var baseRuns, moffRuns []*LoadStats
	for range e.opt.repeat {
		e.logf("open loop, baseline: %s at %s", dur, what)
		baseRuns = append(baseRuns, openLoop(ctx, "open loop: baseline at "+what, rate, clients, dur, blIn.op))
		e.logf("open loop, moffman: %s at %s", dur, what)
		moffRuns = append(moffRuns, openLoop(ctx, "open loop: moffman at "+what, rate, clients, dur, in.op))
	}
	base, moff := medianOf("open loop: baseline", baseRuns), medianOf("open loop: moffman", moffRuns)
	r.Loads = append(r.Loads, baseRuns...)
	r.Loads = append(r.Loads, moffRuns...)
	if e.opt.repeat > 1 {
		r.Loads = append(r.Loads, base, moff)
	}
	r.fact("open loop: baseline p99 (from intended send time)", base.P99ms, "ms")
	r.fact("open loop: moffman p99 (from intended send time)", moff.P99ms, "ms")
	name := fmt.Sprintf("open loop p99 at %.0f%% of moffman's rate", 100*e.opt.rateFraction)
	if e.opt.rate > 0 {
		name = "open loop p99 at " + what
	}
	r.check(name, fmt.Sprintf("≤ %d ms", targetOpenLoopP99ms), fmt.Sprintf("%.2f ms", moff.P99ms), moff.P99ms <= targetOpenLoopP99ms, false)
}

// callSnapshot is the fake's call counters at one moment.
type callSnapshot map[string]int

func snapshotCalls(f *googlefake.Server) callSnapshot {
	s := callSnapshot{}
	for _, m := range googlefake.Methods() {
		s[m] = f.Calls(m)
	}
	return s
}

// sub is the calls made between two snapshots.
func (s callSnapshot) sub(earlier callSnapshot) callSnapshot {
	d := callSnapshot{}
	for m, n := range s {
		d[m] = n - earlier[m]
	}
	return d
}

// startFake serves googlefake on loopback with the offices' calendars
// shared with the account, and writes its key file into dir.
func startFake(ctx context.Context, dir string, offices []office) (*googlefake.Server, string, error) {
	fake, err := googlefake.New()
	if err != nil {
		return nil, "", err
	}
	if _, err := fake.Listen(ctx, "127.0.0.1:0"); err != nil {
		return nil, "", err
	}
	for _, o := range offices {
		fake.AddCalendar(o.ID, true)
	}
	keyPath := filepath.Join(dir, "fake-key.json")
	return fake, keyPath, os.WriteFile(keyPath, fake.KeyJSON(), 0o600)
}

// directInsert returns the operation that inserts a pending reservation at
// the fake with the official client, without moffman.
func directInsert(ctx context.Context, fake *googlefake.Server, gen *generator) (op, error) {
	svc, err := calendar.NewService(ctx, option.WithAuthCredentialsJSON(option.ServiceAccount, fake.KeyJSON()),
		option.WithScopes(calendar.CalendarScope), option.WithEndpoint(fake.CalendarEndpoint()))
	if err != nil {
		return nil, fmt.Errorf("the direct Calendar client: %w", err)
	}
	return func(ctx context.Context, _ int) (int, error) {
		res := gen.next()
		_, err := svc.Events.Insert(res.Office.ID, &calendar.Event{
			Id: res.ID, Summary: moffman.PendingSummary(res.Name),
			Start: &calendar.EventDateTime{Date: res.Start}, End: &calendar.EventDateTime{Date: res.End}, ColorId: "4",
			ExtendedProperties: &calendar.EventExtendedProperties{Private: map[string]string{
				moffman.PropProcessed: "false", moffman.PropRequestDT: res.RequestDT, moffman.PropUserEmail: res.Email}},
		}).Context(ctx).Do()
		if err != nil {
			return 0, err
		}
		return http.StatusOK, nil
	}, nil
}

// checkCallsPerOp checks that ok operations made want calls each at the
// fake; calls are those it counted.
func checkCallsPerOp(r *Report, name string, calls callSnapshot, ok int, want map[string]int) {
	var wantText, gotText []string
	exact := ok > 0
	for _, m := range []string{googlefake.MethodEventsInsert, googlefake.MethodEventsPatch, googlefake.MethodEventsGet, googlefake.MethodEventsList} {
		short := strings.TrimPrefix(m, "calendar.events.")
		if want[m] > 0 {
			wantText = append(wantText, fmt.Sprintf("%d %s", want[m], short))
		}
		if calls[m] > 0 || want[m] > 0 {
			gotText = append(gotText, fmt.Sprintf("%.3f %s", float64(calls[m])/float64(max(ok, 1)), short))
		}
		exact = exact && calls[m] == want[m]*ok
	}
	r.check(name+": Google calls per operation", strings.Join(wantText, " + "),
		fmt.Sprintf("%s (%d ok)", strings.Join(gotText, " + "), ok), exact, false)
}

// checkOverhead checks the median latency moffman adds to a direct call of
// the fake with the given number of clients.
func checkOverhead(r *Report, clients int, direct, moff *LoadStats) {
	over := moff.P50ms - direct.P50ms
	if clients > 1 {
		r.fact(fmt.Sprintf("p50 direct, %d clients", clients), direct.P50ms, "ms")
		r.fact(fmt.Sprintf("p50 through moffman, %d clients", clients), moff.P50ms, "ms")
		r.check(fmt.Sprintf("p50 added by moffman, %d clients", clients), fmt.Sprintf("≤ %.1f ms", targetOverheadMs), fmt.Sprintf("%.2f ms", over), over <= targetOverheadMs, false)
		return
	}
	r.check("p50 added by moffman, 1 client", fmt.Sprintf("≤ %.1f ms", targetOverheadMs), fmt.Sprintf("%.2f ms", over), over <= targetOverheadMs, false)
}

// ingestGoogle measures reservations through googlefake: calls per
// operation at the fake, and the latency the service adds to a direct
// call of the fake with the official client.
func ingestGoogle(ctx context.Context, e *env, r *Report) error {
	dur, clients := e.pick(2*time.Second, 15*time.Second), e.clients()
	serial := min(dur, e.pick(time.Second, 5*time.Second))
	r.Settings = fmt.Sprintf("%s per phase (%s with 1 client), %d clients, 10 offices", dur, serial, clients)
	dir, err := e.scenarioDir("ingest-google")
	if err != nil {
		return err
	}
	fctx, stopFake := context.WithCancel(ctx)
	defer stopFake()
	offices := benchOffices(10, "group.calendar.google.com")
	fake, keyPath, err := startFake(fctx, dir, offices)
	if err != nil {
		return err
	}
	srv, err := e.launch(ctx, serviceConfig{Dir: dir, Offices: offices, KeyPath: keyPath, CalendarURL: fake.CalendarEndpoint()})
	if err != nil {
		return err
	}
	defer func() { srv.kill() }()
	time.Sleep(300 * time.Millisecond) // the first sync lists the (empty) calendars
	startup := snapshotCalls(fake)
	r.fact("server RSS idle (after start)", mb(srv.mem.RSS()), "MB")

	gen := newGenerator(offices, 2000, 250, firstDay)
	direct, err := directInsert(ctx, fake, gen)
	if err != nil {
		return err
	}
	client := newHTTPClient(clients)
	defer client.CloseIdleConnections()

	e.logf("direct client → googlefake: %s", dur)
	before := snapshotCalls(fake)
	directLoad := closedLoop(ctx, "direct: official client → googlefake, events.insert", clients, dur, 0, direct)
	directTokens := snapshotCalls(fake).sub(before)[googlefake.MethodToken]

	e.logf("moffman → googlefake, create: %s", dur)
	create := newIngest(srv.base, client, gen, clients, 0)
	before = snapshotCalls(fake)
	createLoad := closedLoop(ctx, "moffman create (pending)", clients, dur, 0, create.op)
	createCalls := snapshotCalls(fake).sub(before)

	e.logf("1 client, direct and through moffman: %s each", serial)
	directSerial := closedLoop(ctx, "direct, 1 client", 1, serial, 0, direct)
	before = snapshotCalls(fake)
	serialIn := newIngest(srv.base, client, gen, 1, 0)
	moffSerial := closedLoop(ctx, "moffman create, 1 client", 1, serial, 0, serialIn.op)
	serialCalls := snapshotCalls(fake).sub(before)

	e.logf("moffman approve existing: up to %s", dur)
	approve := newIngest(srv.base, client, gen, clients, 0)
	before = snapshotCalls(fake)
	approveLoad := closedLoop(ctx, "moffman approve existing", clients, dur, 0, approve.approveOnly(create))
	approveCalls := snapshotCalls(fake).sub(before)

	e.logf("moffman approve missing: %s", dur/2)
	missing := newIngest(srv.base, client, gen, clients, 0)
	before = snapshotCalls(fake)
	missingLoad := closedLoop(ctx, "moffman approve missing", clients, dur/2, 0, missing.approveMissing)
	missingCalls := snapshotCalls(fake).sub(before)

	r.Loads = append(r.Loads, directLoad, createLoad, directSerial, moffSerial, approveLoad, missingLoad)
	r.fact("server RSS peak (VmHWM)", mb(srv.mem.Peak()), "MB")
	createCalls = createCalls.add(serialCalls)
	createOK := createLoad.OK + moffSerial.OK
	checkCallsPerOp(r, "create", createCalls, createOK, map[string]int{googlefake.MethodEventsInsert: 1})
	checkCallsPerOp(r, "approve existing", approveCalls, approveLoad.OK, map[string]int{googlefake.MethodEventsPatch: 1})
	checkCallsPerOp(r, "approve missing", missingCalls, missingLoad.OK, map[string]int{googlefake.MethodEventsPatch: 1, googlefake.MethodEventsInsert: 1})
	total := snapshotCalls(fake)
	moffTokens := total[googlefake.MethodToken] - directTokens
	r.check("token calls by moffman (one token lifetime: 3599 s)", "≤ 1", fmt.Sprint(moffTokens), moffTokens <= 1, false)
	r.fact("calendarList.insert at start (one per office)", float64(startup[googlefake.MethodCalendarListInsert]), "calls")
	r.fact("events.list at start (first sync, one per office)", float64(startup[googlefake.MethodEventsList]), "calls")

	checkOverhead(r, clients, directLoad, createLoad)
	checkOverhead(r, 1, directSerial, moffSerial)
	errorsCheck(r)
	return nil
}

func (s callSnapshot) add(o callSnapshot) callSnapshot {
	out := callSnapshot{}
	for m, n := range s {
		out[m] = n + o[m]
	}
	return out
}
