// Command googlefake serves the Google Calendar/Sheets fake on loopback for
// local demos: it writes a service-account key whose token_uri points at the
// fake and prints the configuration values that make moffman use it.
//
//	go run ./cmd/googlefake --addr 127.0.0.1:8099 --key-file ./fake-key.json \
//	    --calendar prague=prague@group.calendar.google.com \
//	    --sheet 'SHEET_ID/Manual users=users.csv'
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/moffman/moffman/googlefake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "googlefake:", err)
		os.Exit(1)
	}
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// run serves the fake until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("googlefake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8099", "listen `address` (loopback only)")
	keyFile := fs.String("key-file", "fake-key.json", "where to write the service-account key (JSON)")
	var calendars, sheets listFlag
	fs.Var(&calendars, "calendar", "`NAME=CALENDAR_ID` of a calendar shared with the account (repeatable)")
	fs.Var(&sheets, "sheet", "`SPREADSHEET_ID/SHEET_NAME=FILE.csv`: sheet contents from a CSV file (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	s, err := googlefake.New()
	if err != nil {
		return err
	}
	type office struct{ name, id string }
	var offices []office
	for _, c := range calendars {
		name, id, ok := strings.Cut(c, "=")
		if !ok || name == "" || id == "" {
			return fmt.Errorf("--calendar %q: want NAME=CALENDAR_ID", c)
		}
		s.AddCalendar(id, true)
		offices = append(offices, office{name, id})
	}
	for _, sh := range sheets {
		if err := loadSheet(s, sh); err != nil {
			return err
		}
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	// The key is published in a file: keep the fake off the network.
	if ap, err := netip.ParseAddrPort(ln.Addr().String()); err != nil || !ap.Addr().IsLoopback() {
		ln.Close()
		return fmt.Errorf("--addr %s: not a loopback address", *addr)
	}
	s.SetURL("http://" + ln.Addr().String())

	path, err := filepath.Abs(*keyFile)
	if err == nil {
		err = os.WriteFile(path, s.KeyJSON(), 0o600)
	}
	if err != nil {
		ln.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	fmt.Fprintf(stdout, "# googlefake serving %s until interrupted; configure moffman with:\n", s.URL())
	fmt.Fprintf(stdout, "google_api:\n  calendar_endpoint: %s\n  sheets_endpoint: %s\n  service_account_key_path: %s\n",
		s.CalendarEndpoint(), s.SheetsEndpoint(), path)
	for _, o := range offices {
		fmt.Fprintf(stdout, "# office %s: calendar %s\n", o.name, o.id)
	}
	return s.Serve(ctx, ln)
}

// loadSheet reads "SPREADSHEET_ID/SHEET_NAME=FILE.csv" into the fake.
func loadSheet(s *googlefake.Server, spec string) error {
	target, file, ok := strings.Cut(spec, "=")
	id, name, ok2 := strings.Cut(target, "/")
	if !ok || !ok2 || id == "" || name == "" || file == "" {
		return fmt.Errorf("--sheet %q: want SPREADSHEET_ID/SHEET_NAME=FILE.csv", spec)
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1 // rows may be ragged
	rows, err := r.ReadAll()
	if err != nil {
		return fmt.Errorf("--sheet %q: %w", spec, err)
	}
	s.SetSheetValues(id, name, rows)
	return nil
}
