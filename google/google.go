// Package google adapts Google Calendar v3 and Google Sheets v4, through the
// official Go clients, to moffman's ports: [Calendar] implements
// moffman.Calendar and [Directory] implements moffman.DirectorySource.
//
// Both authenticate as a service account with the least scope they need,
// build their client once and reuse it, so the access token is fetched once
// per token lifetime; a token Google refuses early (401) is replaced and the
// request repeated once. Every API call gets a deadline, transient failures are
// retried with capped exponential backoff and full jitter (honouring
// Retry-After), and Google's errors are translated into moffman's error
// vocabulary with messages that say what to fix.
package google

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/moffman/moffman"
)

// Least scopes: calendarList.insert needs the full calendar scope; the
// spreadsheet is only read.
const (
	calendarScope = "https://www.googleapis.com/auth/calendar"
	sheetsScope   = "https://www.googleapis.com/auth/spreadsheets.readonly"
)

// Default endpoints of the two APIs.
const (
	DefaultCalendarEndpoint = "https://www.googleapis.com/calendar/v3/"
	DefaultSheetsEndpoint   = "https://sheets.googleapis.com/"
)

// Options configure the adapters.
type Options struct {
	// KeyJSON is the content of the service-account key file
	// (google_api.service_account_key_path).
	KeyJSON []byte
	// Endpoints of the APIs, each a full URL ending in "/"; empty means
	// Google's.
	CalendarEndpoint string
	SheetsEndpoint   string
	// HTTPClient, when set, supplies the base transport (its Transport) on
	// which authentication is layered; tests use it to watch requests.
	HTTPClient *http.Client
	Retry      RetryPolicy
	Logger     *slog.Logger
	// OnCall, when set, is called once per HTTP attempt with the API
	// ("calendar", "sheets"), the method (e.g. "events.insert") and the
	// outcome: "ok", "retry" (failed, will be retried) or "error" (failed,
	// final). A metrics exporter hooks in here. It must be fast and safe
	// for concurrent use.
	OnCall func(api, method, outcome string)
}

// RetryPolicy bounds the retries of one operation. Zero fields take the
// defaults.
type RetryPolicy struct {
	Attempts       int           // attempts per operation, the first included (default 5)
	BaseDelay      time.Duration // backoff before the 2nd attempt, doubled after each (default 200ms)
	MaxDelay       time.Duration // cap of one backoff (default 10s)
	Budget         time.Duration // total time of one operation, waits included (default 25s)
	AttemptTimeout time.Duration // deadline of one HTTP attempt (default 10s)
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if p.Attempts <= 0 {
		p.Attempts = 5
	}
	def(&p.BaseDelay, 200*time.Millisecond)
	def(&p.MaxDelay, 10*time.Second)
	def(&p.Budget, 25*time.Second)
	def(&p.AttemptTimeout, 10*time.Second)
	return p
}

// serviceAccount is what the adapters need from the key file besides the
// credentials: the e-mail people must share calendars and sheets with.
func serviceAccount(key []byte) (string, error) {
	var kf struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
	}
	if len(key) == 0 {
		return "", moffman.Errorf(moffman.Invalid, "no service-account key given (google_api.service_account_key_path)")
	}
	if err := json.Unmarshal(key, &kf); err != nil {
		return "", moffman.WrapError(moffman.Invalid, err, "the service-account key (google_api.service_account_key_path) is not valid JSON")
	}
	if kf.Type != "service_account" || kf.ClientEmail == "" {
		return "", moffman.Errorf(moffman.Invalid,
			"the key file (google_api.service_account_key_path) is not a service-account key: want \"type\": \"service_account\" and a client_email; download a JSON key of the service account from the Google Cloud console")
	}
	return kf.ClientEmail, nil
}

// newHTTPClient returns an authenticated client for one scope, and its
// token cache: every call made through the client shares one access token
// per lifetime, and a call answered 401 is repeated once with a fresh one.
func newHTTPClient(o Options, account, scope string) (*http.Client, *tokens, error) {
	base := http.DefaultTransport
	if o.HTTPClient != nil && o.HTTPClient.Transport != nil {
		base = o.HTTPClient.Transport
	}
	tk, err := newTokens(o.KeyJSON, account, scope)
	if err != nil {
		return nil, nil, err
	}
	return &http.Client{Transport: authTransport{base: base, tokens: tk}}, tk, nil
}

func endpoint(e, def string) string {
	if e == "" {
		return def
	}
	return e
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
