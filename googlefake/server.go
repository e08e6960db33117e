// Package googlefake is an HTTP-level fake of the parts of Google Calendar v3,
// Google Sheets v4 and the OAuth 2.0 token endpoint that moffman uses.
//
// Tests point the official Go clients at it (option.WithEndpoint plus the
// service-account key from [Server.KeyJSON]), so the wire format, the error
// bodies and the token flow are exercised exactly as against Google. Test
// hooks seed state ([Server.AddCalendar], [Server.AddManualEvent],
// [Server.SetSheetValues]), inject faults and slow answers
// ([Server.FailNext], [Server.InjectFault]), play what a long-running
// service meets ([Server.RevokeTokens], [Server.SetKeyRevoked],
// [Server.Unshare], [Server.Share], [Server.Restore]) and inspect the
// result ([Server.Event], [Server.Calls]).
package googlefake

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// serviceAccountEmail is the only account the fake knows.
const serviceAccountEmail = "moffman@fake-project.iam.gserviceaccount.com"

// Method names accepted by [Server.FailNext], [Server.InjectFault] and
// [Server.Calls]. They follow Google's discovery names.
const (
	MethodToken              = "token"
	MethodCalendarListList   = "calendar.calendarList.list"
	MethodCalendarListInsert = "calendar.calendarList.insert"
	MethodColorsGet          = "calendar.colors.get"
	MethodEventsInsert       = "calendar.events.insert"
	MethodEventsGet          = "calendar.events.get"
	MethodEventsList         = "calendar.events.list"
	MethodEventsPatch        = "calendar.events.patch"
	MethodEventsUpdate       = "calendar.events.update"
	MethodEventsDelete       = "calendar.events.delete"
	MethodSheetsValuesGet    = "sheets.spreadsheets.values.get"
	// MethodUnknown counts requests that matched no route (answered 404).
	MethodUnknown = "unknown"
)

var methods = []string{
	MethodToken, MethodCalendarListList, MethodCalendarListInsert, MethodColorsGet,
	MethodEventsInsert, MethodEventsGet, MethodEventsList, MethodEventsPatch,
	MethodEventsUpdate, MethodEventsDelete, MethodSheetsValuesGet, MethodUnknown,
}

// Methods lists every method name the fake serves.
func Methods() []string { return slices.Clone(methods) }

// Fault is an injected failure, answered with Google's error body, or a
// slow answer.
type Fault struct {
	Status     int           // HTTP status, e.g. 429, 403, 500; 0 with a Delay: the real answer, late
	Reason     string        // Google's error reason; empty picks the usual one for Status
	Message    string        // empty picks the usual one for Reason
	RetryAfter time.Duration // when > 0, sent as a Retry-After header (whole seconds)
	// Delay makes the answer slow (on top of [Server.SetLatency]). With a
	// Status, the error comes after Delay. Without, the request takes effect
	// at once and only its answer waits, as when Google is slow to answer:
	// a client that gives up first does not learn the outcome.
	Delay time.Duration
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	key      *rsa.PrivateKey
	keyID    string
	clientID string
	handler  http.Handler

	mu           sync.Mutex
	url          string
	now          func() time.Time
	lastWrite    time.Time
	latency      time.Duration
	keyRevoked   bool             // the token endpoint refuses the key
	grants       map[string]grant // access token -> grant
	calendars    map[string]*calendarData
	calendarList []string // subscribed calendar ids, in insertion order
	spreadsheets map[string]*spreadsheet
	syncTokens   map[string]syncPoint
	pages        map[string]pagePos
	faults       map[string][]Fault
	calls        map[string]int
}

