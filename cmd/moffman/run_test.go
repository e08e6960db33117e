package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman/googlefake"
	"github.com/moffman/moffman/internal/testlog"
)

var addressRE = regexp.MustCompile(`address=(https?://[0-9.:]+)`)

// startService runs run() with the given arguments until the test ends and
// returns the service's base URL and its log.
func startService(t *testing.T, args []string, environ []string) (string, *testlog.Buffer, func() error) {
	t.Helper()
	return startServiceWith(t, args, environ, backendOptions{})
}

// startServiceWith is startService with settings only tests change.
func startServiceWith(t *testing.T, args []string, environ []string, opts backendOptions) (string, *testlog.Buffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testlog.Buffer{}
	done := make(chan error, 1)
	go func() { done <- runWith(ctx, args, environ, &bytes.Buffer{}, logs, opts) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(20 * time.Second):
				stopErr = errors.New("run did not return after cancellation")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := addressRE.FindStringSubmatch(logs.String()); m != nil {
			return m[1], logs, stop
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, logs)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("service did not start:\n%s", logs)
	return "", nil, nil
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	path := filepath.Join(dir, "moffman.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const officeConfig = `
offices:
  office_list:
    - {name: prague, id: prague@group.calendar.google.com}
rest_api: {addr: 127.0.0.1, port: 0}
`

func post(t *testing.T, url, body string) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestRunEndToEndWithRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, officeConfig)
	store := filepath.Join(dir, "store.db")
	args := []string{"--config", cfg, "--general--storage-path", store}

	base, logs, stop := startService(t, args, nil)
	if !strings.Contains(logs.String(), "backend=\"embedded store ("+store+")\"") || !strings.Contains(logs.String(), "offices=1") {
		t.Errorf("start-up line lacks backend or offices:\n%s", logs)
	}
	req := `{"user": {"name": "Some User", "email": "user@acme.com"}, "approved": false, "start": "2022-06-28", "end": "2022-06-29", "request_dt": "11:38:00 2020/06/25", "office_id": "prague"}`
	if status := post(t, base+"/api/v1/reservations", req); status != 200 {
		t.Fatalf("reserve: %d", status)
	}
	if !strings.Contains(logs.String(), `method=POST path=/api/v1/reservations status=200`) {
		t.Errorf("no request log line:\n%s", logs)
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	// The reservation survives a restart on the same store.
	base, _, _ = startService(t, args, nil)
	status, body := getJSON(t, base+"/api/v1/offices/prague/reservations/30f3552b9a2751e69401d63fca065a11")
	if status != 200 || body["status"] != "pending" {
		t.Errorf("after restart: %d %v", status, body)
	}
}

func TestRunEnvironmentAndOptionsOverrideFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, officeConfig+"general: {storage_path: null}\n")
	env := []string{`MOFFMAN_OFFICES__OFFICE_LIST=[{"name":"brno","id":"brno@group.calendar.google.com"}]`}
	base, _, _ := startService(t, []string{"--config", cfg}, env)
	_, body := getJSON(t, base+"/api/v1/offices")
	offices, _ := body["offices"].([]any)
	if len(offices) != 1 || offices[0].(map[string]any)["office_id"] != "brno" {
		t.Errorf("offices = %v, want only brno from the environment", body)
	}
}

func TestRunCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	ctx := context.Background()

	if err := run(ctx, []string{"--version"}, nil, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "moffman ") {
		t.Errorf("--version: %v %q", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"--help"}, nil, &out, &errOut); err != nil || !strings.Contains(out.String(), "--get-config-template") {
		t.Errorf("--help: %v %q", err, out.String())
	}

	tmpl := filepath.Join(dir, "template.yaml")
	if err := run(ctx, []string{"--get-config-template", tmpl}, nil, &out, &errOut); err != nil {
		t.Fatalf("--get-config-template: %v", err)
	}
	// The template is a valid configuration that checks clean.
	out.Reset()
	if err := run(ctx, []string{"--check-config", "--config", tmpl}, nil, &out, &errOut); err != nil {
		t.Errorf("--check-config of the template: %v", err)
	}
	if !strings.Contains(out.String(), "rest_api") {
		t.Errorf("--check-config printed %q", out.String())
	}

	bad := writeConfig(t, dir, "rest_api:\n  prot: 9000\n")
	err := run(ctx, []string{"--check-config", "--config", bad}, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "rest_api.prot") || !strings.Contains(err.Error(), "rest_api.port") {
		t.Errorf("--check-config of a bad file: %v", err)
	}
	if err := run(ctx, []string{"--no-such-flag"}, nil, &out, &errOut); err == nil {
		t.Error("an unknown flag was accepted")
	}
}

func TestRunRefusesForeignStorageFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbm := filepath.Join(dir, "moffman_store.dbm")
	content := []byte("\x13\x57\x9a\xce python dbm.gnu data")
	if err := os.WriteFile(dbm, content, 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"--general--storage-path", dbm, "--rest-api--port", "0"}, nil, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "general.storage_path") {
		t.Fatalf("foreign store file: %v", err)
	}
	if got, _ := os.ReadFile(dbm); !bytes.Equal(got, content) {
		t.Error("the foreign file was changed")
	}
}

// startFake serves googlefake until the test ends and writes its
// service-account key into dir; it returns the fake and the configuration
// that points moffman at it.
func startFake(t *testing.T, dir string) (*googlefake.Server, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	fake, err := googlefake.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Listen(ctx, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "key.json")
	if err := os.WriteFile(keyPath, fake.KeyJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	return fake, `
google_api:
  service_account_key_path: ` + keyPath + `
  calendar_endpoint: ` + fake.CalendarEndpoint() + `
  sheets_endpoint: ` + fake.SheetsEndpoint() + `
`
}

// A start that cannot complete says which key to fix, and leaves the
// store closed: the same store opens again right after.
func TestRunStartFailuresNameTheKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	store := filepath.Join(dir, "store.db")
	cfg := writeConfig(t, dir, officeConfig)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"port taken", []string{"--rest-api--port", port}, "rest_api: cannot listen on 127.0.0.1:" + port},
		{"no key file", []string{"--google-api--service-account-key-path", filepath.Join(dir, "missing.json")}, "google_api.service_account_key_path: cannot read the key file"},
	} {
		args := append([]string{"--config", cfg, "--general--storage-path", store}, tc.args...)
		err := run(context.Background(), args, nil, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	base, _, _ := startService(t, []string{"--config", cfg, "--general--storage-path", store}, nil)
	if status, _ := getJSON(t, base+"/api/v1/offices"); status != 200 {
		t.Errorf("the store after the failed starts: %d", status)
	}
}
