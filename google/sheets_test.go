package google

import (
	"strconv"
	"strings"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/googlefake"
)

const sheetID = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"

func newSheets(t *testing.T, e *env, offices, users SheetRange) *Directory {
	t.Helper()
	d, err := NewSheets(t.Context(), e.opts, offices, users)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSheetsLoad(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.SetSheetValues(sheetID, "Offices", [][]string{
		{"Office", "Calendar"},
		{"prague", "prague@group.calendar.google.com"},
		{"  brno ", " brno@group.calendar.google.com  "},
		{"ostrava"}, // ragged: no calendar
		{},
		{"", "orphan@group.calendar.google.com"},
		{"plzen", "plzen@group.calendar.google.com", "a note"},
	})
	e.fake.SetSheetValues(sheetID, "Manual users", [][]string{
		{"E-mail", "First name", "Last name", "Employee number"},
		{"jan@acme.com", "Jan", "Novák", "42"},
		{" eva@acme.com ", "Eva", "Dvořák"}, // ragged: no employee number
		{"petr@acme.com", "Petr"},           // no last name
		{"not an e-mail", "X", "Y"},
	})
	d := newSheets(t, e,
		SheetRange{sheetID, "Offices!A2:B"},
		SheetRange{sheetID, "'Manual users'!A2:D"})
	e.fake.ResetCalls()
	lists, err := d.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantOffices := []moffman.Office{
		{Name: "prague", CalendarID: "prague@group.calendar.google.com"},
		{Name: "brno", CalendarID: "brno@group.calendar.google.com"},
		{Name: "plzen", CalendarID: "plzen@group.calendar.google.com"},
	}
	if !equal(lists.Offices, wantOffices) {
		t.Errorf("offices %+v", lists.Offices)
	}
	wantUsers := []moffman.Person{
		{Email: "jan@acme.com", FirstName: "Jan", LastName: "Novák", EmployeeNumber: "42"},
		{Email: "eva@acme.com", FirstName: "Eva", LastName: "Dvořák"},
	}
	if !equal(lists.ManualUsers, wantUsers) {
		t.Errorf("users %+v", lists.ManualUsers)
	}
	logs := e.logs.String()
	for _, row := range []string{"Offices!A4", "Offices!A6", "Manual users!A4", "Manual users!A5"} {
		if !strings.Contains(logs, row) {
			t.Errorf("no warning naming %s in\n%s", row, logs)
		}
	}
	if n := strings.Count(logs, "skipping"); n != 4 {
		t.Errorf("%d warnings, want 4:\n%s", n, logs)
	}
	wantCalls(t, e.fake, googlefake.MethodSheetsValuesGet, 2)
	wantCalls(t, e.fake, googlefake.MethodToken, 1)

	// The token is reused by the next load.
	if _, err := d.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, e.fake, googlefake.MethodToken, 1)
	wantCalls(t, e.fake, googlefake.MethodUnknown, 0)
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A range that is not configured contributes nothing and costs no call.
func TestSheetsOneRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.SetSheetValues(sheetID, "Manual users", [][]string{{"jan@acme.com", "Jan", "Novák"}})
	d := newSheets(t, e, SheetRange{}, SheetRange{sheetID, "Manual users!A1:D"})
	lists, err := d.Load(t.Context())
	if err != nil || len(lists.Offices) != 0 || len(lists.ManualUsers) != 1 {
		t.Fatalf("%+v, %v", lists, err)
	}
	wantCalls(t, e.fake, googlefake.MethodSheetsValuesGet, 1)

	// Neither configured: nothing to read.
	d = newSheets(t, e, SheetRange{}, SheetRange{})
	if lists, err := d.Load(t.Context()); err != nil || len(lists.ManualUsers) != 0 {
		t.Fatalf("%+v, %v", lists, err)
	}
	wantCalls(t, e.fake, googlefake.MethodSheetsValuesGet, 1)

	if _, err := NewSheets(t.Context(), e.opts, SheetRange{SpreadsheetID: sheetID}, SheetRange{}); moffman.ErrorCode(err) != moffman.Invalid {
		t.Errorf("half-configured range: %v", err)
	}
}

func TestSheetsFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.SetSheetValues(sheetID, "Offices", [][]string{{"prague", "p@group.calendar.google.com"}})
	ctx := t.Context()

	d := newSheets(t, e, SheetRange{"nosuchsheet", "Offices!A1:B"}, SheetRange{})
	_, err := d.Load(ctx)
	wantCode(t, err, moffman.Upstream)
	if msg := moffman.ErrorMessage(err); !strings.Contains(msg, "nosuchsheet") || !strings.Contains(msg, e.fake.ServiceAccountEmail()) {
		t.Errorf("message %q should name the spreadsheet and the account", msg)
	}

	d = newSheets(t, e, SheetRange{sheetID, "Offices!A1:B"}, SheetRange{sheetID, "No such tab!A1:D"})
	_, err = d.Load(ctx)
	wantCode(t, err, moffman.Upstream)
	if msg := moffman.ErrorMessage(err); !strings.Contains(msg, "No such tab!A1:D") {
		t.Errorf("message %q should name the range", msg)
	}

	d = newSheets(t, e, SheetRange{sheetID, "Offices!A1:B"}, SheetRange{})
	e.fake.ResetCalls()
	e.fake.FailNext(googlefake.MethodSheetsValuesGet, 100, 500, "")
	_, err = d.Load(ctx)
	wantCode(t, err, moffman.Unavailable)
	wantCalls(t, e.fake, googlefake.MethodSheetsValuesGet, fastRetry.Attempts)
}

func TestParseOrigin(t *testing.T) {
	t.Parallel()
	for a1, want := range map[string]string{
		"'Manual users'!A2:D1000": "Manual users!A5",
		"Offices!B3:C":            "Offices!B6",
		"Offices!A:B":             "Offices!A4",
		"'It''s'!C10":             "It's!C13",
		"A2:D":                    "A5",
	} {
		o, ok := parseOrigin(a1)
		if got := o.at(3); !ok || got != want {
			t.Errorf("%s: %q %v, want %q", a1, got, ok, want)
		}
	}
	for _, bad := range []string{"'unterminated!A1", "Sheet!A0", "Sheet!$A$1"} {
		if _, ok := parseOrigin(bad); ok {
			t.Errorf("%s: parsed", bad)
		}
	}
}

// The third column of the offices range is the capacity: empty is
// unlimited, and a row with a capacity that is no whole number is skipped.
func TestSheetsCapacity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const sheetID = "capacity-sheet"
	e.fake.SetSheetValues(sheetID, "Offices", [][]string{
		{"prague", "p@group.calendar.google.com", "20"},
		{"brno", "b@group.calendar.google.com", ""},
		{"ostrava", "o@group.calendar.google.com", " 0 "},
		{"plzen", "z@group.calendar.google.com", "twenty"},
		{"liberec", "l@group.calendar.google.com", "-3"},
		{"olomouc", "m@group.calendar.google.com"},
	})
	d := newSheets(t, e, SheetRange{sheetID, "Offices!A1:C"}, SheetRange{})
	lists, err := d.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range lists.Offices {
		c := "unlimited"
		if o.Capacity != nil {
			c = strconv.Itoa(*o.Capacity)
		}
		got = append(got, o.Name+"="+c)
	}
	if want := []string{"prague=20", "brno=unlimited", "ostrava=0", "olomouc=unlimited"}; !equal(got, want) {
		t.Errorf("offices %v, want %v", got, want)
	}
	logs := e.logs.String()
	for _, row := range []string{"Offices!A4", "Offices!A5"} {
		if !strings.Contains(logs, row) {
			t.Errorf("no warning naming %s in\n%s", row, logs)
		}
	}
}
