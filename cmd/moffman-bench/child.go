package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildMoffman builds the service once into dir, from the module that the
// current directory belongs to.
func buildMoffman(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w (is the go command on PATH?)", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module: run moffman-bench from the moffman repository, or pass --moffman-bin")
	}
	root := filepath.Dir(gomod)
	if _, err := os.Stat(filepath.Join(root, "cmd", "moffman")); err != nil {
		return "", fmt.Errorf("%s has no cmd/moffman: run moffman-bench from the moffman repository, or pass --moffman-bin", root)
	}
	bin := filepath.Join(dir, "moffman")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/moffman")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/moffman: %w\n%s", err, out)
	}
	return bin, nil
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before moffman binds it; the start then fails loudly.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// office is one office of a scenario: the name API callers use and its
// calendar id.
type office struct {
	Name     string `json:"name"`
	ID       string `json:"id"`
	Capacity *int   `json:"capacity,omitempty"` // nil: unlimited
}

// manualUser is a manual user in moffman's configuration.
type manualUser struct {
	ID             string `json:"id"`
	FirstName      string `json:"first_name"`
	LastName       string `json:"last_name"`
	EmployeeNumber string `json:"employee_number"`
}

// serviceConfig is what a scenario sets in moffman's configuration; the
// rest keeps the defaults.
type serviceConfig struct {
	Dir           string // the scenario's temporary directory
	Port          int
	Offices       []office
	ManualUsers   []manualUser
	CheckInterval int    // general.manual_calendar_check_interval; 0: the default
	KeyPath       string // google_api.service_account_key_path; "": embedded store
	CalendarURL   string // google_api.calendar_endpoint
	FormsURL      string // forms.url; "": no forms
	DatabaseURL   string // general.database_url; "": the SQLite file in Dir
	WebhookURL    string // a notifications webhook signed with hookSecret; "": none
}

// writeConfig writes moffman's configuration as JSON (which YAML reads) and
// returns its path. The store is a file in Dir, the API listens on
// loopback, and the log level is WARNING so that request logs do not
// weigh on the measurement.
func writeConfig(c serviceConfig) (string, error) {
	general := map[string]any{"log_level": "WARNING", "storage_path": filepath.Join(c.Dir, "moffman.db")}
	if c.CheckInterval > 0 {
		general["manual_calendar_check_interval"] = c.CheckInterval
	}
	if c.DatabaseURL != "" {
		general["database_url"] = c.DatabaseURL
		delete(general, "storage_path")
	}
	cfg := map[string]any{
		"general":      general,
		"offices":      map[string]any{"office_list": c.Offices},
		"manual_users": map[string]any{"user_list": orEmpty(c.ManualUsers)},
		"rest_api":     map[string]any{"addr": "127.0.0.1", "port": c.Port},
	}
	if c.KeyPath != "" {
		cfg["google_api"] = map[string]any{"service_account_key_path": c.KeyPath, "calendar_endpoint": c.CalendarURL}
	}
	if c.FormsURL != "" {
		cfg["forms"] = map[string]any{
			"template": "attendance", "url": c.FormsURL,
			// Dates as the bench matches them to events.
			"date_format": "YYYY-MM-DD",
			"email": map[string]any{
				"to":       map[string]string{"office@bench.example": "Office"},
				"subject":  "Office attendance - {user_name} ({date_from} - {date_to})",
				"contents": "{user_name} will be in the office from {date_from} to {date_to}.",
			},
		}
	}
	if c.WebhookURL != "" {
		cfg["notifications"] = map[string]any{"webhooks": []map[string]any{{"url": c.WebhookURL, "secret": hookSecret,
			"events": []string{"reservation.pending", "manual.approved"}}}}
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(c.Dir, "moffman.yaml")
	return path, os.WriteFile(path, b, 0o600)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// server is moffman running as a child process.
type server struct {
	bin, config string
	port        int
	base        string // http://127.0.0.1:port
	cmd         *exec.Cmd
	log         *tail
	done        chan struct{}
	waitErr     error
	mem         *memWatch
}

// startServer starts moffman and waits until /healthz answers (the API
// listens only once the store is open and the offices are subscribed).
// launch builds moffman (once per invocation), writes its configuration
// for a free port and starts it.
func (e *env) launch(ctx context.Context, c serviceConfig) (*server, error) {
	bin, err := e.moffmanBin(ctx)
	if err != nil {
		return nil, err
	}
	if c.Port, err = freePort(); err != nil {
		return nil, err
	}
	cfg, err := writeConfig(c)
	if err != nil {
		return nil, err
	}
	return startServer(ctx, bin, cfg, c.Port)
}

func startServer(ctx context.Context, bin, config string, port int) (*server, error) {
	s := &server{bin: bin, config: config, port: port, base: "http://127.0.0.1:" + strconv.Itoa(port),
		log: &tail{max: 64 << 10}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "--config", config)
	s.cmd.Env = childEnv()
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = childAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting moffman: %w", err)
	}
	s.mem = watchMemory(s.cmd.Process.Pid, s.done)
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx, 60*time.Second); err != nil {
		s.kill()
		return nil, err
	}
	return s, nil
}