// accountKey is shared by every Server of a process: generating an RSA key
// costs tens of milliseconds, and the key is fake anyway.
var accountKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// New returns an empty fake: no calendars, no spreadsheets. Serve it with
// [Server.Listen], [Server.Serve], or [Server.Handler] plus [Server.SetURL].
func New() (*Server, error) {
	key, err := accountKey()
	if err != nil {
		return nil, fmt.Errorf("googlefake: generate key: %w", err)
	}
	s := &Server{
		key:          key,
		keyID:        randomHex(20),
		clientID:     randomDigits(21),
		now:          time.Now,
		grants:       map[string]grant{},
		calendars:    map[string]*calendarData{},
		spreadsheets: map[string]*spreadsheet{},
		syncTokens:   map[string]syncPoint{},
		pages:        map[string]pagePos{},
		faults:       map[string][]Fault{},
		calls:        map[string]int{},
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the fake's HTTP handler. When serving it yourself (e.g.
// with httptest), call [Server.SetURL] before [Server.KeyJSON].
func (s *Server) Handler() http.Handler { return s.handler }

// SetURL sets the base URL the fake is reachable at (no trailing slash). It
// decides the key's token_uri and the audience the token endpoint expects.
func (s *Server) SetURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.url = strings.TrimSuffix(u, "/")
}

// URL returns the base URL, e.g. "http://127.0.0.1:41234", or "" before the
// fake is served.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// CalendarEndpoint is the value for option.WithEndpoint of the Calendar client.
func (s *Server) CalendarEndpoint() string { return s.URL() + "/calendar/v3/" }

// SheetsEndpoint is the value for option.WithEndpoint of the Sheets client.
func (s *Server) SheetsEndpoint() string { return s.URL() + "/" }

// TokenURL is where the client exchanges its signed JWT for an access token.
func (s *Server) TokenURL() string { return s.URL() + "/token" }

// ServiceAccountEmail is the client_email of the key from [Server.KeyJSON].
func (s *Server) ServiceAccountEmail() string { return serviceAccountEmail }

// Listen serves the fake on addr (loopback only; "" means 127.0.0.1:0) in the
// background until ctx is done, then shuts it down gracefully. It returns
// the base URL.
func (s *Server) Listen(ctx context.Context, addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return "", err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	s.SetURL("http://" + ln.Addr().String())
	go s.Serve(ctx, ln) //nolint:errcheck // nothing to report to once Listen returned
	return s.URL(), nil
}

// Serve serves the fake on ln (which must be a loopback address) until ctx
// is done, then shuts down gracefully, waiting up to 5 s for requests in
// flight. It sets the URL from ln and returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := checkLoopback(ln.Addr().String()); err != nil {
		ln.Close()
		return err
	}
	s.SetURL("http://" + ln.Addr().String())
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// checkLoopback refuses to expose the fake (and its published key) beyond
// this machine.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("googlefake: bad address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("googlefake: address %q is not loopback", addr)
	}
	return nil
}

// KeyJSON returns a service-account key file whose token_uri points at the
// fake. It panics when the URL is not known yet (see [Server.SetURL]):
// without a token_uri the client would go to Google.
func (s *Server) KeyJSON() []byte {
	u := s.URL()
	if u == "" {
		panic("googlefake: KeyJSON called before the fake has a URL (Listen, Serve or SetURL first)")
	}
	der, err := x509.MarshalPKCS8PrivateKey(s.key)
	if err != nil {
		panic(err) // cannot happen for an RSA key
	}
	// universe_domain stays absent: anything but googleapis.com makes the
	// client sign its own JWTs and skip the token endpoint.
	b, err := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  "fake-project",
		"private_key_id":              s.keyID,
		"private_key":                 string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":                serviceAccountEmail,
		"client_id":                   s.clientID,
		"auth_uri":                    u + "/o/oauth2/auth",
		"token_uri":                   u + "/token",
		"auth_provider_x509_cert_url": u + "/oauth2/v1/certs",
	}, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// SetNow replaces the clock used for created/updated timestamps (not for
// token validity, which must follow the client's real clock).
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetLatency delays every response by d, to exercise client timeouts.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// FailNext makes the next n calls of method fail with status and Google's
// error body carrying reason (empty reason: the usual one for status).
func (s *Server) FailNext(method string, n, status int, reason string) {
	s.InjectFault(method, n, Fault{Status: status, Reason: reason})
}

// InjectFault queues f for the next n calls of method, after any faults
// already queued. It panics on an unknown method name, so that a typo does
// not silently inject nothing.
func (s *Server) InjectFault(method string, n int, f Fault) {
	if !slices.Contains(methods, method) {
		panic(fmt.Sprintf("googlefake: unknown method %q (known: %s)", method, strings.Join(methods, ", ")))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[method] = append(s.faults[method], f)
	}
}

