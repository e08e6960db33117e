package httpapi

// The OpenAPI document (openapi.json) is kept true three ways:
//
//   - TestOpenAPIDocumentIsValid loads it as OpenAPI 3.1 and validates it,
//     examples included.
//   - TestOpenAPIDescribesEveryRoute reads the route table of Handler
//     (routes.go) and checks that the document describes exactly its routes.
//   - TestOpenAPIConformance sends real requests to the real handler (over
//     the in-memory store, with tokens configured) for every operation and
//     every status it documents, and validates each request and each answer
//     (status, headers, content type, body) against the document.
//
// The validator is github.com/getkin/kin-openapi: openapi3 loads and checks
// the document, openapi3filter validates requests and responses, and
// routers/gorillamux finds the operation of a request. The version in
// go.mod (v0.153.0) loads `openapi: 3.1.x` documents as they are and, for
// them, validates schemas with a JSON Schema 2020-12 validator
// (santhosh-tekuri/jsonschema), so the 3.1 features the document uses
// (type arrays with "null", const, schema examples, $ref with sibling
// description) are checked, not skipped: nothing is rewritten before
// validation.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/auth"
	"github.com/moffman/moffman/metrics"
	"github.com/moffman/moffman/sqlite"
)

var registerDecoders sync.Once

// loadOpenAPI loads and validates the embedded document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	registerDecoders.Do(func() {
		// kin-openapi decodes only the usual media types; a feed is text.
		openapi3filter.RegisterBodyDecoder("text/calendar", func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(body)
			return string(b), err
		})
		openapi3filter.RegisterBodyDecoder("text/csv", func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(body)
			return string(b), err
		})
	})
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatalf("loading openapi.json: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi.json is OpenAPI %q, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	// Every operation has an id, a summary, a security statement (empty
	// for the public ones) and documented answers.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" || op.Summary == "" || op.Description == "" {
				t.Errorf("%s lacks an operationId, summary or description", name)
			}
			if op.Security == nil {
				t.Errorf("%s does not say which token it needs (security: [] for none)", name)
			}
			if op.Responses.Value("200") == nil {
				t.Errorf("%s documents no 200 answer", name)
			}
			if op.Security != nil && len(*op.Security) > 0 {
				for _, code := range []string{"401", "403"} {
					if op.Responses.Value(code) == nil {
						t.Errorf("%s needs a token but documents no %s", name, code)
					}
				}
			}
		}
	}
}

// tableRoutes is the route table with every optional route in it: the
// metrics and the web page.
func tableRoutes() []route {
	s := &Server{MetricsHandler: http.NotFoundHandler(), Web: http.NotFoundHandler()}
	return s.routes()
}

// notInDocument are the patterns of Handler that the document leaves out
// on purpose: catch-alls that answer 404 for anything unknown (described
// by the response NotFound) and the browser pages of the web UI, which
// answer HTML and are no part of the API.
var notInDocument = map[string]string{
	"/api/":              "catch-all: 404 problem details for unknown API paths",
	"/":                  "catch-all: 404 problem details for unknown pages",
	"GET /{$}":           "web UI page (HTML)",
	"GET /occupancy":     "web UI page (HTML)",
	"GET /occupancy.csv": "web UI download, for a signed-in browser (the API's is /api/v1/offices/{office_id}/occupancy.csv)",
	"/login":             "web UI page (HTML)",
	"POST /logout":       "web UI page (HTML)",
	"GET /static/":       "web UI assets",
}

// wildcard matches a ServeMux wildcard, to compare patterns with
// OpenAPI path templates.
var wildcard = regexp.MustCompile(`\{([a-zA-Z_][a-zA-Z0-9_]*)(?:\.\.\.)?\}`)

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	documented := map[string]bool{} // "METHOD /path"
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	inServer := map[string]bool{}
	for _, r := range tableRoutes() {
		key := strings.TrimSpace(r.method + " " + r.path)
		if _, ok := notInDocument[key]; ok {
			continue
		}
		path := wildcard.ReplaceAllString(r.path, "{$1}")
		if r.method == "" {
			// A pattern without a method answers every method itself:
			// the document must have the path (with its GET).
			if doc.Paths.Value(path) == nil {
				t.Errorf("the route table serves %s, which openapi.json does not describe", path)
				continue
			}
			for method := range doc.Paths.Value(path).Operations() {
				inServer[method+" "+path] = true
			}
			continue
		}
		inServer[r.method+" "+path] = true
		if !documented[r.method+" "+path] {
			t.Errorf("the route table serves %s %s, which openapi.json does not describe", r.method, path)
			continue
		}
		// The document names the scope the table requires.
		want := []string{}
		if r.scope != public {
			want = []string{string(r.scope)}
		}
		var got []string
		for _, req := range *doc.Paths.Value(path).GetOperation(r.method).Security {
			got = append(got, req["bearerAuth"]...)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s %s needs the scope %q in the route table, but openapi.json says %v", r.method, path, r.scope, got)
		}
	}
	for op := range documented {
		if !inServer[op] {
			t.Errorf("openapi.json describes %s, which the route table does not serve", op)
		}
	}
}

