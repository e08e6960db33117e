package caldav

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/moffman/moffman"
)

// The tests run against real CalDAV servers, Radicale and Xandikos as
// Debian packages them (.ci/caldav-servers.sh installs both). Each is
// started once per test binary on 127.0.0.1 on a free port with its own
// temporary storage; each test makes its own calendars in it. Without the
// program the tests skip, except under CI=true, where they fail.

// testServer is a CalDAV server started for the tests.
type testServer struct {
	name       string
	url        string // caldav.url: the base of calendar ids
	user, pass string
	dir        string
	proc       *os.Process // nil when not running
	exited     chan error
	err        error
}

var (
	serversMu sync.Mutex
	servers   = map[string]*testServer{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, s := range servers {
		if s.proc != nil {
			s.proc.Kill()
			<-s.exited
		}
		os.RemoveAll(s.dir)
	}
	os.Exit(code)
}

// serverNames are the servers every server test runs against.
var serverNames = []string{"radicale", "xandikos"}

// server returns the named server, started on first use.
func server(t *testing.T, name string) *testServer {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (run .ci/caldav-servers.sh): %v", name, err)
		}
		t.Skipf("%s is not installed; apt-get install %s (or run .ci/caldav-servers.sh) to run the CalDAV tests", name, name)
	}
	serversMu.Lock()
	defer serversMu.Unlock()
	s, ok := servers[name]
	if !ok {
		s = &testServer{name: name, user: "moffman", pass: "s3cret-" + randomHex(4)}
		s.err = s.start()
		servers[name] = s
	}
	if s.err != nil {
		t.Fatalf("starting %s: %v", name, s.err)
	}
	return s
}

func (s *testServer) start() error {
	dir, err := os.MkdirTemp("", "moffman-"+s.name+"-")
	if err != nil {
		return err
	}
	s.dir = dir
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var cmd *exec.Cmd
	switch s.name {
	case "radicale":
		conf := filepath.Join(dir, "config")
		users := filepath.Join(dir, "users")
		if err := os.WriteFile(users, []byte(s.user+":"+s.pass+"\n"), 0o600); err != nil {
			return err
		}
		err := os.WriteFile(conf, []byte(fmt.Sprintf(`[server]
hosts = %s
[auth]
type = htpasswd
htpasswd_filename = %s
htpasswd_encryption = plain
[storage]
filesystem_folder = %s
[logging]
level = warning
`, addr, users, filepath.Join(dir, "collections"))), 0o600)
		if err != nil {
			return err
		}
		cmd = exec.Command("radicale", "-C", conf)
		s.url = "http://" + addr + "/" + s.user + "/"
	case "xandikos":
		// Xandikos has no authentication of its own (it is meant to sit
		// behind a proxy that does it): the credentials are sent and ignored.
		cmd = exec.Command("xandikos", "-d", filepath.Join(dir, "data"), "--autocreate",
			"-l", "127.0.0.1", "-p", fmt.Sprint(port))
		s.url = "http://" + addr + "/user/calendars/"
	}
	logFile, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return err
	}
	s.proc, s.exited = cmd.Process, make(chan error, 1)
	go func() { s.exited <- cmd.Wait() }()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		select {
		case err := <-s.exited:
			s.proc = nil
			log, _ := os.ReadFile(logFile.Name())
			return fmt.Errorf("%s exited: %v\n%s", s.name, err, log)
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
			return nil
		}
	}
	return fmt.Errorf("%s did not answer on %s within 20s", s.name, addr)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// calendar returns an adapter for the server.
func (s *testServer) calendar(t *testing.T) *Calendar {
	t.Helper()
	c, err := New(context.Background(), Options{URL: s.url, Username: s.user, Password: s.pass})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newCalendar makes a calendar collection and returns its id, a path
// under the server's URL.
func (s *testServer) newCalendar(t *testing.T) string {
	t.Helper()
	id := "cal-" + randomHex(6)
	s.do(t, "MKCALENDAR", id+"/", nil, nil, http.StatusCreated)
	return id
}

// do sends a request as another CalDAV client would and checks its status.
func (s *testServer) do(t *testing.T, method, path string, body []byte, header map[string]string, want ...int) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(s.user, s.pass)
	for k, v := range header {
		if k != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !slices.Contains(want, resp.StatusCode) {
		t.Fatalf("%s %s: %s, want %v", method, path, resp.Status, want)
	}
	return resp
}

// addManual puts an event in the way a person's calendar client does: a
// resource named after a random UUID, the person as ORGANIZER, none of
// moffman's properties. It returns the event id, the resource name.
func (s *testServer) addManual(t *testing.T, calendarID, creator string, ev moffman.Event) string {
	t.Helper()
	id := strings.ToUpper(uuid.NewString())
	s.putManual(t, calendarID, id, creator, ev, "If-None-Match", "*", http.StatusCreated)
	return id
}

// putManual writes a person's event; ev.Status cancelled writes
// STATUS:CANCELLED, as clients cancel. The header pair ("" for none) and
// the statuses are the condition sent and the statuses wanted.
func (s *testServer) putManual(t *testing.T, calendarID, id, creator string, ev moffman.Event, header, value string, want ...int) {
	t.Helper()
	date := func(d string) string { return strings.ReplaceAll(d, "-", "") }
	lines := []string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
		"BEGIN:VEVENT", "UID:" + id, "DTSTAMP:20240101T120000Z", "CREATED:20240101T120000Z",
		"SUMMARY:" + ev.Summary, "ORGANIZER;CN=Some Person:mailto:" + creator,
		"DTSTART;VALUE=DATE:" + date(ev.Start), "DTEND;VALUE=DATE:" + date(ev.End), "TRANSP:TRANSPARENT",
	}
	if ev.Status == moffman.StatusCancelled {
		lines = append(lines, "STATUS:CANCELLED")
	}
	lines = append(lines, "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:office", "TRIGGER:-PT15M", "END:VALARM",
		"END:VEVENT", "END:VCALENDAR", "")
	s.do(t, http.MethodPut, calendarID+"/"+id+".ics", []byte(strings.Join(lines, "\r\n")),
		map[string]string{"Content-Type": "text/calendar; charset=utf-8", header: value}, want...)
}

// raw returns a resource as stored on the server, lines unfolded.
func (s *testServer) raw(t *testing.T, calendarID, eventID string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+calendarID+"/"+resourceName(eventID)+".ics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(s.user, s.pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/%s: %s %v", calendarID, eventID, resp.Status, err)
	}
	return strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n ", ""), "\r\n", "\n")
}

// wantLines checks that a stored resource holds each line.
func wantLines(t *testing.T, what, ics string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !slices.Contains(strings.Split(ics, "\n"), l) {
			t.Errorf("%s: no line %q in\n%s", what, l, ics)
		}
	}
}