// Calls returns how many requests of method the fake received, failed ones
// (injected or not) included.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// ResetCalls zeroes every call counter.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
}

// RevokeTokens invalidates every access token issued so far, as a key
// rotation or an early revocation does: the next API call with one of them
// gets 401 authError "Invalid Credentials" with WWW-Authenticate
// error="invalid_token". New tokens are issued as before.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.grants)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request)

// routes wires every endpoint through s.wrap, which counts, delays, injects
// faults and checks the bearer token.
func (s *Server) routes() http.Handler {
	calRead := []string{scopeCalendar, scopeCalendar + ".readonly"}
	evRead := append(slices.Clone(calRead), scopeCalendar+".events", scopeCalendar+".events.readonly")
	evWrite := []string{scopeCalendar, scopeCalendar + ".events"}
	listRead := append(slices.Clone(calRead), scopeCalendar+".calendarlist", scopeCalendar+".calendarlist.readonly")
	listWrite := []string{scopeCalendar, scopeCalendar + ".calendarlist"}
	sheetsRead := []string{scopeSheets, scopeSheets + ".readonly", scopeDrive, scopeDrive + ".readonly", scopeDrive + ".file"}

	mux := http.NewServeMux()
	handle := func(pattern, method string, scopes []string, h handlerFunc) {
		mux.HandleFunc(pattern, s.wrap(method, scopes, h))
	}
	handle("POST /token", MethodToken, nil, s.token)
	const cal = "/calendar/v3"
	handle("GET "+cal+"/users/me/calendarList", MethodCalendarListList, listRead, s.calendarListList)
	handle("POST "+cal+"/users/me/calendarList", MethodCalendarListInsert, listWrite, s.calendarListInsert)
	handle("GET "+cal+"/colors", MethodColorsGet, calRead, s.colorsGet)
	handle("POST "+cal+"/calendars/{calendarId}/events", MethodEventsInsert, evWrite, s.eventsInsert)
	handle("GET "+cal+"/calendars/{calendarId}/events", MethodEventsList, evRead, s.eventsList)
	handle("GET "+cal+"/calendars/{calendarId}/events/{eventId}", MethodEventsGet, evRead, s.eventsGet)
	handle("PATCH "+cal+"/calendars/{calendarId}/events/{eventId}", MethodEventsPatch, evWrite, s.eventsPatch)
	handle("PUT "+cal+"/calendars/{calendarId}/events/{eventId}", MethodEventsUpdate, evWrite, s.eventsUpdate)
	handle("DELETE "+cal+"/calendars/{calendarId}/events/{eventId}", MethodEventsDelete, evWrite, s.eventsDelete)
	handle("GET /v4/spreadsheets/{spreadsheetId}/values/{range}", MethodSheetsValuesGet, sheetsRead, s.valuesGet)
	handle("/", MethodUnknown, nil, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, apiError{Code: http.StatusNotFound, Reason: "notFound",
			Message: "Not Found: " + r.Method + " " + r.URL.Path})
	})
	return mux
}

// wrap applies what every endpoint shares: counting, latency, injected
// faults, then authorization (scopes nil: no bearer needed).
func (s *Server) wrap(method string, scopes []string, h handlerFunc) http.HandlerFunc {
	serve := func(w http.ResponseWriter, r *http.Request, fault *Fault) {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		if fault != nil {
			writeFault(w, method, *fault)
			return
		}
		if scopes != nil && !s.authorize(w, r, scopes) {
			return
		}
		h(w, r)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[method]++
		latency := s.latency
		var fault *Fault
		var late time.Duration // the request takes effect, its answer waits
		if q := s.faults[method]; len(q) > 0 {
			f := q[0]
			s.faults[method] = q[1:]
			if f.Status == 0 {
				late = f.Delay
			} else {
				latency += f.Delay
				fault = &f
			}
		}
		s.mu.Unlock()

		if !wait(r, latency) {
			return
		}
		if late == 0 {
			serve(w, r, fault)
			return
		}
		held := &heldAnswer{header: http.Header{}}
		serve(held, r, nil)
		if wait(r, late) {
			held.sendTo(w)
		}
	}
}

