// Command moffman-bench drives bounded load against moffman on loopback and
// reports throughput, latency, errors, the server's memory and, for the
// scenarios that kill the server or break its dependencies, a ledger of
// what was acknowledged and what ended up in the calendar.
//
//	moffman-bench <scenario> [--quick] [--duration D] [--clients N] [--json]
//	moffman-bench ingest-embedded [--wrk] [--open-loop [--rate-fraction F | --rate R]] [--repeat N]
//
// Scenarios: ingest-embedded, ingest-google, read, manual-sync, soak,
// ingest-postgres, soak-replicas, all.
// Run it from the repository: it builds ./cmd/moffman once and runs it as a
// child process with a generated configuration in a temporary directory.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

const usage = `moffman-bench drives bounded load against moffman on loopback.

Usage:
  moffman-bench <scenario> [--quick] [--duration D] [--clients N] [--json] [...]

Scenarios:
  ingest-embedded  POST /api/v1/reservations on the embedded store, against a
                   minimal net/http+SQLite baseline; then SIGKILL, restart and
                   check that every acknowledged reservation is there.
                   --wrk loads both with wrk instead of the built-in client;
                   --open-loop adds fixed-rate runs of both at --rate-fraction
                   (0.7) of moffman's rate, latency from the intended send
                   time (p50/p99/p99.9/max); --repeat N runs each N times in
                   turn and reports medians
  ingest-google    the same through googlefake: calls per operation at the
                   fake, and the overhead against the official client calling
                   the fake directly
  read             list queries (a week, a month) over a store of 100,000 events
  manual-sync      100 offices x 2,000 events, 1,000 of them new manual events:
                   time until all are approved with one form each, then a
                   quiet run
  soak             a fixed request rate with 10% of Google calls failing,
                   Byroapi down for a while and moffman killed and restarted;
                   ends with a ledger (exit status 1 if anything is lost or
                   duplicated)
  ingest-postgres  ingest-embedded's load on PostgreSQL (general.database_url),
                   with 1 and with 2 replicas sharing the database, the load
                   split between them; then every acknowledged reservation read back
  soak-replicas    the soak on 3 replicas on PostgreSQL: fixed rate spread over
                   the live replicas, Byroapi slow, the leader SIGKILLed
                   mid-run; a ledger (exit status 1 if anything is lost or
                   duplicated, or a form repeated)
  all              every scenario in turn

Options:
`

type options struct {
	quick    bool
	duration time.Duration
	clients  int
	rate     float64
	json     bool
	jsonOut  string
	target   string
	dbURL    string
	bin      string
	keep     bool

	// ingest-embedded only
	wrk          bool
	openLoop     bool
	rateFraction float64
	repeat       int
}

// env is what the scenarios of one invocation share.
type env struct {
	opt      options
	dir      string
	progress io.Writer

	binOnce sync.Once
	bin     string
	binErr  error
}

// moffmanBin builds moffman once per invocation (or uses --moffman-bin).
func (e *env) moffmanBin(ctx context.Context) (string, error) {
	e.binOnce.Do(func() {
		if e.opt.bin != "" {
			e.bin, e.binErr = filepath.Abs(e.opt.bin)
			return
		}
		e.logf("building ./cmd/moffman")
		e.bin, e.binErr = buildMoffman(ctx, e.dir)
	})
	return e.bin, e.binErr
}

