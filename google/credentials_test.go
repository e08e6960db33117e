package google

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/googlefake"
)

const (
	trustCal   = "trust@group.calendar.google.com"
	trustSheet = "1TrustSheet"
)

// trustEnv is a fake Google with one shared calendar and one spreadsheet,
// and both adapters over it, reporting OnCall into outcomes.
type trustEnv struct {
	fake     *googlefake.Server
	cal      *Calendar
	dir      *Directory
	outcomes *outcomeLog
}

func newTrustEnv(t *testing.T) *trustEnv {
	t.Helper()
	fake, err := googlefake.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.Listen(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	fake.AddCalendar(trustCal, true)
	fake.SetSheetValues(trustSheet, "Users", [][]string{{"jan@acme.com", "Jan", "Novák"}})
	e := &trustEnv{fake: fake, outcomes: &outcomeLog{}}
	o := Options{
		KeyJSON:          fake.KeyJSON(),
		CalendarEndpoint: fake.CalendarEndpoint(),
		SheetsEndpoint:   fake.SheetsEndpoint(),
		Retry: RetryPolicy{Attempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond,
			Budget: 2 * time.Second, AttemptTimeout: time.Second},
		OnCall: e.outcomes.add,
	}
	if e.cal, err = NewCalendar(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if e.dir, err = NewSheets(t.Context(), o, SheetRange{}, SheetRange{SpreadsheetID: trustSheet, Range: "Users!A1:D"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// insert stores a fresh pending event through the adapter.
func (e *trustEnv) insert(t *testing.T) moffman.Event {
	t.Helper()
	ev, err := e.cal.Insert(t.Context(), trustCal, moffman.Event{Summary: "Jan Novák - office", Start: "2031-03-03", End: "2031-03-04"})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func (e *trustEnv) loadUsers(t *testing.T) error {
	t.Helper()
	lists, err := e.dir.Load(t.Context())
	if err == nil && (len(lists.ManualUsers) != 1 || lists.ManualUsers[0].Email != "jan@acme.com") {
		t.Fatalf("manual users %+v", lists.ManualUsers)
	}
	return err
}

func (e *trustEnv) wantTokenCalls(t *testing.T, n int) {
	t.Helper()
	if got := e.fake.Calls(googlefake.MethodToken); got != n {
		t.Errorf("%d token requests, want %d", got, n)
	}
}

// outcomeLog keeps the OnCall reports.
type outcomeLog struct {
	mu  sync.Mutex
	all []string
}

func (l *outcomeLog) add(api, method, outcome string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, api+" "+method+" "+outcome)
}

func (l *outcomeLog) count(entry string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.all {
		if e == entry {
			n++
		}
	}
	return n
}

// wantRefused checks that err is the "credentials refused" error: code,
// the account to look at and the key to fix.
func wantRefused(t *testing.T, err error, account string) {
	t.Helper()
	if code := moffman.ErrorCode(err); code != moffman.Upstream && code != moffman.Unavailable {
		t.Fatalf("got %v (code %q), want Upstream or Unavailable", err, code)
	}
	msg := moffman.ErrorMessage(err)
	for _, want := range []string{"refused the credentials", account, "google_api.service_account_key_path"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

// A key rotation revokes the cached token: the next Calendar call is
// answered 401 once, repeated with a new token, and succeeds; the token
// endpoint is asked exactly once more.
func TestRevokedTokenCalendarHeals(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	ev := e.insert(t)
	e.wantTokenCalls(t, 1)

	e.fake.RevokeTokens()
	got, err := e.cal.Get(t.Context(), trustCal, ev.ID)
	if err != nil {
		t.Fatalf("Get after revocation: %v", err)
	}
	if got.ID != ev.ID {
		t.Errorf("got event %q, want %q", got.ID, ev.ID)
	}
	e.wantTokenCalls(t, 2)
	if n := e.fake.Calls(googlefake.MethodEventsGet); n != 2 {
		t.Errorf("%d events.get requests, want 2 (the refused one and its repetition)", n)
	}
	if n := e.outcomes.count("calendar events.get retry"); n != 1 {
		t.Errorf("OnCall: %d retries of events.get, want 1 (%v)", n, e.outcomes.all)
	}
	if err := e.cal.CredentialsError(); err != nil {
		t.Errorf("CredentialsError after a healed revocation: %v", err)
	}

	// The new token is cached: further calls need no token request.
	if _, err := e.cal.List(t.Context(), trustCal, moffman.ListQuery{}); err != nil {
		t.Fatal(err)
	}
	e.wantTokenCalls(t, 2)
}

// The repeated request carries its body again: a revoked token does not
// lose an insert or a patch.
func TestRevokedTokenWritesHeal(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	e.insert(t) // the first token
	e.fake.RevokeTokens()
	ev := e.insert(t)
	stored, ok := e.fake.Event(trustCal, ev.ID)
	if !ok || stored.Summary != "Jan Novák - office" || stored.Start.Date != "2031-03-03" {
		t.Fatalf("stored after a revoked token: %+v (found %v)", stored, ok)
	}

	e.fake.RevokeTokens()
	approved := "Jan Novák - approved"
	if _, err := e.cal.Patch(t.Context(), trustCal, ev.ID, moffman.EventPatch{Summary: &approved}); err != nil {
		t.Fatalf("Patch after revocation: %v", err)
	}
	if stored, _ := e.fake.Event(trustCal, ev.ID); stored.Summary != "Jan Novák - approved" {
		t.Errorf("summary %q after the repeated patch", stored.Summary)
	}
	e.wantTokenCalls(t, 3)
}

func TestRevokedTokenSheetsHeals(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	if err := e.loadUsers(t); err != nil {
		t.Fatal(err)
	}
	e.fake.RevokeTokens()
	if err := e.loadUsers(t); err != nil {
		t.Fatalf("Load after revocation: %v", err)
	}
	e.wantTokenCalls(t, 2)
	if n := e.outcomes.count("sheets spreadsheets.values.get retry"); n != 1 {
		t.Errorf("OnCall: %d retries of values.get, want 1 (%v)", n, e.outcomes.all)
	}
	if err := e.dir.CredentialsError(); err != nil {
		t.Errorf("CredentialsError: %v", err)
	}
}

// Many calls meeting the same revoked token fetch one new token between
// them, not one each.
func TestRevokedTokenConcurrentCallsShareOneRefresh(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	ev := e.insert(t)
	e.fake.RevokeTokens()
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			_, err := e.cal.Get(t.Context(), trustCal, ev.ID)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	e.wantTokenCalls(t, 2)
}

// A revoked key: the fresh token is refused at the token endpoint. The
// call fails saying so, CredentialsError reports it, and both heal by
// themselves once the endpoint accepts the key again.
func TestRefusedKeyReportedAndHeals(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	ev := e.insert(t)
	if err := e.cal.CredentialsError(); err != nil {
		t.Fatalf("CredentialsError before anything went wrong: %v", err)
	}

	e.fake.SetKeyRevoked(true)
	e.fake.RevokeTokens()
	_, err := e.cal.Get(t.Context(), trustCal, ev.ID)
	wantRefused(t, err, e.fake.ServiceAccountEmail())
	e.wantTokenCalls(t, 2) // the first token, then one refused exchange: a refusal is not retried
	cerr := e.cal.CredentialsError()
	if moffman.ErrorCode(cerr) != moffman.Unavailable || !strings.Contains(moffman.ErrorMessage(cerr), e.fake.ServiceAccountEmail()) ||
		!strings.Contains(moffman.ErrorMessage(cerr), "google_api.service_account_key_path") {
		t.Errorf("CredentialsError while the key is refused: %v", cerr)
	}
	if e.dir.CredentialsError() != nil {
		t.Errorf("Sheets reports refused credentials before it tried: %v", e.dir.CredentialsError())
	}
	err = e.loadUsers(t)
	wantRefused(t, err, e.fake.ServiceAccountEmail())
	if e.dir.CredentialsError() == nil {
		t.Error("Sheets CredentialsError is nil while the key is refused")
	}

	e.fake.SetKeyRevoked(false)
	if _, err := e.cal.Get(t.Context(), trustCal, ev.ID); err != nil {
		t.Fatalf("Get after the key is accepted again: %v", err)
	}
	if err := e.cal.CredentialsError(); err != nil {
		t.Errorf("CredentialsError did not heal: %v", err)
	}
	if err := e.loadUsers(t); err != nil {
		t.Fatal(err)
	}
	if err := e.dir.CredentialsError(); err != nil {
		t.Errorf("Sheets CredentialsError did not heal: %v", err)
	}
}

// Google keeps answering 401 even to a token just issued: one repetition
// only, then the credentials-refused error and the health signal.
func TestSecond401IsFinal(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	ev := e.insert(t)
	e.fake.FailNext(googlefake.MethodEventsGet, 2, http.StatusUnauthorized, "authError")
	_, err := e.cal.Get(t.Context(), trustCal, ev.ID)
	wantRefused(t, err, e.fake.ServiceAccountEmail())
	if !strings.Contains(moffman.ErrorMessage(err), "fresh access token") {
		t.Errorf("message %q does not say a fresh token was refused too", moffman.ErrorMessage(err))
	}
	if n := e.fake.Calls(googlefake.MethodEventsGet); n != 2 {
		t.Errorf("%d events.get requests, want 2", n)
	}
	e.wantTokenCalls(t, 2)
	if e.cal.CredentialsError() == nil {
		t.Error("CredentialsError is nil after Google refused a fresh token")
	}
	if _, err := e.cal.Get(t.Context(), trustCal, ev.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.cal.CredentialsError(); err != nil {
		t.Errorf("CredentialsError after Google accepts a token again: %v", err)
	}
}

// A token endpoint that is down for a moment is an outage, not a refusal:
// it is retried and does not flag the credentials.
func TestTokenOutageIsNotRefusal(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	e.fake.FailNext(googlefake.MethodToken, 1, http.StatusServiceUnavailable, "")
	e.insert(t)
	if err := e.cal.CredentialsError(); err != nil {
		t.Errorf("CredentialsError after a token endpoint outage: %v", err)
	}
}

// Unsharing a calendar is not a credentials problem: 404 stays NotFound,
// and nothing asks for a new token.
func TestUnsharedCalendarIsNotRefusal(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	ev := e.insert(t)
	e.fake.Unshare(trustCal)
	_, err := e.cal.Get(t.Context(), trustCal, ev.ID)
	if moffman.ErrorCode(err) != moffman.NotFound {
		t.Fatalf("Get on an unshared calendar: %v", err)
	}
	e.wantTokenCalls(t, 1)
	if e.cal.CredentialsError() != nil {
		t.Errorf("CredentialsError: %v", e.cal.CredentialsError())
	}
	e.fake.Share(trustCal)
	if _, err := e.cal.Get(t.Context(), trustCal, ev.ID); err != nil {
		t.Fatal(err)
	}
}

func TestBadPrivateKey(t *testing.T) {
	t.Parallel()
	fake, err := googlefake.New()
	if err != nil {
		t.Fatal(err)
	}
	fake.SetURL("http://127.0.0.1:1")
	var key map[string]string
	if err := json.Unmarshal(fake.KeyJSON(), &key); err != nil {
		t.Fatal(err)
	}
	for _, pk := range []string{"", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"} {
		key["private_key"] = pk
		b, _ := json.Marshal(key)
		_, err = NewCalendar(t.Context(), Options{KeyJSON: b})
		msg := moffman.ErrorMessage(err)
		if moffman.ErrorCode(err) != moffman.Invalid || !strings.Contains(msg, "private_key") ||
			!strings.Contains(msg, "google_api.service_account_key_path") {
			t.Errorf("private_key %q: got %v, want Invalid naming private_key and the configuration key", pk, err)
		}
	}
}
