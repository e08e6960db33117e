package httpapi

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/sqlite"
)

// The CSV parsed back holds, day by day, what was reserved in the store:
// two desks of prague taken on Monday (full), one approved and one pending
// on Tuesday, a manual event waiting for a desk on Wednesday, which is a
// holiday; brno has no capacity.
func TestOccupancyCSVCountsTheStore(t *testing.T) {
	t.Parallel()
	store, err := sqlite.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	two := 2
	dir := moffman.NewDirectory(moffman.DirectoryLists{
		Offices:     []moffman.Office{{Name: "prague", CalendarID: pragueCal, Capacity: &two}, {Name: "brno", CalendarID: brnoCal}},
		ManualUsers: []moffman.Person{{Email: "jan@acme.com", FirstName: "Jan", LastName: "Novák"}},
		Closures:    []moffman.Closure{{Office: "prague", From: "2026-12-02", To: "2026-12-03", Reason: "Holiday"}},
	})
	s := &Server{Reservations: &moffman.Reservations{Calendar: store, Directory: dir, Colors: moffman.Colors{Unapproved: "4", Approved: "5"}}, Directory: dir, Logger: quiet}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e := &env{t: t, store: store, cal: store, srv: srv}
	e.mustPost(visit("prague", "Zoe Zed", "zoe@acme.com", "2026-11-30", "2026-12-02", true))
	e.mustPost(visit("prague", "Adam Ant", "adam@acme.com", "2026-11-30", "2026-12-01", true))
	e.mustPost(visit("prague", "Petr Pending", "petr@acme.com", "2026-12-01", "2026-12-02", false))
	e.mustPost(visit("brno", "Brno Person", "b@acme.com", "2026-11-30", "2026-12-01", true))
	if _, err := store.Insert(context.Background(), pragueCal, moffman.Event{Summary: "office", Start: "2026-12-02", End: "2026-12-03",
		CreatorEmail: "jan@acme.com", Private: map[string]string{moffman.PropProcessed: moffman.ProcessedWaitlisted}}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		office string
		want   [][]string
	}{
		{"prague", [][]string{
			{"date", "capacity", "closed", "approved", "pending", "waitlisted", "free"},
			{"2026-11-30", "2", "false", "2", "0", "0", "0"},
			{"2026-12-01", "2", "false", "1", "1", "0", "1"},
			{"2026-12-02", "2", "true", "0", "0", "1", "0"},
			{"2026-12-03", "2", "false", "0", "0", "0", "2"},
		}},
		{"brno", [][]string{
			{"date", "capacity", "closed", "approved", "pending", "waitlisted", "free"},
			{"2026-11-30", "", "false", "1", "0", "0", ""},
			{"2026-12-01", "", "false", "0", "0", "0", ""},
			{"2026-12-02", "", "false", "0", "0", "0", ""},
			{"2026-12-03", "", "false", "0", "0", "0", ""},
		}},
	} {
		resp, err := http.Get(srv.URL + "/api/v1/offices/" + c.office + "/occupancy.csv?from=2026-11-30&to=2026-12-04")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(resp.Body).ReadAll()
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: not CSV: %v", c.office, err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			resp.Header.Get("Content-Disposition") != "attachment; filename=occupancy-"+c.office+"-2026-11-30-2026-12-04.csv" {
			t.Errorf("%s: %d %q %q", c.office, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
		}
		if !reflect.DeepEqual(rows, c.want) {
			t.Errorf("%s:\n got %v\nwant %v", c.office, rows, c.want)
		}
	}

	// Bad windows are refused naming what to fix, as problem details.
	for path, detail := range map[string]string{
		"/api/v1/offices/prague/occupancy.csv?from=2026-11-30":               "from and to are required",
		"/api/v1/offices/prague/occupancy.csv?from=2026-01-01&to=2027-06-01": "at most 366",
		"/api/v1/offices/paris/occupancy.csv?from=2026-11-30&to=2026-12-04":  `unknown office "paris"`,
	} {
		status, body := e.do("GET", path, "")
		if status < 400 || !strings.Contains(body["detail"].(string), detail) {
			t.Errorf("GET %s: %d %v, want %q", path, status, body["detail"], detail)
		}
	}
}