// switchable is a failure the test turns on and off.
type switchable struct {
	mu  sync.Mutex
	err error
}

func (s *switchable) set(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *switchable) get() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// faultyCalendar fails every call on the Prague calendar while its fault
// is set.
type faultyCalendar struct {
	moffman.Calendar
	fault *switchable
}

func (c faultyCalendar) check(calendarID string) error {
	if calendarID != pragueCal {
		return nil
	}
	return c.fault.get()
}

func (c faultyCalendar) Insert(ctx context.Context, cal string, ev moffman.Event) (moffman.Event, error) {
	if err := c.check(cal); err != nil {
		return moffman.Event{}, err
	}
	return c.Calendar.Insert(ctx, cal, ev)
}

func (c faultyCalendar) Get(ctx context.Context, cal, id string) (moffman.Event, error) {
	if err := c.check(cal); err != nil {
		return moffman.Event{}, err
	}
	return c.Calendar.Get(ctx, cal, id)
}

func (c faultyCalendar) Patch(ctx context.Context, cal, id string, p moffman.EventPatch) (moffman.Event, error) {
	if err := c.check(cal); err != nil {
		return moffman.Event{}, err
	}
	return c.Calendar.Patch(ctx, cal, id, p)
}

func (c faultyCalendar) Delete(ctx context.Context, cal, id string) error {
	if err := c.check(cal); err != nil {
		return err
	}
	return c.Calendar.Delete(ctx, cal, id)
}

func (c faultyCalendar) List(ctx context.Context, cal string, q moffman.ListQuery) (moffman.EventPage, error) {
	if err := c.check(cal); err != nil {
		return moffman.EventPage{}, err
	}
	return c.Calendar.List(ctx, cal, q)
}

type stubSync struct {
	fail   *switchable
	status []moffman.OfficeSyncStatus
}

func (s stubSync) Status(context.Context) ([]moffman.OfficeSyncStatus, error) {
	if err := s.fail.get(); err != nil {
		return nil, err
	}
	return s.status, nil
}

// RetryJob knows one job waiting for an operator and one that is not.
func (s stubSync) RetryJob(_ context.Context, calendarID, eventID string) (moffman.Job, error) {
	if err := s.fail.get(); err != nil {
		return moffman.Job{}, err
	}
	job := moffman.Job{OfficeID: "prague", CalendarID: calendarID, EventID: eventID, Step: moffman.StepDetected, UnknownOutcomes: 3}
	switch {
	case calendarID == pragueCal && eventID == "waiting0event":
		return job, nil
	case calendarID == pragueCal && eventID == "manual0event":
		return job, moffman.Errorf(moffman.Conflict, "the job is at step detected, not waiting for an operator")
	}
	return moffman.Job{}, moffman.Errorf(moffman.NotFound, "no manual-event job for event %q", eventID)
}

type stubReloader struct{ fail *switchable }

func (r stubReloader) Reload(context.Context) error { return r.fail.get() }

// The failures that the answers 500, 502 and 503 stand for.
var (
	errBug         = errors.New("a bug")                                              // 500
	errRefused     = moffman.Errorf(moffman.Upstream, "the backend refused the call") // 502
	errUnavailable = moffman.Errorf(moffman.Unavailable, "the backend is down")       // 503
)

// exchange is one request of the conformance test and the answer it must
// get.
type exchange struct {
	method, target string // target: path and query
	token          string // the name of a test token; "" sends none
	queryToken     bool   // send the token as ?token= instead of a header
	body           string
	header         map[string]string
	status         int
	// docRejects: the document itself says the request is wrong (a
	// missing or malformed parameter or body), so request validation must
	// fail; otherwise it must pass.
	docRejects bool
}

// conformance sends exchanges to the server and validates them against
// the document, noting which operations answered which statuses.
type conformance struct {
	t      *testing.T
	doc    *openapi3.T
	router routers.Router
	base   string
	seen   map[string]map[int]bool // "METHOD /path/template" → statuses
}

func tokenSecret(name string) string { return name + "-secret-0123456789" }

// validateAuth checks that a request carries what a security scheme asks
// for; whether the token is valid is for the server to say.
func validateAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	req := in.RequestValidationInput.Request
	switch s := in.SecurityScheme; {
	case s.Type == "http" && s.Scheme == "bearer":
		if h := req.Header.Get("Authorization"); !strings.HasPrefix(h, "Bearer ") || len(h) == len("Bearer ") {
			return errors.New("no bearer token")
		}
	case s.Type == "apiKey" && s.In == "query":
		if req.URL.Query().Get(s.Name) == "" {
			return fmt.Errorf("no query parameter %s", s.Name)
		}
	default:
		return fmt.Errorf("unexpected security scheme %s", in.SecuritySchemeName)
	}
	return nil
}