// scenarioDir is a fresh directory for one scenario's files.
func (e *env) scenarioDir(name string) (string, error) {
	return os.MkdirTemp(e.dir, name+"-")
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.progress, "%s moffman-bench: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// pick returns the quick or the full value.
func (e *env) pick(quick, full time.Duration) time.Duration {
	if e.opt.duration > 0 {
		return e.opt.duration
	}
	if e.opt.quick {
		return quick
	}
	return full
}

func (e *env) clients() int {
	if e.opt.clients > 0 {
		return e.opt.clients
	}
	return 32
}

func (e *env) mode() string {
	if e.opt.quick {
		return "quick"
	}
	return "full"
}

type scenario struct {
	name string
	run  func(ctx context.Context, e *env, r *Report) error
	// target tells whether the scenario can run against --target.
	target bool
}

var scenarios = []scenario{
	{"ingest-embedded", ingestEmbedded, true},
	{"ingest-google", ingestGoogle, false},
	{"read", readScenario, true},
	{"read-paged", readPagedScenario, false},
	{"manual-sync", manualSyncScenario, false},
	{"soak", soakScenario, false},
	{"ingest-postgres", ingestPostgres, false},
	{"soak-replicas", soakReplicas, false},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit status: 0 when every
// scenario ran and found nothing lost or duplicated, 1 otherwise, 2 for a
// usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, todo, status := parseArgs(ctx, args, stderr)
	if todo == nil {
		return status
	}
	dir, err := os.MkdirTemp("", "moffman-bench-")
	if err != nil {
		fmt.Fprintln(stderr, "moffman-bench:", err)
		return 1
	}
	e := &env{opt: o, dir: dir, progress: stderr}
	if o.keep {
		e.logf("files are kept in %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	start := time.Now()
	reports, failed := runScenarios(ctx, e, todo, stdout)
	results, _ := json.MarshalIndent(map[string]any{"mode": e.mode(), "ok": !failed, "seconds": time.Since(start).Seconds(), "reports": reports}, "", "  ")
	results = append(results, '\n')
	if o.jsonOut != "" {
		if err := os.WriteFile(o.jsonOut, results, 0o644); err != nil {
			fmt.Fprintln(stderr, "moffman-bench:", err)
			failed = true
		}
	}
	if o.json {
		_, _ = stdout.Write(results)
	} else {
		fmt.Fprintf(stdout, "\n%d scenario(s) in %.1f s: %s\n", len(reports), time.Since(start).Seconds(), map[bool]string{false: "ok", true: "FAILED"}[failed])
	}
	if failed {
		return 1
	}
	return 0
}

// parseArgs reads the command line: the options and the scenarios to run.
// No scenarios means run ends with the status returned (0 for --help, 2
// for a usage error, said on stderr).
func parseArgs(ctx context.Context, args []string, stderr io.Writer) (options, []scenario, int) {
	fs := flag.NewFlagSet("moffman-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var o options
	fs.BoolVar(&o.quick, "quick", false, "short runs and smaller data (every scenario of all within about a minute)")
	fs.DurationVar(&o.duration, "duration", 0, "length of each measured run (default: per scenario and mode)")
	fs.IntVar(&o.clients, "clients", 0, "concurrent clients (default 32; soak: the most requests in flight)")
	fs.Float64Var(&o.rate, "rate", 0, "soak: requests per second (default 150 quick, 300 full); ingest-embedded --open-loop: the intended rate instead of --rate-fraction")
	fs.BoolVar(&o.wrk, "wrk", false, "ingest-embedded: load baseline and moffman with wrk -t2 -c<clients> -d<duration> and wrk-ingest.lua instead of the built-in closed loop (needs wrk on PATH)")
	fs.BoolVar(&o.openLoop, "open-loop", false, "ingest-embedded: then send a fixed rate to the baseline and to moffman, latency measured from each request's intended send time")
	fs.Float64Var(&o.rateFraction, "rate-fraction", 0.7, "ingest-embedded --open-loop: the rate as a fraction of moffman's req/s in the bench's closed loop just before")
	fs.IntVar(&o.repeat, "repeat", 1, "ingest-embedded: measure baseline and moffman this many times in turn and report the medians")
	fs.BoolVar(&o.json, "json", false, "print the results as JSON on standard output (progress stays on standard error)")
	fs.StringVar(&o.jsonOut, "json-out", "", "also write the JSON results to `FILE`")
	fs.StringVar(&o.target, "target", "", "`URL` of a running moffman on loopback to load instead of starting one (ingest-embedded and read only)")
	fs.StringVar(&bearerToken, "token", "", "with --target: an API `token` with the read and write scopes")
	fs.StringVar(&o.bin, "moffman-bin", "", "use this moffman `binary` instead of building ./cmd/moffman")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (stores, configurations, logs)")
	fs.StringVar(&o.dbURL, "database-url", defaultDatabaseURL, "ingest-postgres, soak-replicas: the PostgreSQL `server` to create a fresh database on (dropped after)")

	var name string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, nil, 0
		}
		return o, nil, 2
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "moffman-bench: unexpected argument %q\n", fs.Arg(0))
		return o, nil, 2
	}
	var todo []scenario
	for _, s := range scenarios {
		if name == "all" || s.name == name {
			todo = append(todo, s)
		}
	}
	if len(todo) == 0 {
		fmt.Fprintf(stderr, "moffman-bench: unknown scenario %q\n\n", name)
		fs.Usage()
		return o, nil, 2
	}
	if o.clients < 0 || o.duration < 0 || o.rate < 0 {
		fmt.Fprintln(stderr, "moffman-bench: --clients, --duration and --rate must not be negative")
		return o, nil, 2
	}
	if o.wrk && o.openLoop && o.rate == 0 {
		// wrk's client costs less CPU than the bench's: a fraction of
		// wrk's rate is not what the bench's client can send.
		fmt.Fprintln(stderr, "moffman-bench: --wrk with --open-loop needs --rate (--rate-fraction refers to the bench's own closed loop)")
		return o, nil, 2
	}
	if o.repeat < 1 || o.rateFraction <= 0 {
		fmt.Fprintln(stderr, "moffman-bench: --repeat must be at least 1 and --rate-fraction above 0")
		return o, nil, 2
	}
	if o.target != "" {
		if err := checkTarget(ctx, o.target); err != nil {
			fmt.Fprintln(stderr, "moffman-bench:", err)
			return o, nil, 2
		}
	}
	return o, todo, 0
}

// runScenarios runs each scenario in turn, printing its report unless
// the results go out as JSON; failed when any report failed.
func runScenarios(ctx context.Context, e *env, todo []scenario, stdout io.Writer) (reports []*Report, failed bool) {
	for _, s := range todo {
		r := &Report{Scenario: s.name, Mode: e.mode()}
		switch {
		case ctx.Err() != nil:
			r.Error = "interrupted"
		case e.opt.target != "" && !s.target:
			r.Error = "needs to start moffman and its fakes itself; it cannot run against --target"
		default:
			e.logf("scenario %s (%s)", s.name, e.mode())
			if err := s.run(ctx, e, r); err != nil {
				r.Error = err.Error()
			}
		}
		reports = append(reports, r)
		failed = failed || r.Failed()
		if !e.opt.json {
			r.print(stdout)
		}
	}
	return reports, failed
}

// checkTarget refuses any target that is not on this machine's loopback:
// the bench must never load someone else's server.
func checkTarget(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--target %q: want an http URL such as http://127.0.0.1:8080", target)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return fmt.Errorf("--target %q is not a loopback address; moffman-bench only loads servers on this machine's loopback", target)
		}
		return nil
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("--target %q: cannot resolve %q: %v", target, host, err)
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return fmt.Errorf("--target %q: %s resolves to %s, which is not loopback; moffman-bench only loads servers on this machine's loopback", target, host, ip.IP)
		}
	}
	return nil
}