// wait sleeps for d unless the client goes away first (false then).
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// heldAnswer keeps a handler's answer to send it later.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *heldAnswer) Header() http.Header { return a.header }

func (a *heldAnswer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
}

func (a *heldAnswer) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(p)
}

func (a *heldAnswer) sendTo(w http.ResponseWriter) {
	maps.Copy(w.Header(), a.header)
	w.WriteHeader(cmp.Or(a.status, http.StatusOK))
	w.Write(a.body.Bytes()) //nolint:errcheck // the client went away
}

// apiError is Google's JSON error, as googleapi.Error parses it.
type apiError struct {
	Code         int
	Reason       string
	Message      string
	Domain       string // empty: derived from Reason
	Location     string
	LocationType string
	Status       string // the one-platform status (Sheets), e.g. "NOT_FOUND"
}

// writeError writes {"error": {"errors": [...], "code": N, "message": M}}.
func writeError(w http.ResponseWriter, e apiError) {
	if e.Reason == "" {
		e.Reason = defaultReason(e.Code)
	}
	if e.Message == "" {
		e.Message = defaultMessage(e.Reason)
	}
	if e.Domain == "" {
		e.Domain = domainOf(e.Reason)
	}
	type item struct {
		Domain       string `json:"domain"`
		Reason       string `json:"reason"`
		Message      string `json:"message"`
		LocationType string `json:"locationType,omitempty"`
		Location     string `json:"location,omitempty"`
	}
	type body struct {
		Errors  []item `json:"errors"`
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status,omitempty"`
	}
	writeJSON(w, e.Code, map[string]body{"error": {
		Errors:  []item{{e.Domain, e.Reason, e.Message, e.LocationType, e.Location}},
		Code:    e.Code,
		Message: e.Message,
		Status:  e.Status,
	}})
}

// writeFault answers an injected failure; the token endpoint answers in
// OAuth's error format, everything else in Google's API format.
func writeFault(w http.ResponseWriter, method string, f Fault) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	if method == MethodToken {
		reason := f.Reason
		if reason == "" {
			reason = "temporarily_unavailable"
		}
		msg := f.Message
		if msg == "" {
			msg = "injected failure"
		}
		writeOAuthError(w, f.Status, reason, msg)
		return
	}
	writeError(w, apiError{Code: f.Status, Reason: f.Reason, Message: f.Message})
}

func defaultReason(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "badRequest"
	case http.StatusUnauthorized:
		return "authError"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "notFound"
	case http.StatusConflict:
		return "conflict"
	case http.StatusGone:
		return "deleted"
	case http.StatusPreconditionFailed:
		return "conditionNotMet"
	case http.StatusTooManyRequests:
		return "rateLimitExceeded"
	case http.StatusServiceUnavailable:
		return "backendError"
	}
	if code >= 500 {
		return "backendError"
	}
	return "badRequest"
}

func defaultMessage(reason string) string {
	switch reason {
	case "badRequest":
		return "Bad Request"
	case "authError":
		return "Invalid Credentials"
	case "required":
		return "Login Required."
	case "forbidden":
		return "Forbidden"
	case "notFound":
		return "Not Found"
	case "duplicate":
		return "The requested identifier already exists."
	case "deleted":
		return "Resource has been deleted"
	case "fullSyncRequired":
		return "Sync token is no longer valid, a full sync is required."
	case "rateLimitExceeded":
		return "Rate Limit Exceeded"
	case "userRateLimitExceeded":
		return "User Rate Limit Exceeded"
	case "quotaExceeded":
		return "Calendar usage limits exceeded."
	case "insufficientPermissions":
		return "Insufficient Permission"
	case "backendError":
		return "Backend Error"
	case "invalid":
		return "Invalid Value"
	}
	return reason
}

func domainOf(reason string) string {
	switch reason {
	case "rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded", "quotaExceeded":
		return "usageLimits"
	case "timeRangeEmpty", "fullSyncRequired", "syncTokenWithRequestRestrictions", "updatedMinTooLongAgo":
		return "calendar"
	}
	return "global"
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	w.Write(append(b, '\n')) //nolint:errcheck // the client went away
}

// randomDigits returns n random decimal digits, like a Google client_id.
func randomDigits(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