func (c *conformance) request(x exchange) *http.Request {
	c.t.Helper()
	target := x.target
	if x.token != "" && x.queryToken {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + "token=" + url.QueryEscape(tokenSecret(x.token))
	}
	req, err := http.NewRequest(x.method, c.base+target, strings.NewReader(x.body))
	if err != nil {
		c.t.Fatal(err)
	}
	if x.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if x.token != "" && !x.queryToken {
		req.Header.Set("Authorization", "Bearer "+tokenSecret(x.token))
	}
	for k, v := range x.header {
		req.Header.Set(k, v)
	}
	return req
}

// send sends the request and returns the answer with its body read.
func (c *conformance) send(req *http.Request) (*http.Response, []byte) {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, raw
}

// do sends an exchange of a documented operation and validates the
// request and the answer against that operation.
func (c *conformance) do(x exchange) (*http.Response, []byte) {
	c.t.Helper()
	name := x.method + " " + x.target
	req := c.request(x)
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Fatalf("%s: openapi.json has no operation for it: %v", name, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: validateAuth, MultiError: true},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case x.docRejects && reqErr == nil:
		c.t.Errorf("%s: the document accepts the request, want it to reject it", name)
	case !x.docRejects && reqErr != nil:
		c.t.Errorf("%s: the document rejects the request: %v", name, reqErr)
	}
	resp, raw := c.send(c.request(x)) // validation read the first body
	if resp.StatusCode != x.status {
		c.t.Errorf("%s: answered %d, want %d: %s", name, resp.StatusCode, x.status, raw)
	}
	respErr := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(raw)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	if respErr != nil {
		c.t.Errorf("%s: the %d answer does not conform to openapi.json: %v\n%s", name, resp.StatusCode, respErr, raw)
	}
	if resp.StatusCode == http.StatusNotModified {
		// kin-openapi does not validate 304 answers; check the header the document requires.
		if resp.Header.Get("ETag") == "" {
			c.t.Errorf("%s: 304 without ETag", name)
		}
	}
	key := route.Method + " " + route.Path
	if c.seen[key] == nil {
		c.seen[key] = map[int]bool{}
	}
	c.seen[key][resp.StatusCode] = true
	return resp, raw
}

// doOutside sends an exchange that no operation covers (an unknown path or
// method) and validates the answer against the reusable response the
// document names for it.
func (c *conformance) doOutside(x exchange, response string) (*http.Response, []byte) {
	c.t.Helper()
	name := x.method + " " + x.target
	req := c.request(x)
	if _, _, err := c.router.FindRoute(req); err == nil {
		c.t.Fatalf("%s: openapi.json has an operation for it", name)
	}
	ref := c.doc.Components.Responses[response]
	if ref == nil {
		c.t.Fatalf("openapi.json has no response %s", response)
	}
	resp, raw := c.send(req)
	if resp.StatusCode != x.status {
		c.t.Errorf("%s: answered %d, want %d: %s", name, resp.StatusCode, x.status, raw)
	}
	// Validate against an operation that has just that response.
	op := &openapi3.Operation{Responses: openapi3.NewResponses(openapi3.WithStatus(x.status, ref))}
	in := &openapi3filter.RequestValidationInput{Request: req, Route: &routers.Route{Spec: c.doc, Path: x.target, Method: x.method, Operation: op}}
	err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body:    io.NopCloser(bytes.NewReader(raw)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	if err != nil {
		c.t.Errorf("%s: the %d answer does not conform to the response %s: %v\n%s", name, resp.StatusCode, response, err, raw)
	}
	return resp, raw
}

// newConformanceServer serves the API as in production: tokens of every
// scope, metrics, sync status, reload and readiness, over the in-memory
// store, with failures the test can switch on.
// ostravaCal is the calendar of the conformance server's office with one
// desk and a closure.
const ostravaCal = "ostrava@group.calendar.google.com"

var one = 1

func newConformanceServer(t *testing.T) (srv *httptest.Server, store *sqlite.Store, calFault, syncFault, reloadFault, notReady *switchable) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	calFault, syncFault, reloadFault, notReady = &switchable{}, &switchable{}, &switchable{}, &switchable{}
	dir := moffman.NewDirectory(moffman.DirectoryLists{
		Offices: []moffman.Office{{Name: "prague", CalendarID: pragueCal}, {Name: "brno", CalendarID: brnoCal},
			{Name: "ostrava", CalendarID: ostravaCal, Capacity: &one}},
		Closures: []moffman.Closure{{Office: "ostrava", From: "2022-07-01", To: "2022-07-02", Reason: "inventory"}},
		ManualUsers: []moffman.Person{
			{Email: "manual@acme.com", FirstName: "Manual", LastName: "Person", EmployeeNumber: "42"},
		},
	})
	now := time.Date(2022, 6, 27, 10, 0, 0, 0, time.UTC)
	token := func(name string, scopes ...auth.Scope) auth.Token {
		return auth.Token{Name: name, SHA256: sha256.Sum256([]byte(tokenSecret(name))), Scopes: scopes}
	}
	m := metrics.New()
	s := &Server{
		Reservations: &moffman.Reservations{
			Calendar: faultyCalendar{store, calFault}, Directory: dir,
			Colors: moffman.Colors{Unapproved: "4", Approved: "5"}, MaxDays: 366, Logger: slog.New(slog.DiscardHandler),
		},
		Directory: dir,
		Reloader:  stubReloader{reloadFault},
		Sync: stubSync{fail: syncFault, status: []moffman.OfficeSyncStatus{
			{Office: "brno", CalendarID: brnoCal},
			{
				Office: "prague", CalendarID: pragueCal, LastRun: now.Add(-time.Minute), LastDuration: 1500 * time.Millisecond,
				LastError: "Google Calendar is down", FullSync: true, EventsSeen: 3, ManualDetected: 1, EventsApproved: 7, FormsDelivered: 6,
				Jobs: moffman.JobStats{Pending: 2, Oldest: now.Add(-90 * time.Second), Waitlisted: 4, LastError: "Byroapi refused the form",
					NeedsOperator: []moffman.Job{{OfficeID: "prague", CalendarID: pragueCal, EventID: "waiting0event", Step: moffman.StepNeedsOperator,
						UnknownOutcomes: 3, LastError: "no answer to 3 form requests", NextAttempt: now, Created: now.Add(-time.Hour)}}},
			},
		}},
		Auth: auth.NewAuth([]auth.Token{
			token("reader", auth.ScopeRead), token("writer", auth.ScopeWrite), token("admin", auth.ScopeAdmin), token("feeder", auth.ScopeFeed),
		}),
		Ready:          func(context.Context) error { return notReady.get() },
		Observer:       m,
		MetricsHandler: m.Handler(),
		Logger:         slog.New(slog.DiscardHandler),
		Now:            func() time.Time { return now },
	}
	srv = httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, store, calFault, syncFault, reloadFault, notReady
}