// childEnv is the environment moffman runs with: only what any process
// needs from the bench's. The configuration is the file alone, and the
// bench's own variables stay out (moffman refuses MOFFMAN_ variables it
// does not know, such as a test switch set for go test ./...). PPROF_ADDR
// and GODEBUG pass through, for profiling a build with -tags pprof under
// the bench's load (README "Performance").
func childEnv() []string {
	var env []string
	for _, name := range []string{"PATH", "HOME", "TMPDIR", "PPROF_ADDR", "GODEBUG"} {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}

func (s *server) waitReady(ctx context.Context, timeout time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/healthz", nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("moffman exited while starting (%v); its log:\n%s", s.waitErr, s.log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("moffman did not answer /healthz within %s; its log:\n%s", timeout, s.log)
		}
	}
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would,
// and waits for it.
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// stop asks the process to shut down (SIGTERM) and waits; SIGKILL after 20 s.
func (s *server) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return s.waitErr
	case <-time.After(20 * time.Second):
		s.kill()
		return errors.New("moffman did not stop within 20 s of SIGTERM; killed")
	}
}

// restart starts the same binary and configuration again, on the same
// port; the process must have ended.
func (s *server) restart(ctx context.Context) (*server, error) {
	return startServer(ctx, s.bin, s.config, s.port)
}

// tail keeps the last max bytes written to it (the child's log).
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max/2:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// memWatch polls /proc/<pid>/status of the child: its current resident
// set (VmRSS) and its high-water mark (VmHWM, kept by the kernel, so a
// peak between two polls is not missed).
type memWatch struct {
	pid  int
	mu   sync.Mutex
	peak int64 // bytes, the largest VmHWM seen
	ok   bool  // /proc could be read
}

func watchMemory(pid int, done <-chan struct{}) *memWatch {
	m := &memWatch{pid: pid}
	m.poll()
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				m.poll()
			}
		}
	}()
	return m
}

func (m *memWatch) poll() {
	_, hwm, err := readStatus(m.pid)
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ok = true
	m.peak = max(m.peak, hwm)
}

// Peak is the highest VmHWM seen, in bytes; 0 when /proc is not readable.
func (m *memWatch) Peak() int64 {
	m.poll()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak
}

// RSS is the resident set now, in bytes; 0 when /proc is not readable.
func (m *memWatch) RSS() int64 {
	rss, _, err := readStatus(m.pid)
	if err != nil {
		return 0
	}
	return rss
}

// readStatus reads VmRSS and VmHWM (bytes) from /proc/<pid>/status.
func readStatus(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			continue
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm, nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
