package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/sqlite"
)

// seedStore writes n reservations straight into a new embedded store at
// path (no server yet): a year of them over the offices, 70% approved.
func seedStore(ctx context.Context, path string, offices []office, n int) error {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, o := range offices {
		if err := st.Subscribe(ctx, o.ID); err != nil {
			return err
		}
	}
	gen := newGenerator(offices, 2000, 365, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for i := range n {
		res := gen.make(i)
		ev := moffman.Event{ID: res.ID, Summary: res.Name, Start: res.Start, End: res.End, ColorID: "5",
			Private: map[string]string{moffman.PropProcessed: "true", moffman.PropRequestDT: res.RequestDT, moffman.PropUserEmail: res.Email}}
		if i%10 >= 7 {
			ev.Summary, ev.ColorID, ev.Private[moffman.PropProcessed] = moffman.PendingSummary(res.Name), "4", "false"
		}
		if _, err := st.Insert(ctx, res.Office.ID, ev); err != nil {
			return fmt.Errorf("seeding event %d: %w", i, err)
		}
	}
	return nil
}

// window picks a query window of one kind in 2026.
func window(rng *rand.Rand, kind string) (from, to time.Time) {
	switch kind {
	case "week":
		from = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 7*rng.IntN(50))
		return from, from.AddDate(0, 0, 7)
	default: // month
		from = time.Date(2026, time.Month(1+rng.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
		return from, from.AddDate(0, 1, 0)
	}
}

// windowQuery returns the operation that GETs path (reservations or
// attendance) of a random office over a random window of kind (week or
// month), each of the clients with its own random sequence.
func windowQuery(client *http.Client, base string, offices []office, clients int, path, kind string) op {
	rngs := make([]*rand.Rand, clients)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewPCG(uint64(i), 7))
	}
	return func(ctx context.Context, w int) (int, error) {
		rng := rngs[w]
		from, to := window(rng, kind)
		o := offices[rng.IntN(len(offices))]
		u := fmt.Sprintf("%s/api/v1/offices/%s/%s?from=%s&to=%s", base, url.PathEscape(o.Name), path,
			from.Format(moffman.DateLayout), to.Format(moffman.DateLayout))
		return discard(ctx, client, http.MethodGet, u, nil)
	}
}

// answerSizes records how big the answers are: one of each window kind
// for office o, decoded.
func answerSizes(ctx context.Context, r *Report, client *http.Client, base string, o office) error {
	for _, kind := range []string{"week", "month"} {
		from, to := window(rand.New(rand.NewPCG(3, 3)), kind)
		u := fmt.Sprintf("%s/api/v1/offices/%s/reservations?from=%s&to=%s", base, url.PathEscape(o.Name),
			from.Format(moffman.DateLayout), to.Format(moffman.DateLayout))
		status, body, err := do(ctx, client, http.MethodGet, u, nil)
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("GET %s: status %d, %v: %s", u, status, err, body)
		}
		var got struct {
			Reservations []json.RawMessage `json:"reservations"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			return fmt.Errorf("GET %s: %w", u, err)
		}
		r.fact(fmt.Sprintf("one %s window: reservations in the answer", kind), float64(len(got.Reservations)), fmt.Sprintf("(%d KB)", len(body)>>10))
	}
	return nil
}

// readScenario measures list queries (and the attendance route, when the
// server has it) over a store of 100,000 events.
// seededServer starts moffman on a store seeded directly with events
// spread over offices, and reports the seeding time and the idle RSS.
func (e *env) seededServer(ctx context.Context, r *Report, scenario string, offices []office, events int) (*server, error) {
	dir, err := e.scenarioDir(scenario)
	if err != nil {
		return nil, err
	}
	e.logf("seeding %d events into the store", events)
	t := time.Now()
	if err := seedStore(ctx, filepath.Join(dir, "moffman.db"), offices, events); err != nil {
		return nil, err
	}
	r.fact("seeding the store directly (sqlite.Open + Insert)", time.Since(t).Seconds(), "s")
	srv, err := e.launch(ctx, serviceConfig{Dir: dir, Offices: offices})
	if err != nil {
		return nil, err
	}
	time.Sleep(300 * time.Millisecond)
	r.fact("server RSS idle (after start)", mb(srv.mem.RSS()), "MB")
	return srv, nil
}

func readScenario(ctx context.Context, e *env, r *Report) error {
	dur, clients := e.pick(1500*time.Millisecond, 10*time.Second), e.clients()
	events := 100_000
	if e.opt.quick {
		events = 20_000
	}
	client := newHTTPClient(clients)
	defer client.CloseIdleConnections()
	offices := benchOffices(10, "bench.local")
	var srv *server
	base := e.opt.target
	if base == "" {
		r.Settings = fmt.Sprintf("%s per query, %d clients, %d events in 10 offices over 2026", dur, clients, events)
		var err error
		if srv, err = e.seededServer(ctx, r, "read", offices, events); err != nil {
			return err
		}
		defer func() { srv.kill() }()
		base = srv.base
	} else {
		r.Settings = fmt.Sprintf("%s per query, %d clients, against %s (its own data)", dur, clients, base)
		var err error
		if offices, err = discoverOffices(ctx, base, client); err != nil {
			return err
		}
	}

	query := func(path, kind string) op { return windowQuery(client, base, offices, clients, path, kind) }
	if err := answerSizes(ctx, r, client, base, offices[0]); err != nil {
		return err
	}
	for _, kind := range []string{"week", "month"} {
		e.logf("GET reservations, a %s: %s", kind, dur)
		r.Loads = append(r.Loads, closedLoop(ctx, "GET …/reservations?from&to, a "+kind, clients, dur, 0, query("reservations", kind)))
	}

	// The attendance route is being added; measure it when it is there.
	from, to := window(rand.New(rand.NewPCG(3, 3)), "week")
	probe := fmt.Sprintf("%s/api/v1/offices/%s/attendance?from=%s&to=%s", base, url.PathEscape(offices[0].Name),
		from.Format(moffman.DateLayout), to.Format(moffman.DateLayout))
	status, body, err := do(ctx, client, http.MethodGet, probe, nil)
	switch {
	case err != nil:
		return fmt.Errorf("GET %s: %w", probe, err)
	case status == http.StatusNotFound && strings.Contains(string(body), "no such endpoint"):
		r.note("GET /api/v1/offices/{id}/attendance is not in this build of moffman: not measured")
	case status != http.StatusOK:
		r.note("GET /api/v1/offices/{id}/attendance?from&to answered %d (%s): not measured", status, strings.TrimSpace(string(body)))
	default:
		for _, kind := range []string{"week", "month"} {
			e.logf("GET attendance, a %s: %s", kind, dur)
			r.Loads = append(r.Loads, closedLoop(ctx, "GET …/attendance?from&to, a "+kind, clients, dur, 0, query("attendance", kind)))
		}
	}
	if srv != nil {
		peak := srv.mem.Peak()
		r.fact("server RSS peak (VmHWM)", mb(peak), "MB")
		r.check("server RSS under load", fmt.Sprintf("≤ %d MB", targetPeakRSSMB), fmt.Sprintf("%.1f MB", mb(peak)), mb(peak) <= targetPeakRSSMB, false)
	}
	errorsCheck(r)
	return nil
}