func TestOpenAPIConformance(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	srv, store, calFault, syncFault, reloadFault, notReady := newConformanceServer(t)
	// The document's server is relative ("/"): the service at any address.
	doc.Servers = openapi3.Servers{{URL: srv.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	c := &conformance{t: t, doc: doc, router: router, base: srv.URL, seen: map[string]map[int]bool{}}

	// Events the API did not write: one of the Python service (no
	// requester properties) and a manual one.
	ctx := context.Background()
	pythonID := moffman.EventID("Old Python", "08:00:00 2022/06/01", "2022-06-29", "2022-06-30")
	for _, ev := range []moffman.Event{
		{ID: pythonID, Summary: "(Old Python)", Start: "2022-06-29", End: "2022-06-30", ColorID: "4", Private: map[string]string{"event_processed": "false"}},
		{ID: "manual0event", Summary: "office", Start: "2022-06-28", End: "2022-07-01", CreatorEmail: "manual@acme.com"},
	} {
		if _, err := store.Insert(ctx, pragueCal, ev); err != nil {
			t.Fatal(err)
		}
	}
	approvedBody := reservation(true)
	other := `{"user": {"name": "Jan Novák", "email": "jan@acme.com", "team": "ops"}, "approved": false, "start": "2022-06-28", "end": "2022-06-30",
		"request_dt": "08:00:00 2022/06/20", "office_id": "prague", "comment": "unknown fields are ignored"}`
	otherID := moffman.EventID("Jan Novák", "08:00:00 2022/06/20", "2022-06-28", "2022-06-30")
	window := "from=2022-06-01&to=2022-08-01"

	// POST /api/v1/reservations
	ok := func(method, target, token, body string) exchange {
		return exchange{method: method, target: target, token: token, body: body, status: 200}
	}
	c.do(ok("POST", "/api/v1/reservations", "writer", reservation(false)))
	_, raw := c.do(ok("POST", "/api/v1/reservations", "writer", approvedBody))
	if !strings.Contains(string(raw), `"status":"approved"`) || !strings.Contains(string(raw), vectorID) {
		t.Errorf("approval answered %s", raw)
	}
	c.do(ok("POST", "/api/v1/reservations", "writer", approvedBody)) // a repeat is harmless
	c.do(ok("POST", "/api/v1/reservations", "writer", other))
	c.do(ok("POST", "/api/v1/reservations", "writer", `{"user": {"name": "No Mail", "email": null}, "approved": true, "start": "2022-07-04", "end": "2022-07-05", "request_dt": "", "office_id": "brno"}`))
	valid := map[string]any{}
	if err := json.Unmarshal([]byte(reservation(false)), &valid); err != nil {
		t.Fatal(err)
	}
	with := func(change func(m map[string]any)) string {
		m := maps.Clone(valid)
		m["user"] = maps.Clone(valid["user"].(map[string]any))
		change(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	// The service reads the body as JSON whatever its Content-Type says.
	c.do(exchange{method: "POST", target: "/api/v1/reservations", token: "writer", body: reservation(false), status: 200, docRejects: true,
		header: map[string]string{"Content-Type": "text/plain"}})
	for _, x := range []exchange{
		{body: ``, docRejects: true},
		{body: `{"user":`, docRejects: true},
		{body: `[]`, docRejects: true},
		{body: with(func(m map[string]any) { delete(m, "start") }), docRejects: true},
		{body: with(func(m map[string]any) { delete(m, "user") }), docRejects: true},
		{body: with(func(m map[string]any) { delete(m, "request_dt") }), docRejects: true},
		{body: with(func(m map[string]any) { m["approved"] = "yes" }), docRejects: true},
		{body: with(func(m map[string]any) { m["start"] = 20220628 }), docRejects: true},
		{body: with(func(m map[string]any) { m["start"] = "28.06.2022" }), docRejects: true},
		{body: with(func(m map[string]any) { m["user"] = map[string]any{"name": " "} }), docRejects: true},
		{body: with(func(m map[string]any) { m["user"] = map[string]any{"name": "Two\nLines"} }), docRejects: true},
		{body: with(func(m map[string]any) { m["office_id"] = "" }), docRejects: true},
		// Valid for the document, refused by the service.
		{body: with(func(m map[string]any) { m["end"] = "2022-06-28" })},
		{body: with(func(m map[string]any) { m["end"] = "2024-06-28" })},
		{body: with(func(m map[string]any) { m["user"] = map[string]any{"name": "A", "email": "nope"} })},
	} {
		x.method, x.target, x.token, x.status = "POST", "/api/v1/reservations", "writer", 400
		c.do(x)
	}
	c.do(exchange{method: "POST", target: "/api/v1/reservations", token: "writer", body: with(func(m map[string]any) { m["office_id"] = "paris" }), status: 404})
	// The body limit: a valid reservation with a large unknown field.
	c.do(exchange{method: "POST", target: "/api/v1/reservations", token: "writer", status: 413,
		body: with(func(m map[string]any) { m["pad"] = strings.Repeat("x", MaxBodyBytes) })})

	// Reads.
	c.do(ok("GET", "/api/v1/offices", "reader", ""))
	_, raw = c.do(ok("GET", "/api/v1/offices/prague/reservations?"+window, "reader", ""))
	for _, want := range []string{`"status":"manual"`, `"status":"pending"`, `"status":"approved"`, pythonID} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the list lacks %s: %s", want, raw)
		}
	}
	c.do(ok("GET", "/api/v1/offices/prague/reservations?"+window+"&include_cancelled=true", "reader", ""))
	// Pages: a page with next_page_token, the next one with the token, and
	// the offices likewise; bad limits and tokens answer 400.
	var page struct {
		Next string `json:"next_page_token"`
	}
	for _, list := range []string{"/api/v1/offices/prague/reservations?" + window + "&", "/api/v1/people/user@acme.com/reservations?" + window + "&", "/api/v1/offices?"} {
		_, raw = c.do(ok("GET", list+"limit=1", "reader", ""))
		if err := json.Unmarshal(raw, &page); err != nil || page.Next == "" {
			t.Errorf("GET %slimit=1: no next_page_token in %s", list, raw)
		}
		c.do(ok("GET", list+"limit=2500&page_token="+url.QueryEscape(page.Next), "reader", ""))
		c.do(exchange{method: "GET", target: list + "limit=0", token: "reader", status: 400, docRejects: true})
		c.do(exchange{method: "GET", target: list + "limit=2501", token: "reader", status: 400, docRejects: true})
		c.do(exchange{method: "GET", target: list + "limit=ten", token: "reader", status: 400, docRejects: true})
		c.do(exchange{method: "GET", target: list + "page_token=garbage", token: "reader", status: 400})
	}
	_, raw = c.do(ok("GET", "/api/v1/offices/prague/reservations?"+window+"&limit=1", "reader", ""))
	_ = json.Unmarshal(raw, &page)
	c.do(exchange{method: "GET", target: "/api/v1/offices/brno/reservations?" + window + "&page_token=" + url.QueryEscape(page.Next), token: "reader", status: 400})
	c.do(ok("GET", "/api/v1/offices/prague/reservations/"+vectorID, "reader", ""))
	c.do(ok("GET", "/api/v1/offices/prague/reservations/"+pythonID, "reader", ""))
	c.do(ok("GET", "/api/v1/offices/prague/reservations/manual0event", "reader", ""))
	c.do(ok("DELETE", "/api/v1/offices/prague/reservations/"+otherID, "writer", ""))
	c.do(ok("DELETE", "/api/v1/offices/prague/reservations/"+otherID, "writer", "")) // twice is harmless
	_, raw = c.do(ok("GET", "/api/v1/offices/prague/reservations/"+otherID, "reader", ""))
	if !strings.Contains(string(raw), `"status":"cancelled"`) {
		t.Errorf("the cancelled reservation reads %s", raw)
	}
	for _, x := range []exchange{
		{target: "/api/v1/offices/prague/reservations", docRejects: true},
		{target: "/api/v1/offices/prague/reservations?from=2022-06-01", docRejects: true},
		{target: "/api/v1/offices/prague/reservations?from=June&to=2022-07-01", docRejects: true},
		{target: "/api/v1/offices/prague/reservations?" + window + "&include_cancelled=maybe", docRejects: true},
		{target: "/api/v1/offices/prague/reservations?from=2022-07-01&to=2022-06-01"},
		{target: "/api/v1/offices/prague/reservations/XYZ", docRejects: true},
		{target: "/api/v1/offices/prague/reservations/abc", docRejects: true},
		{method: "DELETE", target: "/api/v1/offices/prague/reservations/xyz!", docRejects: true, token: "writer"},
	} {
		x.method, x.token, x.status = cmp.Or(x.method, "GET"), cmp.Or(x.token, "reader"), 400
		c.do(x)
	}
	for _, x := range []exchange{
		{target: "/api/v1/offices/paris/reservations?" + window},
		{target: "/api/v1/offices/paris/reservations/" + vectorID},
		{target: "/api/v1/offices/brno/reservations/" + vectorID},
		{method: "DELETE", target: "/api/v1/offices/paris/reservations/" + vectorID, token: "writer"},
		{method: "DELETE", target: "/api/v1/offices/prague/reservations/0123456789abcdef", token: "writer"},
	} {
		x.method, x.token, x.status = cmp.Or(x.method, "GET"), cmp.Or(x.token, "reader"), 404
		c.do(x)
	}

	// Who's in: attendance, a person's reservations, the feed.
	c.do(ok("GET", "/api/v1/offices/prague/attendance?from=2022-06-27&to=2022-07-02", "reader", ""))
	c.do(ok("GET", "/api/v1/people/user@acme.com/reservations?"+window, "reader", ""))
	// The service also takes yes/no for booleans, as the Python service did;
	// the document asks for true/false.
	c.do(exchange{method: "GET", target: "/api/v1/people/jan@acme.com/reservations?" + window + "&include_cancelled=yes", token: "reader", status: 200, docRejects: true})
	resp, _ := c.do(ok("GET", "/api/v1/offices/prague/calendar.ics?"+window, "feeder", ""))
	c.do(exchange{method: "GET", target: "/api/v1/offices/prague/calendar.ics", token: "feeder", queryToken: true, status: 200})
	c.do(exchange{method: "GET", target: "/api/v1/offices/prague/calendar.ics?from=2022-06-01", token: "feeder", queryToken: true, status: 200})
	c.do(exchange{method: "GET", target: "/api/v1/offices/prague/calendar.ics?" + window, token: "feeder", status: 304,
		header: map[string]string{"If-None-Match": resp.Header.Get("ETag")}})
	for _, x := range []exchange{
		{target: "/api/v1/offices/prague/attendance?from=2022-06-27", docRejects: true},
		{target: "/api/v1/offices/prague/attendance?from=2022-06-27&to=2022-06-27"},
		{target: "/api/v1/offices/prague/attendance?from=2022-01-01&to=2023-06-01"},
		{target: "/api/v1/people/nobody/reservations?" + window},
		{target: "/api/v1/people/user@acme.com/reservations", docRejects: true},
		{target: "/api/v1/people/user@acme.com/reservations?from=2022-01-01&to=2023-06-01"},
		{target: "/api/v1/people/user@acme.com/reservations?" + window + "&include_cancelled=maybe", docRejects: true},
		{target: "/api/v1/offices/prague/calendar.ics?from=2022-07-01&to=2022-06-01", token: "feeder"},
		{target: "/api/v1/offices/prague/calendar.ics?from=July", token: "feeder", docRejects: true},
		{target: "/api/v1/offices/prague/calendar.ics?from=2022-01-01&to=2023-06-01", token: "feeder"},
	} {
		x.method, x.token, x.status = "GET", cmp.Or(x.token, "reader"), 400
		c.do(x)
	}
	c.do(exchange{method: "GET", target: "/api/v1/offices/paris/attendance?from=2022-06-27&to=2022-07-02", token: "reader", status: 404})

	// Capacity: ostrava has one desk and is closed on 2022-07-01.
	ostrava := func(name, start, end string) string {
		return fmt.Sprintf(`{"user": {"name": %q}, "approved": true, "start": %q, "end": %q, "request_dt": "", "office_id": "ostrava"}`, name, start, end)
	}
	c.do(ok("POST", "/api/v1/reservations", "writer", ostrava("First In", "2022-06-29", "2022-06-30")))
	_, raw = c.do(exchange{method: "POST", target: "/api/v1/reservations", token: "writer", status: 409, body: ostrava("Too Late", "2022-06-29", "2022-07-02")})
	if !strings.Contains(string(raw), `"full_days":[{"date":"2022-06-29","closed":false,"capacity":1,"approved":1},{"date":"2022-07-01","closed":true,"reason":"inventory","capacity":1,"approved":0}]`) {
		t.Errorf("409 without its full days: %s", raw)
	}
	_, raw = c.do(ok("GET", "/api/v1/offices/ostrava/availability?from=2022-06-29&to=2022-07-02", "reader", ""))
	if !strings.Contains(string(raw), `{"date":"2022-06-29","capacity":1,"closed":false,"approved":1,"pending":0,"waitlisted":0,"free":0}`) ||
		!strings.Contains(string(raw), `{"date":"2022-07-01","capacity":1,"closed":true,"reason":"inventory","approved":0,"pending":0,"waitlisted":0,"free":0}`) {
		t.Errorf("availability: %s", raw)
	}
	_, raw = c.do(ok("GET", "/api/v1/offices/prague/availability?from=2022-06-28&to=2022-06-29", "reader", ""))
	if !strings.Contains(string(raw), `"capacity":null`) || !strings.Contains(string(raw), `"free":null`) {
		t.Errorf("availability of an unlimited office: %s", raw)
	}
	for _, x := range []exchange{
		{target: "/api/v1/offices/ostrava/availability?from=2022-06-27", docRejects: true},
		{target: "/api/v1/offices/ostrava/availability?from=2022-06-27&to=2022-06-27"},
		{target: "/api/v1/offices/ostrava/availability?from=2022-01-01&to=2023-06-01"},
	} {
		x.method, x.token, x.status = "GET", "reader", 400
		c.do(x)
	}
	c.do(exchange{method: "GET", target: "/api/v1/offices/paris/availability?from=2022-06-27&to=2022-07-02", token: "reader", status: 404})
	c.do(exchange{method: "GET", target: "/api/v1/offices/paris/calendar.ics", token: "feeder", queryToken: true, status: 404})
	_, raw = c.do(ok("GET", "/api/v1/offices/prague/occupancy.csv?from=2022-06-27&to=2022-07-02", "reader", ""))
	if !strings.HasPrefix(string(raw), "date,capacity,closed,approved,pending,waitlisted,free\r\n2022-06-27,") {
		t.Errorf("occupancy CSV: %q", raw)
	}
	c.do(exchange{method: "GET", target: "/api/v1/offices/prague/occupancy.csv?from=2022-06-27", token: "reader", status: 400, docRejects: true})
	c.do(exchange{method: "GET", target: "/api/v1/offices/prague/occupancy.csv?from=2022-01-01&to=2023-06-01", token: "reader", status: 400})
	c.do(exchange{method: "GET", target: "/api/v1/offices/paris/occupancy.csv?from=2022-06-27&to=2022-07-02", token: "reader", status: 404})

	// Administration and operations.
	_, raw = c.do(ok("GET", "/api/v1/sync", "admin", ""))
	if !strings.Contains(string(raw), `"last_run":null`) || !strings.Contains(string(raw), `"oldest_age_seconds":90`) ||
		!strings.Contains(string(raw), `"needs_operator":1`) || !strings.Contains(string(raw), `"event_id":"waiting0event"`) ||
		!strings.Contains(string(raw), `"pending":2,"waitlisted":4,`) {
		t.Errorf("sync status: %s", raw)
	}
	retry := "/api/v1/sync/jobs/" + pragueCal + "/"
	c.do(ok("POST", retry+"waiting0event/retry", "admin", ""))
	c.do(exchange{method: "POST", target: retry + "manual0event/retry", token: "admin", status: 409})
	c.do(exchange{method: "POST", target: retry + "unknown0event/retry", token: "admin", status: 404})
	c.do(ok("GET", "/api/v1/config_update", "admin", ""))
	c.do(ok("POST", "/api/v1/config_update", "admin", ""))
	c.do(ok("GET", "/api/v1/openapi.json", "", ""))
	c.do(ok("GET", "/healthz", "", ""))
	c.do(ok("GET", "/readyz", "", ""))
	c.do(ok("GET", "/metrics", "", ""))
	_, raw = c.send(c.request(exchange{method: "GET", target: "/api/v1/openapi.json"}))
	if !bytes.Equal(raw, openAPIDocument) {
		t.Error("GET /api/v1/openapi.json does not serve openapi.json")
	}

	// Tokens: every operation that needs one answers 401 without it or
	// with an unknown one, and 403 to a token without the scope.
	samples := map[string]string{"office_id": "prague", "id": vectorID, "email": "user@acme.com", "calendar_id": pragueCal, "event_id": "waiting0event"}
	bodies := map[string]string{"POST /api/v1/reservations": reservation(false)}
	queries := map[string]string{
		"/api/v1/offices/{office_id}/reservations": "?" + window, "/api/v1/offices/{office_id}/attendance": "?" + window,
		"/api/v1/offices/{office_id}/availability":  "?" + window,
		"/api/v1/people/{email}/reservations":       "?" + window,
		"/api/v1/offices/{office_id}/occupancy.csv": "?" + window,
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		target := expandPath(path, samples) + queries[path]
		for method, op := range item.Operations() {
			if op.Security == nil || len(*op.Security) == 0 {
				continue
			}
			body := bodies[method+" "+path]
			var scope auth.Scope
			for _, req := range *op.Security {
				if scopes := req["bearerAuth"]; len(scopes) == 1 {
					scope = auth.Scope(scopes[0])
				}
			}
			if scope == "" {
				t.Fatalf("%s %s: security names no bearerAuth scope", method, path)
			}
			c.do(exchange{method: method, target: target, body: body, status: 401, docRejects: true})
			c.do(exchange{method: method, target: target, body: body, token: "nobody", status: 401})
			for _, other := range []string{"reader", "writer", "admin", "feeder"} {
				if scope != tokenScopes[other] {
					c.do(exchange{method: method, target: target, body: body, token: other, status: 403})
				}
			}
		}
	}
	c.do(exchange{method: "GET", target: "/api/v1/offices/prague/calendar.ics", token: "nobody", queryToken: true, status: 401})
	c.do(exchange{method: "GET", target: "/api/v1/offices/prague/calendar.ics", token: "reader", queryToken: true, status: 403})

	// Failures of what the service depends on.
	for _, f := range []struct {
		err    error
		status int
	}{{errBug, 500}, {errRefused, 502}, {errUnavailable, 503}} {
		calFault.set(f.err)
		for _, x := range []exchange{
			{method: "POST", target: "/api/v1/reservations", token: "writer", body: reservation(false)},
			{method: "GET", target: "/api/v1/offices/prague/reservations?" + window, token: "reader"},
			{method: "GET", target: "/api/v1/offices/prague/reservations/" + vectorID, token: "reader"},
			{method: "DELETE", target: "/api/v1/offices/prague/reservations/" + vectorID, token: "writer"},
			{method: "GET", target: "/api/v1/offices/prague/attendance?" + window, token: "reader"},
			{method: "GET", target: "/api/v1/offices/prague/availability?" + window, token: "reader"},
			{method: "GET", target: "/api/v1/offices/prague/occupancy.csv?" + window, token: "reader"},
			{method: "GET", target: "/api/v1/offices/prague/calendar.ics", token: "feeder", queryToken: true},
			{method: "GET", target: "/api/v1/people/user@acme.com/reservations?" + window, token: "reader"},
		} {
			x.status = f.status
			c.do(x)
		}
		calFault.set(nil)
		reloadFault.set(f.err)
		c.do(exchange{method: "GET", target: "/api/v1/config_update", token: "admin", status: f.status})
		c.do(exchange{method: "POST", target: "/api/v1/config_update", token: "admin", status: f.status})
		reloadFault.set(nil)
		if f.status != 502 {
			syncFault.set(f.err)
			c.do(exchange{method: "GET", target: "/api/v1/sync", token: "admin", status: f.status})
			c.do(exchange{method: "POST", target: retry + "waiting0event/retry", token: "admin", status: f.status})
			syncFault.set(nil)
		}
	}
	notReady.set(errors.New("the store does not answer"))
	c.do(exchange{method: "GET", target: "/readyz", status: 503})
	notReady.set(nil)

	// Outside the operations: methods a path does not list answer 405
	// with the methods the document lists, unknown paths 404, and both
	// 401 without a token.
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		if !strings.HasPrefix(path, "/api/") {
			continue // /healthz, /readyz and /metrics fall to the catch-all: 404
		}
		allowed := slices.Collect(maps.Keys(item.Operations()))
		if slices.Contains(allowed, "GET") {
			allowed = append(allowed, "HEAD") // HTTP serves HEAD wherever GET is served
		}
		slices.Sort(allowed)
		token := "reader"
		if op := item.GetOperation("GET"); op != nil && op.Security != nil && len(*op.Security) == 0 {
			token = "" // public
		}
		resp, _ := c.doOutside(exchange{method: "PATCH", target: expandPath(path, samples), token: token, status: 405}, "MethodNotAllowed")
		if got := resp.Header.Get("Allow"); got != strings.Join(allowed, ", ") {
			t.Errorf("PATCH %s: Allow %q, want the document's methods %q", path, got, strings.Join(allowed, ", "))
		}
	}
	c.doOutside(exchange{method: "PUT", target: "/api/v1/reservations", status: 401}, "Unauthorized")
	c.doOutside(exchange{method: "GET", target: "/api/v1/nothing", token: "reader", status: 404}, "NotFound")
	c.doOutside(exchange{method: "GET", target: "/api/v1/nothing", status: 401}, "Unauthorized")
	c.doOutside(exchange{method: "GET", target: "/nothing", status: 404}, "NotFound")

	// Every operation was exercised with every status it documents.
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			key := method + " " + path
			if c.seen[key] == nil {
				t.Errorf("%s is not exercised", key)
				continue
			}
			for code := range op.Responses.Map() {
				status, err := strconv.Atoi(code)
				if err != nil || !c.seen[key][status] {
					t.Errorf("%s: the documented answer %s is not exercised", key, code)
				}
			}
			for status := range c.seen[key] {
				if op.Responses.Status(status) == nil {
					t.Errorf("%s answered %d, which it does not document", key, status)
				}
			}
		}
	}
	if t.Failed() {
		keys := slices.Sorted(maps.Keys(c.seen))
		for _, k := range keys {
			codes := slices.Sorted(maps.Keys(c.seen[k]))
			t.Logf("exercised %s: %v", k, codes)
		}
	}
}

var tokenScopes = map[string]auth.Scope{"reader": auth.ScopeRead, "writer": auth.ScopeWrite, "admin": auth.ScopeAdmin, "feeder": auth.ScopeFeed}

// expandPath fills the {name} parameters of a path template.
func expandPath(path string, values map[string]string) string {
	return wildcard.ReplaceAllStringFunc(path, func(m string) string {
		return url.PathEscape(values[wildcard.FindStringSubmatch(m)[1]])
	})
}
