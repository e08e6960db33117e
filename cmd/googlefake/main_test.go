package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/option"
	"google.golang.org/api/sheets/v4"

	"github.com/moffman/moffman/internal/testlog"
)

func TestRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "key.json")
	csvPath := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(csvPath, []byte("a@acme.com,Ann,Able,1\nb@acme.com,Bob\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const calID = "prague@group.calendar.google.com"

	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr testlog.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--key-file", keyPath,
			"--calendar", "prague=" + calID, "--sheet", "sheet123/Manual users=" + csvPath}, &stdout, &stderr)
	}()

	endpoint := regexp.MustCompile(`calendar_endpoint: (\S+)`)
	var m []string
	for deadline := time.Now().Add(5 * time.Second); m == nil; {
		if m = endpoint.FindStringSubmatch(stdout.String()); m == nil {
			if time.Now().After(deadline) {
				t.Fatalf("no endpoints printed; stdout %q stderr %q", stdout.String(), stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	out := stdout.String()
	base := strings.TrimSuffix(m[1], "/calendar/v3/")
	for _, want := range []string{"sheets_endpoint: " + base + "/", "service_account_key_path: " + keyPath, "prague: calendar " + calID} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}

	cal, err := calendar.NewService(ctx, option.WithEndpoint(m[1]),
		option.WithAuthCredentialsFile(option.ServiceAccount, keyPath), option.WithScopes(calendar.CalendarScope))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cal.CalendarList.Insert(&calendar.CalendarListEntry{Id: calID}).Do(); err != nil {
		t.Fatal(err)
	}
	sh, err := sheets.NewService(ctx, option.WithEndpoint(base+"/"),
		option.WithAuthCredentialsFile(option.ServiceAccount, keyPath), option.WithScopes(sheets.SpreadsheetsReadonlyScope))
	if err != nil {
		t.Fatal(err)
	}
	vr, err := sh.Spreadsheets.Values.Get("sheet123", "Manual users!A1:D").Do()
	if err != nil {
		t.Fatal(err)
	}
	if len(vr.Values) != 2 || len(vr.Values[1]) != 2 {
		t.Errorf("values %v", vr.Values)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--calendar", "no-equals-sign"},
		{"--sheet", "missing-slash=x.csv"},
		{"--addr", "0.0.0.0:0", "--key-file", filepath.Join(t.TempDir(), "k.json")},
		{"--no-such-flag"},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), args, &out, &errOut); err == nil {
			t.Errorf("run %q: no error", args)
		}
	}
}
