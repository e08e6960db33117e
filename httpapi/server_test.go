package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/internal/testlog"
	"github.com/moffman/moffman/sqlite"
)

// quiet keeps the request log out of the test output.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const (
	pragueCal = "prague@group.calendar.google.com"
	brnoCal   = "brno@group.calendar.google.com"
)

type env struct {
	t     *testing.T
	store *sqlite.Store
	cal   moffman.Calendar
	srv   *httptest.Server
}

// newEnv serves the API over a real in-memory store with two offices.
func newEnv(t *testing.T, wrap ...func(moffman.Calendar) moffman.Calendar) *env {
	t.Helper()
	store, err := sqlite.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var cal moffman.Calendar = store
	for _, w := range wrap {
		cal = w(cal)
	}
	dir := moffman.NewDirectory(moffman.DirectoryLists{Offices: []moffman.Office{
		{Name: "prague", CalendarID: pragueCal}, {Name: "brno", CalendarID: brnoCal},
	}})
	s := &Server{
		Reservations: &moffman.Reservations{Calendar: cal, Directory: dir, Colors: moffman.Colors{Unapproved: "4", Approved: "5"}, MaxDays: 366},
		Directory:    dir,
		Logger:       quiet,
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, store: store, cal: cal, srv: srv}
}

// do sends a request and decodes a JSON answer into a map.
func (e *env) do(method, path, body string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %s", method, path, raw)
		}
	}
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		e.t.Errorf("%s %s: error answered as %q, want application/problem+json", method, path, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, out
}

func (e *env) event(cal, id string) moffman.Event {
	e.t.Helper()
	ev, err := e.store.Get(context.Background(), cal, id)
	if err != nil {
		e.t.Fatalf("event %s: %v", id, err)
	}
	return ev
}

func (e *env) eventCount() int {
	e.t.Helper()
	n := 0
	for _, cal := range []string{pragueCal, brnoCal} {
		evs, _, err := moffman.ListAll(context.Background(), e.store, cal, moffman.ListQuery{ShowDeleted: true})
		if err != nil {
			e.t.Fatal(err)
		}
		n += len(evs)
	}
	return n
}

func reservation(approved bool) string {
	return `{"user": {"name": "Some User", "email": "user@acme.com"}, "approved": ` + map[bool]string{true: "true", false: "false"}[approved] +
		`, "start": "2022-06-28", "end": "2022-06-29", "request_dt": "11:38:00 2020/06/25", "office_id": "prague"}`
}

// The id of the Python service's vector for the request above.
const vectorID = "30f3552b9a2751e69401d63fca065a11"

func TestPendingThenApproved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	status, body := e.do("POST", "/api/v1/reservations", reservation(false))
	if status != 200 || body["id"] != vectorID || body["status"] != "pending" {
		t.Fatalf("pending: %d %v", status, body)
	}
	ev := e.event(pragueCal, vectorID)
	if ev.Summary != "(Some User)" || ev.ColorID != "4" || ev.Private["event_processed"] != "false" ||
		ev.Start != "2022-06-28" || ev.End != "2022-06-29" || ev.Private[moffman.PropUserEmail] != "user@acme.com" {
		t.Errorf("pending event = %+v", ev)
	}

	status, body = e.do("POST", "/api/v1/reservations", reservation(true))
	if status != 200 || body["status"] != "approved" {
		t.Fatalf("approve: %d %v", status, body)
	}
	ev = e.event(pragueCal, vectorID)
	if ev.Summary != "Some User" || ev.ColorID != "5" || ev.Private["event_processed"] != "true" {
		t.Errorf("approved event = %+v", ev)
	}

	// A late repeat of the pending request must not undo the approval.
	status, body = e.do("POST", "/api/v1/reservations", reservation(false))
	if status != 200 || body["status"] != "approved" {
		t.Errorf("repeated pending: %d %v", status, body)
	}
	if ev := e.event(pragueCal, vectorID); ev.Summary != "Some User" || ev.ColorID != "5" {
		t.Errorf("after repeated pending, event = %+v", ev)
	}
	if n := e.eventCount(); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
}

func TestApproveMissingInsertsApproved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for range 2 { // the repeat is harmless
		status, body := e.do("POST", "/api/v1/reservations", reservation(true))
		if status != 200 || body["status"] != "approved" {
			t.Fatalf("approve: %d %v", status, body)
		}
	}
	ev := e.event(pragueCal, vectorID)
	if ev.Summary != "Some User" || ev.ColorID != "5" || ev.Private["event_processed"] != "true" {
		t.Errorf("approved event = %+v", ev)
	}
	if n := e.eventCount(); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
}

func TestApprovesPythonShapedPendingEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// What the Python service wrote: no moffman_* properties.
	_, err := e.store.Insert(context.Background(), pragueCal, moffman.Event{
		ID: vectorID, Summary: "(Some User)", Start: "2022-06-28", End: "2022-06-29", ColorID: "4",
		Private: map[string]string{"event_processed": "false"},
	})
	if err != nil {
		t.Fatal(err)
	}
	status, body := e.do("GET", "/api/v1/offices/prague/reservations/"+vectorID, "")
	user, _ := body["user"].(map[string]any)
	if status != 200 || body["status"] != "pending" || user["name"] != "Some User" || user["email"] != nil {
		t.Errorf("python-shaped pending: %d %v", status, body)
	}
	if status, _ := e.do("POST", "/api/v1/reservations", reservation(true)); status != 200 {
		t.Fatalf("approve: %d", status)
	}
	if ev := e.event(pragueCal, vectorID); ev.Summary != "Some User" || ev.ColorID != "5" || ev.Private["event_processed"] != "true" {
		t.Errorf("approved event = %+v", ev)
	}
}

func TestListGetCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if status, _ := e.do("POST", "/api/v1/reservations", reservation(false)); status != 200 {
		t.Fatal(status)
	}
	other := `{"user": {"name": "Jan Novák"}, "approved": true, "start": "2022-07-04", "end": "2022-07-05", "request_dt": "08:00:00 2022/07/01", "office_id": "prague"}`
	if status, _ := e.do("POST", "/api/v1/reservations", other); status != 200 {
		t.Fatal(status)
	}
	status, body := e.do("GET", "/api/v1/offices/prague/reservations?from=2022-06-01&to=2022-08-01", "")
	list, _ := body["reservations"].([]any)
	if status != 200 || len(list) != 2 {
		t.Fatalf("list: %d %v", status, body)
	}
	// The window is [from, to): a visit ending (exclusively) on from is out.
	status, body = e.do("GET", "/api/v1/offices/prague/reservations?from=2022-06-29&to=2022-07-04", "")
	if list, _ := body["reservations"].([]any); status != 200 || len(list) != 0 {
		t.Errorf("empty window: %d %v", status, body)
	}
	if status, body := e.do("GET", "/api/v1/offices/brno/reservations?from=2022-06-01&to=2022-08-01", ""); status != 200 || len(body["reservations"].([]any)) != 0 {
		t.Errorf("brno: %d %v", status, body)
	}

	if status, body := e.do("DELETE", "/api/v1/offices/prague/reservations/"+vectorID, ""); status != 200 || body["status"] != "cancelled" {
		t.Fatalf("cancel: %d %v", status, body)
	}
	if status, _ := e.do("DELETE", "/api/v1/offices/prague/reservations/"+vectorID, ""); status != 200 {
		t.Errorf("second cancel: %d", status)
	}
	if status, body := e.do("GET", "/api/v1/offices/prague/reservations/"+vectorID, ""); status != 200 || body["status"] != "cancelled" {
		t.Errorf("get cancelled: %d %v", status, body)
	}
	status, body = e.do("GET", "/api/v1/offices/prague/reservations?from=2022-06-01&to=2022-08-01", "")
	if list, _ := body["reservations"].([]any); status != 200 || len(list) != 1 {
		t.Errorf("list without cancelled: %d %v", status, body)
	}
	status, body = e.do("GET", "/api/v1/offices/prague/reservations?from=2022-06-01&to=2022-08-01&include_cancelled=true", "")
	if list, _ := body["reservations"].([]any); status != 200 || len(list) != 2 {
		t.Errorf("list with cancelled: %d %v", status, body)
	}
	if status, _ := e.do("DELETE", "/api/v1/offices/prague/reservations/0123456789abcdef", ""); status != 404 {
		t.Errorf("cancel unknown: %d, want 404", status)
	}
}

func TestOfficesAndConfigUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	status, body := e.do("GET", "/api/v1/offices", "")
	offices, _ := body["offices"].([]any)
	if status != 200 || len(offices) != 2 {
		t.Fatalf("offices: %d %v", status, body)
	}
	first := offices[0].(map[string]any)
	if first["office_id"] != "brno" || first["calendar_id"] != brnoCal {
		t.Errorf("first office = %v", first)
	}
	for _, m := range []string{"GET", "POST"} {
		if status, body := e.do(m, "/api/v1/config_update", ""); status != 200 || body["status"] != "ok" {
			t.Errorf("%s config_update: %d %v", m, status, body)
		}
	}
}

func TestMalformedRequestsChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	valid := map[string]any{}
	if err := json.Unmarshal([]byte(reservation(false)), &valid); err != nil {
		t.Fatal(err)
	}
	with := func(change func(m map[string]any)) string {
		m := map[string]any{}
		b, _ := json.Marshal(valid)
		_ = json.Unmarshal(b, &m)
		change(m)
		b, _ = json.Marshal(m)
		return string(b)
	}
	cases := []struct {
		name, method, path, body string
		status                   int
		detail                   string
	}{
		{"not json", "POST", "/api/v1/reservations", `{"user":`, 400, "not valid JSON"},
		{"empty body", "POST", "/api/v1/reservations", ``, 400, "empty"},
		{"array", "POST", "/api/v1/reservations", `[]`, 400, "JSON object"},
		{"missing start", "POST", "/api/v1/reservations", with(func(m map[string]any) { delete(m, "start") }), 400, "start"},
		{"missing user", "POST", "/api/v1/reservations", with(func(m map[string]any) { delete(m, "user") }), 400, "user"},
		{"missing approved", "POST", "/api/v1/reservations", with(func(m map[string]any) { delete(m, "approved") }), 400, "approved"},
		{"approved as string", "POST", "/api/v1/reservations", with(func(m map[string]any) { m["approved"] = "yes" }), 400, "approved must be a boolean"},
		{"start as number", "POST", "/api/v1/reservations", with(func(m map[string]any) { m["start"] = 20220628 }), 400, "start must be a string"},
		{"bad date", "POST", "/api/v1/reservations", with(func(m map[string]any) { m["start"] = "28.06.2022" }), 400, "start must be a real date"},
		{"impossible date", "POST", "/api/v1/reservations", with(func(m map[string]any) { m["end"] = "2022-02-30" }), 400, "end must be a real date"},
		{"end before start", "POST", "/api/v1/reservations", with(func(m map[string]any) { m["end"] = "2022-06-28" }), 400, "end (2022-06-28) must be after start"},
		{"too long", "POST", "/api/v1/reservations", with(func(m map[string]any) { m["end"] = "2024-06-28" }), 400, "max_reservation_days"},
		{"empty name", "POST", "/api/v1/reservations", with(func(m map[string]any) { m["user"] = map[string]any{"name": " "} }), 400, "user.name is required"},
		{"bad email", "POST", "/api/v1/reservations", with(func(m map[string]any) { m["user"] = map[string]any{"name": "A", "email": "nope"} }), 400, "user.email"},
		{"unknown office", "POST", "/api/v1/reservations", with(func(m map[string]any) { m["office_id"] = "paris" }), 404, `unknown office "paris"`},
		{"office id with a newline", "POST", "/api/v1/reservations", with(func(m map[string]any) { m["office_id"] = "pra\ngue" }), 400, "office_id must be"},
		{"office id too long", "GET", "/api/v1/offices/" + strings.Repeat("p", 201) + "/reservations?from=2022-06-01&to=2022-07-01", "", 400, "office_id must be"},
		{"too large", "POST", "/api/v1/reservations", `{"pad": "` + strings.Repeat("x", MaxBodyBytes) + `"}`, 413, "64 KiB"},
		{"wrong method", "PUT", "/api/v1/reservations", reservation(false), 405, "use POST"},
		{"unknown path", "GET", "/api/v1/nothing", "", 404, "no such endpoint"},
		{"list without window", "GET", "/api/v1/offices/prague/reservations", "", 400, "from and to are required"},
		{"list bad window", "GET", "/api/v1/offices/prague/reservations?from=2022-07-01&to=2022-06-01", "", 400, "to (2022-06-01) must be after from"},
		{"list bad flag", "GET", "/api/v1/offices/prague/reservations?from=2022-06-01&to=2022-07-01&include_cancelled=maybe", "", 400, "include_cancelled"},
		{"list unknown office", "GET", "/api/v1/offices/paris/reservations?from=2022-06-01&to=2022-07-01", "", 404, "unknown office"},
		{"bad id", "GET", "/api/v1/offices/prague/reservations/XYZ", "", 400, "reservation id"},
		{"delete bad id", "DELETE", "/api/v1/offices/prague/reservations/xyz!", "", 400, "reservation id"},
	}
	for _, c := range cases {
		status, body := e.do(c.method, c.path, c.body)
		detail, _ := body["detail"].(string)
		if status != c.status || !strings.Contains(detail, c.detail) {
			t.Errorf("%s: %d %q, want %d containing %q", c.name, status, detail, c.status, c.detail)
		}
		if body["status"] != float64(status) || body["title"] != http.StatusText(status) {
			t.Errorf("%s: problem body %v does not repeat the status", c.name, body)
		}
	}
	if n := e.eventCount(); n != 0 {
		t.Errorf("malformed requests stored %d events", n)
	}
}

func TestAnyContentTypeAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, err := http.Post(e.srv.URL+"/api/v1/reservations", "text/plain", bytes.NewBufferString(reservation(false)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("text/plain body: %d", resp.StatusCode)
	}
}

// failingCalendar answers every call as a backend that is down.
type failingCalendar struct{ moffman.Calendar }

func (failingCalendar) Insert(context.Context, string, moffman.Event) (moffman.Event, error) {
	return moffman.Event{}, moffman.Errorf(moffman.Unavailable, "calendar backend is down")
}

func (failingCalendar) Patch(context.Context, string, string, moffman.EventPatch) (moffman.Event, error) {
	return moffman.Event{}, moffman.Errorf(moffman.Upstream, "calendar backend refused the call")
}

func TestBackendFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c moffman.Calendar) moffman.Calendar { return failingCalendar{c} })
	if status, body := e.do("POST", "/api/v1/reservations", reservation(false)); status != 503 || !strings.Contains(body["detail"].(string), "down") {
		t.Errorf("insert on a down backend: %d %v", status, body)
	}
	if status, _ := e.do("POST", "/api/v1/reservations", reservation(true)); status != 502 {
		t.Errorf("patch refused: %d, want 502", status)
	}
}

// brokenList fails every listing with an error outside the core's
// vocabulary, as a bug would.
type brokenList struct{ moffman.Calendar }

func (brokenList) List(context.Context, string, moffman.ListQuery) (moffman.EventPage, error) {
	return moffman.EventPage{}, errors.New("index corrupted")
}

// TestServerErrorsAreLogged: a 500 is logged with its cause, which the
// answer does not show; a client's mistake is not logged.
func TestServerErrorsAreLogged(t *testing.T) {
	t.Parallel()
	store, err := sqlite.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	dir := moffman.NewDirectory(moffman.DirectoryLists{Offices: []moffman.Office{{Name: "prague", CalendarID: pragueCal}}})
	logs := &testlog.Buffer{}
	s := &Server{
		Reservations: &moffman.Reservations{Calendar: brokenList{store}, Directory: dir},
		Directory:    dir,
		Logger:       slog.New(slog.NewTextHandler(logs, nil)),
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e := &env{t: t, store: store, srv: srv}
	status, body := e.do("GET", "/api/v1/offices/prague/reservations?from=2022-06-01&to=2022-07-01", "")
	if status != 500 || strings.Contains(fmt.Sprint(body["detail"]), "index corrupted") {
		t.Errorf("a failing backend: %d %v, want 500 without the cause", status, body)
	}
	if got := logs.String(); !strings.Contains(got, `msg="request failed"`) || !strings.Contains(got, "status=500") || !strings.Contains(got, "index corrupted") {
		t.Errorf("the 500 was not logged with its cause:\n%s", got)
	}
	before := logs.String()
	if status, _ := e.do("GET", "/api/v1/offices/nowhere/reservations", ""); status != 404 {
		t.Errorf("unknown office: %d, want 404", status)
	}
	if after := strings.TrimPrefix(logs.String(), before); strings.Contains(after, "request failed") {
		t.Errorf("a 404 was logged as a failure:\n%s", after)
	}
}

// TestWebPageRoutes: the page's routes exist only with a page to serve.
func TestWebPageRoutes(t *testing.T) {
	t.Parallel()
	for _, web := range []bool{false, true} {
		s := &Server{Directory: moffman.NewDirectory(moffman.DirectoryLists{}), Logger: quiet}
		if web {
			s.Web = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the page") })
		}
		srv := httptest.NewServer(s.Handler())
		resp, err := http.Get(srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if web && (resp.StatusCode != 200 || string(body) != "the page") {
			t.Errorf("with the page, /login = %d %q, want the page", resp.StatusCode, body)
		}
		if !web && (resp.StatusCode != 404 || !strings.Contains(string(body), "no such page")) {
			t.Errorf("without the page, /login = %d %q, want 404", resp.StatusCode, body)
		}
	}
}
